/**
 * Names of new segment files: level, creation time and a per-process counter,
 * unique across restarts and sortable by creation.
 *
 * @module
 */

import { SEGMENT_SUFFIX } from "./segment_format.ts";
import { HOUR_NS } from "./time_partition.ts";

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

/**
 * `-p<partition>-<hours>h-<segments>` before the suffix: what a time partition
 * adds to a merge's name, with how many segments the merge wrote.
 */
const PARTITION = /(l\d+-[0-9a-z]+-\d+)-p(\d{1,15})-(\d{1,6})h-(\d{1,6})\.loge$/;

/** Where a merge's segment stands among its siblings. */
export interface MergePart {
  /** The time partition its lines lie in, unix ns [`from`, `to`). */
  readonly from: bigint;
  readonly to: bigint;
  /** The merge that wrote it: its siblings share this, and their WAL sequences. */
  readonly merge: string;
  /** How many segments the merge wrote: one per partition its lines fell in. */
  readonly siblings: number;
}

/**
 * The name of the segment holding time partition `partition` (of `periodNs`,
 * whole hours) of the merge named `name` (a {@linkcode segmentName}), which
 * wrote `siblings` segments; {@linkcode mergePartOf} reads it back.
 *
 * @example
 * ```ts
 * import { partitionedName } from "./segment_name.ts";
 * import assert from "node:assert/strict";
 * const day = 86_400_000_000_000n;
 * assert.equal(partitionedName("l1-abc-00000001.loge", 20_000n, day, 2), "l1-abc-00000001-p20000-24h-2.loge");
 * ```
 */
export function partitionedName(
  name: string,
  partition: bigint,
  periodNs: bigint,
  siblings: number,
): string {
  const stem = name.slice(0, -SEGMENT_SUFFIX.length);
  return `${stem}-p${partition}-${periodNs / HOUR_NS}h-${siblings}${SEGMENT_SUFFIX}`;
}

/**
 * What a segment's name says of the merge that wrote it, or `undefined` for a
 * file written whole (a flush file, a segment of an older version). A remote
 * name ends with its local name.
 *
 * @example
 * ```ts
 * import { mergePartOf } from "./segment_name.ts";
 * import assert from "node:assert/strict";
 * const hour = 3_600_000_000_000n;
 * assert.deepEqual(mergePartOf("l1-abc-00000001-p7-24h-2.loge"), {
 *   from: 168n * hour,
 *   to: 192n * hour,
 *   merge: "l1-abc-00000001",
 *   siblings: 2,
 * });
 * assert.equal(mergePartOf("node-1/5-9-3-120-800-l1-abc-00000001-p7-24h-2.loge")?.merge, "l1-abc-00000001");
 * assert.equal(mergePartOf("l0-abc-00000002.loge"), undefined);
 * ```
 */
export function mergePartOf(name: string): MergePart | undefined {
  const match = PARTITION.exec(name);
  if (!match) return undefined;
  const period = BigInt(match[3]) * HOUR_NS;
  const from = BigInt(match[2]) * period;
  const siblings = Number(match[4]);
  if (period === 0n || siblings === 0) return undefined;
  return { from, to: from + period, merge: match[1], siblings };
}

/**
 * A fresh name for a rewrite of the segment `name` (its blocks compressed
 * again): new, yet still the same part of the same merge to
 * {@linkcode mergePartOf}, so the lines a merge's siblings hold together are
 * still known as held after one of them is rewritten. A name written whole
 * gets a plain fresh name.
 *
 * @example
 * ```ts
 * import { mergePartOf, rewriteName, segmentLevel } from "./segment_name.ts";
 * import assert from "node:assert/strict";
 * const name = rewriteName("l1-abc-00000001-p7-24h-2.loge");
 * assert.notEqual(name, "l1-abc-00000001-p7-24h-2.loge");
 * assert.equal(segmentLevel(name), 1);
 * assert.deepEqual(mergePartOf(name), mergePartOf("l1-abc-00000001-p7-24h-2.loge"));
 * assert.deepEqual(mergePartOf(rewriteName(name)), mergePartOf(name)); // no longer each time
 * assert.equal(rewriteName(name).length, name.length);
 * ```
 */
export function rewriteName(name: string): string {
  const fresh = segmentName(segmentLevel(name) ?? 1);
  const part = PARTITION.exec(name);
  if (!part) return fresh;
  return `${fresh.slice(0, -SEGMENT_SUFFIX.length)}-${part[0]}`;
}
