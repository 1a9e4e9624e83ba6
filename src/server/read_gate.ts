/**
 * The gate of the read routes: the API key, a bound on the queries running
 * at once (`--max-concurrent-queries`, as many again may wait; beyond that,
 * 429), and each query's deadline (`--query-timeout`, from its arrival, its
 * wait included; past it, 504 with the reason).
 *
 * @module
 */

import { withDeadline } from "../query/deadline.ts";
import { HttpError } from "./errors.ts";

/** How the read routes are bounded. */
export interface ReadLimits {
  /** Throws 401 unless the request carries the read key. */
  authorize: (req: Request) => void;
  /** Queries that run at once; as many more may wait for a turn. */
  maxConcurrent: number;
  /** Milliseconds a query may take, its wait included; 0: no deadline. */
  timeoutMs: number;
}

/**
 * Admits, bounds and times the work of read requests.
 *
 * @example
 * ```ts
 * import { ReadGate } from "./read_gate.ts";
 * import { HttpError } from "./errors.ts";
 * import assert from "node:assert/strict";
 * const gate = new ReadGate({ authorize: () => {}, maxConcurrent: 1, timeoutMs: 0 });
 * const req = new Request("http://loge/api/v1/labels");
 * const { promise: slow, resolve } = Promise.withResolvers<string>();
 * const first = gate.run(req, () => slow); // runs
 * const second = gate.run(req, async () => "second"); // waits for a turn
 * await assert.rejects(gate.run(req, async () => "third"), (e: unknown) => e instanceof HttpError && e.status === 429);
 * resolve("first");
 * assert.deepEqual(await Promise.all([first, second]), ["first", "second"]);
 * ```
 */
export class ReadGate {
  readonly #limits: ReadLimits;
  #running = 0;
  readonly #waiting: (() => void)[] = [];

  constructor(limits: ReadLimits) {
    this.#limits = limits;
  }

  /**
   * Runs `work` for `req` once admitted, within the deadline.
   *
   * @throws {HttpError} 401 without the key, 429 when the running and waiting queries are at their bound.
   * @throws {QueryTimeoutError} when the deadline passes (504).
   */
  async run<T>(req: Request, work: () => Promise<T>): Promise<T> {
    const { authorize, maxConcurrent, timeoutMs } = this.#limits;
    authorize(req);
    if (this.#running >= maxConcurrent && this.#waiting.length >= maxConcurrent) {
      throw new HttpError(
        429,
        `too many queries at once: ${this.#running} running and ${this.#waiting.length} waiting ` +
          "(--max-concurrent-queries); retry shortly",
        {},
        { "retry-after": "1" },
      );
    }
    return await withDeadline(timeoutMs, async () => {
      if (this.#running >= maxConcurrent) {
        await new Promise<void>((resolve) => this.#waiting.push(resolve));
      } else this.#running++;
      try {
        return await work();
      } finally {
        // The turn passes to the first waiter, or is given back.
        const next = this.#waiting.shift();
        if (next) next();
        else this.#running--;
      }
    });
  }
}
