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
 * console.log(segmentName(0).startsWith("l0-")); // true
 * ```
 */
export function segmentName(level: number): string {
  return `l${level}-${boot}-${(counter++).toString().padStart(8, "0")}${SEGMENT_SUFFIX}`;
}
