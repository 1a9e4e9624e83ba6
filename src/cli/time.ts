/**
 * Times on the command line: RFC 3339 (with up to nanosecond fractions) or
 * unix nanoseconds in, RFC 3339 with nanoseconds out.
 *
 * @module
 */

const RFC3339 = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/i;

/**
 * Parses RFC 3339 or unix nanoseconds into unix nanoseconds, or `undefined`.
 *
 * @example
 * ```ts
 * import { parseTime } from "./time.ts";
 * console.log(parseTime("2026-06-01T00:00:00.5Z")); // 1780272000500000000n
 * ```
 */
export function parseTime(text: string): bigint | undefined {
  if (/^\d{1,19}$/.test(text)) return BigInt(text);
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
 * console.log(formatTime(1700000000123400000n)); // 2023-11-14T22:13:20.1234Z
 * ```
 */
export function formatTime(ns: bigint): string {
  const seconds = ns / 1_000_000_000n;
  const fraction = (ns % 1_000_000_000n).toString().padStart(9, "0").replace(/0+$/, "");
  const base = new Date(Number(seconds) * 1000).toISOString().slice(0, 19);
  return `${base}${fraction ? `.${fraction}` : ""}Z`;
}
