/**
 * Memory of a running process, from Linux `/proc/<pid>/status`, and a sampler that records the
 * peak resident set size per benchmark phase.
 *
 * `VmHWM` is the peak over the whole process lifetime, so it cannot tell one phase from the next;
 * the sampler instead reads `VmRSS` every few milliseconds and keeps the largest value seen while
 * a phase is open. A short spike between two samples can be missed: the interval bounds that.
 *
 * @module
 */

import { type MemoryParts, readMemoryParts } from "./memory_map.ts";

/** Memory figures of one process, in KiB (the unit `/proc` uses). */
export interface ProcMemory {
  /** `VmRSS`: resident set size now. */
  rssKiB: number;
  /** `VmHWM`: peak resident set size over the process lifetime. */
  hwmKiB: number;
}

/**
 * Parses the `VmRSS` and `VmHWM` lines of a `/proc/<pid>/status` text.
 *
 * @example
 * ```ts
 * import { parseProcStatus } from "./proc_status.ts";
 * const text = "Name:\tdeno\nVmHWM:\t  204800 kB\nVmRSS:\t  102400 kB\n";
 * console.log(parseProcStatus(text)); // { rssKiB: 102400, hwmKiB: 204800 }
 * ```
 * @throws {Error} If either line is missing or not in kB.
 */
export function parseProcStatus(text: string): ProcMemory {
  const field = (name: string): number => {
    const match = new RegExp(`^${name}:\\s*(\\d+) kB$`, "m").exec(text);
    if (match === null) {
      throw new Error(`Cannot parse /proc status: no "${name}: <n> kB" line`);
    }
    return Number(match[1]);
  };
  return { rssKiB: field("VmRSS"), hwmKiB: field("VmHWM") };
}

/**
 * Reads the memory of process `pid`, or `undefined` if it has exited.
 *
 * @example
 * ```ts ignore
 * import { readProcMemory } from "./proc_status.ts";
 * console.log(await readProcMemory(Deno.pid));
 * ```
 * @throws {Error} If `/proc` is not available (not Linux) or the file cannot be parsed.
 */
export async function readProcMemory(pid: number): Promise<ProcMemory | undefined> {
  let text: string;
  try {
    text = await Deno.readTextFile(`/proc/${pid}/status`);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return undefined;
    throw err;
  }
  // A zombie has no memory lines left: treat it as gone.
  if (!text.includes("VmRSS:")) return undefined;
  return parseProcStatus(text);
}

/** Peak resident set size of one phase. */
export interface PhasePeak {
  /** Largest `VmRSS` sampled during the phase, in KiB. */
  peakKiB: number;
  /** Number of samples taken. */
  samples: number;
  /**
   * Where the memory was near the peak (read at the last new peak at least 1% above the one read
   * before), when the sampler was asked for it.
   */
  parts?: MemoryParts;
}

/**
 * Samples `VmRSS` of a process every `intervalMs` while a phase is open and keeps the peak.
 *
 * @example
 * ```ts ignore
 * import { RssSampler } from "./proc_status.ts";
 * const sampler = new RssSampler(server.pid);
 * sampler.start();
 * await ingest();
 * const { peakKiB } = await sampler.stop();
 * ```
 */
export class RssSampler {
  readonly #pid: number;
  readonly #intervalMs: number;
  readonly #withParts: boolean;
  #timer?: ReturnType<typeof setInterval>;
  #peakKiB = 0;
  #samples = 0;
  #parts?: MemoryParts;
  /** The RSS when {@linkcode RssSampler.#parts} was read. */
  #partsKiB = 0;
  #pending: Promise<void> = Promise.resolve();
  #error?: unknown;

  /**
   * A sampler of process `pid`, reading every `intervalMs` milliseconds (default 25); with
   * `parts`, it also reads where the memory is ({@linkcode readMemoryParts}) at new peaks.
   */
  constructor(pid: number, intervalMs = 25, options: { parts?: boolean } = {}) {
    this.#pid = pid;
    this.#intervalMs = intervalMs;
    this.#withParts = options.parts === true;
  }

  /**
   * Opens a phase: resets the peak and starts sampling.
   *
   * @throws {Error} If a phase is already open.
   */
  start(): void {
    if (this.#timer !== undefined) throw new Error("Cannot start RSS sampler: already sampling");
    this.#peakKiB = 0;
    this.#samples = 0;
    this.#parts = undefined;
    this.#partsKiB = 0;
    this.#error = undefined;
    this.#sample();
    this.#timer = setInterval(() => this.#sample(), this.#intervalMs);
  }

  #sample(): void {
    this.#pending = this.#pending.then(async () => {
      try {
        const mem = await readProcMemory(this.#pid);
        if (mem === undefined) return;
        this.#samples++;
        if (mem.rssKiB <= this.#peakKiB) return;
        this.#peakKiB = mem.rssKiB;
        // smaps takes milliseconds to read: only at peaks 1% above the last one read.
        if (this.#withParts && mem.rssKiB >= this.#partsKiB * 1.01) {
          const parts = await readMemoryParts(this.#pid);
          if (parts === undefined) return;
          this.#parts = parts;
          this.#partsKiB = mem.rssKiB;
        }
      } catch (err) {
        this.#error ??= err;
      }
    });
  }

  /**
   * Closes the phase, with one last sample, and returns its peak.
   *
   * @throws {Error} If no phase is open, or if sampling failed (no `/proc`, or the process was
   * gone before the first sample).
   */
  async stop(): Promise<PhasePeak> {
    if (this.#timer === undefined) throw new Error("Cannot stop RSS sampler: not sampling");
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.#sample();
    await this.#pending;
    if (this.#error !== undefined) throw this.#error;
    if (this.#samples === 0) {
      throw new Error(`Cannot measure RSS: process ${this.#pid} exited before the first sample`);
    }
    return {
      peakKiB: this.#peakKiB,
      samples: this.#samples,
      ...(this.#parts && { parts: this.#parts }),
    };
  }
}
