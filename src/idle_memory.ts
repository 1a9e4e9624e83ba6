/**
 * Giving memory back once work stops. Under load V8 lets each isolate's heap
 * grow to about three times what is live, and frees dead `ArrayBuffer`s
 * (bodies, encoded batches, blocks) only when it collects; after the load it
 * shrinks them only over tens of seconds. So a worker without a job
 * for a second collects its garbage (V8's `gc`, exposed by `--expose-gc`, one
 * of the server's V8 flags in `cli/runtime.ts`), and once the whole process
 * is idle the main isolate collects its own and glibc returns what its heaps
 * hold free (`malloc_trim`; not under load, where it stalls every thread
 * that allocates for tens of ms). 5–20 s after a 1M-line push the server
 * then holds 256–276 MB instead of 314–358; V8's own memory reducer brings
 * both to ~120 MB some 35 s after.
 *
 * @module
 */

import { releaseFreeMemory } from "./libc.ts";

/** How long a worker waits without a job before it collects its garbage. */
export const WORKER_IDLE_MS = 1_000;

/**
 * Collects this isolate's garbage, when `gc` is exposed: each isolate has a
 * heap of its own. Whether a collection ran.
 *
 * @example
 * ```ts
 * import { collectGarbage } from "./idle_memory.ts";
 * console.log(collectGarbage()); // false without --expose-gc
 * ```
 */
export function collectGarbage(): boolean {
  // V8's `gc`, present when the process runs with `--expose-gc`.
  const gc = (globalThis as { gc?: unknown }).gc;
  if (typeof gc !== "function") return false;
  gc();
  return true;
}

/**
 * For the main isolate once the process is idle: collects its garbage, then
 * gives the allocator's free memory (every isolate's) back to the system.
 * Whether a collection ran.
 */
export function releaseIdleMemory(): boolean {
  const collected = collectGarbage();
  releaseFreeMemory();
  return collected;
}

/**
 * A worker's idle timer: {@linkcode IdleRelease.busy} when a job arrives,
 * {@linkcode IdleRelease.idle} when it is answered; `release` runs once the
 * worker has had no job for `idleMs`. The timer does not keep the worker
 * alive.
 *
 * @example
 * ```ts
 * import { IdleRelease } from "./idle_memory.ts";
 * import assert from "node:assert/strict";
 * let released = 0;
 * const idle = new IdleRelease(() => released++, 10);
 * idle.busy();
 * idle.idle();
 * idle.busy(); // a job came before the 10 ms: no release for the first pause
 * idle.idle();
 * await new Promise((resolve) => setTimeout(resolve, 50));
 * assert.equal(released, 1);
 * ```
 */
export class IdleRelease {
  readonly #idleMs: number;
  readonly #release: () => void;
  #timer: ReturnType<typeof setTimeout> | undefined;

  /** Runs `release` after `idleMs` without a job. */
  constructor(release: () => void, idleMs: number = WORKER_IDLE_MS) {
    this.#release = release;
    this.#idleMs = idleMs;
  }

  /** A job started: no release while it runs. */
  busy(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** The job ended: release after `idleMs` unless another starts. */
  idle(): void {
    clearTimeout(this.#timer);
    const timer = setTimeout(() => {
      this.#timer = undefined;
      this.#release();
    }, this.#idleMs);
    Deno.unrefTimer(timer);
    this.#timer = timer;
  }
}
