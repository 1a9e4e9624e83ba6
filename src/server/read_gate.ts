/**
 * The gate of the read routes: the API key; the request's body, read before
 * a turn is taken so that a slow sender holds no turn (within
 * `--read-timeout`, 408 beyond); a bound on the queries running at once
 * (`--max-concurrent-queries`, as many again may wait; beyond that, 429);
 * and each query's deadline (`--query-timeout`, its wait for a turn
 * included; past it, 504 with the reason).
 *
 * @module
 */

import { withDeadline } from "../query/deadline.ts";
import { MAX_READ_BODY, readBody } from "./body.ts";
import { HttpError } from "./errors.ts";

/** How the read routes are bounded. */
export interface ReadLimits {
  /** Throws 401 unless the request carries the read key. */
  authorize: (req: Request) => void;
  /** Queries that run at once; as many more may wait for a turn. */
  maxConcurrent: number;
  /** Milliseconds a query may take, its wait included; 0: no deadline. */
  timeoutMs: number;
  /** Milliseconds the request's body may take to arrive. */
  readTimeoutMs: number;
}

/**
 * Admits, bounds and times the work of read requests.
 *
 * @example
 * ```ts
 * import { ReadGate } from "./read_gate.ts";
 * import { HttpError } from "./errors.ts";
 * import assert from "node:assert/strict";
 * const gate = new ReadGate({ authorize: () => {}, maxConcurrent: 1, timeoutMs: 0, readTimeoutMs: 0 });
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
   * Runs `work` once admitted, within the deadline, with `req` or, when it
   * has a body, a copy of it whose body has arrived.
   *
   * @throws {HttpError} 401 without the key; 400, 408, 413 or 415 from reading
   * the body; 429 when the running and waiting queries are at their bound.
   * @throws {QueryTimeoutError} when the deadline passes (504).
   */
  async run<T>(req: Request, work: (req: Request) => Promise<T>): Promise<T> {
    const { authorize, maxConcurrent, timeoutMs, readTimeoutMs } = this.#limits;
    authorize(req);
    if (req.body !== null) {
      // Gunzipped by readBody: the copy has no Content-Encoding.
      const body = await readBody(req, { maxBytes: MAX_READ_BODY, timeoutMs: readTimeoutMs });
      const headers = new Headers(req.headers);
      headers.delete("content-encoding");
      headers.delete("content-length");
      req = new Request(req.url, {
        method: req.method,
        headers,
        body: body as Uint8Array<ArrayBuffer>,
      });
    }
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
        return await work(req);
      } finally {
        // The turn passes to the first waiter, or is given back.
        const next = this.#waiting.shift();
        if (next) next();
        else this.#running--;
      }
    });
  }
}
