// @ts-check
/**
 * Durations as people type them (`500ms`, `2s`, `1m30s`, `1h`, `0`), parsed
 * once for both faces: the `loge serve`/`loge search` flags import this
 * module, and so does the web UI for its time range (`15m`, `24h`, `7d`).
 * Pure and free of dependencies so that Deno and the browser load the same
 * file.
 *
 * @module
 */

/** @type {Readonly<Record<string, number>>} */
const UNIT_MS = {
  ns: 1e-6,
  us: 1e-3,
  "µs": 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};

const GO = "ns|us|µs|ms|s|m|h";
const GRAMMARS = {
  go: { whole: new RegExp(`^(?:\\d+(?:\\.\\d+)?(?:${GO}))+$`), part: `(${GO})` },
  days: { whole: new RegExp(`^(?:\\d+(?:\\.\\d+)?(?:${GO}|d|w))+$`), part: `(${GO}|d|w)` },
};

/**
 * Parses a Go-style duration into milliseconds; `undefined` when it is not
 * one. A bare `0` is zero; other bare numbers have no unit and are refused.
 * Go (and so the command line) has no days: `{ days: true }` adds `d` and `w`.
 *
 * @example
 * ```ts
 * import { parseDuration } from "./duration.js";
 * import assert from "node:assert/strict";
 * assert.equal(parseDuration("1m30s"), 90_000);
 * assert.equal(parseDuration("7d", { days: true }), 7 * 24 * 3600 * 1000);
 * ```
 *
 * @param {string} text
 * @param {{ days?: boolean }} [options]
 * @returns {number | undefined}
 */
export function parseDuration(text, { days = false } = {}) {
  if (text === "0") return 0;
  const grammar = days ? GRAMMARS.days : GRAMMARS.go;
  if (!grammar.whole.test(text)) return undefined;
  let ms = 0;
  for (const [, n, unit] of text.matchAll(new RegExp(`(\\d+(?:\\.\\d+)?)${grammar.part}`, "g"))) {
    ms += Number(n) * UNIT_MS[unit];
  }
  return ms;
}
