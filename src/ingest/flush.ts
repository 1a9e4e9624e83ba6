/**
 * Flushing the head: full batches go to a pool of flush workers, each writing
 * a level-0 file (`storage/flush_worker.ts`), and the files are cataloged.
 *
 * A batch stays readable (see {@linkcode Flusher.flushing}) until its file is
 * cataloged. A failed write or catalog step is retried every second, and the
 * fault is exposed meanwhile (a full disk), so admission can refuse pushes
 * instead of waiting on room that never comes.
 *
 * @module
 */

import { Histogram } from "../histogram.ts";
import { log } from "../log.ts";
import type { Catalog } from "../storage/catalog.ts";
import type { FlushJob } from "../storage/flush_worker.ts";
import type { SegmentInfo } from "../storage/segment_format.ts";
import { segmentName } from "../storage/segment_name.ts";
import { toRanges } from "../storage/seq_ranges.ts";
import { FaultState, type StorageError } from "../storage/storage_error.ts";
import { WorkerPool } from "../storage/worker_pool.ts";
import { encodeBatches, type MemBatch } from "./head.ts";

/** Flush settings. */
export interface FlushOptions {
  /** zstd level of level-0 files. */
  zstdLevel: number;
  /** Files written at once. */
  workers: number;
  /**
   * How long queued batches wait to make a file of {@linkcode FILE_ROWS}
   * before they are written anyway.
   */
  coalesceMs: number;
  /** Whether a write-ahead log holds the flushing lines (for what a stop says of them). */
  durable: boolean;
  /** Called when flushing frees room or fails, so waiting pushes look again. */
  onChange: () => void;
}

const FLUSH_BLOCK_BYTES = 256 * 1024;
const MAX_FILE_ROWS = 30_000;
/**
 * Rows a flush file waits for (its batches queued) before it is written: a
 * few large files, not a file per batch, so that compaction and queries face
 * tens of files under full ingest, not thousands.
 */
export const FILE_ROWS = 24_000;

const RETRY_MS = 1000;
/** How long a stop waits for failing flushes to recover. */
const CLOSE_WAIT_MS = 5000;

/**
 * Writes full batches of the head to files on workers and catalogs them.
 *
 * @example
 * ```ts
 * import { Flusher } from "./flush.ts";
 * import { MemBatch } from "./head.ts";
 * import { Catalog } from "../storage/catalog.ts";
 * import assert from "node:assert/strict";
 * const dir = await Deno.makeTempDir();
 * const catalog = await Catalog.open(dir);
 * const flusher = new Flusher(catalog, {
 *   zstdLevel: 3,
 *   workers: 1,
 *   coalesceMs: 0,
 *   durable: false,
 *   onChange() {},
 * });
 * const batch = new MemBatch();
 * batch.add(1, [{ key: '{"app":"web"}', ts: [1n], lines: ["hello"] }]);
 * flusher.flush(batch);
 * await flusher.drain();
 * flusher.terminate();
 * assert.equal([...catalog.entries()][0].rows, 1);
 * catalog.close();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export class Flusher {
  readonly #catalog: Catalog;
  readonly #options: FlushOptions;
  readonly #pool: WorkerPool<FlushJob, SegmentInfo>;
  /** Batches handed to flushing, until their file is cataloged. */
  readonly #flushing = new Set<MemBatch>();
  /** Flushing batches no worker has taken yet, when each was queued, and their rows. */
  #queued: MemBatch[] = [];
  #queuedAt: number[] = [];
  #queuedRows = 0;
  #coalesce?: ReturnType<typeof setTimeout>;
  /** Whether queued batches are written at once (stopping). */
  #hurry = false;
  #busyWorkers = 0;
  #flushes = 0;
  /** Whether flush files fail to be written or cataloged (a full disk). */
  readonly #health = new FaultState("flush");
  /** Stops waiting for the flushing batches to be cataloged. */
  #waiters: (() => void)[] = [];

  /** Starts the worker pool; files go to the catalog's folder. */
  constructor(catalog: Catalog, options: FlushOptions) {
    this.#catalog = catalog;
    this.#options = options;
    this.#pool = new WorkerPool(
      new URL("../storage/flush_worker.ts", import.meta.url),
      options.workers,
    );
  }

  /** Batches handed over and not yet in a cataloged file (readable by queries). */
  get flushing(): ReadonlySet<MemBatch> {
    return this.#flushing;
  }

  /** The current write or catalog fault, `undefined` while flushes succeed. */
  get fault(): StorageError | undefined {
    return this.#health.fault;
  }

  /** How long each flush file took, from its batches' dispatch to its catalog row. */
  readonly seconds: Histogram = new Histogram();

  /** Files written and cataloged. */
  get flushes(): number {
    return this.#flushes;
  }

  /** Takes a full batch (which must no longer grow) to write it to a file. */
  flush(batch: MemBatch): void {
    this.#flushing.add(batch);
    this.#queued.push(batch);
    this.#queuedAt.push(Date.now());
    this.#queuedRows += batch.rows;
    this.#dispatch();
  }

  /**
   * Gives queued batches to free workers once they make a file of
   * {@linkcode FILE_ROWS}, or have waited `coalesceMs`, or at a
   * stop. A worker takes every batch queued (up to a row bound) as one file.
   */
  #dispatch(): void {
    clearTimeout(this.#coalesce);
    this.#coalesce = undefined;
    if (this.#queued.length === 0) return;
    const wait = this.#queuedAt[0] + this.#options.coalesceMs - Date.now();
    if (!this.#hurry && this.#queuedRows < FILE_ROWS && wait > 0) {
      this.#coalesce = setTimeout(() => this.#dispatch(), wait);
      return;
    }
    while (this.#busyWorkers < this.#options.workers && this.#queued.length > 0) {
      const batches: MemBatch[] = [];
      let rows = 0;
      while (
        this.#queued.length > 0 &&
        (batches.length === 0 || rows + this.#queued[0].rows <= MAX_FILE_ROWS)
      ) {
        const batch = this.#queued.shift()!;
        this.#queuedAt.shift();
        batches.push(batch);
        rows += batch.rows;
      }
      this.#queuedRows -= rows;
      this.#busyWorkers++;
      this.#write(batches);
    }
  }

  #write(batches: MemBatch[], started = performance.now()): void {
    const job: FlushJob = {
      dir: this.#catalog.dir,
      name: segmentName(0),
      zstdLevel: this.#options.zstdLevel,
      blockBytes: FLUSH_BLOCK_BYTES,
      batch: encodeBatches(batches),
      seqs: toRanges(batches.flatMap((b) => b.seqs)),
    };
    const { ts, lines, ends, counts } = job.batch;
    const transfer = [ts.buffer, lines.buffer, ends.buffer, counts.buffer] as ArrayBuffer[];
    this.#pool.run(job, transfer).then(
      (info) => this.#catalogFile(batches, info, started),
      (error) => this.#retry(error, () => this.#write(batches, started)),
    );
  }

  /** Records a written file; its batches leave the head in the same turn. */
  #catalogFile(batches: MemBatch[], info: SegmentInfo, started: number): void {
    try {
      this.#catalog.add(info);
    } catch (error) {
      // The file is durable; only its row is missing: retry that alone.
      return this.#retry(error, () => this.#catalogFile(batches, info, started));
    }
    this.seconds.observe((performance.now() - started) / 1000);
    this.#health.recover();
    for (const b of batches) this.#flushing.delete(b);
    this.#flushes++;
    this.#busyWorkers--;
    this.#dispatch();
    this.#changed();
  }

  /** A failed flush step is retried; waiting pushes learn of the fault. */
  #retry(error: unknown, again: () => void): void {
    this.#health.fail(error);
    this.#changed();
    setTimeout(again, RETRY_MS);
  }

  #changed(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const wake of waiters) wake();
    this.#options.onChange();
  }

  /**
   * Waits until every batch handed over is in a cataloged file, or, while
   * flushes fail (a full disk), until a grace time has passed: then it stops
   * waiting and says how many lines are not in files.
   */
  async drain(): Promise<void> {
    const giveUp = Date.now() + CLOSE_WAIT_MS;
    this.#hurry = true;
    this.#dispatch();
    while (this.#flushing.size > 0) {
      // Flushes failing past a grace time: stop anyway; the WAL still holds
      // what they hold, and replays it at the next start.
      const fault = this.#health.fault;
      if (fault && Date.now() > giveUp) {
        const rows = [...this.#flushing].reduce((n, b) => n + b.rows, 0);
        log(
          `stopping with ${rows} lines not written to files (${fault.message}); ${
            this.#options.durable
              ? "the write-ahead log replays them at the next start"
              : "they are lost"
          }`,
        );
        break;
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, RETRY_MS);
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Stops the workers. */
  terminate(): void {
    clearTimeout(this.#coalesce);
    this.#pool.terminate();
  }
}
