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

/** A trace id that occurs in exactly one line of a corpus, and that line. */
export interface Needle {
  /** Index of the only line containing {@linkcode Needle.traceId}. */
  index: number;
  /** 32 lowercase hex digits. */
  traceId: string;
  /** The entry at {@linkcode Needle.index}. */
  entry: LogEntry;
}

/** The label names every entry carries, in the order they appear in its labels object. */
export const LABEL_NAMES: readonly string[] = Object.freeze([
  "app",
  "env",
  "level",
  "host",
  "service",
]);

import { hex8, Rng } from "../../testing/prng.ts";
import {
  type LinePlace,
  type LogGeneratorOptions,
  MAX_INDEX,
  needleIndex,
  Timeline,
} from "./timeline.ts";
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
export { DEFAULT_START_NS, type LogGeneratorOptions } from "./timeline.ts";

/** The domain of {@linkcode LogGenerator}'s corpora in {@linkcode Timeline}. */
const DOMAIN = 0x243f6a88;

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

  readonly #timeline: Timeline;
  readonly #rng = new Rng();
  readonly #parts: string[] = [];
  #clfSecond = NaN;
  #clf = "";

  /**
   * @param options Seed, start and rate; all optional.
   * @throws {RangeError} If the seed is not a safe integer, rate is not in (0, 1e9], or start is
   * negative.
   */
  constructor(options: LogGeneratorOptions = {}) {
    this.#timeline = new Timeline(options, DOMAIN);
    this.seed = this.#timeline.seed;
    this.start = this.#timeline.start;
    this.rate = this.#timeline.rate;
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
   * @throws {RangeError} If `index` is not an integer in [0, 2^32).
   */
  traceIdAt(index: number): string {
    return this.#timeline.traceIdAt(index);
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
    const rng = this.#rng;
    const place = this.#timeline.begin(index, rng);
    const source = SOURCES.pick(rng);
    let line: string;
    let level: Level;
    if (source.access) {
      const status = STATUSES.pick(rng);
      level = status >= 500 ? "error" : status >= 400 ? "warn" : "info";
      line = this.#accessLine(rng, source, status, place);
    } else {
      level = source.levels.pick(rng);
      line = this.#jsonLine(rng, source, level, place);
    }
    return { ts: place.ts, labels: source.labels[level], line };
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

  /** `21/Nov/2026:11:25:56 +0000`, the time of combined log format. */
  #clfTime(second: number): string {
    if (second === this.#clfSecond) return this.#clf;
    this.#clfSecond = second;
    const d = new Date(second * 1000);
    const day = String(d.getUTCDate()).padStart(2, "0");
    const time = d.toISOString().slice(11, 19);
    this.#clf = `${day}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${time} +0000`;
    return this.#clf;
  }

  #accessLine(rng: Rng, source: Source, status: number, place: LinePlace): string {
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
    return `${ip} - ${user} [${this.#clfTime(place.second)}] "${method} ${
      path(rng)
    } ${proto}" ${status} ${bytes} "${referer}" "${ua}" rt=${
      rt.toFixed(3)
    }${suffix} trace_id=${place.traceId}`;
  }

  #jsonLine(rng: Rng, source: Source, level: Level, place: LinePlace): string {
    const pool = rng.float() < COMMON_SHARE ? COMMON : SERVICE_POOLS[source.service];
    const template = rng.pick(pool[level]);
    const parts = this.#parts;
    parts.length = 0;
    parts.push(
      `{"ts":"${this.#timeline.iso(place)}","level":"${level}",` +
        `"logger":"${source.service}","msg":"${template.msg}","trace_id":"${place.traceId}",` +
        `"span_id":"${hex8(rng.u32())}${hex8(rng.u32())}"`,
    );
    for (const field of template.fields) field(rng, parts);
    parts.push("}");
    return parts.join("");
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
  const gen = new LogGenerator(options);
  const index = needleIndex(lines, gen.seed);
  return { index, traceId: gen.traceIdAt(index), entry: gen.at(index) };
}
