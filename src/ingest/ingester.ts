/**
 * The ingest pipeline after validation: sequence numbers, the write-ahead log,
 * buckets of in-memory batches, and flushing them to level-0 files on workers.
 *
 * A payload goes whole to one bucket (round robin) and is logged (fsynced, with
 * group commit) before it joins the bucket, so what queries see was
 * acknowledged. A bucket flushes at `payloadSize` rows or every flush interval;
 * at most `flushQueue` flushes are in flight, and a push waits for room (or is
 * dropped, when allowed). A batch stays readable until its file is cataloged.
 *
 * @module
 */

import { join } from "node:path";
import type { Catalog } from "../storage/catalog.ts";
import type { FlushJob } from "../storage/flush_worker.ts";
import { MemBatch } from "../storage/mem_batch.ts";
import { segmentName } from "../storage/segment_name.ts";
import type { SegmentInfo } from "../storage/segment_writer.ts";
import { toRanges } from "../storage/seq_ranges.ts";
import { WorkerPool } from "../storage/worker_pool.ts";
import { decodePush, type PushFormat } from "./decode.ts";
import type { PushPayload } from "./payload.ts";
import { Wal } from "./wal.ts";

/** Ingest settings (the write-side flags of `loge serve`). */
export interface IngestOptions {
  buckets: number;
  payloadSize: number;
  flushIntervalMs: number;
  flushZstdLevel: number;
  flushWorkers: number;
  flushQueue: number;
  durable: boolean;
  checkpointIntervalMs: number;
  dropOnBackpressure: boolean;
}

/** What became of a push. */
export type PushOutcome = "stored" | "accepted" | "dropped";

/** A push refused because the server is shutting down. */
export class ShuttingDownError extends Error {
  constructor() {
    super("server is shutting down");
    this.name = "ShuttingDownError";
  }
}

const FLUSH_BLOCK_BYTES = 256 * 1024;
const RETRY_MS = 1000;

/**
 * Accepts validated payloads and moves them to disk.
 *
 * @example
 * ```ts ignore
 * const ingester = await Ingester.open(catalog, options);
 * await ingester.push(payload, PushFormat.Json, body);
 * await ingester.close();
 * ```
 */
export class Ingester {
  readonly #catalog: Catalog;
  readonly #options: IngestOptions;
  readonly #wal?: Wal;
  readonly #buckets: MemBatch[];
  readonly #flushing = new Set<MemBatch>();
  readonly #pool: WorkerPool<FlushJob, SegmentInfo>;
  #waiters: (() => void)[] = [];
  #next = 0;
  #nextSeq: number;
  #closing = false;
  #timers: ReturnType<typeof setInterval>[] = [];
  /** Counters for `/api/v1/stats`. */
  readonly counters = { payloads: 0, lines: 0, dropped: 0, replayed: 0, flushes: 0 };

  private constructor(catalog: Catalog, options: IngestOptions, wal: Wal | undefined) {
    this.#catalog = catalog;
    this.#options = options;
    this.#wal = wal;
    this.#buckets = Array.from({ length: options.buckets }, () => new MemBatch());
    this.#pool = new WorkerPool(
      new URL("../storage/flush_worker.ts", import.meta.url),
      options.flushWorkers,
    );
    this.#nextSeq = catalog.covered.max() + 1;
  }

  /**
   * Starts the pipeline over `catalog`: opens the WAL (when durable) and
   * replays every logged payload that no cataloged file holds yet.
   */
  static async open(catalog: Catalog, options: IngestOptions): Promise<Ingester> {
    const wal = options.durable ? await Wal.open(join(catalog.dir, "wal")) : undefined;
    const ingester = new Ingester(catalog, options, wal);
    if (wal) {
      await wal.replay(async (record) => {
        if (catalog.covered.has(record.seq)) return;
        let payload: PushPayload;
        try {
          payload = decodePush(record.format as PushFormat, record.body);
        } catch (error) {
          console.error(`loge: WAL record ${record.seq} skipped: ${(error as Error).message}`);
          return;
        }
        await ingester.#roomToFlush();
        ingester.#add(record.seq, payload);
        ingester.counters.replayed++;
      });
      ingester.#nextSeq = Math.max(ingester.#nextSeq, wal.lastSeq + 1);
      ingester.#timers.push(setInterval(() => ingester.checkpoint(), options.checkpointIntervalMs));
    }
    ingester.#timers.push(setInterval(() => ingester.#flushAll(), options.flushIntervalMs));
    return ingester;
  }

  /**
   * Stores a validated payload (`body` is its decoded-from bytes, logged as is).
   * Resolves `stored` once it is fsynced in the WAL, `accepted` when not
   * durable, or `dropped` when the flush queue is full and dropping is allowed.
   */
  async push(payload: PushPayload, format: PushFormat, body: Uint8Array): Promise<PushOutcome> {
    if (this.#closing) throw new ShuttingDownError();
    if (this.#flushing.size >= this.#options.flushQueue) {
      if (this.#options.dropOnBackpressure && !this.#wal) {
        this.counters.dropped++;
        return "dropped";
      }
      await this.#roomToFlush();
      if (this.#closing) throw new ShuttingDownError();
    }
    const seq = this.#nextSeq++;
    if (this.#wal) await this.#wal.append(seq, format, body);
    this.#add(seq, payload);
    return this.#wal ? "stored" : "accepted";
  }

  #add(seq: number, payload: PushPayload): void {
    const index = this.#next++ % this.#buckets.length;
    const batch = this.#buckets[index];
    batch.add(seq, payload.streams);
    this.counters.payloads++;
    this.counters.lines += payload.lines;
    if (batch.rows >= this.#options.payloadSize) this.#flush(index);
  }

  async #roomToFlush(): Promise<void> {
    while (this.#flushing.size >= this.#options.flushQueue) {
      await new Promise<void>((resolve) => this.#waiters.push(resolve));
    }
  }

  #flushAll(): void {
    for (let i = 0; i < this.#buckets.length; i++) if (this.#buckets[i].rows > 0) this.#flush(i);
  }

  #flush(index: number): void {
    const batch = this.#buckets[index];
    this.#buckets[index] = new MemBatch();
    this.#flushing.add(batch);
    this.#write(batch);
  }

  #write(batch: MemBatch): void {
    const job: FlushJob = {
      dir: this.#catalog.dir,
      name: segmentName(0),
      zstdLevel: this.#options.flushZstdLevel,
      blockBytes: FLUSH_BLOCK_BYTES,
      streams: [...batch.streams.values()],
      seqs: toRanges(batch.seqs),
    };
    this.#pool.run(job).then(
      (info) => {
        // Cataloging and leaving the head happen in one turn: never both, never neither.
        this.#catalog.add(info);
        this.#flushing.delete(batch);
        this.counters.flushes++;
        const waiters = this.#waiters;
        this.#waiters = [];
        for (const wake of waiters) wake();
      },
      (error) => {
        if (this.#closing && !this.#flushing.has(batch)) return;
        console.error(`loge: flush failed, retrying: ${error.message}`);
        setTimeout(() => this.#write(batch), RETRY_MS);
      },
    );
  }

  /** Batches not yet in a cataloged file: what queries read besides files. */
  head(): MemBatch[] {
    return [...this.#flushing, ...this.#buckets.filter((b) => b.rows > 0)];
  }

  /** Deletes WAL segments whose payloads all live in cataloged files. */
  async checkpoint(): Promise<void> {
    try {
      await this.#wal?.checkpoint(this.#catalog.covered);
    } catch (error) {
      console.error(`loge: checkpoint failed: ${(error as Error).message}`);
    }
  }

  /**
   * Stops accepting, flushes every bucket, waits for the files, and closes the
   * WAL, deleting what the files now hold (so a clean restart replays nothing).
   */
  async close(): Promise<void> {
    this.#closing = true;
    for (const t of this.#timers) clearInterval(t);
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const wake of waiters) wake();
    this.#flushAll();
    while (this.#flushing.size > 0) {
      await new Promise<void>((resolve) => this.#waiters.push(resolve));
    }
    await this.#wal?.close(this.#catalog.covered);
    this.#pool.terminate();
  }
}
