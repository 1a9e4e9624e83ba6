/**
 * Giving memory back once work stops. Under load V8 lets each isolate's heap
 * grow to about three times what is live, and frees dead `ArrayBuffer`s
 * (bodies, encoded batches, blocks) only when it collects; after the load it
 * shrinks them only over tens of seconds. So a worker without a job
 * for a second collects its garbage (V8's `gc`, exposed by `--expose-gc`, one
 * of the server's V8 flags in `cli/runtime.ts`), and once the whole process
 * is idle ({@linkcode IdleProcessRelease}) the main isolate collects its own
 * and glibc returns what its heaps hold free (`malloc_trim`; not under load,
 * where it stalls every thread that allocates for tens of ms). Each does so
 * only when its memory grew since it last did ({@linkcode GrowthGate}).
 *
 * A collection is V8's last-resort one: a plain full collection shrinks the
 * heap V8 counts but keeps its freed pages mapped for later (a script that
 * made 300 MB of garbage stays at 330 MB of RSS after `gc()`, and falls to 44
 * MB after the last-resort one).
 *
 * @module
 */

import { releaseFreeMemory } from "./libc.ts";

/** How long a worker waits without a job before it collects its garbage. */
export const WORKER_IDLE_MS = 1_000;

/**
 * Collects this isolate's garbage and unmaps the pages it freed, when `gc`
 * is exposed: each isolate has a heap of its own. Whether a collection ran.
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
  // Last resort: two to seven full collections that shrink the heap and unmap
  // the pages they freed; it also drops compiled-code caches, rebuilt on use.
  gc({ type: "major", execution: "sync", flavor: "last-resort" });
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

/**
 * Whether there is memory to give back: a reading (RSS, an isolate's heap)
 * that stands `growth` above the lowest seen since the last
 * {@linkcode GrowthGate.reset}. A release costs a last-resort collection; a
 * process or worker with a trickle of work is idle often and has little to
 * give back each time.
 *
 * @example
 * ```ts
 * import { GrowthGate } from "./idle_memory.ts";
 * import assert from "node:assert/strict";
 * let bytes = 100;
 * const gate = new GrowthGate(() => bytes, 50);
 * bytes = 80; // lower: the growth counts from here
 * assert.equal(gate.grown(), false);
 * bytes = 130;
 * assert.equal(gate.grown(), true);
 * gate.reset();
 * assert.equal(gate.grown(), false);
 * ```
 */
export class GrowthGate {
  readonly #read: () => number;
  readonly #growth: number;
  #lowest: number;

  /** Watches `read()`, which must grow by `growth` to count. */
  constructor(read: () => number, growth: number) {
    this.#read = read;
    this.#growth = growth;
    this.#lowest = read();
  }

  /** Reads once; whether the reading stands `growth` above the lowest since the last reset. */
  grown(): boolean {
    const value = this.#read();
    this.#lowest = Math.min(this.#lowest, value);
    return value >= this.#lowest + this.#growth;
  }

  /** Counts growth from the current reading again (after a release). */
  reset(): void {
    this.#lowest = this.#read();
  }
}

/** The readings {@linkcode IdleProcessRelease} decides on. */
export interface ProcessReadings {
  /** CPU time of the whole process (every thread) so far, in clock ticks. */
  cpuTicks(): number;
  /** Resident memory of the process, in bytes. */
  rss(): number;
}

/** How often the process checks whether it went idle. */
export const IDLE_CHECK_MS = 1_000;
/** Checks an idle stretch spans: the process is idle after 2 s of it. */
const IDLE_CHECKS = 2;
/** CPU time a stretch may use and still count as idle: 2% of one core. */
const IDLE_CPU_SHARE = 0.02;
/** Linux's clock ticks per second (`USER_HZ`), the unit of `/proc/self/stat`'s times. */
const CLOCK_TICKS = 100;
/** Growth of RSS that makes an idle process release ({@linkcode GrowthGate}). */
export const RELEASE_GROWTH_BYTES = 32 * 1024 * 1024;
/** Growth of an isolate's heap and array buffers that makes an idle worker collect. */
export const ISOLATE_GROWTH_BYTES = 8 * 1024 * 1024;

/**
 * When the whole process should give memory back: {@linkcode check} runs every
 * {@linkcode IDLE_CHECK_MS}, and releases once the process used at most 2% of
 * a core over the last 2 s while its RSS stands
 * {@linkcode RELEASE_GROWTH_BYTES} above the lowest seen since the last
 * release.
 *
 * @example
 * ```ts
 * import { IdleProcessRelease, RELEASE_GROWTH_BYTES } from "./idle_memory.ts";
 * import assert from "node:assert/strict";
 * let ticks = 0, rss = 100e6, released = 0;
 * const watch = new IdleProcessRelease({ cpuTicks: () => ticks, rss: () => rss }, () => {
 *   released++;
 *   rss = 100e6;
 * });
 * ticks += 150; // a busy second, memory grows
 * rss += 2 * RELEASE_GROWTH_BYTES;
 * assert.equal(watch.check(), false);
 * assert.equal(watch.check(), false); // idle for 1 s only
 * assert.equal(watch.check(), true); // idle for 2 s
 * assert.equal(watch.check(), false); // nothing more to give back
 * assert.equal(released, 1);
 * ```
 */
export class IdleProcessRelease {
  readonly #cpuTicks: () => number;
  readonly #release: () => void;
  readonly #rss: GrowthGate;
  /** CPU ticks at the last checks, oldest first. */
  readonly #ticks: number[];

  /** Watches `readings`; `release` gives memory back. */
  constructor(readings: ProcessReadings, release: () => void) {
    this.#cpuTicks = readings.cpuTicks;
    this.#release = release;
    this.#rss = new GrowthGate(readings.rss, RELEASE_GROWTH_BYTES);
    this.#ticks = [readings.cpuTicks()];
  }

  /** One check; whether it released. */
  check(): boolean {
    const ticks = this.#cpuTicks();
    this.#ticks.push(ticks);
    if (this.#ticks.length > IDLE_CHECKS + 1) this.#ticks.shift();
    // Read at every check, so that the lowest RSS is seen whether idle or not.
    const grown = this.#rss.grown();
    const stretch = this.#ticks.length - 1;
    const idleTicks = stretch * (IDLE_CHECK_MS / 1000) * CLOCK_TICKS * IDLE_CPU_SHARE;
    const idle = stretch === IDLE_CHECKS && ticks - this.#ticks[0] <= idleTicks;
    if (!idle || !grown) return false;
    this.#release();
    this.#rss.reset();
    // The release's own CPU time is not work: the next stretch starts after it.
    this.#ticks.splice(0, this.#ticks.length, this.#cpuTicks());
    return true;
  }
}

/** CPU time of the whole process (every thread), user and system, in clock ticks. */
function processCpuTicks(): number {
  const stat = Deno.readTextFileSync("/proc/self/stat");
  // Fields 14 and 15, counted after the command name's closing parenthesis.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return Number(fields[11]) + Number(fields[12]);
}

/**
 * Gives memory back each time the process goes idle with memory to give
 * ({@linkcode IdleProcessRelease} with {@linkcode releaseIdleMemory}); the
 * timer does not keep the process alive. Linux only (`/proc/self/stat`).
 */
export function watchIdleProcess(): void {
  const watch = new IdleProcessRelease(
    { cpuTicks: processCpuTicks, rss: () => Deno.memoryUsage().rss },
    releaseIdleMemory,
  );
  Deno.unrefTimer(setInterval(() => watch.check(), IDLE_CHECK_MS));
}
