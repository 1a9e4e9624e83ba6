// @ts-check
/**
 * Nanosecond timestamps: the range durations, URL times and the local-time
 * formats shown on the page.
 *
 * @module
 */

import { parseDuration } from "./duration.js";

export const NS_PER_MS = 1_000_000n;

/** @returns {bigint} now in unix nanoseconds */
export const nowNs = () => BigInt(Date.now()) * NS_PER_MS;

/**
 * A positive duration ("15m", "7d") → nanoseconds, or undefined.
 *
 * @param {string | null | undefined} text
 * @returns {bigint | undefined}
 */
export function parseRange(text) {
  const ms = parseDuration(text ?? "", { days: true });
  if (ms === undefined || ms <= 0) return undefined;
  return Number.isInteger(ms) ? BigInt(ms) * NS_PER_MS : BigInt(Math.round(ms * 1e6));
}

/**
 * A URL time (ns digits or anything Date parses) → ns digits, or "".
 *
 * @param {string | null} text
 * @returns {string}
 */
export function parseTimeParam(text) {
  if (!text) return "";
  if (/^\d+$/.test(text)) return text;
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? "" : String(BigInt(ms) * NS_PER_MS);
}

/**
 * A datetime-local value → ns digits, or "".
 *
 * @param {string} value
 * @returns {string}
 */
export function fromLocalInput(value) {
  const ms = value ? new Date(value).getTime() : NaN;
  return Number.isNaN(ms) ? "" : String(BigInt(ms) * NS_PER_MS);
}

/**
 * @param {number | bigint} n
 * @param {number} [width]
 */
const pad = (n, width = 2) => String(n).padStart(width, "0");

/**
 * Local "YYYY-MM-DDTHH:MM:SS" (the datetime-local format) of a ns timestamp.
 *
 * @param {bigint} ts
 * @returns {string}
 */
export function localISO(ts) {
  const d = new Date(Number(ts / NS_PER_MS));
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${
    pad(d.getMinutes())
  }:${pad(d.getSeconds())}`;
}

/**
 * "2024-05-01 12:34:56.789" in local time.
 *
 * @param {bigint} ts
 * @returns {string}
 */
export function formatTime(ts) {
  const ms = Number((ts / NS_PER_MS) % 1000n);
  return `${localISO(ts).replace("T", " ")}.${pad(ms, 3)}`;
}

/**
 * Tooltip text: exact nanoseconds and UTC.
 *
 * @param {bigint} ts
 * @returns {string}
 */
export function fullTime(ts) {
  const iso = new Date(Number(ts / NS_PER_MS)).toISOString();
  return `${iso.slice(0, 19)}.${pad(ts % 1_000_000_000n, 9)}Z (${ts} ns)`;
}
