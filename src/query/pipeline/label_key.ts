/**
 * Label names from the keys of parsed lines (`| json`, `| logfmt`, `| unpack`).
 *
 * @module
 */

/**
 * A label name from a JSON or logfmt key, as Loki makes it: spaces trimmed,
 * every character outside `[a-zA-Z0-9_]` replaced with `_`, and `_` in front
 * of a leading digit when the key starts a name.
 *
 * @example
 * ```ts
 * import { sanitizeLabelKey } from "./label_key.ts";
 * import assert from "node:assert/strict";
 * assert.equal(sanitizeLabelKey("http.status-code", true), "http_status_code");
 * assert.equal(sanitizeLabelKey("2xx", true), "_2xx");
 * assert.equal(sanitizeLabelKey("2xx", false), "2xx");
 * assert.equal(sanitizeLabelKey("ok👌", true), "ok_"); // one "_" per character
 * ```
 */
export function sanitizeLabelKey(key: string, isPrefix: boolean): string {
  key = key.trim();
  if (key === "") return key;
  if (isPrefix && key[0] >= "0" && key[0] <= "9") key = "_" + key;
  // One "_" per character, as Go maps runes (not per UTF-16 unit).
  return key.replace(/[^a-zA-Z0-9_]/gu, "_");
}
