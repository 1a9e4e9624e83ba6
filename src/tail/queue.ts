/**
 * A live tail's lines waiting for its client, bounded in lines and bytes.
 * A line that does not fit is dropped and remembered by its labels and
 * time (up to a bound, then only counted), so the client learns what it
 * missed, as Loki's `dropped_entries` tell it.
 *
 * @module
 */

import type { LogEntry } from "../query/top_entries.ts";
import type { StreamLabels } from "../storage/catalog.ts";

/** A line dropped for a client that fell behind. */
export interface DroppedLine {
  readonly stream: StreamLabels;
  readonly ts: bigint;
}

/** The bounds of a {@linkcode TailQueue}. */
export interface TailQueueLimits {
  /** Most lines waiting. */
  readonly lines: number;
  /** Most bytes waiting (see {@linkcode entryBytes}). */
  readonly bytes: number;
  /** Most dropped lines remembered between two deliveries; more are only counted. */
  readonly dropped: number;
}

/** What a waiting line is counted as: its characters and a fixed overhead. */
export function entryBytes(entry: LogEntry): number {
  return entry.line.length + 64;
}

/**
 * Lines in arrival order, with the time each arrived.
 *
 * @example
 * ```ts
 * import { TailQueue } from "./queue.ts";
 * import assert from "node:assert/strict";
 * const queue = new TailQueue({ lines: 2, bytes: 1 << 20, dropped: 1 });
 * const stream = { key: "{}", labels: {} };
 * for (const line of ["a", "b", "c", "d"]) queue.push({ ts: 1n, line, stream }, 0);
 * assert.deepEqual(queue.take(10, 1 << 20, 0).map((e) => e.line), ["a", "b"]);
 * const { lines, count } = queue.takeDropped();
 * assert.equal(count, 2); // "c" and "d"
 * assert.equal(lines.length, 1); // only one remembered
 * ```
 */
export class TailQueue {
  readonly #limits: TailQueueLimits;
  #entries: LogEntry[] = [];
  #arrivals: number[] = [];
  #first = 0;
  #bytes = 0;
  #dropped: DroppedLine[] = [];
  #droppedCount = 0;

  /** An empty queue within `limits`. */
  constructor(limits: TailQueueLimits) {
    this.#limits = limits;
  }

  /** Lines waiting. */
  get length(): number {
    return this.#entries.length - this.#first;
  }

  /** Bytes waiting. */
  get bytes(): number {
    return this.#bytes;
  }

  /** Lines dropped since the last {@linkcode takeDropped}. */
  get droppedCount(): number {
    return this.#droppedCount;
  }

  /** When the oldest waiting line arrived (ms); `undefined` when none waits. */
  get firstArrival(): number | undefined {
    return this.length > 0 ? this.#arrivals[this.#first] : undefined;
  }

  /**
   * Adds `entry`, which arrived at `now` (ms), or drops it when it does not
   * fit; false when dropped.
   */
  push(entry: LogEntry, now: number): boolean {
    const size = entryBytes(entry);
    if (this.length >= this.#limits.lines || this.#bytes + size > this.#limits.bytes) {
      this.#droppedCount++;
      if (this.#dropped.length < this.#limits.dropped) {
        this.#dropped.push({ stream: entry.stream, ts: entry.ts });
      }
      return false;
    }
    this.#entries.push(entry);
    this.#arrivals.push(now);
    this.#bytes += size;
    return true;
  }

  /**
   * Takes the oldest lines, at most `lines` of them and `bytes` (at least
   * one line when any is due), among those that arrived at or before
   * `arrivedBy` (ms).
   */
  take(lines: number, bytes: number, arrivedBy: number): LogEntry[] {
    const out: LogEntry[] = [];
    let size = 0;
    while (out.length < lines && this.length > 0 && this.#arrivals[this.#first] <= arrivedBy) {
      const entry = this.#entries[this.#first];
      const n = entryBytes(entry);
      if (out.length > 0 && size + n > bytes) break;
      out.push(entry);
      size += n;
      this.#bytes -= n;
      this.#first++;
    }
    // Drop the taken prefix once it is most of the arrays.
    if (this.#first > 1024 && this.#first * 2 > this.#entries.length) {
      this.#entries = this.#entries.slice(this.#first);
      this.#arrivals = this.#arrivals.slice(this.#first);
      this.#first = 0;
    }
    return out;
  }

  /** The lines dropped since the last call (those remembered) and how many there were. */
  takeDropped(): { lines: DroppedLine[]; count: number } {
    const taken = { lines: this.#dropped, count: this.#droppedCount };
    this.#dropped = [];
    this.#droppedCount = 0;
    return taken;
  }
}
