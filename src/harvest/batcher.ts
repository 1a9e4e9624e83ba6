/**
 * The way harvested lines reach storage: gathered per harvester, then pushed
 * through the same admission, WAL and durability as an HTTP push, as a loge
 * JSON push body (so a replay decodes them like any push). A batch goes when
 * it holds {@linkcode BATCH_LINES} lines or {@linkcode BATCH_MS} after its
 * first line; a harvester whose batch is full waits for it to be stored, so
 * a source faster than storage slows down instead of filling memory.
 *
 * @module
 */

import { decodePush, PushFormat } from "../ingest/decode.ts";
import type { IngestSink } from "../ingest/ingester.ts";
import { log } from "../log.ts";

/** Lines of one harvested batch at most. */
export const BATCH_LINES = 1000;
/** Longest wait of a line before its batch goes, in ms. */
export const BATCH_MS = 200;

/** One harvested line: its labels, time (unix ns) and text, and its structured metadata. */
export interface HarvestedLine {
  labels: Record<string, string>;
  ts: bigint;
  line: string;
  metadata?: Record<string, string>;
}

/**
 * Longest message a harvester holds unfinished (a stream's message without
 * its end, a file's line without its newline): 1 Mi characters or bytes.
 */
export const MAX_PENDING_MESSAGE = 1024 * 1024;

/** What a harvester counts, for `/api/v1/stats`. */
export interface HarvestCounters {
  lines: number;
  /** Input that could not be turned into a line: skipped, with a log line. */
  malformed: number;
  /** Batches storage refused (a full disk, shutting down): their lines are lost. */
  failed: number;
  /** Datagrams dropped while too many waited for storage (UDP cannot slow its senders). */
  dropped: number;
  /** Connections closed on arrival because too many were open. */
  refused: number;
}

const encoder = new TextEncoder();

/**
 * Gathers the lines of one harvester and stores them in batches.
 *
 * @example
 * ```ts ignore
 * const batcher = new Batcher(ingester, "syslog udp://0.0.0.0:5514");
 * await batcher.add({ labels: { app: "cron" }, ts: 1n, line: "job done" });
 * await batcher.close(); // stores what is left
 * ```
 */
export class Batcher {
  readonly counters: HarvestCounters = {
    lines: 0,
    malformed: 0,
    failed: 0,
    dropped: 0,
    refused: 0,
  };
  readonly #sink: IngestSink;
  readonly #name: string;
  #lines: HarvestedLine[] = [];
  #timer: ReturnType<typeof setTimeout> | undefined;
  #storing: Promise<void> = Promise.resolve();

  /** `name` says which harvester in log lines. */
  constructor(sink: IngestSink, name: string) {
    this.#sink = sink;
    this.#name = name;
  }

  /** Adds a line; resolves at once, or once the batch it filled is stored. */
  add(line: HarvestedLine): Promise<void> {
    this.#lines.push(line);
    if (this.#lines.length >= BATCH_LINES) return this.#store();
    this.#timer ??= setTimeout(() => void this.#store(), BATCH_MS);
    return Promise.resolve();
  }

  /** Counts input that was skipped, and says why in the log. */
  malformed(reason: string): void {
    this.counters.malformed++;
    log(`harvester ${this.#name}: skipped malformed input: ${reason}`);
  }

  /** Counts a message dropped unread; says so in the log when a run of drops starts. */
  dropped(dropping: boolean): void {
    if (!dropping) log(`harvester ${this.#name}: storage is behind, dropping datagrams`);
    this.counters.dropped++;
  }

  /** Counts a connection closed on arrival; says so in the log when a run of them starts. */
  refused(refusing: boolean): void {
    if (!refusing) log(`harvester ${this.#name}: too many connections, closing new ones`);
    this.counters.refused++;
  }

  /** Stores what is gathered; resolves once it and the batches before it are stored. */
  flush(): Promise<void> {
    return this.#store();
  }

  #store(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const lines = this.#lines;
    this.#lines = [];
    if (lines.length > 0) this.#storing = this.#storing.then(() => this.#push(lines));
    return this.#storing;
  }

  async #push(lines: HarvestedLine[]): Promise<void> {
    const streams = new Map<string, { stream: Record<string, string>; values: unknown[] }>();
    for (const l of lines) {
      const key = JSON.stringify(l.labels);
      let s = streams.get(key);
      if (!s) streams.set(key, s = { stream: l.labels, values: [] });
      s.values.push(l.metadata ? [String(l.ts), l.line, l.metadata] : [String(l.ts), l.line]);
    }
    const body = encoder.encode(JSON.stringify({ streams: [...streams.values()] }));
    try {
      const payload = decodePush(PushFormat.Json, body);
      if (!(await this.#sink.admit())) throw new Error("dropped under backpressure");
      try {
        await this.#sink.push(payload, PushFormat.Json, body);
      } finally {
        this.#sink.release();
      }
      this.counters.lines += lines.length;
    } catch (error) {
      this.counters.failed++;
      log(
        `harvester ${this.#name}: ${lines.length} lines not stored: ${(error as Error).message}`,
      );
    }
  }
}
