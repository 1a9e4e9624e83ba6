/**
 * Query deadlines. A query runs inside {@linkcode withDeadline}; the engine
 * calls {@linkcode checkDeadline} before each unit of work it starts (a
 * file's blocks, a block's scan), which throws once the deadline has passed:
 * the query stops where it is and its reads are not started. The deadline
 * travels with the query's async context, so the engine's functions need no
 * parameter for it and concurrent queries keep their own.
 *
 * @module
 */

import { AsyncLocalStorage } from "node:async_hooks";

/** A query that ran past its deadline. */
export class QueryTimeoutError extends Error {
  /** Creates the error for a query allowed `timeoutMs`. */
  constructor(readonly timeoutMs: number) {
    super(
      `query did not finish within ${timeoutMs / 1000}s (--query-timeout): ` +
        "narrow its time range or its selector",
    );
    this.name = "QueryTimeoutError";
  }
}

interface Deadline {
  /** Unix ms after which the query stops. */
  readonly at: number;
  readonly timeoutMs: number;
}

const current = new AsyncLocalStorage<Deadline>();

/**
 * Runs `query` with a deadline `timeoutMs` from now (0: none).
 *
 * @example
 * ```ts
 * import { checkDeadline, QueryTimeoutError, withDeadline } from "./deadline.ts";
 * import assert from "node:assert/strict";
 * await withDeadline(1000, async () => checkDeadline()); // in time
 * await assert.rejects(
 *   withDeadline(1, async () => {
 *     await new Promise((r) => setTimeout(r, 5));
 *     checkDeadline();
 *   }),
 *   QueryTimeoutError,
 * );
 * ```
 */
export function withDeadline<T>(timeoutMs: number, query: () => Promise<T>): Promise<T> {
  if (timeoutMs <= 0) return query();
  return current.run({ at: Date.now() + timeoutMs, timeoutMs }, query);
}

/**
 * Throws a {@linkcode QueryTimeoutError} when the running query's deadline
 * has passed; does nothing outside a query with a deadline.
 */
export function checkDeadline(): void {
  const deadline = current.getStore();
  if (deadline !== undefined && Date.now() > deadline.at) {
    throw new QueryTimeoutError(deadline.timeoutMs);
  }
}
