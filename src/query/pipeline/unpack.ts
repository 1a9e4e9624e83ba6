/**
 * The `| unpack` parser: a JSON object made by Promtail's `pack` stage. When
 * it has `_entry`, that becomes the line and each other string field a parsed
 * label; an object without it changes nothing, and neither does an empty
 * line, as in Loki. A line that is not a JSON object gets
 * `__error__="JSONParserErr"`.
 *
 * @module
 */

import { parseJsonObject } from "./json.ts";
import { sanitizeLabelKey } from "./label_key.ts";
import type { Stage } from "./mod.ts";

/**
 * The stage of `| unpack`.
 *
 * @example
 * ```ts
 * import { unpackStage } from "./unpack.ts";
 * import { LabelsBuilder } from "./labels.ts";
 * import assert from "node:assert/strict";
 * const labels = new LabelsBuilder({ key: "{}", labels: {} });
 * const entry = { line: '{"_entry":"GET /","pod":"p1","n":1}', labels };
 * assert.equal(unpackStage()(entry), true);
 * assert.equal(entry.line, "GET /");
 * assert.deepEqual(labels.final(new Map()).parsed, { pod: "p1" });
 * ```
 */
export function unpackStage(): Stage {
  return (entry) => {
    if (entry.line === "") return true;
    const obj = parseJsonObject(entry.line, entry.labels);
    if (!obj || typeof obj._entry !== "string") return true;
    for (const [key, value] of Object.entries(obj)) {
      if (typeof value !== "string") continue;
      if (key === "_entry") {
        entry.line = value;
        continue;
      }
      const name = sanitizeLabelKey(key, true);
      if (name !== "") entry.labels.setParsed(name, value);
    }
    return true;
  };
}
