/**
 * The sink of log queries: the first `limit` lines in the query's direction
 * (newest first, `backward`, or oldest first, `forward`), in an order that
 * never depends on which file a line sits in.
 *
 * @module
 */

import type { StreamLabels } from "../storage/catalog.ts";

/**
 * One log line of a query result, with its final labels in Loki's three
 * categories, as the pipeline left them.
 */
export interface LogEntry {
  readonly ts: bigint;
  readonly line: string;
  /** The stream-category labels (its `key` orders ties). */
  readonly stream: StreamLabels;
  /** Structured metadata, when the line has some. */
  readonly metadata?: Record<string, string>;
  /** Labels added by parsers and `label_format`, when there are some. */
  readonly parsed?: Record<string, string>;
}

/** Which lines come first: `backward` is newest first (the default), `forward` oldest first. */
export type Direction = "backward" | "forward";

/**
 * The order of `direction`: by time, then by stream labels, then by line.
 *
 * @example
 * ```ts
 * import { entryOrder } from "./top_entries.ts";
 * import assert from "node:assert/strict";
 * const stream = { key: "{}", labels: {} };
 * const a = { ts: 1n, line: "a", stream };
 * const b = { ts: 2n, line: "b", stream };
 * assert.deepEqual([a, b].sort(entryOrder("backward")), [b, a]);
 * assert.deepEqual([b, a].sort(entryOrder("forward")), [a, b]);
 * ```
 */
export function entryOrder(direction: Direction): (a: LogEntry, b: LogEntry) => number {
  const later = direction === "backward" ? -1 : 1;
  return (a, b) => {
    if (a.ts !== b.ts) return a.ts > b.ts ? later : -later;
    if (a.stream.key !== b.stream.key) return a.stream.key < b.stream.key ? -1 : 1;
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
 * const stream = { key: "{}", labels: {} };
 * const top = new TopEntries(1, "backward");
 * top.offer({ ts: 1n, line: "old", stream });
 * top.offer({ ts: 2n, line: "new", stream });
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

/** Lines of one final label set, as Loki's `streams` answer groups them. */
export interface EntryGroup {
  /** Every final label: the stream's, structured metadata and parsed labels. */
  labels: Record<string, string>;
  /** The group's entries, in the order given. */
  entries: LogEntry[];
}

/**
 * Groups entries into streams by their final label set (all three
 * categories merged; structured metadata wins over parsed labels, which win
 * over the stream's), groups in the order of their first entry.
 *
 * @example
 * ```ts
 * import { groupByLabels } from "./top_entries.ts";
 * import assert from "node:assert/strict";
 * const stream = { key: '{"app":"web"}', labels: { app: "web" } };
 * const groups = groupByLabels([
 *   { ts: 3n, line: "a", stream, parsed: { s: "500" } },
 *   { ts: 2n, line: "b", stream, parsed: { s: "200" } },
 *   { ts: 1n, line: "c", stream, parsed: { s: "500" } },
 * ]);
 * assert.deepEqual(groups.map((g) => [g.labels, g.entries.map((e) => e.line)]), [
 *   [{ app: "web", s: "500" }, ["a", "c"]],
 *   [{ app: "web", s: "200" }, ["b"]],
 * ]);
 * ```
 */
export function groupByLabels(entries: readonly LogEntry[]): EntryGroup[] {
  const groups = new Map<string, EntryGroup>();
  for (const e of entries) {
    let key = e.stream.key;
    let labels = e.stream.labels;
    if (e.metadata || e.parsed) {
      labels = { ...e.stream.labels, ...e.parsed, ...e.metadata };
      key = JSON.stringify(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    }
    let group = groups.get(key);
    if (!group) groups.set(key, group = { labels, entries: [] });
    group.entries.push(e);
  }
  return [...groups.values()];
}
