/**
 * A deterministic generator of realistic logs for benchmarks and load tests.
 *
 * Every line is a pure function of `(seed, index)`: line `N` can be produced without generating
 * lines `0..N-1`, several producers can split one corpus by index range, and a benchmark can learn
 * a needle (the trace id of line `N`) in O(1). Nothing here uses `Math.random`.
 *
 * The corpus mixes two kinds of lines, the way a small web shop's logs would:
 *
 * - web access lines in combined log format (services `nginx` and `gateway`, about 40%):
 *   `203.0.113.9 - - [21/Nov/2026:11:25:56 +0000] "GET /api/v1/users/48213 HTTP/1.1" 200 5123
 *   "-" "Mozilla/5.0 …" rt=0.023 trace_id=<32 hex>`
 * - structured JSON application lines (every other service):
 *   `{"ts":"2026-11-21T11:25:56.123456Z","level":"info","logger":"payments","msg":"payment
 *   captured","trace_id":"<32 hex>","span_id":"<16 hex>","user_id":"u_1234",…}`
 *
 * Labels are `app`, `env`, `level`, `host` and `service`, with bounded cardinality: every host
 * belongs to one app and one environment and runs one or two of that app's services, so the number
 * of distinct label sets is {@linkcode LABEL_SETS}`.length` (under 150). High-cardinality values
 * (trace ids, user ids, request ids, order ids) occur only inside lines.
 *
 * Every line carries a trace id that occurs in no other line of the same seed (its first 32 bits
 * are a bijection of the line index), which makes any trace id a needle with exactly one hit.
 *
 * @module
 */

/** One generated log line with its stream labels and timestamp. */
export interface LogEntry {
  /** Unix time in nanoseconds; non-decreasing with the line index. */
  ts: bigint;
  /**
   * The stream's label set. The object is frozen and shared by every entry of the same stream,
   * so entries can be grouped by identity.
   */
  labels: Readonly<Record<string, string>>;
  /** The log line, without a trailing newline. */
  line: string;
}

/** Options of {@linkcode LogGenerator}. */
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

/** A trace id that occurs in exactly one line of a corpus, and that line. */
export interface Needle {
  /** Index of the only line containing {@linkcode Needle.traceId}. */
  index: number;
  /** 32 lowercase hex digits. */
  traceId: string;
  /** The entry at {@linkcode Needle.index}. */
  entry: LogEntry;
}

/** The default start of a corpus: 2026-11-21T00:00:00Z, in Unix nanoseconds. */
export const DEFAULT_START_NS: bigint = 1_795_219_200_000_000_000n;

/** The label names every entry carries, in the order they appear in its labels object. */
export const LABEL_NAMES: readonly string[] = Object.freeze([
  "app",
  "env",
  "level",
  "host",
  "service",
]);

import { fmix32, hex8, Rng } from "./prng.ts";
import { type Level, type Source, SOURCES } from "./topology.ts";
import {
  API_CLIENT_AGENTS,
  clientIp,
  MONTHS,
  REFERERS,
  UPSTREAMS,
  USER_AGENTS,
} from "./vocabulary.ts";
import { COMMON, COMMON_SHARE, SERVICE_POOLS } from "./templates.ts";
import { GATEWAY_PATHS, NGINX_PATHS, STATUSES } from "./access_log.ts";

export { LABEL_SETS } from "./topology.ts";

const MAX_INDEX = 2 ** 32;

/**
 * Generates log entries as a pure function of a seed and a line index.
 *
 * @example Generate the first lines of a corpus
 * ```ts
 * import { LogGenerator } from "./mod.ts";
 * const gen = new LogGenerator({ seed: 42 });
 * for (const entry of gen.entries(0, 3)) {
 *   console.log(entry.ts, entry.labels, entry.line);
 * }
 * ```
 */
export class LogGenerator {
  /** The seed this generator was created with. */
  readonly seed: number;
  /** Unix nanoseconds of line 0. */
  readonly start: bigint;
  /** Lines per second of log time. */
  readonly rate: number;

  readonly #keys: Uint32Array;
  readonly #interval: number;
  readonly #startMs: number;
  readonly #startSubMsNs: number;
  readonly #rng = new Rng();
  readonly #parts: string[] = [];
  #cachedSecond = NaN;
  #cachedIso = "";
  #cachedClf = "";

  /**
   * @param options Seed, start and rate; all optional.
   * @throws {RangeError} If the seed is not a safe integer, or rate is not in (0, 1e9].
   */
  constructor(options: LogGeneratorOptions = {}) {
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
    let k = fmix32(lo ^ fmix32(hi ^ 0x243f6a88));
    this.#keys = new Uint32Array(6);
    for (let i = 0; i < 6; i++) this.#keys[i] = k = fmix32((k + 0x9e3779b9) >>> 0);
  }

  /**
   * The trace id of line `index`: 32 lowercase hex digits that occur in no other line of this
   * seed.
   *
   * @example
   * ```ts
   * import { LogGenerator } from "./mod.ts";
   * const gen = new LogGenerator({ seed: 7 });
   * console.log(gen.at(1000).line.includes(gen.traceIdAt(1000))); // true
   * ```
   */
  traceIdAt(index: number): string {
    checkIndex(index);
    const k = this.#keys;
    const w0 = fmix32((index ^ k[0]) >>> 0);
    const w1 = fmix32((w0 ^ k[1]) >>> 0);
    const w2 = fmix32((w1 ^ k[2]) >>> 0);
    const w3 = fmix32((w2 ^ k[3]) >>> 0);
    return hex8(w0) + hex8(w1) + hex8(w2) + hex8(w3);
  }

  /**
   * The entry at `index`.
   *
   * @example
   * ```ts
   * import { LogGenerator } from "./mod.ts";
   * const entry = new LogGenerator({ seed: 1 }).at(123);
   * console.log(entry.labels.app, entry.line);
   * ```
   * @throws {RangeError} If `index` is not an integer in [0, 2^32).
   */
  at(index: number): LogEntry {
    const traceId = this.traceIdAt(index);
    const rng = this.#rng;
    const k = this.#keys;
    rng.state = fmix32((fmix32((index ^ k[4]) >>> 0) ^ k[5]) >>> 0) | 0;

    // Timestamp: slot `index` of width `interval`, with a uniform jitter inside the slot, so
    // timestamps never decrease.
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
    this.#formatSecond(Math.floor(ms / 1000));

    const source = SOURCES.pick(rng);
    let line: string;
    let level: Level;
    if (source.access) {
      const status = STATUSES.pick(rng);
      level = status >= 500 ? "error" : status >= 400 ? "warn" : "info";
      line = this.#accessLine(rng, source, status, traceId);
    } else {
      level = source.levels.pick(rng);
      const micros = (ms % 1000) * 1000 + Math.floor(subMsNs / 1000);
      line = this.#jsonLine(rng, source, level, micros, traceId);
    }
    return { ts, labels: source.labels[level], line };
  }

  /**
   * Entries `from`, `from + 1`, … (`count` of them, or until index 2^32).
   *
   * @example
   * ```ts
   * import { LogGenerator } from "./mod.ts";
   * const lines = [...new LogGenerator().entries(0, 10)].map((e) => e.line);
   * console.log(lines.length); // 10
   * ```
   */
  *entries(from = 0, count = Infinity): Generator<LogEntry> {
    const end = Math.min(from + count, MAX_INDEX);
    for (let i = from; i < end; i++) yield this.at(i);
  }

  #formatSecond(second: number): void {
    if (second === this.#cachedSecond) return;
    this.#cachedSecond = second;
    const d = new Date(second * 1000);
    this.#cachedIso = d.toISOString().slice(0, 19);
    const day = String(d.getUTCDate()).padStart(2, "0");
    const time = this.#cachedIso.slice(11, 19);
    this.#cachedClf = `${day}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${time} +0000`;
  }

  #accessLine(rng: Rng, source: Source, status: number, traceId: string): string {
    const gateway = source.service === "gateway";
    const [method, path] = (gateway ? GATEWAY_PATHS : NGINX_PATHS).pick(rng);
    const ip = clientIp(rng);
    const user = gateway && rng.float() < 0.4 ? `u_${rng.skewed(250_000, 2.5)}` : "-";
    const bytes = status === 204 || status === 304
      ? 0
      : status >= 300
      ? rng.range(150, 600)
      : rng.range(300, gateway ? 12_000 : 90_000);
    let rt = 0.001 + 0.03 * -Math.log(1 - rng.float());
    if (status === 504) rt = 30 + rng.float() * 0.05;
    else if (status >= 500) rt += rng.float() * 2;
    const referer = gateway || rng.float() < 0.45 ? "-" : rng.pick(REFERERS);
    const ua = rng.pick(gateway ? API_CLIENT_AGENTS : USER_AGENTS);
    const proto = rng.float() < 0.7 ? "HTTP/2.0" : "HTTP/1.1";
    const suffix = gateway ? ` upstream=${rng.pick(UPSTREAMS)}` : "";
    return `${ip} - ${user} [${this.#cachedClf}] "${method} ${
      path(rng)
    } ${proto}" ${status} ${bytes} "${referer}" "${ua}" rt=${
      rt.toFixed(3)
    }${suffix} trace_id=${traceId}`;
  }

  #jsonLine(rng: Rng, source: Source, level: Level, micros: number, traceId: string): string {
    const pool = rng.float() < COMMON_SHARE ? COMMON : SERVICE_POOLS[source.service];
    const template = rng.pick(pool[level]);
    const parts = this.#parts;
    parts.length = 0;
    parts.push(
      `{"ts":"${this.#cachedIso}.${String(micros).padStart(6, "0")}Z","level":"${level}",` +
        `"logger":"${source.service}","msg":"${template.msg}","trace_id":"${traceId}",` +
        `"span_id":"${hex8(rng.u32())}${hex8(rng.u32())}"`,
    );
    for (const field of template.fields) field(rng, parts);
    parts.push("}");
    return parts.join("");
  }
}

function checkIndex(index: number): void {
  if (!(Number.isInteger(index) && index >= 0 && index < MAX_INDEX)) {
    throw new RangeError(
      `Cannot generate line: index must be an integer in [0, 2^32), got ${index}`,
    );
  }
}

/**
 * The first `count` entries of the corpus described by `options`.
 *
 * @example
 * ```ts
 * import { generateLogs } from "./mod.ts";
 * for (const { ts, labels, line } of generateLogs(5, { seed: 42 })) {
 *   console.log(ts, labels.app, line);
 * }
 * ```
 */
export function generateLogs(
  count: number,
  options: LogGeneratorOptions = {},
): Generator<LogEntry> {
  return new LogGenerator(options).entries(0, count);
}

/**
 * A needle for a corpus of `lines` lines: a trace id that occurs in exactly one line, at an index
 * in the middle half of the corpus chosen deterministically from the seed.
 *
 * @example Find a needle, then search for it
 * ```ts
 * import { pickNeedle } from "./mod.ts";
 * const needle = pickNeedle(1_000_000, { seed: 42 });
 * console.log(`{app=~".+"} |= "${needle.traceId}"`, "→ 1 line at", needle.entry.ts);
 * ```
 * @throws {RangeError} If `lines` is not an integer in [1, 2^32].
 */
export function pickNeedle(lines: number, options: LogGeneratorOptions = {}): Needle {
  if (!(Number.isInteger(lines) && lines >= 1 && lines <= MAX_INDEX)) {
    throw new RangeError(`Cannot pick needle: lines must be an integer in [1, 2^32], got ${lines}`);
  }
  const gen = new LogGenerator(options);
  const quarter = Math.floor(lines / 4);
  const span = Math.max(1, lines - 2 * quarter);
  const h = fmix32(fmix32(gen.seed >>> 0) ^ 0x6e656564); // "need"
  const index = quarter + (h % span);
  return { index, traceId: gen.traceIdAt(index), entry: gen.at(index) };
}
