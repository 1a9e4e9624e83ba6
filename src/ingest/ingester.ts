/**
 * The ingest pipeline after validation: admission, sequence numbers, the
 * write-ahead log, and buckets of in-memory batches (the head, `head.ts`),
 * handed to the {@linkcode Flusher} (`flush.ts`) when full.
 *
 * A payload goes whole to one bucket (round robin) and is logged (fsynced, with
 * group commit) before it joins the bucket, so what queries see was
 * acknowledged. A bucket flushes at `payloadSize` rows or every flush interval;
 * at most `flushQueue` flushes are in flight, and a push waits for room (or is
 * dropped, when allowed); it also waits while `maxFlushFiles` flush files wait
 * for compaction, so that ingest runs no faster than compaction can follow. A
 * batch stays readable until its file is cataloged.
 *
 * @module
 */

import { log } from "../log.ts";
import { join } from "node:path";
import { type Catalog, type TimeSpan, widen } from "../storage/catalog.ts";
import { decodePush, type PushFormat } from "./decode.ts";
import { Flusher } from "./flush.ts";
import { MemBatch } from "./head.ts";
import type { PushPayload } from "./payload.ts";
import type { Histogram } from "../histogram.ts";
import { type RecordBody, Wal } from "./wal.ts";

/** Ingest settings (the write-side flags of `loge serve`). */
export interface IngestOptions {
  buckets: number;
  payloadSize: number;
  flushIntervalMs: number;
  flushZstdLevel: number;
  flushWorkers: number;
  flushQueue: number;
  /** How long a flushing batch waits for others, to make one larger file. */
  flushCoalesceMs: number;
  durable: boolean;
  checkpointIntervalMs: number;
  dropOnBackpressure: boolean;
  /**
   * Flush files waiting for compaction at which pushes wait (0: no bound, as
   * when compaction is off).
   */
  maxFlushFiles: number;
  /**
   * The lowest sequence a new push may take (see {@linkcode unusedSequence}):
   * set when files this node wrote elsewhere may hold sequences above those
   * the catalog and the WAL know.
   */
  seqFloor?: number;
}

/**
 * A sequence no push of this node took before `nowMs`: the microseconds
 * since the epoch then. Sequences rise by one a push, and no node takes a
 * million pushes a second, so one that started from its own such floor is
 * still below it today; one that started from 1 is far below. What a
 * node takes when it cannot learn which sequences its files in the cold tier
 * hold (its catalog was rebuilt while the store was unreachable): reusing
 * them would let a later catalog take new pushes for stored. Below 2^53, as
 * every sequence is, until the year 2255.
 *
 * @example
 * ```ts
 * import { unusedSequence } from "./ingester.ts";
 * import assert from "node:assert/strict";
 * assert.equal(unusedSequence(1_795_000_000_000), 1_795_000_000_000_000);
 * ```
 */
export function unusedSequence(nowMs: number): number {
  return nowMs * 1000;
}

/** How often a push held back by the compaction backlog looks again. */
const BACKLOG_POLL_MS = 25;

/** What became of a push. */
export type PushOutcome = "stored" | "accepted";

/** What the HTTP layer needs of the ingest pipeline (see {@linkcode Ingester}). */
export interface IngestSink {
  /** Waits for room for one more push; false: drop it (see {@linkcode Ingester.admit}). */
  admit(): Promise<boolean>;
  /** Ends an admission. */
  release(): void;
  /** Stores a validated payload of an admitted push. */
  push(payload: PushPayload, format: PushFormat, body: RecordBody): Promise<PushOutcome>;
  /** Counters for `/api/v1/stats`. */
  readonly counters: Readonly<Record<string, number>>;
  /** Faults and WAL damage, for `/api/v1/stats`. */
  health(): IngestHealth;
  /** Lines in memory and their times, for `/api/v1/stats`. */
  headStats(): { rows: number; span?: TimeSpan };
  /** Pushes stored, their lines and bytes, by format: for `/metrics`. */
  readonly pushed: ReadonlyMap<PushFormat, PushedCounts>;
  /** How long the WAL's fsyncs took; none when not durable. */
  readonly walFsyncSeconds?: Histogram;
  /** How long each flush file took to write and catalog; none without ingest. */
  readonly flushSeconds?: Histogram;
}

/** Pushes of one format stored since start, with their lines and body bytes. */
export interface PushedCounts {
  pushes: number;
  lines: number;
  bytes: number;
}

/** Faults and WAL damage of the ingest pipeline. */
export interface IngestHealth {
  faults: { wal: string | null; flush: string | null };
  wal: { segments: number; damaged_stretches: number; skipped_bytes: number; records_lost: number };
}

/** A push refused because the server is shutting down. */
export class ShuttingDownError extends Error {
  constructor() {
    super("server is shutting down");
    this.name = "ShuttingDownError";
  }
}

/**
 * Accepts validated payloads and moves them to disk.
 *
 * @example
 * ```ts
 * import { Ingester } from "./ingester.ts";
 * import { decodePush, PushFormat } from "./decode.ts";
 * import { Catalog } from "../storage/catalog.ts";
 * import assert from "node:assert/strict";
 * const dir = await Deno.makeTempDir();
 * const catalog = await Catalog.open(dir);
 * const ingester = await Ingester.open(catalog, {
 *   buckets: 1,
 *   payloadSize: 1000,
 *   flushIntervalMs: 60_000,
 *   flushZstdLevel: 1,
 *   flushWorkers: 1,
 *   flushQueue: 4,
 *   durable: true,
 *   checkpointIntervalMs: 60_000,
 *   maxFlushFiles: 0,
 *   flushCoalesceMs: 0,
 *   dropOnBackpressure: false,
 * });
 * const body = new TextEncoder().encode(
 *   '{"streams":[{"stream":{"app":"web"},"values":[["1","hello"]]}]}',
 * );
 * const format = PushFormat.Json;
 * assert.equal(await ingester.push(decodePush(format, body), format, body), "stored");
 * await ingester.close(); // flushes the line into a file the catalog knows
 * assert.equal([...catalog.entries()].length, 1);
 * catalog.close();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export class Ingester implements IngestSink {
  readonly #catalog: Catalog;
  readonly #options: IngestOptions;
  readonly #wal?: Wal;
  readonly pushed: Map<PushFormat, PushedCounts> = new Map();
  readonly #buckets: MemBatch[];
  readonly #flusher: Flusher;
  #waiters: (() => void)[] = [];
  #admitted = 0;
  /** Pushes waiting in {@linkcode Ingester.admit} for the compaction backlog now. */
  #held = 0;
  #next = 0;
  #nextSeq: number;
  #closing = false;
  #stopping = false;
  #lastPushMs = 0;
  #timers: ReturnType<typeof setInterval>[] = [];
  #visible: ((payload: PushPayload) => void)[] = [];
  readonly #counters = { payloads: 0, lines: 0, dropped: 0, replayed: 0, held_by_compaction: 0 };

  private constructor(catalog: Catalog, options: IngestOptions, wal: Wal | undefined) {
    this.#catalog = catalog;
    this.#options = options;
    this.#wal = wal;
    this.#buckets = Array.from({ length: options.buckets }, () => new MemBatch());
    this.#flusher = new Flusher(catalog, {
      zstdLevel: options.flushZstdLevel,
      workers: options.flushWorkers,
      coalesceMs: options.flushCoalesceMs,
      durable: wal !== undefined,
      onChange: () => this.#wake(),
    });
    this.#nextSeq = Math.max(catalog.covered.max() + 1, options.seqFloor ?? 0);
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
          log(`WAL record ${record.seq} skipped: ${(error as Error).message}`);
          return;
        }
        await ingester.#roomToFlush();
        ingester.#add(record.seq, payload);
        ingester.#counters.replayed++;
      });
      ingester.#nextSeq = Math.max(ingester.#nextSeq, wal.lastSeq + 1);
      ingester.#timers.push(setInterval(() => ingester.checkpoint(), options.checkpointIntervalMs));
    }
    ingester.#timers.push(setInterval(() => ingester.#flushAll(), options.flushIntervalMs));
    return ingester;
  }

  /**
   * Waits for room for one more push, before its body is even read, so waiting
   * pushes hold no decoded payloads: at most `2 × buckets` pushes are past
   * this point at once, and none while the flush queue is full. Resolves
   * false when the push must be dropped instead (`--drop-on-backpressure`,
   * not durable). Every true must be paired with {@linkcode release}. Pushes
   * held back by the compaction backlog are counted (`held_by_compaction`).
   */
  async admit(): Promise<boolean> {
    let held = false;
    for (;;) {
      if (this.#closing) throw new ShuttingDownError();
      const full = this.#flusher.flushing.size >= this.#options.flushQueue;
      // Flushes that fail (a full disk) free no room: say so instead of waiting.
      if (full && this.#flusher.fault) throw this.#flusher.fault;
      const { maxFlushFiles } = this.#options;
      const behind = maxFlushFiles > 0 && !this.#stopping &&
        this.#catalog.flushFiles >= maxFlushFiles;
      if (!full && !behind && this.#admitted < 2 * this.#buckets.length) {
        this.#admitted++;
        return true;
      }
      if ((full || behind) && this.#options.dropOnBackpressure && !this.#wal) {
        this.#counters.dropped++;
        return false;
      }
      if (behind && !held) {
        held = true;
        this.#counters.held_by_compaction++;
      }
      if (behind) this.#held++;
      await new Promise<void>((resolve) => {
        // Compaction frees room without telling: look again soon.
        const timer = behind ? setTimeout(resolve, BACKLOG_POLL_MS) : undefined;
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
      if (behind) this.#held--;
    }
  }

  /**
   * From now on the compaction backlog holds no push back: at a stop, what is
   * in flight (pushes, harvested lines) goes into the final flush files
   * instead of waiting for a pass that may be minutes away.
   */
  stopHoldingBack(): void {
    this.#stopping = true;
    this.#wake();
  }

  /** Ends an admission. */
  release(): void {
    this.#admitted--;
    this.#wake();
  }

  #wake(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const wake of waiters) wake();
  }

  /**
   * Stores a validated payload of an admitted push (`body` is what it was
   * decoded from, logged as is). Resolves `stored` once it is fsynced in the
   * WAL, or `accepted` when not durable.
   *
   * @throws {StorageError} when the WAL cannot be written; nothing is stored.
   */
  async push(payload: PushPayload, format: PushFormat, body: RecordBody): Promise<PushOutcome> {
    if (this.#closing) throw new ShuttingDownError();
    this.#lastPushMs = Date.now();
    const seq = this.#nextSeq++;
    if (this.#wal) await this.#wal.append(seq, format, body);
    this.#add(seq, payload);
    let counts = this.pushed.get(format);
    if (counts === undefined) this.pushed.set(format, counts = { pushes: 0, lines: 0, bytes: 0 });
    counts.pushes++;
    counts.lines += payload.lines;
    counts.bytes += body instanceof Uint8Array
      ? body.length
      : body.reduce((n, part) => n + part.length, 0);
    return this.#wal ? "stored" : "accepted";
  }

  /** How long the WAL's fsyncs took; none when not durable. */
  get walFsyncSeconds(): Histogram | undefined {
    return this.#wal?.fsyncSeconds;
  }

  /** The lowest WAL sequence a replay could bring back (`Infinity`: none; see `Wal.floor`). */
  get walFloor(): number {
    return this.#wal?.floor ?? Infinity;
  }

  /** How long each flush file took to write and catalog. */
  get flushSeconds(): Histogram {
    return this.#flusher.seconds;
  }

  /** Whether pushes are waiting for the compaction backlog to shrink now. */
  get heldByCompaction(): boolean {
    return this.#held > 0;
  }

  /** When the last push arrived, unix ms (0: none yet). */
  get lastPushMs(): number {
    return this.#lastPushMs;
  }

  /**
   * Calls `listener` with each payload in the turn it becomes visible to
   * queries (it joins the head after its WAL append), in that order: what a
   * live tail subscribes to. Payloads replayed from the WAL at start are not
   * heard. The listener runs on the push's path and must not throw.
   */
  onVisible(listener: (payload: PushPayload) => void): void {
    this.#visible.push(listener);
  }

  #add(seq: number, payload: PushPayload): void {
    const index = this.#next++ % this.#buckets.length;
    const batch = this.#buckets[index];
    batch.add(seq, payload.streams);
    for (const listener of this.#visible) listener(payload);
    this.#counters.payloads++;
    this.#counters.lines += payload.lines;
    if (batch.rows >= this.#options.payloadSize) this.#flush(index);
  }

  async #roomToFlush(): Promise<void> {
    while (this.#flusher.flushing.size >= this.#options.flushQueue) {
      await new Promise<void>((resolve) => this.#waiters.push(resolve));
    }
  }

  #flushAll(): void {
    for (let i = 0; i < this.#buckets.length; i++) if (this.#buckets[i].rows > 0) this.#flush(i);
  }

  #flush(index: number): void {
    const batch = this.#buckets[index];
    this.#buckets[index] = new MemBatch();
    this.#flusher.flush(batch);
  }

  /** Batches not yet in a cataloged file: what queries read besides files. */
  head(): MemBatch[] {
    return [...this.#flusher.flushing, ...this.#buckets.filter((b) => b.rows > 0)];
  }

  /** Counters for `/api/v1/stats`, and `held_now`: pushes waiting for compaction now. */
  get counters(): {
    payloads: number;
    lines: number;
    dropped: number;
    replayed: number;
    flushes: number;
    held_now: number;
  } {
    return { ...this.#counters, flushes: this.#flusher.flushes, held_now: this.#held };
  }

  /** Lines of the head (in memory, in no cataloged file yet) and their times. */
  headStats(): { rows: number; span?: TimeSpan } {
    let rows = 0;
    let span: TimeSpan | undefined;
    for (const batch of this.head()) {
      if (batch.rows === 0) continue;
      rows += batch.rows;
      span = widen(span, batch.minTs, batch.maxTs);
    }
    return { rows, span };
  }

  /** Faults and WAL damage, for `/api/v1/stats`. */
  health(): {
    faults: { wal: string | null; flush: string | null };
    wal: {
      segments: number;
      damaged_stretches: number;
      skipped_bytes: number;
      records_lost: number;
    };
  } {
    const damage = this.#wal?.damage;
    return {
      faults: {
        wal: this.#wal?.health.fault?.message ?? null,
        flush: this.#flusher.fault?.message ?? null,
      },
      wal: {
        segments: this.#wal?.segments ?? 0,
        damaged_stretches: damage?.stretches ?? 0,
        skipped_bytes: damage?.bytes ?? 0,
        records_lost: damage?.records ?? 0,
      },
    };
  }

  /** Deletes WAL segments whose payloads all live in cataloged files. */
  async checkpoint(): Promise<void> {
    try {
      await this.#wal?.checkpoint(this.#catalog.covered);
    } catch (error) {
      log(`checkpoint failed: ${(error as Error).message}`);
    }
  }

  /**
   * Stops accepting, flushes every bucket, waits for the files, and closes the
   * WAL, deleting what the files now hold (so a clean restart replays nothing).
   */
  async close(): Promise<void> {
    this.#closing = true;
    for (const t of this.#timers) clearInterval(t);
    this.#wake();
    this.#flushAll();
    await this.#flusher.drain();
    await this.#wal?.close(this.#catalog.covered);
    this.#flusher.terminate();
  }
}
