/**
 * Testing lines off the event loop: a line whose test could hold the thread
 * that serves every request (`LineMatcher.costly` in `line_scan.ts`: a
 * regex on `re2js` over a long line can take seconds, and no test can be
 * stopped half way) is tested on a worker of a {@linkcode LineTester}: the
 * running query's own ({@linkcode testLineOffThread}), or a live tail's.
 * Pushes and other requests go on meanwhile. Queries and tails each have
 * {@linkcode MAX_LINE_TEST_WORKERS} workers at most alive at once, so tails
 * that never stop cannot hold queries back; a tester that needs one more
 * waits for its turn (a query within its deadline).
 *
 * @module
 */

import type { LineFilter } from "./ast.ts";
import { awaitOffThread, queryScoped } from "./deadline.ts";
import type { LineTestJob } from "./line_test_worker.ts";
import { WorkerPool } from "../storage/worker_pool.ts";

/** Most line-test workers alive at once, for queries and for tails each: ~30 MB and a core each. */
export const MAX_LINE_TEST_WORKERS = 2;

/** How long a tester's worker lives without a line to test. */
export const LINE_TEST_IDLE_MS = 2000;

type LineTestPool = WorkerPool<LineTestJob, boolean>;

const WORKER = new URL("./line_test_worker.ts", import.meta.url);

/** Turns to run a worker: at most {@linkcode MAX_LINE_TEST_WORKERS} alive at once. */
export class WorkerSlots {
  #alive = 0;
  readonly #waiting: (() => void)[] = [];

  /** A started worker, once fewer than the most are alive. */
  async start(): Promise<LineTestPool> {
    if (this.#alive < MAX_LINE_TEST_WORKERS) this.#alive++;
    else await new Promise<void>((resolve) => this.#waiting.push(resolve)); // a slot handed over
    return new WorkerPool<LineTestJob, boolean>(WORKER, 1);
  }

  /** Stops a worker of {@linkcode start} and hands its slot to the next waiting. */
  stop(pool: LineTestPool): void {
    pool.terminate();
    const next = this.#waiting.shift();
    if (next) next();
    else this.#alive--;
  }
}

/** The slots of queries' testers. */
const QUERY_SLOTS = new WorkerSlots();

/**
 * Tests lines on a worker of its own: started at its first line, stopped
 * after {@linkcode LINE_TEST_IDLE_MS} (by default) without a test under way (so that it
 * holds no slot meanwhile), at {@linkcode close}, and at the running query's
 * deadline, which ends a test under way.
 *
 * @example
 * ```ts
 * import { LineTester } from "./off_thread.ts";
 * import assert from "node:assert/strict";
 * const tester = new LineTester();
 * const filters = [{ kind: "line_filter" as const, op: "|~" as const, value: "[a-z]{3}9" }];
 * assert.equal(await tester.test(filters, "abc9"), true);
 * assert.equal(await tester.test(filters, "ab9"), false);
 * tester.close();
 * ```
 */
export class LineTester {
  readonly #slots: WorkerSlots;
  readonly #idleMs: number;
  #started?: Promise<LineTestPool>;
  #idle?: ReturnType<typeof setTimeout>;
  #testing = 0;

  /**
   * A tester whose worker takes one of `slots` (the queries' by default),
   * and stops after `idleMs` without a test under way.
   */
  constructor(slots: WorkerSlots = QUERY_SLOTS, idleMs = LINE_TEST_IDLE_MS) {
    this.#slots = slots;
    this.#idleMs = idleMs;
  }

  /**
   * Whether `line` passes every filter of `filters`.
   *
   * @throws {QueryTimeoutError} when the running query's deadline passes first.
   */
  async test(filters: readonly LineFilter[], line: string): Promise<boolean> {
    clearTimeout(this.#idle);
    this.#testing++;
    const started = this.#started ??= this.#slots.start();
    try {
      const pool = await awaitOffThread(started, () => {});
      return await awaitOffThread(pool.run({ filters, line }), () => pool.terminate());
    } finally {
      if (--this.#testing === 0 && this.#started === started) {
        this.#idle = setTimeout(() => this.close(), this.#idleMs);
        Deno.unrefTimer(this.#idle);
      }
    }
  }

  /** Stops the worker, if one is started (or as soon as its turn comes). */
  close(): void {
    clearTimeout(this.#idle);
    const slots = this.#slots;
    void this.#started?.then((pool) => slots.stop(pool));
    this.#started = undefined;
  }
}

const QUERY_TESTER = {};

/**
 * The tester of scans outside a query (a live tail's replay, `loge search`
 * on a local folder): one for all of them, so a worker is not started for
 * each line.
 */
const DETACHED = new LineTester();

/**
 * Whether `line` passes every filter of `filters`, tested on the running
 * query's {@linkcode LineTester}, closed when the query ends (outside a
 * query, on one shared by all scans, stopped when idle).
 *
 * @example
 * ```ts
 * import { testLineOffThread } from "./off_thread.ts";
 * import assert from "node:assert/strict";
 * const filters = [{ kind: "line_filter" as const, op: "|~" as const, value: "[a-z]{3}9" }];
 * assert.equal(await testLineOffThread(filters, "abc9"), true);
 * ```
 *
 * @throws {QueryTimeoutError} when the query's deadline passes first.
 */
export async function testLineOffThread(
  filters: readonly LineFilter[],
  line: string,
): Promise<boolean> {
  const scoped = queryScoped(QUERY_TESTER, () => new LineTester(), (tester) => tester.close());
  return await (scoped ?? DETACHED).test(filters, line);
}
