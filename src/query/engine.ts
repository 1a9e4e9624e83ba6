/**
 * The query engine: plans a query against the catalog and the in-memory head,
 * then reads only what can contribute.
 *
 * Planning prunes files by time, by their streams' labels and by their content
 * filter, without opening them; then, inside each surviving file (opened in
 * parallel, at most `concurrency` at once), blocks by stream, time and block
 * filter. The surviving blocks are read newest first, `concurrency` at a time,
 * and reading stops as soon as no remaining block can hold a line newer than
 * the oldest of the `limit` lines found: a limit-100 query never decompresses
 * what it does not need.
 *
 * @module
 */

import {
  type Catalog,
  type CatalogEntry,
  type StreamLabels,
  type TimeSpan,
  widen,
} from "../storage/catalog.ts";
import { bloomHasAll, termsOf } from "../storage/content_filter.ts";
import type { MemBatch, MemStream } from "../ingest/head.ts";
import type { Quarantine } from "../storage/quarantine.ts";
import type { OpenSegment, SegmentCache } from "../storage/segment_cache.ts";
import { SegmentFormatError } from "../storage/segment_format.ts";
import { type BlockRef, readBlock, readBlocks } from "../storage/segment_reader.ts";
import type { Block } from "../storage/block_codec.ts";
import type { ByteSource } from "../storage/source/byte_source.ts";
import { type LogEntry, NewestEntries } from "./log_entry.ts";
import { type LineMatcher, lineMatcher, lowerBound, scanBlock, upperBound } from "./line_scan.ts";
import type { LabelMatcher, LineFilter } from "./ast.ts";
import { compileLabelMatchers, requiredLineTerms } from "./matchers.ts";
import { MAX_TS } from "../time.ts";

/** What the engine reads from. */
export interface EngineOptions {
  catalog: Catalog;
  cache: SegmentCache;
  /** The in-memory batches not yet in cataloged files. */
  head: () => MemBatch[];
  /** Files opened and blocks read at once. */
  concurrency: number;
  /** Told of files that fail a read (without it, a damaged file is only skipped). */
  quarantine?: Quarantine;
}

/** Selection shared by every read: time bounds (0n = unbounded), matchers, filters. */
export interface Selection {
  readonly start: bigint;
  readonly end: bigint;
  readonly matchers: LabelMatcher[];
  readonly filters: LineFilter[];
}

/** A log query: a selection and the most lines to return. */
export interface LogQuery extends Selection {
  readonly limit: number;
}

/** A unit of reading: one block of a file, or one stream of a head batch. */
type Unit =
  | {
    kind: "block";
    entry: CatalogEntry;
    source: ByteSource;
    ref: BlockRef;
    stream: StreamLabels;
    maxTs: bigint;
  }
  | { kind: "memory"; mem: MemStream; stream: StreamLabels; maxTs: bigint };

/** A unit of reading from a file. */
type BlockUnit = Extract<Unit, { kind: "block" }>;

/** Log counts per time bucket, one series per value of the `level` label. */
export interface Volume {
  start: bigint;
  end: bigint;
  step: bigint;
  series: { labels: Record<string, string>; counts: [bigint, number][] }[];
}

/** The lines of a log query, and what could not be read. */
export interface SelectResult {
  entries: LogEntry[];
  /** One message per damaged file skipped; the answer lacks its lines. */
  warnings: string[];
}

async function inParallel<T>(
  items: T[],
  limit: number,
  fn: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const run = async () => {
    while (next < items.length) await fn(items[next++]);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, run));
}

/**
 * Answers log queries.
 *
 * @example
 * ```ts ignore
 * const engine = new QueryEngine({ catalog, cache, head: () => ingester.head(), concurrency: 8 });
 * const lines = await engine.select({ start: 0n, end: 0n, matchers: [], filters: [], limit: 100 });
 * ```
 */
export class QueryEngine {
  readonly #o: EngineOptions;

  /** Creates an engine. */
  constructor(options: EngineOptions) {
    this.#o = options;
  }

  #bounds(sel: Selection): [bigint, bigint] {
    return [sel.start, sel.end === 0n ? MAX_TS : sel.end];
  }

  /** A per-query memo of which streams the matchers select. */
  #streamFilter(matchers: LabelMatcher[]): (s: StreamLabels) => boolean {
    const match = compileLabelMatchers(matchers);
    const memo = new Map<StreamLabels, boolean>();
    return (s) => {
      let ok = memo.get(s);
      if (ok === undefined) memo.set(s, ok = match(s.labels));
      return ok;
    };
  }

  #streamOf(key: string): StreamLabels {
    return this.#o.catalog.stream(key);
  }

  /**
   * Records that `entry` failed a read: the query goes on without what it
   * could not read, says so in `warnings` (once per file), and the file is
   * handed to the quarantine.
   */
  #damaged(entry: CatalogEntry, error: unknown, warnings: string[]): void {
    if (!(error instanceof SegmentFormatError)) throw error;
    const warning = `segment ${entry.name} is damaged (${error.reason}); ` +
      (this.#o.quarantine
        ? "it is being quarantined and its readable blocks salvaged"
        : "its unreadable part was skipped");
    if (!warnings.some((w) => w.startsWith(`segment ${entry.name} `))) warnings.push(warning);
    this.#o.quarantine?.report(entry, error.reason);
  }

  /**
   * Finds the units that may hold matching lines, holding leases on the files
   * involved; `done` must be called once reading ends. Files whose index
   * cannot be read are skipped with a warning.
   */
  async #plan(
    sel: Selection,
  ): Promise<{ units: Unit[]; warnings: string[]; done: () => void }> {
    const [lo, hi] = this.#bounds(sel);
    const wanted = this.#streamFilter(sel.matchers);
    const terms = requiredLineTerms(sel.filters).flatMap(termsOf);
    const { catalog, cache } = this.#o;
    const entries: CatalogEntry[] = [];
    for (const e of catalog.entries()) {
      if (e.maxTs < lo || e.minTs > hi) continue;
      if (!e.streams.some(wanted)) continue;
      if (terms.length > 0 && !bloomHasAll(catalog.filterOf(e), terms)) continue;
      entries.push(e);
    }
    const units: Unit[] = [];
    for (const batch of this.#o.head()) {
      if (batch.rows === 0 || batch.maxTs < lo || batch.minTs > hi) continue;
      for (const mem of batch.streams.values()) {
        const stream = this.#streamOf(mem.key);
        if (wanted(stream)) units.push({ kind: "memory", mem, stream, maxTs: batch.maxTs });
      }
    }
    catalog.acquire(entries);
    const warnings: string[] = [];
    const opened: OpenSegment[] = [];
    const done = () => {
      for (const o of opened) o.release();
      catalog.release(entries);
    };
    try {
      await inParallel(entries, this.#o.concurrency, async (entry) => {
        let segment: OpenSegment;
        try {
          segment = await cache.open(entry);
        } catch (error) {
          return this.#damaged(entry, error, warnings);
        }
        opened.push(segment);
        const { source, index } = segment;
        const streams = index.streams.map((key) => this.#streamOf(key));
        for (const ref of index.blocks) {
          if (ref.maxTs < lo || ref.minTs > hi) continue;
          const stream = streams[ref.stream];
          if (!wanted(stream)) continue;
          if (terms.length > 0 && !bloomHasAll(ref.filter, terms)) continue;
          units.push({ kind: "block", entry, source, ref, stream, maxTs: ref.maxTs });
        }
      });
    } catch (error) {
      done();
      throw error;
    }
    return { units, warnings, done };
  }

  /** Reads a unit's lines as ascending columns; a damaged block reads as none, with a warning. */
  async #read(unit: Unit, warnings: string[]): Promise<Columns> {
    if (unit.kind === "memory") return memColumns(unit.mem);
    try {
      return blockColumns(await readBlock(unit.source, unit.ref));
    } catch (error) {
      this.#damaged(unit.entry, error, warnings);
      return NO_COLUMNS;
    }
  }

  /**
   * Reads the units of a wave as {@linkcode #read} does (columns in the order
   * of `units`; a damaged block reads as none, with a warning), but the blocks
   * of one file through one {@linkcode readBlocks} call: adjacent blocks cost
   * one read, not one each.
   */
  async #readWave(units: readonly Unit[], warnings: string[]): Promise<Columns[]> {
    const out = new Array<Columns>(units.length);
    const bySource = new Map<ByteSource, { at: number; unit: BlockUnit }[]>();
    units.forEach((unit, at) => {
      if (unit.kind === "memory") return void (out[at] = memColumns(unit.mem));
      const group = bySource.get(unit.source);
      if (group) group.push({ at, unit });
      else bySource.set(unit.source, [{ at, unit }]);
    });
    await Promise.all([...bySource].map(async ([source, group]) => {
      const blocks = await readBlocks(source, group.map((g) => g.unit.ref));
      group.forEach(({ at, unit }, k) => {
        const block = blocks[k];
        if (block instanceof SegmentFormatError) {
          this.#damaged(unit.entry, block, warnings);
          out[at] = NO_COLUMNS;
        } else out[at] = blockColumns(block);
      });
    }));
    return out;
  }

  /**
   * The newest `limit` lines matching `query`, newest first (ties ordered by
   * stream labels, then line).
   */
  async select(query: LogQuery): Promise<SelectResult> {
    const [lo, hi] = this.#bounds(query);
    const matcher = lineMatcher(query.filters);
    const { units, warnings, done } = await this.#plan(query);
    try {
      units.sort((a, b) => (a.maxTs > b.maxTs ? -1 : a.maxTs < b.maxTs ? 1 : 0));
      const top = new NewestEntries(query.limit);
      for (let at = 0; at < units.length;) {
        const floor = top.floor;
        if (floor !== undefined && units[at].maxTs < floor) break;
        const wave = units.slice(at, at + this.#o.concurrency);
        at += wave.length;
        const read = await this.#readWave(wave, warnings);
        for (let w = 0; w < wave.length; w++) {
          scanColumns(
            read[w],
            lo,
            hi,
            top.floor,
            matcher,
            (ts, line, metadata) => top.offer({ ts, line, stream: wave[w].stream, metadata }),
          );
          top.settle();
        }
      }
      return { entries: top.sorted(), warnings };
    } finally {
      done();
    }
  }

  /**
   * Counts matching lines per `step` over `[start, end]`, one series per
   * `level` label value. Blocks wholly inside one bucket are counted from the
   * index when no line filter applies, without decompressing them.
   *
   * Unlike the other reads, both bounds are times: an `end` of 0n is the time
   * 0 (the bucket count follows from the bounds, so it cannot be unbounded).
   *
   * @throws {RangeError} If `start` is after `end` or `step` is not positive.
   */
  async volume(sel: Selection & { step: bigint }): Promise<Volume> {
    const { start: lo, end: hi, step } = sel;
    if (lo > hi || step <= 0n) {
      throw new RangeError(
        `Cannot count volume: need start <= end and step > 0, got start ${lo}, end ${hi}, step ${step}`,
      );
    }
    const buckets = Number((hi - lo) / step) + 1;
    const matcher = lineMatcher(sel.filters);
    const series = new Map<string, number[]>();
    const countsOf = (stream: StreamLabels) => {
      const level = Object.hasOwn(stream.labels, "level") ? stream.labels.level : "";
      let counts = series.get(level);
      if (!counts) series.set(level, counts = new Array(buckets).fill(0));
      return counts;
    };
    const bucketOf = (ts: bigint) => Number((ts - lo) / step);
    const { units, warnings, done } = await this.#plan(sel);
    try {
      const toRead: Unit[] = [];
      for (const u of units) {
        if (
          u.kind === "block" && !matcher.test && u.ref.minTs >= lo && u.ref.maxTs <= hi &&
          bucketOf(u.ref.minTs) === bucketOf(u.ref.maxTs)
        ) {
          countsOf(u.stream)[bucketOf(u.ref.minTs)] += u.ref.count;
        } else toRead.push(u);
      }
      await inParallel(toRead, this.#o.concurrency, async (u) => {
        const counts = countsOf(u.stream);
        scanColumns(
          await this.#read(u, warnings),
          lo,
          hi,
          undefined,
          matcher,
          (ts) => counts[bucketOf(ts)]++,
        );
      });
    } finally {
      done();
    }
    return {
      start: lo,
      end: hi,
      step,
      series: [...series].sort(([a], [b]) => (a < b ? -1 : 1)).map(([level, counts]) => ({
        labels: level === "" ? {} : { level } as Record<string, string>,
        counts: counts.map((n, i): [bigint, number] => [lo + BigInt(i) * step, n]),
      })),
    };
  }

  /**
   * The streams with lines in `[start, end]` (bounds 0n = unbounded): a file
   * or batch wholly inside the window counts with all its streams; one that
   * straddles it is looked into, by block or by line.
   */
  async #streamsIn(start: bigint, end: bigint): Promise<Set<StreamLabels>> {
    const [lo, hi] = this.#bounds({ start, end, matchers: [], filters: [] });
    const out = new Set<StreamLabels>();
    const straddling: CatalogEntry[] = [];
    for (const e of this.#o.catalog.entries()) {
      if (e.maxTs < lo || e.minTs > hi) continue;
      if (e.minTs >= lo && e.maxTs <= hi) { for (const s of e.streams) out.add(s); }
      else straddling.push(e);
    }
    for (const batch of this.#o.head()) {
      if (batch.rows === 0 || batch.maxTs < lo || batch.minTs > hi) continue;
      const inside = batch.minTs >= lo && batch.maxTs <= hi;
      for (const mem of batch.streams.values()) {
        if (inside || mem.ts.some((t) => t >= lo && t <= hi)) out.add(this.#streamOf(mem.key));
      }
    }
    const { catalog, cache } = this.#o;
    catalog.acquire(straddling);
    try {
      await inParallel(straddling, this.#o.concurrency, async (entry) => {
        const { index, release } = await cache.open(entry);
        try {
          for (const ref of index.blocks) {
            if (ref.maxTs >= lo && ref.minTs <= hi) {
              out.add(this.#streamOf(index.streams[ref.stream]));
            }
          }
        } finally {
          release();
        }
      });
    } finally {
      catalog.release(straddling);
    }
    return out;
  }

  /** Label names, sorted. */
  async labels(start: bigint, end: bigint): Promise<string[]> {
    const names = new Set<string>();
    for (const s of await this.#streamsIn(start, end)) {
      for (const k of Object.keys(s.labels)) names.add(k);
    }
    return [...names].sort();
  }

  /** Values of label `name`, sorted. */
  async labelValues(name: string, start: bigint, end: bigint): Promise<string[]> {
    const values = new Set<string>();
    for (const s of await this.#streamsIn(start, end)) {
      // Own properties only: "constructor" must not find Object.prototype's.
      if (Object.hasOwn(s.labels, name)) values.add(s.labels[name]);
    }
    return [...values].sort();
  }

  /** The times of every stored line, in files and in memory; `undefined` when there is none. */
  span(): TimeSpan | undefined {
    let span = this.#o.catalog.stats().span;
    for (const batch of this.#o.head()) {
      if (batch.rows > 0) span = widen(span, batch.minTs, batch.maxTs);
    }
    return span;
  }
}

/** A unit's lines as ascending columns. */
interface Columns {
  ts: BigInt64Array | bigint[];
  count: number;
  /** Scans lines `[from, to)` with `matcher`. */
  scan(
    from: number,
    to: number,
    matcher: LineMatcher,
    emit: (i: number, line: string) => void,
  ): void;
  metadata(i: number): string | undefined;
}

const utf8 = new TextDecoder();

const NO_COLUMNS: Columns = {
  ts: [],
  count: 0,
  scan: () => {},
  metadata: () => undefined,
};

function blockColumns(block: Block): Columns {
  return {
    ts: block.ts,
    count: block.ts.length,
    scan: (from, to, matcher, emit) => scanBlock(block, from, to, matcher, emit),
    metadata(i) {
      const ends = block.metadataEnds;
      if (!ends) return undefined;
      const start = i === 0 ? 0 : ends[i - 1];
      return ends[i] > start ? utf8.decode(block.metadata!.subarray(start, ends[i])) : undefined;
    },
  };
}

function memColumns(mem: MemStream): Columns {
  // Head lines are in arrival order: sort a snapshot of indices by time.
  const n = mem.ts.length;
  const order = Array.from({ length: n }, (_, i) => i);
  order.sort((a, b) => (mem.ts[a] < mem.ts[b] ? -1 : mem.ts[a] > mem.ts[b] ? 1 : a - b));
  const ts = order.map((i) => mem.ts[i]);
  return {
    ts,
    count: n,
    scan(from, to, matcher, emit) {
      for (let k = from; k < to; k++) {
        const line = mem.lines[order[k]];
        if (!matcher.test || matcher.test(line)) emit(k, line);
      }
    },
    metadata: (k) => mem.metadata?.[order[k]],
  };
}

function scanColumns(
  cols: Columns,
  lo: bigint,
  hi: bigint,
  floor: bigint | undefined,
  matcher: LineMatcher,
  emit: (ts: bigint, line: string, metadata: string | undefined) => void,
): void {
  const from = lowerBound(cols.ts, floor !== undefined && floor > lo ? floor : lo);
  const to = upperBound(cols.ts, hi);
  cols.scan(from, to, matcher, (i, line) => emit(cols.ts[i], line, cols.metadata(i)));
}
