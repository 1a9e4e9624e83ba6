/**
 * Label discovery: the streams with lines in a time window, optionally only
 * those that label matchers select, and their label names and values. A
 * file or batch wholly inside the window counts with all its streams; one
 * that straddles it is looked into, by block or by line. Index statistics
 * (`indexStats`) count the blocks of the selected streams.
 *
 * @module
 */

import type { LabelMatcher } from "./ast.ts";
import type { CatalogEntry, StreamLabels } from "../storage/catalog.ts";
import type { OpenSegment } from "../storage/segment_cache.ts";
import type { BlockRef } from "../storage/segment_reader.ts";
import {
  type EngineContext,
  readInParallel,
  streamFilter,
  timeBounds,
  unreadable,
} from "./plan.ts";
import { utf8Length } from "../utf8.ts";

/**
 * The streams with lines in `[start, end]` (bounds 0n = unbounded) that
 * `matchers` select (none: every stream).
 */
export async function streamsIn(
  ctx: EngineContext,
  start: bigint,
  end: bigint,
  matchers: readonly LabelMatcher[] = [],
): Promise<Set<StreamLabels>> {
  const [lo, hi] = timeBounds({ start, end });
  const { catalog } = ctx;
  const selects = streamFilter(matchers);
  const out = new Set<StreamLabels>();
  const straddling: CatalogEntry[] = [];
  for (const e of catalog.entries()) {
    if (e.maxTs < lo || e.minTs > hi) continue;
    if (e.indexed && e.minTs >= lo && e.maxTs <= hi) {
      for (const s of e.streams) if (selects(s)) out.add(s);
    } else straddling.push(e);
  }
  for (const batch of ctx.head()) {
    if (batch.rows === 0 || batch.maxTs < lo || batch.minTs > hi) continue;
    const inside = batch.minTs >= lo && batch.maxTs <= hi;
    for (const mem of batch.streams.values()) {
      const stream = catalog.stream(mem.key);
      if (!selects(stream)) continue;
      if (inside || mem.ts.some((t) => t >= lo && t <= hi)) out.add(stream);
    }
  }
  await eachBlockIn(ctx, straddling, lo, hi, selects, (stream) => out.add(stream));
  return out;
}

/** What the index knows of a selection: Loki's `index/stats` figures. */
export interface IndexStats {
  /** Streams with lines in the window. */
  streams: number;
  /** Blocks of those streams that overlap the window (a head batch's stream counts as one). */
  chunks: number;
  /** Lines in those blocks. */
  entries: number;
  /** Uncompressed bytes of those blocks (of the lines, in the head). */
  bytes: number;
}

/**
 * Index statistics of the streams `matchers` select in `[start, end]`,
 * approximated by whole blocks, as Loki approximates by whole chunks: a
 * block that overlaps the window counts with all its lines and bytes. Lines
 * in memory count exactly.
 */
export async function indexStats(
  ctx: EngineContext,
  start: bigint,
  end: bigint,
  matchers: readonly LabelMatcher[],
): Promise<IndexStats> {
  const [lo, hi] = timeBounds({ start, end });
  const selects = streamFilter(matchers);
  const streams = new Set<StreamLabels>();
  const stats: IndexStats = { streams: 0, chunks: 0, entries: 0, bytes: 0 };
  const files = [...ctx.catalog.entries()].filter((e) =>
    e.maxTs >= lo && e.minTs <= hi && (!e.indexed || e.streams.some(selects))
  );
  await eachBlockIn(ctx, files, lo, hi, selects, (stream, ref) => {
    streams.add(stream);
    stats.chunks++;
    stats.entries += ref.count;
    stats.bytes += ref.rawLength;
  });
  for (const batch of ctx.head()) {
    if (batch.rows === 0 || batch.maxTs < lo || batch.minTs > hi) continue;
    for (const mem of batch.streams.values()) {
      const stream = ctx.catalog.stream(mem.key);
      if (!selects(stream)) continue;
      let lines = 0;
      for (let i = 0; i < mem.ts.length; i++) {
        if (mem.ts[i] < lo || mem.ts[i] > hi) continue;
        lines++;
        stats.bytes += utf8Length(mem.lines[i]);
      }
      if (lines === 0) continue;
      streams.add(stream);
      stats.chunks++;
      stats.entries += lines;
    }
  }
  stats.streams = streams.size;
  return stats;
}

/**
 * Calls `visit` with each block of `files` in `[lo, hi]` whose stream
 * `selects`, from the files' indexes (no block is read). A file that cannot
 * be read now is left out (these answers have no warnings; a damaged local
 * one goes to the quarantine).
 */
export async function eachBlockIn(
  ctx: EngineContext,
  files: CatalogEntry[],
  lo: bigint,
  hi: bigint,
  selects: (s: StreamLabels) => boolean,
  visit: (stream: StreamLabels, ref: BlockRef) => void,
): Promise<void> {
  const { catalog, cache } = ctx;
  catalog.acquire(files);
  try {
    await readInParallel(files, ctx.concurrency, async (entry) => {
      let segment: OpenSegment;
      try {
        segment = await cache.open(entry);
      } catch (error) {
        return unreadable(ctx, entry, error, []);
      }
      const { index, release } = segment;
      if (!entry.indexed) catalog.setStreams(entry, index.streams);
      try {
        for (const ref of index.blocks) {
          if (ref.maxTs < lo || ref.minTs > hi) continue;
          const stream = catalog.stream(index.streams[ref.stream]);
          if (selects(stream)) visit(stream, ref);
        }
      } finally {
        release();
      }
    });
  } finally {
    catalog.release(files);
  }
}

/** Label names of `streams`, sorted. */
export function labelNames(streams: Iterable<StreamLabels>): string[] {
  const names = new Set<string>();
  for (const s of streams) for (const k of Object.keys(s.labels)) names.add(k);
  return [...names].sort();
}

/** Values of label `name` in `streams`, sorted. */
export function labelValues(streams: Iterable<StreamLabels>, name: string): string[] {
  const values = new Set<string>();
  for (const s of streams) {
    // Own properties only: "constructor" must not find Object.prototype's.
    if (Object.hasOwn(s.labels, name)) values.add(s.labels[name]);
  }
  return [...values].sort();
}
