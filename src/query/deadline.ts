/**
 * Query deadlines and turns. A query runs inside {@linkcode withDeadline};
 * the engine calls {@linkcode checkDeadline} before each unit of work it
 * starts (a file's blocks, a block's scan), which throws once the deadline
 * has passed: the query stops where it is and its reads are not started.
 * Before each wave of reads it calls {@linkcode shareEventLoop}, which gives
 * the event loop back to other requests once the query has held it for
 * {@linkcode TURN_MS}: reads the page cache holds do not wait, so without it
 * a long query would hold every push and every other request until done.
 * Scans of a block's lines stop between two lines when {@linkcode turnClock}
 * says the turn is up, and resume after it: a costly regex can take
 * milliseconds a line, and a block holds thousands. A line too costly to
 * test on the event loop at all is tested on a worker of the query's own
 * ({@linkcode queryScoped}, {@linkcode awaitOffThread}).
 * Both travel with the query's async context, so the engine's functions need
 * no parameter for them and concurrent queries keep their own.
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
  /** Unix ms after which the query stops (`Infinity`: never). */
  readonly at: number;
  readonly timeoutMs: number;
  /** `performance.now()` when the query last gave the event loop back. */
  turnFrom: number;
  /** What the query made for itself ({@linkcode queryScoped}), with how to release it. */
  readonly held: Map<object, { value: unknown; release: () => void }>;
  /** Whether the query has answered (work of it still running is orphaned). */
  ended: boolean;
}

/**
 * Thrown to work of a query that has already answered: one side of a binary
 * operation goes on after the other failed the query, and stops at its next
 * check. Nobody sees it.
 */
class QueryEndedError extends Error {
  constructor() {
    super("the query has already answered");
    this.name = "QueryEndedError";
  }
}

const current = new AsyncLocalStorage<Deadline>();

/** Milliseconds a query computes before other requests get the event loop. */
export const TURN_MS = 50;

/**
 * Runs `query` with a deadline `timeoutMs` from now (0: none), sharing the
 * event loop by turns.
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
export async function withDeadline<T>(timeoutMs: number, query: () => Promise<T>): Promise<T> {
  const at = timeoutMs > 0 ? Date.now() + timeoutMs : Infinity;
  const deadline: Deadline = {
    at,
    timeoutMs,
    turnFrom: performance.now(),
    held: new Map(),
    ended: false,
  };
  try {
    return await current.run(deadline, query);
  } finally {
    deadline.ended = true;
    for (const { release } of deadline.held.values()) release();
  }
}

/**
 * The running query's own instance of `key`'s resource: made by `make` at
 * its first use in the query, released by `release` when the query ends.
 * `undefined` outside a query.
 *
 * @example
 * ```ts
 * import { queryScoped, withDeadline } from "./deadline.ts";
 * import assert from "node:assert/strict";
 * const KEY = {};
 * const released: number[] = [];
 * let made = 0;
 * const use = () => queryScoped(KEY, () => ++made, (n) => released.push(n));
 * await withDeadline(0, async () => assert.equal(use() === use(), true));
 * assert.deepEqual(released, [1]);
 * assert.equal(use(), undefined);
 * ```
 */
export function queryScoped<T>(
  key: object,
  make: () => T,
  release: (value: T) => void,
): T | undefined {
  const query = current.getStore();
  if (query === undefined) return undefined;
  // What it made is released already: nothing may be made for it anymore.
  if (query.ended) throw new QueryEndedError();
  let held = query.held.get(key);
  if (held === undefined) {
    const value = make();
    query.held.set(key, held = { value, release: () => release(value) });
  }
  return held.value as T;
}

/**
 * Waits for work the running query handed to another thread: until its
 * deadline at most, after which `abandon` stops that work (a thread cannot be
 * interrupted otherwise) and a {@linkcode QueryTimeoutError} is thrown. The
 * wait does not count as the query's turn on the event loop.
 */
export async function awaitOffThread<T>(work: Promise<T>, abandon: () => void): Promise<T> {
  const query = current.getStore();
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    if (query === undefined || query.at === Infinity) return await work;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        // Rejected first: abandoning the work rejects it too.
        reject(new QueryTimeoutError(query.timeoutMs));
        abandon();
      }, Math.max(0, query.at - Date.now()));
    });
    return await Promise.race([work, late]);
  } finally {
    clearTimeout(timer);
    if (query !== undefined) query.turnFrom = performance.now();
  }
}

/**
 * Throws a {@linkcode QueryTimeoutError} when the running query's deadline
 * has passed, and stops work of a query that has already answered; does
 * nothing outside a query.
 */
export function checkDeadline(): void {
  const deadline = current.getStore();
  if (deadline === undefined) return;
  if (Date.now() > deadline.at) throw new QueryTimeoutError(deadline.timeoutMs);
  if (deadline.ended) throw new QueryEndedError();
}

/**
 * Gives the event loop back to other requests (a timer's turn) when the
 * running query has held it for {@linkcode TURN_MS} or longer; at once
 * otherwise, and outside a query.
 *
 * @example
 * ```ts
 * import { shareEventLoop, TURN_MS, withDeadline } from "./deadline.ts";
 * import assert from "node:assert/strict";
 * let ticks = 0;
 * const ticker = setInterval(() => ticks++, 0);
 * await withDeadline(0, async () => {
 *   // Busy for two turns without a read that waits: the ticker runs between them.
 *   for (const end = performance.now() + 2.5 * TURN_MS; performance.now() < end;) {
 *     await shareEventLoop();
 *   }
 * });
 * clearInterval(ticker);
 * assert.ok(ticks >= 2, `${ticks} ticks`);
 * ```
 */
export async function shareEventLoop(): Promise<void> {
  const query = current.getStore();
  if (query === undefined || performance.now() - query.turnFrom < TURN_MS) return;
  await new Promise((resolve) => setTimeout(resolve, 0));
  query.turnFrom = performance.now();
}

/** Most calls of a {@linkcode turnClock} between two looks at the time. */
const MAX_STRIDE = 16;

/**
 * A clock for a synchronous loop of the running query (a scan of a block's
 * lines): the function it returns, called after each step, says when the
 * query's turn is up, so the loop can stop there, {@linkcode shareEventLoop}
 * and resume. It looks at the time every call while steps are slow (a line
 * a costly regex tests), and every up to 16 calls while 16 take under a
 * millisecond, where a look would cost a fair share of a step. Outside a
 * query the turn is never up.
 *
 * @example
 * ```ts
 * import { shareEventLoop, turnClock, TURN_MS, withDeadline } from "./deadline.ts";
 * import assert from "node:assert/strict";
 * let ticks = 0;
 * const ticker = setInterval(() => ticks++, 0);
 * let steps = 0;
 * await withDeadline(0, async () => {
 *   const end = performance.now() + 2.5 * TURN_MS;
 *   while (performance.now() < end) {
 *     const turnUp = turnClock();
 *     while (!turnUp() && performance.now() < end) steps++;
 *     await shareEventLoop();
 *   }
 * });
 * clearInterval(ticker);
 * assert.ok(ticks >= 2 && steps > 0, `${ticks} ticks`);
 * ```
 */
export function turnClock(): () => boolean {
  const query = current.getStore();
  if (query === undefined) return () => false;
  let stride = 1;
  let left = 1;
  let last = performance.now();
  return () => {
    if (--left > 0) return false;
    const now = performance.now();
    if (now - query.turnFrom >= TURN_MS) return true;
    stride = now - last < 1 ? Math.min(stride * 2, MAX_STRIDE) : 1;
    left = stride;
    last = now;
    return false;
  };
}
