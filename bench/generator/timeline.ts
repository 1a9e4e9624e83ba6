/**
 * What every generated corpus shares, whatever its lines look like: line `N` is a pure function
 * of `(seed, N)`, stamped in slot `N` of the time line (`[start + N / rate, start + (N + 1) /
 * rate)`, with a jitter inside the slot, so timestamps never decrease), carrying a trace id that
 * occurs in no other line of the same seed, and drawn from a PRNG seeded for that line alone.
 *
 * @module
 */

import { fmix32, hex8, type Rng } from "../../testing/prng.ts";

/** Options of a log generator. */
export interface LogGeneratorOptions {
  /** Seed of the corpus; any safe integer. Default `42`. */
  seed?: number;
  /** Unix time in nanoseconds of line 0. Default {@linkcode DEFAULT_START_NS}. */
  start?: bigint;
  /**
   * Lines per second of log time: line `N` is stamped within
   * `[start + N / rate, start + (N + 1) / rate)` seconds. Default `200`, at most `1e9`.
   */
  rate?: number;
}

/** The default start of a corpus: 2026-11-21T00:00:00Z, in Unix nanoseconds. */
export const DEFAULT_START_NS: bigint = 1_795_219_200_000_000_000n;

/** Line indices are below this: the trace id's first 32 bits are a bijection of the index. */
export const MAX_INDEX = 2 ** 32;

/** Where a line sits on the time line, and its trace id. */
export interface LinePlace {
  /** 32 lowercase hex digits, unique to the line within its seed. */
  traceId: string;
  /** Unix time in nanoseconds. */
  ts: bigint;
  /** `ts` in whole Unix seconds. */
  second: number;
  /** Microseconds within `second`. */
  micros: number;
}

/**
 * The time line, trace ids and per-line PRNG seeds of one corpus. `domain` tells corpora of the
 * same seed apart: each kind of corpus passes its own constant, so their trace ids differ.
 *
 * @example Place line 10 of a corpus
 * ```ts
 * import { Timeline } from "./timeline.ts";
 * import { Rng } from "../../testing/prng.ts";
 * const timeline = new Timeline({ seed: 42 }, 0x243f6a88);
 * const place = timeline.begin(10, new Rng());
 * console.log(place.traceId, timeline.iso(place)); // … 2026-11-21T00:00:00.05…Z
 * ```
 */
export class Timeline {
  /** The seed of the corpus. */
  readonly seed: number;
  /** Unix nanoseconds of line 0. */
  readonly start: bigint;
  /** Lines per second of log time. */
  readonly rate: number;

  readonly #keys: Uint32Array;
  readonly #interval: number;
  readonly #startMs: number;
  readonly #startSubMsNs: number;
  #cachedSecond = NaN;
  #cachedIso = "";

  /**
   * @param options Seed, start and rate; all optional.
   * @param domain A constant of the kind of corpus.
   * @throws {RangeError} If the seed is not a safe integer, rate is not in (0, 1e9], or start is
   * negative.
   */
  constructor(options: LogGeneratorOptions, domain: number) {
    const { seed = 42, start = DEFAULT_START_NS, rate = 200 } = options;
    if (!Number.isSafeInteger(seed)) {
      throw new RangeError(`Cannot create log generator: seed must be a safe integer, got ${seed}`);
    }
    if (!(rate > 0 && rate <= 1e9)) {
      throw new RangeError(`Cannot create log generator: rate must be in (0, 1e9], got ${rate}`);
    }
    if (start < 0n) {
      throw new RangeError(`Cannot create log generator: start must be >= 0, got ${start}`);
    }
    this.seed = seed;
    this.start = start;
    this.rate = rate;
    this.#interval = Math.max(1, Math.round(1e9 / rate));
    this.#startMs = Number(start / 1_000_000n);
    this.#startSubMsNs = Number(start % 1_000_000n);
    // Six per-seed keys, from both halves of the seed.
    const lo = seed >>> 0;
    const hi = Math.floor(seed / 2 ** 32) >>> 0;
    let k = fmix32(lo ^ fmix32(hi ^ domain));
    this.#keys = new Uint32Array(6);
    for (let i = 0; i < 6; i++) this.#keys[i] = k = fmix32((k + 0x9e3779b9) >>> 0);
  }

  /**
   * The trace id of line `index`: 32 lowercase hex digits that occur in no other line of this
   * seed.
   *
   * @example
   * ```ts
   * import { Timeline } from "./timeline.ts";
   * console.log(new Timeline({ seed: 7 }, 1).traceIdAt(1000).length); // 32
   * ```
   * @throws {RangeError} If `index` is not an integer in [0, 2^32).
   */
  traceIdAt(index: number): string {
    if (!(Number.isInteger(index) && index >= 0 && index < MAX_INDEX)) {
      throw new RangeError(
        `Cannot generate line: index must be an integer in [0, 2^32), got ${index}`,
      );
    }
    const k = this.#keys;
    const w0 = fmix32((index ^ k[0]) >>> 0);
    const w1 = fmix32((w0 ^ k[1]) >>> 0);
    const w2 = fmix32((w1 ^ k[2]) >>> 0);
    const w3 = fmix32((w2 ^ k[3]) >>> 0);
    return hex8(w0) + hex8(w1) + hex8(w2) + hex8(w3);
  }

  /**
   * Starts line `index`: seeds `rng` for it, draws the jitter inside its slot, and returns its
   * trace id and time. The line's other draws follow on `rng`.
   *
   * @example
   * ```ts
   * import { Timeline } from "./timeline.ts";
   * import { Rng } from "../../testing/prng.ts";
   * const timeline = new Timeline({ rate: 1 }, 1);
   * console.log(timeline.begin(1, new Rng()).ts >= timeline.start + 1_000_000_000n); // true
   * ```
   * @throws {RangeError} If `index` is not an integer in [0, 2^32).
   */
  begin(index: number, rng: Rng): LinePlace {
    const traceId = this.traceIdAt(index);
    const k = this.#keys;
    rng.state = fmix32((fmix32((index ^ k[4]) >>> 0) ^ k[5]) >>> 0) | 0;
    const iv = this.#interval;
    const jitter = Math.floor(rng.float() * iv);
    const offset = index * iv + jitter;
    let ts: bigint;
    let ms: number;
    let subMsNs: number;
    if (offset + this.#startSubMsNs < Number.MAX_SAFE_INTEGER) {
      ts = this.start + BigInt(offset);
      const sub = this.#startSubMsNs + offset;
      ms = this.#startMs + Math.floor(sub / 1e6);
      subMsNs = sub % 1e6;
    } else {
      ts = this.start + BigInt(index) * BigInt(iv) + BigInt(jitter);
      ms = Number(ts / 1_000_000n);
      subMsNs = Number(ts % 1_000_000n);
    }
    return {
      traceId,
      ts,
      second: Math.floor(ms / 1000),
      micros: (ms % 1000) * 1000 + Math.floor(subMsNs / 1000),
    };
  }

  /**
   * A place's time in RFC 3339 with microseconds, in UTC: `2026-11-21T11:25:56.123456Z`.
   *
   * @example
   * ```ts
   * import { Timeline } from "./timeline.ts";
   * const timeline = new Timeline({}, 1);
   * console.log(timeline.iso({ traceId: "", ts: 0n, second: 0, micros: 5 })); // 1970-01-01T00:00:00.000005Z
   * ```
   */
  iso(place: LinePlace): string {
    if (place.second !== this.#cachedSecond) {
      this.#cachedSecond = place.second;
      this.#cachedIso = new Date(place.second * 1000).toISOString().slice(0, 19);
    }
    return `${this.#cachedIso}.${String(place.micros).padStart(6, "0")}Z`;
  }
}

/**
 * The index of a corpus's needle: in the middle half of `lines`, chosen deterministically from
 * the seed.
 *
 * @example
 * ```ts
 * import { needleIndex } from "./timeline.ts";
 * const index = needleIndex(1000, 42);
 * console.log(index >= 250 && index < 750); // true
 * ```
 * @throws {RangeError} If `lines` is not an integer in [1, 2^32].
 */
export function needleIndex(lines: number, seed: number): number {
  if (!(Number.isInteger(lines) && lines >= 1 && lines <= MAX_INDEX)) {
    throw new RangeError(`Cannot pick needle: lines must be an integer in [1, 2^32], got ${lines}`);
  }
  const quarter = Math.floor(lines / 4);
  const span = Math.max(1, lines - 2 * quarter);
  const h = fmix32(fmix32(seed >>> 0) ^ 0x6e656564); // "need"
  return quarter + (h % span);
}
