/**
 * A fixed set of Web Workers that run jobs one at a time each, so compression
 * and file writing never block the event loop that acknowledges pushes.
 *
 * Protocol: the pool posts `{ id, job }`; the worker answers `{ id, result }`
 * or `{ id, error }`, with its heap's figures (`memory`), and sends
 * `{ memory }` alone after it collected its garbage when idle. Each live
 * worker's last figures are kept by name ({@linkcode workersMemory}), for
 * `/metrics`.
 *
 * @module
 */

import { collectGarbage, GrowthGate, IdleRelease, ISOLATE_GROWTH_BYTES } from "../idle_memory.ts";

/** An isolate's memory, as `Deno.memoryUsage()` tells it (the process's RSS aside). */
export interface IsolateMemory {
  /** Bytes of the V8 heap. */
  heapTotal: number;
  /** Bytes of it in use. */
  heapUsed: number;
  /** Bytes held outside the heap by its objects: array buffers, mostly. */
  external: number;
}

/** This isolate's {@linkcode IsolateMemory}. */
export function isolateMemory(): IsolateMemory {
  const { heapTotal, heapUsed, external } = Deno.memoryUsage();
  return { heapTotal, heapUsed, external };
}

/** The last figures of each live worker, by name. */
const reported = new Map<string, IsolateMemory>();
/** The names of live workers: a number is free again once its worker ends. */
const live = new Set<string>();

/**
 * Each live worker's memory as it last told it (after each job, and after
 * its idle collection), by name: its module's and the lowest number no live
 * worker of that module has (`flush_worker#0`). Pools that come and go (a
 * compaction pass's lanes) reuse the names, so a metric labelled by them
 * keeps a bounded set of series.
 */
export function workersMemory(): ReadonlyMap<string, IsolateMemory> {
  return reported;
}

/** A new worker's name: `flush_worker#0`, `compact_worker#1`. */
function workerName(url: URL): string {
  const module = url.protocol === "file:"
    ? url.pathname.slice(url.pathname.lastIndexOf("/") + 1).replace(/\.[jt]s$/, "")
    : "worker";
  let n = 0;
  while (live.has(`${module}#${n}`)) n++;
  live.add(`${module}#${n}`);
  return `${module}#${n}`;
}

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
  readonly #names: string[] = [];
  #nextId = 1;
  #terminated = false;

  /** Starts `size` workers. */
  constructor(url: URL, size: number) {
    for (let i = 0; i < size; i++) {
      const worker = new Worker(url, { type: "module" });
      const name = workerName(url);
      this.#names.push(name);
      worker.onmessage = (
        e: MessageEvent<{ id?: number; result?: Result; error?: string; memory?: IsolateMemory }>,
      ) => {
        if (e.data.memory !== undefined) reported.set(name, e.data.memory);
        if (e.data.id === undefined) return; // figures alone: no job ended
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
    if (this.#terminated) return Promise.reject(new Error("worker pool terminated"));
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

  /** Stops every worker; running jobs are abandoned, and later ones refused. */
  terminate(): void {
    this.#terminated = true;
    for (const w of this.#all) w.terminate();
    // Once only: a later pool may have taken the names again.
    for (const name of this.#names.splice(0)) {
      reported.delete(name);
      live.delete(name);
    }
    for (const task of [...this.#running.values(), ...this.#queue]) {
      task.reject(new Error("worker pool terminated"));
    }
    this.#running.clear();
    this.#queue.length = 0;
  }
}

/**
 * Serves jobs inside a worker: answers each `{ id, job }` with `handle(job)`
 * and the worker's memory. A worker without a job for a while
 * ({@linkcode IdleRelease}) collects its garbage if its heap and array
 * buffers grew by {@linkcode ISOLATE_GROWTH_BYTES} since its last collection
 * ({@linkcode GrowthGate}), and tells its memory again.
 */
export function serveJobs<Job, Result>(handle: (job: Job) => Result | Promise<Result>): void {
  const scope = self as unknown as {
    onmessage: (e: MessageEvent<{ id: number; job: Job }>) => void;
    postMessage: (m: unknown) => void;
  };
  const grown = new GrowthGate(() => {
    const { heapTotal, external } = isolateMemory();
    return heapTotal + external;
  }, ISOLATE_GROWTH_BYTES);
  const idle = new IdleRelease(() => {
    if (!grown.grown() || !collectGarbage()) return;
    grown.reset();
    scope.postMessage({ memory: isolateMemory() });
  });
  scope.onmessage = async (e) => {
    idle.busy();
    const { id } = e.data;
    try {
      const result = await handle(e.data.job);
      scope.postMessage({ id, result, memory: isolateMemory() });
    } catch (error) {
      scope.postMessage({ id, error: (error as Error).message, memory: isolateMemory() });
    } finally {
      idle.idle();
    }
  };
}
