/**
 * Times in loge: unix nanoseconds as int64 (bigint), written as decimal
 * strings of up to 19 digits; RFC 3339 (with up to nanosecond fractions) in
 * and out on the command line.
 *
 * @module
 */

/** The largest time: int64's maximum, in unix nanoseconds. */
export const MAX_TS = 9_223_372_036_854_775_807n;
const MAX_TS_DIGITS = "9223372036854775807";

/**
 * Whether `text` is a time in unix nanoseconds: 1–19 decimal digits within
 * int64 (a loop, not a regex: this runs once per pushed line).
 *
 * @example
 * ```ts
 * import { isNanoseconds } from "./time.ts";
 * import assert from "node:assert/strict";
 * assert.equal(isNanoseconds("1700000000000000000"), true);
 * assert.equal(isNanoseconds("9223372036854775808"), false);
 * assert.equal(isNanoseconds("12ab"), false);
 * ```
 */
export function isNanoseconds(text: string): boolean {
  if (text.length === 0 || text.length > 19) return false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  // Equal-length digit strings compare like their numbers.
  return text.length < 19 || text <= MAX_TS_DIGITS;
}

const RFC3339 = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/i;

/** Digits `text[at..at+n)` as a number, or -1 when one is not a digit. */
function digitsAt(text: string, at: number, n: number): number {
  let v = 0;
  for (let i = at; i < at + n; i++) {
    const d = text.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return -1;
    v = v * 10 + d;
  }
  return v;
}

/** Days in `month` (1–12) of `year`. */
function monthDays(year: number, month: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/**
 * RFC 3339 in UTC (`Z`) from 1970 on, the time shippers send, without a
 * regex or a date parser: this runs once per document of a bulk body.
 * Anything else is left to the general path (`undefined`).
 */
function rfc3339Fast(text: string): bigint | undefined {
  const end = text.length - 1;
  if (end < 19 || (text.charCodeAt(end) | 0x20) !== 0x7a) return undefined; // z or Z
  if (
    text.charCodeAt(4) !== 0x2d || text.charCodeAt(7) !== 0x2d ||
    (text.charCodeAt(10) | 0x20) !== 0x74 || text.charCodeAt(13) !== 0x3a ||
    text.charCodeAt(16) !== 0x3a
  ) return undefined;
  const year = digitsAt(text, 0, 4);
  const month = digitsAt(text, 5, 2);
  const day = digitsAt(text, 8, 2);
  const hour = digitsAt(text, 11, 2);
  const minute = digitsAt(text, 14, 2);
  const second = digitsAt(text, 17, 2);
  if (
    year < 1970 || month < 1 || month > 12 || day < 1 || day > monthDays(year, month) ||
    hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 59
  ) return undefined;
  let nanos = 0;
  if (end > 19) {
    const digits = end - 20;
    if (text.charCodeAt(19) !== 0x2e || digits < 1 || digits > 9) return undefined;
    nanos = digitsAt(text, 20, digits);
    if (nanos < 0) return undefined;
    for (let i = digits; i < 9; i++) nanos *= 10;
  }
  const seconds = Date.UTC(year, month - 1, day, hour, minute, second) / 1000;
  return BigInt(seconds) * 1_000_000_000n + BigInt(nanos);
}

/**
 * Parses RFC 3339 or unix nanoseconds into unix nanoseconds, or `undefined`.
 *
 * @example
 * ```ts
 * import { parseTime } from "./time.ts";
 * import assert from "node:assert/strict";
 * assert.equal(parseTime("2026-06-01T00:00:00.5Z"), 1780272000500000000n);
 * ```
 */
export function parseTime(text: string): bigint | undefined {
  if (isNanoseconds(text)) return BigInt(text);
  const fast = rfc3339Fast(text);
  if (fast !== undefined) return fast;
  const m = RFC3339.exec(text);
  if (!m) return undefined;
  const ms = Date.parse(`${m[1]}${m[3].toUpperCase()}`);
  if (Number.isNaN(ms)) return undefined;
  return BigInt(ms) * 1_000_000n + BigInt((m[2] ?? "").padEnd(9, "0"));
}

/**
 * Formats unix nanoseconds as RFC 3339 in UTC with the fraction's trailing
 * zeros dropped (Go's RFC3339Nano).
 *
 * @example
 * ```ts
 * import { formatTime } from "./time.ts";
 * import assert from "node:assert/strict";
 * assert.equal(formatTime(1700000000123400000n), "2023-11-14T22:13:20.1234Z");
 * ```
 */
export function formatTime(ns: bigint): string {
  const seconds = ns / 1_000_000_000n;
  const fraction = (ns % 1_000_000_000n).toString().padStart(9, "0").replace(/0+$/, "");
  const base = new Date(Number(seconds) * 1000).toISOString().slice(0, 19);
  return `${base}${fraction ? `.${fraction}` : ""}Z`;
}

const SECOND = 1_000_000_000n;
const PROM_DURATION =
  /^(?:(\d+)y)?(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?$/;
const PROM_UNIT_NS = [
  365n * 86_400n * SECOND,
  7n * 86_400n * SECOND,
  86_400n * SECOND,
  3600n * SECOND,
  60n * SECOND,
  SECOND,
  1_000_000n,
];

/**
 * Parses a Prometheus duration (`model.ParseDuration`: `1h30m`, `15000ms`,
 * `2d`, `0`; units y w d h m s ms, largest first, each at most once) into
 * nanoseconds, or `undefined`. Loki reads `step`, `since` and the ranges
 * of LogQL (`[5m]`) this way.
 *
 * @example
 * ```ts
 * import { parsePromDuration } from "./time.ts";
 * import assert from "node:assert/strict";
 * assert.equal(parsePromDuration("1m30s"), 90_000_000_000n);
 * assert.equal(parsePromDuration("15000ms"), 15_000_000_000n);
 * assert.equal(parsePromDuration("1.5m"), undefined);
 * ```
 */
export function parsePromDuration(text: string): bigint | undefined {
  if (text === "0") return 0n;
  const m = text === "" ? null : PROM_DURATION.exec(text);
  if (!m) return undefined;
  return m.slice(1).reduce((ns, n, i) => ns + BigInt(n ?? 0) * PROM_UNIT_NS[i], 0n);
}

/**
 * A duration in nanoseconds as Prometheus writes durations: days, hours,
 * minutes, seconds and milliseconds, zero parts left out (`0s` for none);
 * what is below a millisecond is dropped.
 *
 * @example
 * ```ts
 * import { formatDuration } from "./time.ts";
 * import assert from "node:assert/strict";
 * assert.equal(formatDuration(90_061_000_000_000n), "1d1h1m1s");
 * assert.equal(formatDuration(1_500_000_000n), "1s500ms");
 * assert.equal(formatDuration(0n), "0s");
 * ```
 */
export function formatDuration(ns: bigint): string {
  let left = ns / 1_000_000n;
  let text = "";
  for (const [unit, ms] of DURATION_UNITS) {
    if (left >= ms) {
      text += `${left / ms}${unit}`;
      left %= ms;
    }
  }
  return text || "0s";
}

const DURATION_UNITS: [string, bigint][] = [
  ["d", 86_400_000n],
  ["h", 3_600_000n],
  ["m", 60_000n],
  ["s", 1000n],
  ["ms", 1n],
];

/**
 * A unix time in decimal: seconds, milliseconds, microseconds or
 * nanoseconds, told apart by the size of the integer part as VictoriaLogs
 * does; exact in bigint arithmetic. `undefined` for anything else.
 *
 * @example
 * ```ts
 * import { parseUnixTime } from "./time.ts";
 * import assert from "node:assert/strict";
 * assert.equal(parseUnixTime("1796032806.5"), 1796032806500000000n);
 * assert.equal(parseUnixTime("1796032806123"), 1796032806123000000n);
 * assert.equal(parseUnixTime("-1"), undefined);
 * ```
 */
export function parseUnixTime(decimal: string): bigint | undefined {
  const m = /^(\d{1,19})(?:\.(\d+))?$/.exec(decimal);
  if (!m) return undefined;
  const [, whole, fraction = ""] = m;
  const digits = whole.replace(/^0+(?=\d)/, "").length;
  const scale = digits <= 11 ? 9 : digits <= 14 ? 6 : digits <= 17 ? 3 : 0;
  return BigInt(whole + fraction.padEnd(scale, "0").slice(0, scale));
}
