/**
 * A selected log line and the order results are returned in.
 *
 * @module
 */

import type { StreamLabels } from "../storage/catalog.ts";

/** One log line of a query result. */
export interface LogEntry {
  readonly ts: bigint;
  readonly line: string;
  readonly stream: StreamLabels;
  /** Metadata JSON, when the line has some. */
  readonly metadata?: string;
}

/**
 * Newest first; ties by stream labels, then line, so the order never depends
 * on which file a line sits in.
 */
export function newestFirst(a: LogEntry, b: LogEntry): number {
  if (a.ts !== b.ts) return a.ts > b.ts ? -1 : 1;
  if (a.stream.key !== b.stream.key) return a.stream.key < b.stream.key ? -1 : 1;
  return a.line < b.line ? -1 : a.line > b.line ? 1 : 0;
}

/**
 * Keeps the `limit` newest entries offered to it.
 *
 * @example
 * ```ts
 * import { NewestEntries } from "./log_entry.ts";
 * const top = new NewestEntries(1);
 * const stream = { key: "{}", labels: {} };
 * top.offer({ ts: 1n, line: "old", stream });
 * top.offer({ ts: 2n, line: "new", stream });
 * console.log(top.sorted().map((e) => e.line)); // ["new"]
 * ```
 */
export class NewestEntries {
  readonly limit: number;
  #entries: LogEntry[] = [];
  #floor?: bigint;

  /** Keeps at most `limit` entries. */
  constructor(limit: number) {
    this.limit = limit;
  }

  /**
   * Once `limit` entries are kept, the oldest kept time: anything older can no
   * longer enter. `undefined` until then.
   */
  get floor(): bigint | undefined {
    return this.#floor;
  }

  /** Offers an entry. */
  offer(entry: LogEntry): void {
    if (this.#floor !== undefined && entry.ts < this.#floor) return;
    this.#entries.push(entry);
    if (this.#entries.length >= this.limit * 2) this.#trim();
  }

  #trim(): void {
    this.#entries.sort(newestFirst);
    if (this.#entries.length >= this.limit) {
      this.#entries.length = this.limit;
      this.#floor = this.#entries[this.limit - 1].ts;
    }
  }

  /** Settles the floor now (after a batch of offers). */
  settle(): void {
    this.#trim();
  }

  /** The kept entries, newest first. */
  sorted(): LogEntry[] {
    this.#trim();
    return this.#entries;
  }
}
