/**
 * Time partitions: compaction keeps each segment's lines inside one
 * partition (`--time-partition`, a day by default, counted from the unix
 * epoch so a day is a UTC day), so retention, which deletes whole files,
 * deletes a partition once its newest line has expired, even when old and
 * new lines arrived together. Flush files may span partitions; compaction
 * splits them.
 *
 * @module
 */

/** Nanoseconds in an hour: partitions are whole hours. */
export const HOUR_NS = 3_600_000_000_000n;

/** The default partition: a UTC day. */
export const DAY_NS: bigint = 24n * HOUR_NS;

/**
 * The partition of time `ts` (unix ns) for partitions of `periodNs`.
 *
 * @example
 * ```ts
 * import { DAY_NS, partitionOf } from "./time_partition.ts";
 * import assert from "node:assert/strict";
 * const ts = BigInt(Date.UTC(2026, 10, 30, 23, 59)) * 1_000_000n;
 * assert.equal(partitionOf(ts, DAY_NS), partitionOf(ts - 23n * 3_600_000_000_000n, DAY_NS));
 * assert.equal(partitionOf(ts + 60_000_000_000n, DAY_NS), partitionOf(ts, DAY_NS) + 1n);
 * ```
 */
export function partitionOf(ts: bigint, periodNs: bigint): bigint {
  return ts / periodNs;
}

/**
 * Whether a file whose lines lie in [`minTs`, `maxTs`] holds lines of more
 * than one partition.
 *
 * @example
 * ```ts
 * import { DAY_NS, spansPartitions } from "./time_partition.ts";
 * import assert from "node:assert/strict";
 * assert.equal(spansPartitions(0n, DAY_NS - 1n, DAY_NS), false);
 * assert.equal(spansPartitions(0n, DAY_NS, DAY_NS), true);
 * ```
 */
export function spansPartitions(minTs: bigint, maxTs: bigint, periodNs: bigint): boolean {
  return partitionOf(minTs, periodNs) !== partitionOf(maxTs, periodNs);
}
