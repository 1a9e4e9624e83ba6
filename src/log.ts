/**
 * The server's log: one line per event on stderr, prefixed `loge: `, so
 * operators can grep it and tests can read it. Every module logs through
 * here rather than through `console` directly.
 *
 * @module
 */

/** Where lines go; tests and embedders may replace it. */
let sink: (line: string) => void = (line) => console.error(line);

/**
 * Logs one event.
 *
 * @example
 * ```ts
 * import { log, setLogSink } from "./log.ts";
 * import assert from "node:assert/strict";
 * const lines: string[] = [];
 * const restore = setLogSink((line) => lines.push(line));
 * log("catalog rebuilt");
 * restore();
 * assert.deepEqual(lines, ["loge: catalog rebuilt"]);
 * ```
 */
export function log(message: string): void {
  sink(`loge: ${message}`);
}

/** Sends log lines to `to` instead of stderr; returns a function that undoes it. */
export function setLogSink(to: (line: string) => void): () => void {
  const before = sink;
  sink = to;
  return () => {
    sink = before;
  };
}
