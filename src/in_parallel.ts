/**
 * Bounded concurrency over a list: what the query engine uses to read files
 * and the cold tier to read indexes.
 *
 * @module
 */

/**
 * Runs `fn` over `items`, at most `limit` at once, in order of start. The
 * first rejection rejects the whole at once; no item starts after it (the
 * calls under way run on).
 *
 * @example
 * ```ts
 * import { inParallel } from "./in_parallel.ts";
 * import assert from "node:assert/strict";
 * let running = 0;
 * let most = 0;
 * const seen: number[] = [];
 * await inParallel([1, 2, 3, 4, 5], 2, async (n) => {
 *   most = Math.max(most, ++running);
 *   await new Promise((r) => setTimeout(r, 5));
 *   seen.push(n);
 *   running--;
 * });
 * assert.equal(most, 2);
 * assert.deepEqual(seen.sort(), [1, 2, 3, 4, 5]);
 * ```
 */
export async function inParallel<T>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  let failed = false;
  const run = async () => {
    while (next < items.length && !failed) {
      try {
        await fn(items[next++]);
      } catch (error) {
        failed = true;
        throw error;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, run));
}
