/**
 * The longest time range a query may read (`--max-query-range`, Loki's
 * `max_query_length`): a bound on the work one query can ask for, checked
 * before anything is planned.
 *
 * @module
 */

import { formatDuration } from "../time.ts";

/** A query over a longer range than the server allows: a 400. */
export class QueryRangeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "QueryRangeError";
  }
}

/**
 * Throws unless `[start, end]` (nanoseconds; `start` 0: unbounded, `end` 0:
 * now) lasts at most `maxNs` (0: no limit).
 *
 * @throws {QueryRangeError} naming the range and the limit.
 *
 * @example
 * ```ts
 * import { checkQueryRange } from "./range_limit.ts";
 * import assert from "node:assert/strict";
 * const hour = 3_600_000_000_000n;
 * checkQueryRange(hour, 2n * hour, hour); // an hour: allowed
 * assert.throws(() => checkQueryRange(hour, 3n * hour, hour), /query range of 2h is over the limit of 1h/);
 * assert.throws(() => checkQueryRange(0n, hour, hour), /has no start/);
 * ```
 */
export function checkQueryRange(start: bigint, end: bigint, maxNs: bigint): void {
  if (maxNs <= 0n) return;
  if (start === 0n) {
    throw new QueryRangeError(
      `the query has no start, and --max-query-range limits a query to ${
        formatDuration(maxNs)
      }: give a start`,
    );
  }
  const range = (end === 0n ? BigInt(Date.now()) * 1_000_000n : end) - start;
  if (range > maxNs) {
    throw new QueryRangeError(
      `query range of ${formatDuration(range)} is over the limit of ${
        formatDuration(maxNs)
      } (--max-query-range)`,
    );
  }
}
