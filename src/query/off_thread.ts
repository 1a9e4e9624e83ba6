/**
 * Testing lines off the event loop: a line whose test could hold the thread
 * that serves every request (`LineMatcher.costly` in `line_scan.ts`: a
 * regex on `re2js` over a long line can take seconds, and no test can be
 * stopped half way) is tested on a worker the query starts for itself at its
 * first such line. Pushes and other requests go on meanwhile. The worker
 * stops when the query ends, or at its deadline, which ends a test under way.
 * At most {@linkcode MAX_LINE_TEST_WORKERS} run at once over all queries; a
 * query that needs one waits for its turn, within its deadline.
 *
 * @module
 */

import type { LineFilter } from "./ast.ts";
import { awaitOffThread, queryScoped } from "./deadline.ts";
import type { LineTestJob } from "./line_test_worker.ts";
import { WorkerPool } from "../storage/worker_pool.ts";

/** Most line-test workers alive at once: each takes a core and ~30 MB while it lives. */
export const MAX_LINE_TEST_WORKERS = 2;

const WORKER = new URL("./line_test_worker.ts", import.meta.url);
const POOL = {};

let alive = 0;
const waiting: (() => void)[] = [];

/** A started worker, once fewer than {@linkcode MAX_LINE_TEST_WORKERS} are alive. */
async function startWorker(): Promise<WorkerPool<LineTestJob, boolean>> {
  if (alive < MAX_LINE_TEST_WORKERS) alive++;
  else await new Promise<void>((resolve) => waiting.push(resolve)); // its slot is handed over
  return new WorkerPool<LineTestJob, boolean>(WORKER, 1);
}

/** Stops a worker of {@linkcode startWorker} and hands its slot to the next waiting. */
function stopWorker(pool: WorkerPool<LineTestJob, boolean>): void {
  pool.terminate();
  const next = waiting.shift();
  if (next) next();
  else alive--;
}

/**
 * Whether `line` passes every filter of `filters`, tested on the running
 * query's worker (on one of its own outside a query).
 *
 * @example
 * ```ts
 * import { testLineOffThread } from "./off_thread.ts";
 * import assert from "node:assert/strict";
 * const filters = [{ kind: "line_filter" as const, op: "|~" as const, value: "[a-z]{3}9" }];
 * assert.equal(await testLineOffThread(filters, "abc9"), true);
 * assert.equal(await testLineOffThread(filters, "ab9"), false);
 * ```
 *
 * @throws {QueryTimeoutError} when the query's deadline passes first.
 */
export async function testLineOffThread(
  filters: readonly LineFilter[],
  line: string,
): Promise<boolean> {
  const scoped = queryScoped(POOL, startWorker, (started) => void started.then(stopWorker));
  const started = scoped ?? startWorker();
  try {
    const pool = await awaitOffThread(started, () => {});
    return await awaitOffThread(pool.run({ filters, line }), () => pool.terminate());
  } finally {
    if (scoped === undefined) stopWorker(await started);
  }
}
