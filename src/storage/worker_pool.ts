/**
 * A fixed set of Web Workers that run jobs one at a time each, so compression
 * and file writing never block the event loop that acknowledges pushes.
 *
 * Protocol: the pool posts `{ id, job }`; the worker answers `{ id, result }`
 * or `{ id, error }`.
 *
 * @module
 */

import { IdleRelease } from "../idle_memory.ts";

interface Task {
  id: number;
  job: unknown;
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
}

/**
 * Runs jobs on `size` workers started from `url`.
 *
 * @example
 * ```ts
 * import { WorkerPool } from "./worker_pool.ts";
 * import assert from "node:assert/strict";
 * // A worker module speaking the protocol (the real ones call serveJobs).
 * const source = "self.onmessage = (e) => self.postMessage({ id: e.data.id, result: e.data.job * 2 });";
 * const pool = new WorkerPool<number, number>(
 *   new URL(`data:application/javascript,${encodeURIComponent(source)}`),
 *   2,
 * );
 * assert.deepEqual(await Promise.all([1, 2, 3].map((n) => pool.run(n))), [2, 4, 6]);
 * pool.terminate();
 * ```
 */
export class WorkerPool<Job, Result> {
  readonly #idle: Worker[] = [];
  readonly #all: Worker[] = [];
  readonly #queue: Task[] = [];
  readonly #running = new Map<Worker, Task>();
  #nextId = 1;

  /** Starts `size` workers. */
  constructor(url: URL, size: number) {
    for (let i = 0; i < size; i++) {
      const worker = new Worker(url, { type: "module" });
      worker.onmessage = (e: MessageEvent<{ id: number; result?: Result; error?: string }>) => {
        const task = this.#running.get(worker);
        this.#running.delete(worker);
        if (task) {
          if (e.data.error !== undefined) task.reject(new Error(e.data.error));
          else task.resolve(e.data.result);
        }
        this.#next(worker);
      };
      worker.onerror = (e) => {
        e.preventDefault();
        const task = this.#running.get(worker);
        this.#running.delete(worker);
        task?.reject(new Error(`worker failed: ${e.message}`));
        this.#next(worker);
      };
      this.#all.push(worker);
      this.#idle.push(worker);
    }
  }

  /** Runs `job` on the next free worker; `transfer` moves buffers instead of copying. */
  run(job: Job, transfer: Transferable[] = []): Promise<Result> {
    return new Promise<Result>((resolve, reject) => {
      const task: Task = {
        id: this.#nextId++,
        job,
        resolve: resolve as (v: unknown) => void,
        reject,
      };
      const worker = this.#idle.pop();
      if (worker) this.#start(worker, task, transfer);
      else this.#queue.push(Object.assign(task, { transfer }));
    });
  }

  #start(worker: Worker, task: Task, transfer: Transferable[]): void {
    this.#running.set(worker, task);
    worker.postMessage({ id: task.id, job: task.job }, transfer);
  }

  #next(worker: Worker): void {
    const task = this.#queue.shift() as (Task & { transfer: Transferable[] }) | undefined;
    if (task) this.#start(worker, task, task.transfer);
    else this.#idle.push(worker);
  }

  /** Stops every worker; running jobs are abandoned. */
  terminate(): void {
    for (const w of this.#all) w.terminate();
    for (const task of [...this.#running.values(), ...this.#queue]) {
      task.reject(new Error("worker pool terminated"));
    }
    this.#running.clear();
    this.#queue.length = 0;
  }
}

/**
 * Serves jobs inside a worker: answers each `{ id, job }` with `handle(job)`.
 * A worker without a job for a while collects its garbage and gives memory
 * back ({@linkcode IdleRelease}).
 */
export function serveJobs<Job, Result>(handle: (job: Job) => Result | Promise<Result>): void {
  const scope = self as unknown as {
    onmessage: (e: MessageEvent<{ id: number; job: Job }>) => void;
    postMessage: (m: unknown) => void;
  };
  const idle = new IdleRelease();
  scope.onmessage = async (e) => {
    idle.busy();
    try {
      scope.postMessage({ id: e.data.id, result: await handle(e.data.job) });
    } catch (error) {
      scope.postMessage({ id: e.data.id, error: (error as Error).message });
    } finally {
      idle.idle();
    }
  };
}
