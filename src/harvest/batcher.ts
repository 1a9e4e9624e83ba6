/**
 * The way harvested lines reach storage: gathered per harvester, then pushed
 * through the same admission, WAL and durability as an HTTP push, as a loge
 * JSON push body (so a replay decodes them like any push). A batch goes when
 * it holds {@linkcode BATCH_LINES} lines or {@linkcode BATCH_MS} after its
 * first line; a harvester whose batch is full waits for it to be stored, so
 * a source faster than storage slows down instead of filling memory. A batch
 * storage refuses for now (a full disk, a failing WAL) is tried again every
 * {@linkcode RETRY_MS} until it is stored: its harvester waits meanwhile, and
 * a file's position never moves past lines not stored.
 *
 * @module
 */

import { decodePush, PushFormat } from "../ingest/decode.ts";
import { type IngestSink, ShuttingDownError } from "../ingest/ingester.ts";
import { PushError } from "../ingest/payload.ts";
import {
  checkPushLimits,
  DEFAULT_PAYLOAD_LIMITS,
  type PayloadLimits,
} from "../ingest/push_limits.ts";
import { log } from "../log.ts";

/** Lines of one harvested batch at most. */
export const BATCH_LINES = 1000;
/** Longest wait of a line before its batch goes, in ms. */
export const BATCH_MS = 200;
/**
 * UTF-16 units of lines in one batch at most: the body a batch makes must
 * stay far from what a string can hold, whatever its lines.
 */
export const BATCH_CHARS = 4 * 1024 * 1024;
/** Wait before a batch storage refused is tried again, in ms. */
export const RETRY_MS = 1000;

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
  /**
   * Batches not stored: refused for good (lines storage can never take), or
   * still refused when the server stopped (a file's are read again at the
   * next start; a socket's are lost).
   */
  failed: number;
  /** Attempts to store a batch that storage refused for now (a full disk), each tried again. */
  retries: number;
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
    retries: 0,
    dropped: 0,
    refused: 0,
  };
  readonly #sink: IngestSink;
  /** Which harvester, in log lines. */
  readonly name: string;
  #lines: HarvestedLine[] = [];
  /** UTF-16 units of the lines of {@linkcode Batcher.#lines}. */
  #chars = 0;
  /** Whether storage refused the batch being stored, which is tried again. */
  #retrying = false;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #storing: Promise<void> = Promise.resolve();
  /** Whether a batch went unstored at a stop: no position may be saved past it. */
  #unstored = false;
  #closing = false;
  /** Ends the wait between attempts, at {@linkcode Batcher.close}. */
  #wake: () => void = () => {};

  readonly #limits: PayloadLimits;

  /** `name` says which harvester in log lines; `limits` are a push's (`--max-line-size`, …). */
  constructor(sink: IngestSink, name: string, limits: PayloadLimits = DEFAULT_PAYLOAD_LIMITS) {
    this.#sink = sink;
    this.name = name;
    this.#limits = limits;
  }

  /**
   * Adds a line; resolves at once, or once the batch it filled is stored. A
   * line a push could not carry (over `--max-line-size`, or with too many
   * labels) is skipped as malformed, not stored with its batch refused.
   */
  add(line: HarvestedLine): Promise<void> {
    try {
      const key = JSON.stringify(line.labels);
      checkPushLimits(
        { streams: [{ key, ts: [line.ts], lines: [line.line] }], lines: 1 },
        this.#limits,
      );
    } catch (error) {
      if (!(error instanceof PushError)) throw error;
      this.malformed(error.message);
      return Promise.resolve();
    }
    this.#lines.push(line);
    this.#chars += line.line.length;
    if (this.#lines.length >= BATCH_LINES || this.#chars >= BATCH_CHARS) return this.#store();
    this.#timer ??= setTimeout(() => void this.#store(), BATCH_MS);
    // While storage refuses a batch, sources wait with it: batches the timer
    // sends meanwhile would pile up in memory for as long as it refuses.
    return this.#retrying ? this.#storing : Promise.resolve();
  }

  /** Counts input that was skipped, and says why in the log. */
  malformed(reason: string): void {
    this.counters.malformed++;
    log(`harvester ${this.name}: skipped malformed input: ${reason}`);
  }

  /** Counts a message dropped unread; says so in the log when a run of drops starts. */
  dropped(dropping: boolean): void {
    if (!dropping) log(`harvester ${this.name}: storage is behind, dropping datagrams`);
    this.counters.dropped++;
  }

  /** Counts a connection closed on arrival; says so in the log when a run of them starts. */
  refused(refusing: boolean): void {
    if (!refusing) log(`harvester ${this.name}: too many connections, closing new ones`);
    this.counters.refused++;
  }

  /**
   * Stores what is gathered; resolves once it and the batches before it are
   * stored: true unless a batch so far was left unstored by a stop (see
   * {@linkcode Batcher.close}), whose lines a source must read again.
   */
  async flush(): Promise<boolean> {
    await this.#store();
    return !this.#unstored;
  }

  /**
   * Stores what is gathered, as {@linkcode Batcher.flush}, but a batch that
   * storage refuses is not tried again: the server is stopping.
   */
  close(): Promise<boolean> {
    this.#closing = true;
    this.#wake();
    return this.flush();
  }

  #store(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const lines = this.#lines;
    this.#lines = [];
    this.#chars = 0;
    if (lines.length > 0) this.#storing = this.#storing.then(() => this.#push(lines));
    return this.#storing;
  }

  async #push(lines: HarvestedLine[]): Promise<void> {
    let body: Uint8Array;
    try {
      const streams = new Map<string, { stream: Record<string, string>; values: unknown[] }>();
      for (const l of lines) {
        const key = JSON.stringify(l.labels);
        let s = streams.get(key);
        if (!s) streams.set(key, s = { stream: l.labels, values: [] });
        s.values.push(l.metadata ? [String(l.ts), l.line, l.metadata] : [String(l.ts), l.line]);
      }
      body = encoder.encode(JSON.stringify({ streams: [...streams.values()] }));
    } catch (error) {
      // Nothing retried could change it: the chain of stores goes on.
      this.counters.failed++;
      log(`harvester ${this.name}: ${lines.length} lines not stored: ${(error as Error).message}`);
      return;
    }
    for (let attempt = 0;; attempt++) {
      try {
        const payload = decodePush(PushFormat.Json, body);
        if (!(await this.#sink.admit())) throw new Error("dropped under backpressure");
        try {
          await this.#sink.push(payload, PushFormat.Json, body);
        } finally {
          this.#sink.release();
        }
        this.counters.lines += lines.length;
        if (attempt > 0) log(`harvester ${this.name}: storing again`);
        this.#retrying = false;
        return;
      } catch (error) {
        const reason = (error as Error).message;
        const forGood = error instanceof PushError;
        if (forGood || this.#closing || error instanceof ShuttingDownError) {
          this.#retrying = false;
          this.counters.failed++;
          if (!forGood) this.#unstored = true;
          log(`harvester ${this.name}: ${lines.length} lines not stored: ${reason}`);
          return;
        }
        this.counters.retries++;
        this.#retrying = true;
        if (attempt === 0) {
          log(
            `harvester ${this.name}: storage refused ${lines.length} lines (${reason}): ` +
              `trying again every ${RETRY_MS / 1000} s`,
          );
        }
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, RETRY_MS);
          this.#wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
      }
    }
  }
}
