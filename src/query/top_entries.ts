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
 * What an entry weighs in an answer, in UTF-16 code units: its line, its
 * stream's labels (answers repeat them line by line), and the names and values
 * of its structured metadata and parsed labels (a parser may copy a long line
 * into its labels).
 *
 * @example
 * ```ts
 * import { entrySize } from "./top_entries.ts";
 * import assert from "node:assert/strict";
 * const stream = { key: "{}", labels: {} };
 * assert.equal(entrySize({ ts: 1n, line: "status=500", stream, parsed: { status: "500" } }), 21);
 * ```
 */
export function entrySize(entry: LogEntry): number {
  let size = entry.line.length + entry.stream.key.length;
  for (const labels of [entry.metadata, entry.parsed]) {
    if (labels === undefined) continue;
    for (const name in labels) size += name.length + labels[name].length;
  }
  return size;
}

/**
 * Most UTF-16 code units of lines and labels ({@linkcode entrySize}) in one
 * log query's answer, by default: 64 MiB. `--max-response-size` sets the
 * server's; `loge search --local` holds its merged answer to it.
 */
export const MAX_ANSWER_SIZE = 64 * 1024 * 1024;

/**
 * Keeps the first `limit` entries offered to it, in `direction`, and no more
 * of them than `maxSize` ({@linkcode entrySize}) holds: a limit of 5,000
 * lines of 256 KiB would otherwise hold a gigabyte and more, and make an
 * answer longer than a string can be. When `maxSize` cuts the answer short,
 * {@linkcode TopEntries.cut} is the first entry left out, where a client that
 * pages goes on from. The first entry is answered whatever its size, so that
 * paging always moves on.
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
 * const small = new TopEntries(10, "backward", 10);
 * for (const ts of [1n, 2n, 3n]) small.offer({ ts, line: `line ${ts}`, stream });
 * assert.deepEqual(small.sorted().map((e) => e.line), ["line 3"]);
 * assert.equal(small.cut?.line, "line 2");
 * ```
 */
export class TopEntries {
  readonly limit: number;
  readonly direction: Direction;
  readonly maxSize: number;
  readonly #order: (a: LogEntry, b: LogEntry) => number;
  #entries: LogEntry[] = [];
  /** Entries that never fit ({@linkcode TopEntries.block}). */
  readonly #blockers = new WeakSet<LogEntry>();
  /** The size of the entries answered at the last trim and of those offered since. */
  #size = 0;
  /**
   * After a trim, how many of the entries are answered: one more is kept
   * when `maxSize` cut them short, the first that does not fit, since what
   * comes after it cannot enter either.
   */
  #answered = 0;
  #bound?: bigint;

  /** Keeps at most `limit` entries, first in `direction`, of {@linkcode entrySize} `maxSize` at most together. */
  constructor(limit: number, direction: Direction, maxSize = Infinity) {
    this.limit = limit;
    this.direction = direction;
    this.maxSize = maxSize;
    this.#order = entryOrder(direction);
  }

  /**
   * The first entry that `maxSize` (or a {@linkcode TopEntries.block}er) left
   * out of the answer, when the answer stops short of `limit` and of the
   * entries offered; `undefined` otherwise.
   */
  get cut(): LogEntry | undefined {
    this.#trim();
    return this.#entries[this.#answered];
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
    this.#size += entrySize(entry);
    if (this.#entries.length >= this.limit * 2 || this.#size > this.maxSize * 2) this.#trim();
  }

  /**
   * Offers an entry that never fits: the answer stops before it, as another
   * answer's {@linkcode TopEntries.cut} stopped it, and what comes after it
   * cannot enter. A client merging such an answer with lines of its own
   * blocks at its cut, since the lines the cut left out are not among its own.
   */
  block(entry: LogEntry): void {
    if (!this.admits(entry.ts)) return;
    this.#blockers.add(entry);
    this.#entries.push(entry);
    this.#trim();
  }

  #trim(): void {
    const entries = this.#entries;
    entries.sort(this.#order);
    const most = Math.min(entries.length, this.limit);
    let size = 0;
    let fit = 0;
    for (; fit < most; fit++) {
      const entry = entries[fit];
      const blocker = this.#blockers.has(entry);
      const next = blocker ? Infinity : entrySize(entry);
      // The first line is answered whatever its size: an answer is empty only when none matches.
      if (size + next > this.maxSize && (fit > 0 || blocker)) break;
      size += next;
    }
    if (fit < most) {
      // The first entry that does not fit stays: what comes after it cannot enter, but what
      // comes before it may, and push it further out.
      entries.length = fit + 1;
      this.#bound = entries[fit].ts;
    } else if (entries.length >= this.limit) {
      entries.length = this.limit;
      this.#bound = entries[this.limit - 1].ts;
    }
    this.#answered = fit;
    this.#size = size;
  }

  /** Settles the bound now (after a batch of offers). */
  settle(): void {
    this.#trim();
  }

  /** The answered entries, in order. */
  sorted(): LogEntry[] {
    this.#trim();
    return this.#entries.slice(0, this.#answered);
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
