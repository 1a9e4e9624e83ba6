/**
 * Names of new segment files: level, creation time and a per-process counter,
 * unique across restarts and sortable by creation.
 *
 * @module
 */

import { SEGMENT_SUFFIX } from "./segment_format.ts";

let counter = 0;
const boot = Date.now().toString(36);

/**
 * A fresh file name for a segment of `level`.
 *
 * @example
 * ```ts
 * import { segmentName } from "./segment_name.ts";
 * import assert from "node:assert/strict";
 * assert.match(segmentName(0), /^l0-.*\.loge$/);
 * ```
 */
export function segmentName(level: number): string {
  return `l${level}-${boot}-${(counter++).toString().padStart(8, "0")}${SEGMENT_SUFFIX}`;
}

// What segmentName makes, loosely: `l<level>-` then lowercase letters, digits
// and dashes. Files not named so are no segments of ours.
const NAME = /^l(\d+)-[0-9a-z][0-9a-z-]*\.loge$/;

/**
 * The level a segment file name carries, or `undefined` when `name` is not
 * shaped like one {@linkcode segmentName} makes.
 *
 * @example
 * ```ts
 * import { segmentLevel } from "./segment_name.ts";
 * import assert from "node:assert/strict";
 * assert.equal(segmentLevel("l1-abc-00000001.loge"), 1);
 * assert.equal(segmentLevel("notes.loge"), undefined);
 * ```
 */
export function segmentLevel(name: string): number | undefined {
  const match = NAME.exec(name);
  return match ? Number(match[1]) : undefined;
}
