/**
 * Query planning: what a selection may read. The catalog prunes files by
 * time, by their streams' labels and by their content filter, without
 * opening them; inside each surviving file (opened in parallel, at most
 * `concurrency` at once) the index prunes blocks by stream, time and block
 * filter. The head's batches join as one unit per stream. Files planned are
 * leased until the query ends, so compaction never deletes them under it.
 *
 * @module
 */

import type { BlockCache } from "../storage/block_cache.ts";
import type { Catalog, CatalogEntry, StreamLabels } from "../storage/catalog.ts";
import { bloomHasAll, termsOf } from "../storage/content_filter.ts";
import type { MemBatch, MemStream } from "../ingest/head.ts";
import type { Quarantine } from "../storage/quarantine.ts";
import type { OpenSegment, SegmentCache } from "../storage/segment_cache.ts";
import { SegmentFormatError } from "../storage/segment_format.ts";
import type { BlockRef } from "../storage/segment_reader.ts";
import { type ByteSource, SourceUnavailableError } from "../storage/source/byte_source.ts";
import { LOCAL } from "../storage/source/opener.ts";
import { MAX_TS } from "../time.ts";
import type { LabelMatcher, LineFilter, PipelineStage } from "./ast.ts";
import { type LineMatcher, lineMatcher } from "./line_scan.ts";
import { compileLabelMatchers, requiredLineTerms } from "./matchers.ts";
import { requiredPipelineTerms } from "./pipeline/pruning.ts";

/** What the engine reads from. */
export interface EngineContext {
  catalog: Catalog;
  cache: SegmentCache;
  /** The in-memory batches not yet in cataloged files. */
  head: () => MemBatch[];
  /** Files opened and blocks read at once. */
  concurrency: number;
  /** Told of files that fail a read (without it, a damaged file is only skipped). */
  quarantine?: Quarantine;
  /** Decoded blocks of remote files, when there is a remote tier. */
  blockCache?: BlockCache;
}

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

/** One block of a cataloged file. */
export interface BlockUnit {
  readonly kind: "block";
  readonly entry: CatalogEntry;
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
  /** Releases the files; call it once reading ends. */
  done(): void;
}

/** The inclusive time bounds of `sel`, unbounded ends made explicit. */
export function timeBounds(sel: Pick<Selection, "start" | "end">): [bigint, bigint] {
  return [sel.start, sel.end === 0n ? MAX_TS : sel.end];
}

/** Runs `fn` over `items`, at most `limit` at once. */
export async function inParallel<T>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const run = async () => {
    while (next < items.length) await fn(items[next++]);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, run));
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
  ctx: EngineContext,
  entry: CatalogEntry,
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
    ctx.quarantine?.report(entry, error.reason);
  }
  if (!warnings.some((w) => w.startsWith(`segment ${entry.name} `))) warnings.push(warning);
}

/**
 * Finds the units that may hold lines of `sel`, leasing the files involved.
 * Files whose index cannot be read are skipped with a warning.
 */
export async function plan(ctx: EngineContext, sel: Selection): Promise<Plan> {
  const [lo, hi] = timeBounds(sel);
  const wanted = streamFilter(sel.matchers);
  const lineTerms = lineTermsOf(sel);
  const pushedHashes = requiredLineTerms(sel.pushdown).flatMap(termsOf);
  const hashes = new Map<StreamLabels, number[]>();
  const termHashes = (stream: StreamLabels) => {
    let found = hashes.get(stream);
    if (!found) hashes.set(stream, found = lineTerms(stream).flatMap(termsOf));
    return found;
  };
  const { catalog, cache } = ctx;
  const entries: CatalogEntry[] = [];
  for (const e of catalog.entries()) {
    if (e.maxTs < lo || e.minTs > hi) continue;
    // A row rebuilt from a bucket listing learns its streams from the index below.
    if (e.indexed && !e.streams.some(wanted)) continue;
    // Catalog filters do not say whether they cover metadata: pushed terms only.
    if (pushedHashes.length > 0 && !bloomHasAll(catalog.filterOf(e), pushedHashes)) continue;
    entries.push(e);
  }
  const units: Unit[] = [];
  for (const batch of ctx.head()) {
    if (batch.rows === 0 || batch.maxTs < lo || batch.minTs > hi) continue;
    for (const mem of batch.streams.values()) {
      const stream = catalog.stream(mem.key);
      if (wanted(stream)) {
        units.push({ kind: "memory", mem, stream, minTs: batch.minTs, maxTs: batch.maxTs });
      }
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
    await inParallel(entries, ctx.concurrency, async (entry) => {
      let segment: OpenSegment;
      try {
        segment = await cache.open(entry);
      } catch (error) {
        return unreadable(ctx, entry, error, warnings);
      }
      opened.push(segment);
      const { source, index } = segment;
      if (!entry.indexed) catalog.setStreams(entry, index.streams);
      const streams = index.streams.map((key) => catalog.stream(key));
      for (const ref of index.blocks) {
        if (ref.maxTs < lo || ref.minTs > hi) continue;
        const stream = streams[ref.stream];
        if (!wanted(stream)) continue;
        const terms = index.filtersCoverMetadata ? termHashes(stream) : pushedHashes;
        if (terms.length > 0 && !bloomHasAll(ref.filter, terms)) continue;
        units.push({
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
  } catch (error) {
    done();
    throw error;
  }
  return { units, warnings, done };
}
