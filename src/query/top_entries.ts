/**
 * The sink of log queries: the first `limit` lines in the query's direction
 * (newest first, `backward`, or oldest first, `forward`), in an order that
 * never depends on which file a line sits in.
 *
 * @module
 */

import type { StreamLabels } from "../storage/catalog.ts";

/** One log line of a query result. */
export interface LogEntry {
  readonly ts: bigint;
  readonly line: string;
  /** The line's final labels: its stream's, as the pipeline left them. */
  readonly labels: StreamLabels;
  /** Metadata JSON, when the line has some. */
  readonly metadata?: string;
}

/** Which lines come first: `backward` is newest first (the default), `forward` oldest first. */
export type Direction = "backward" | "forward";

/**
 * The order of `direction`: by time, then by labels, then by line.
 *
 * @example
 * ```ts
 * import { entryOrder } from "./top_entries.ts";
 * import assert from "node:assert/strict";
 * const labels = { key: "{}", labels: {} };
 * const a = { ts: 1n, line: "a", labels };
 * const b = { ts: 2n, line: "b", labels };
 * assert.deepEqual([a, b].sort(entryOrder("backward")), [b, a]);
 * assert.deepEqual([b, a].sort(entryOrder("forward")), [a, b]);
 * ```
 */
export function entryOrder(direction: Direction): (a: LogEntry, b: LogEntry) => number {
  const later = direction === "backward" ? -1 : 1;
  return (a, b) => {
    if (a.ts !== b.ts) return a.ts > b.ts ? later : -later;
    if (a.labels.key !== b.labels.key) return a.labels.key < b.labels.key ? -1 : 1;
    return a.line < b.line ? -1 : a.line > b.line ? 1 : 0;
  };
}

/**
 * Keeps the first `limit` entries offered to it, in `direction`.
 *
 * @example
 * ```ts
 * import { TopEntries } from "./top_entries.ts";
 * import assert from "node:assert/strict";
 * const labels = { key: "{}", labels: {} };
 * const top = new TopEntries(1, "backward");
 * top.offer({ ts: 1n, line: "old", labels });
 * top.offer({ ts: 2n, line: "new", labels });
 * assert.deepEqual(top.sorted().map((e) => e.line), ["new"]);
 * ```
 */
export class TopEntries {
  readonly limit: number;
  readonly direction: Direction;
  readonly #order: (a: LogEntry, b: LogEntry) => number;
  #entries: LogEntry[] = [];
  #bound?: bigint;

  /** Keeps at most `limit` entries, first in `direction`. */
  constructor(limit: number, direction: Direction) {
    this.limit = limit;
    this.direction = direction;
    this.#order = entryOrder(direction);
  }

  /**
   * Once `limit` entries are kept, the time of the last one: nothing beyond
   * it (older when backward, newer when forward) can enter any more.
   * `undefined` until then.
   */
  get bound(): bigint | undefined {
    return this.#bound;
  }

  /** Whether a line at `ts` can still enter. */
  admits(ts: bigint): boolean {
    const bound = this.#bound;
    return bound === undefined || (this.direction === "backward" ? ts >= bound : ts <= bound);
  }

  /** Offers an entry. */
  offer(entry: LogEntry): void {
    if (!this.admits(entry.ts)) return;
    this.#entries.push(entry);
    if (this.#entries.length >= this.limit * 2) this.#trim();
  }

  #trim(): void {
    this.#entries.sort(this.#order);
    if (this.#entries.length >= this.limit) {
      this.#entries.length = this.limit;
      this.#bound = this.#entries[this.limit - 1].ts;
    }
  }

  /** Settles the bound now (after a batch of offers). */
  settle(): void {
    this.#trim();
  }

  /** The kept entries, in order. */
  sorted(): LogEntry[] {
    this.#trim();
    return this.#entries;
  }
}
