/**
 * Query planning: what a selection may read. The catalog prunes files by
 * time, by their streams' labels and by their content filter, without
 * opening them; inside each surviving file (opened in parallel, at most
 * `concurrency` at once) the index prunes blocks by stream, time and block
 * filter. The head's batches join as one unit per stream. Files planned are
 * leased until the query ends, so compaction never deletes them under it.
 * A plan may read only part of the catalog (the hot tier of a search plan),
 * and a client plans over the segments a search plan listed, without a
 * catalog, with the same block pruning ({@linkcode planSegments}).
 *
 * @module
 */

import { checkDeadline, shareEventLoop } from "./deadline.ts";
import { inParallel } from "../in_parallel.ts";
import type { BlockCache } from "../storage/block_cache.ts";
import type { Catalog, CatalogEntry, StreamLabels } from "../storage/catalog.ts";
import { filterHasAll, termsOf } from "../storage/content_filter.ts";
import type { MemBatch, MemStream } from "../ingest/head.ts";
import type { Quarantine } from "../storage/quarantine.ts";
import type { OpenSegment, SegmentCache } from "../storage/segment_cache.ts";
import { SegmentFormatError } from "../storage/segment_format.ts";
import type { BlockRef } from "../storage/segment_reader.ts";
import { type ByteSource, SourceUnavailableError } from "../storage/source/byte_source.ts";
import { LOCAL, type SegmentLocation } from "../storage/source/opener.ts";
import { MAX_TS } from "../time.ts";
import type { LabelMatcher, LineFilter, PipelineStage } from "./ast.ts";
import { type LineMatcher, lineMatcher } from "./line_scan.ts";
import { compileLabelMatchers, requiredLineTerms } from "./matchers.ts";
import { requiredPipelineTerms } from "./pipeline/pruning.ts";

/**
 * What reading segment files takes: a server's engine has it, and so has a
 * client that reads the segments of a search plan (see
 * {@linkcode planSegments}).
 */
export interface ReadContext {
  /** Opens files with their indexes, by name and location. */
  cache: SegmentCache;
  /** Files opened and blocks read at once. */
  concurrency: number;
  /** Told of local files that fail a read (without it, a damaged file is only skipped). */
  quarantine?: Quarantine;
  /** Decoded blocks of remote files, when there is a remote tier. */
  blockCache?: BlockCache;
  /**
   * The most a log query's answer holds, in UTF-16 code units of its lines
   * and labels (`--max-response-size`, `entrySize` in `top_entries.ts`);
   * none: no limit.
   */
  maxResponseSize?: number;
}

/** What the engine reads from: the catalog's files and the head. */
export interface EngineContext extends ReadContext {
  catalog: Catalog;
  /** The in-memory batches not yet in cataloged files. */
  head: () => MemBatch[];
  /** The longest time range a query that reads lines may cover, in ns (`--max-query-range`); none: no limit. */
  maxQueryRange?: bigint;
}

/**
 * A segment read without a catalog: one that a server's search plan listed
 * for its client to read (`GET /api/v1/search/plan`), by the name the
 * server's catalog gives it, a location the client has a reader for, and its
 * size.
 */
export interface ListedSegment extends SegmentLocation {
  readonly bytes: number;
  /** Not a catalog row (which has an id). */
  readonly id?: undefined;
}

/** A file a plan reads: a row of the catalog, or a segment of a search plan. */
export type PlannedFile = CatalogEntry | ListedSegment;

/**
 * What a query selects: time bounds (inclusive; 0n = unbounded), stream
 * matchers, the line filters pushed down to the scan, and the pipeline
 * stages after them (see `splitPushdown`).
 */
export interface Selection {
  readonly start: bigint;
  readonly end: bigint;
  readonly matchers: readonly LabelMatcher[];
  readonly pushdown: readonly LineFilter[];
  readonly pipeline: readonly PipelineStage[];
}

/** A unit of reading: one block of a file, or one stream of a head batch. */
export type Unit = BlockUnit | MemoryUnit;

/** One block of a file. */
export interface BlockUnit {
  readonly kind: "block";
  readonly entry: PlannedFile;
  readonly source: ByteSource;
  readonly ref: BlockRef;
  readonly stream: StreamLabels;
  readonly minTs: bigint;
  readonly maxTs: bigint;
}

/** One stream of a head batch. */
export interface MemoryUnit {
  readonly kind: "memory";
  readonly mem: MemStream;
  readonly stream: StreamLabels;
  readonly minTs: bigint;
  readonly maxTs: bigint;
}

/** The units of a query, what could not be planned, and the end of its leases. */
export interface Plan {
  readonly units: Unit[];
  /** One message per damaged file skipped; the answer lacks its lines. */
  readonly warnings: string[];
  /**
   * The cataloged files the catalog could not rule out but that
   * {@linkcode PlanOptions.read} left out: not opened, not leased.
   */
  readonly unread: CatalogEntry[];
  /** Releases the files; call it once reading ends. */
  done(): void;
}

/**
 * A plan whose files are opened on demand, in the order in which a log query
 * reads them: the head's units at once, the cataloged files in batches. A
 * query that has its lines opens no more (see `select.ts`).
 */
export interface LazyPlan extends Plan {
  /** The next cataloged file to open, `undefined` when every one is open. */
  next(): CatalogEntry | undefined;
  /** Opens the next `count` files; their units are added to {@linkcode Plan.units} and returned. */
  open(count: number): Promise<Unit[]>;
}

/** How much of the catalog a plan reads. */
export interface PlanOptions {
  /**
   * Which of the cataloged files that the catalog cannot rule out are read
   * (default: all of them); the others are listed in {@linkcode Plan.unread}.
   * The head is always read.
   */
  readonly read?: (entry: CatalogEntry) => boolean;
}

/** The inclusive time bounds of `sel`, unbounded ends made explicit. */
export function timeBounds(sel: Pick<Selection, "start" | "end">): [bigint, bigint] {
  return [sel.start, sel.end === 0n ? MAX_TS : sel.end];
}

/**
 * Runs `fn` over the files (or other items) of a query, at most `limit` at
 * once, each after the event loop had its turn and while the deadline holds.
 */
export function readInParallel<T>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<void>,
): Promise<void> {
  return inParallel(items, limit, async (item) => {
    await shareEventLoop();
    checkDeadline();
    await fn(item);
  });
}

/** A memo of which streams the matchers select, for one query. */
export function streamFilter(matchers: readonly LabelMatcher[]): (s: StreamLabels) => boolean {
  const match = compileLabelMatchers(matchers);
  const memo = new Map<StreamLabels, boolean>();
  return (s) => {
    let ok = memo.get(s);
    if (ok === undefined) memo.set(s, ok = match(s.labels));
    return ok;
  };
}

/**
 * The substrings every line of `sel` in a stream must contain: the values of
 * its pushed-down `|=` filters, and the values its pipeline's label filters
 * imply after a parser (see `pipeline/pruning.ts`) when the stream lacks
 * that label. Memoised per stream for one query.
 *
 * An implied value holds only for lines without structured metadata: a label
 * filter sees metadata too, so a line whose metadata has the value matches
 * without holding it. Callers apply implied values only where that is known:
 * to content filters that cover metadata, and to scans of lines without any.
 */
export function lineTermsOf(
  sel: Pick<Selection, "pushdown" | "pipeline">,
): (stream: StreamLabels) => string[] {
  const pushed = requiredLineTerms(sel.pushdown);
  const implied = requiredPipelineTerms(sel.pipeline);
  if (implied.length === 0) return () => pushed;
  const memo = new Map<StreamLabels, string[]>();
  return (stream) => {
    let terms = memo.get(stream);
    if (!terms) {
      terms = [...pushed];
      for (const { label, value } of implied) {
        if (!Object.hasOwn(stream.labels, label) && !terms.includes(value)) terms.push(value);
      }
      memo.set(stream, terms);
    }
    return terms;
  };
}

/**
 * The scan matcher of each stream: the pushed-down filters, plus, for lines
 * without metadata (`hasMetadata` false), the values the pipeline implies
 * (see {@linkcode lineTermsOf}) as `|=` filters, so the native needle search
 * can use them. Memoised per stream for one query.
 */
export function lineMatcherOf(
  sel: Pick<Selection, "pushdown" | "pipeline">,
): (stream: StreamLabels, hasMetadata: boolean) => LineMatcher {
  const pushed = lineMatcher(sel.pushdown);
  const pushedTerms = requiredLineTerms(sel.pushdown);
  const termsOf = lineTermsOf(sel);
  const memo = new Map<StreamLabels, LineMatcher>();
  return (stream, hasMetadata) => {
    if (hasMetadata) return pushed;
    let matcher = memo.get(stream);
    if (!matcher) {
      const implied = termsOf(stream).slice(pushedTerms.length);
      matcher = implied.length === 0 ? pushed : lineMatcher([
        ...sel.pushdown,
        ...implied.map((value) => ({ kind: "line_filter", op: "|=", value }) as const),
      ]);
      memo.set(stream, matcher);
    }
    return matcher;
  };
}

/**
 * Records that `entry` failed a read: the query goes on without what it
 * could not read and says so in `warnings` (once per file). A damaged local
 * file is handed to the quarantine; a remote one cannot be repaired from
 * here, and an unreachable one ({@linkcode SourceUnavailableError}) is not
 * damaged at all. Other errors are thrown on.
 */
export function unreadable(
  ctx: ReadContext,
  entry: PlannedFile,
  error: unknown,
  warnings: string[],
): void {
  let warning: string;
  if (error instanceof SourceUnavailableError) {
    warning = `segment ${entry.name} in ${entry.location} was skipped: ${error.message}`;
  } else if (!(error instanceof SegmentFormatError)) {
    throw error;
  } else if (entry.location !== LOCAL) {
    warning = `segment ${entry.name} in ${entry.location} is damaged (${error.reason}); ` +
      "its unreadable part was skipped";
  } else {
    warning = `segment ${entry.name} is damaged (${error.reason}); ` +
      (ctx.quarantine
        ? "it is being quarantined and its readable blocks salvaged"
        : "its unreadable part was skipped");
    if (entry.id !== undefined) ctx.quarantine?.report(entry, error.reason);
  }
  if (!warnings.some((w) => w.startsWith(`segment ${entry.name} `))) warnings.push(warning);
}

/** What prunes files and blocks for one selection (memoised per stream). */
interface Pruning {
  readonly lo: bigint;
  readonly hi: bigint;
  readonly wanted: (stream: StreamLabels) => boolean;
  /** Hashes of the pushed-down terms: what filters not known to cover metadata prune by. */
  readonly pushedHashes: number[];
  /** Hashes of every term a stream's lines must hold: what filters covering metadata prune by. */
  readonly termHashes: (stream: StreamLabels) => number[];
  /** Whether any stream's lines must hold a term (else no filter can prune). */
  readonly anyTerms: boolean;
}

function pruningOf(sel: Selection): Pruning {
  const [lo, hi] = timeBounds(sel);
  const lineTerms = lineTermsOf(sel);
  const hashes = new Map<StreamLabels, number[]>();
  const pushedHashes = requiredLineTerms(sel.pushdown).flatMap(termsOf);
  return {
    lo,
    hi,
    wanted: streamFilter(sel.matchers),
    pushedHashes,
    anyTerms: pushedHashes.length > 0 || requiredPipelineTerms(sel.pipeline).length > 0,
    termHashes(stream) {
      let found = hashes.get(stream);
      if (!found) hashes.set(stream, found = lineTerms(stream).flatMap(termsOf));
      return found;
    },
  };
}

/** What planning collects: units, warnings, and the segments to release when reading ends. */
interface Planned {
  readonly units: Unit[];
  readonly warnings: string[];
  readonly opened: OpenSegment[];
  /** Set when reading ended: a file still opening then is released as it arrives. */
  ended: boolean;
}

/** Ends `into`: releases the segments it opened, and those still opening once they are. */
function endPlanned(into: Planned): void {
  into.ended = true;
  for (const o of into.opened) o.release();
}

/**
 * Opens `files` (at most `ctx.concurrency` at once) and adds their blocks
 * that may hold lines to `into`: pruned by stream, time and block filter. A
 * file whose index cannot be read is skipped with a warning. `indexed` hears
 * the streams of each file opened; `streamOf` interns them.
 */
async function planBlocks<F extends PlannedFile>(
  ctx: ReadContext,
  p: Pruning,
  files: readonly F[],
  streamOf: (key: string) => StreamLabels,
  indexed: ((file: F, streams: readonly string[]) => void) | undefined,
  into: Planned,
): Promise<void> {
  const { lo, hi, wanted } = p;
  await readInParallel(files, ctx.concurrency, async (entry) => {
    let segment: OpenSegment;
    try {
      segment = await ctx.cache.open(entry);
    } catch (error) {
      return unreadable(ctx, entry, error, into.warnings);
    }
    // A sibling's failure (a deadline) ended the plan while this file opened.
    if (into.ended) return segment.release();
    into.opened.push(segment);
    const { source, index } = segment;
    indexed?.(entry, index.streams);
    const streams = index.streams.map(streamOf);
    for (const ref of index.blocks) {
      if (ref.maxTs < lo || ref.minTs > hi) continue;
      const stream = streams[ref.stream];
      if (!wanted(stream)) continue;
      const terms = index.filtersCoverMetadata ? p.termHashes(stream) : p.pushedHashes;
      if (terms.length > 0 && !filterHasAll(ref.filter, terms)) continue;
      into.units.push({
        kind: "block",
        entry,
        source,
        ref,
        stream,
        minTs: ref.minTs,
        maxTs: ref.maxTs,
      });
    }
  });
}

/**
 * Whether the file of `entry`, whose file filter is `filter`, may hold lines
 * of `p`. A filter that holds metadata terms too prunes by every term a
 * wanted stream's lines must hold (the values label filters imply after a
 * parser as well): the file stays when one of its wanted streams may hold
 * all of its own. Other filters prune by the pushed-down terms alone.
 */
function fileMayMatch(p: Pruning, entry: CatalogEntry, filter: Uint8Array): boolean {
  if (!entry.filterCoversMetadata || !entry.indexed) {
    return filterHasAll(filter, p.pushedHashes);
  }
  return entry.streams.some((s) => p.wanted(s) && filterHasAll(filter, p.termHashes(s)));
}

/**
 * Finds the units that may hold lines of `sel`, leasing the files involved.
 * Files whose index cannot be read are skipped with a warning. With
 * `options.read`, only some of the cataloged files are read; the others that
 * the catalog cannot rule out are listed in {@linkcode Plan.unread} (the
 * hot-tier part of a search plan reads the local ones and lists the rest).
 */
export async function plan(
  ctx: EngineContext,
  sel: Selection,
  options: PlanOptions = {},
): Promise<Plan> {
  const lazy = planLazily(ctx, sel, (a, b) => (a.minTs < b.minTs ? -1 : 1), options);
  try {
    await lazy.open(Infinity);
  } catch (error) {
    lazy.done();
    throw error;
  }
  return lazy;
}

/**
 * {@linkcode plan}, with the cataloged files left unopened until asked for,
 * in the order of `order`. Leases every file the catalog cannot rule out.
 */
export function planLazily(
  ctx: EngineContext,
  sel: Selection,
  order: (a: CatalogEntry, b: CatalogEntry) => number,
  options: PlanOptions = {},
): LazyPlan {
  const p = pruningOf(sel);
  const { lo, hi, wanted } = p;
  const { catalog } = ctx;
  const entries: CatalogEntry[] = [];
  const unread: CatalogEntry[] = [];
  for (const e of catalog.entries()) {
    if (e.maxTs < lo || e.minTs > hi) continue;
    // A row rebuilt from a bucket listing learns its streams from the index below.
    if (e.indexed && !e.streams.some(wanted)) continue;
    if (p.anyTerms && !fileMayMatch(p, e, catalog.filterOf(e))) continue;
    (options.read === undefined || options.read(e) ? entries : unread).push(e);
  }
  entries.sort(order);
  const into: Planned = { units: [], warnings: [], opened: [], ended: false };
  for (const batch of ctx.head()) {
    if (batch.rows === 0 || batch.maxTs < lo || batch.minTs > hi) continue;
    for (const mem of batch.streams.values()) {
      const stream = catalog.stream(mem.key);
      if (wanted(stream)) {
        into.units.push({ kind: "memory", mem, stream, minTs: batch.minTs, maxTs: batch.maxTs });
      }
    }
  }
  catalog.acquire(entries);
  let opened = 0;
  return {
    units: into.units,
    warnings: into.warnings,
    unread,
    next: () => entries[opened],
    async open(count) {
      const files = entries.slice(opened, opened + count);
      opened += files.length;
      const from = into.units.length;
      await planBlocks(
        ctx,
        p,
        files,
        (key) => catalog.stream(key),
        (entry, streams) => {
          if (!entry.indexed) catalog.setStreams(entry, streams);
        },
        into,
      );
      return into.units.slice(from);
    },
    done() {
      endPlanned(into);
      catalog.release(entries);
    },
  };
}

/**
 * Finds the units that may hold lines of `sel` in `segments` alone, without
 * a catalog or a head: how a client reads the segments a server's search
 * plan listed. Every segment is opened (its streams and time bounds are
 * known from its index) and its blocks are pruned as {@linkcode plan} prunes
 * a cataloged file's. Streams are interned for this plan only.
 */
export async function planSegments(
  ctx: ReadContext,
  sel: Selection,
  segments: readonly ListedSegment[],
): Promise<Plan> {
  const streams = new Map<string, StreamLabels>();
  const streamOf = (key: string) => {
    let stream = streams.get(key);
    if (!stream) streams.set(key, stream = { key, labels: JSON.parse(key) });
    return stream;
  };
  const into: Planned = { units: [], warnings: [], opened: [], ended: false };
  const done = () => endPlanned(into);
  try {
    await planBlocks(ctx, pruningOf(sel), segments, streamOf, undefined, into);
  } catch (error) {
    done();
    throw error;
  }
  return { units: into.units, warnings: into.warnings, unread: [], done };
}
