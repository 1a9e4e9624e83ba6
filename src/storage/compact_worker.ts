/**
 * Worker: merges segment files into larger, time-local segments, one for each
 * time partition their lines fall in (see `time_partition.ts`). Each stream's
 * blocks from all sources are read in order of their first timestamp and
 * k-way merged by time, so memory holds only the blocks that overlap in time,
 * never a whole stream. A merge over more than {@linkcode MAX_OPEN_SEGMENTS}
 * partitions goes through them a window at a time.
 *
 * @module
 */

import { join } from "node:path";
import { type Block, BlockBuilder } from "./block_codec.ts";
import { type BlockRef, readBlock, readRawBlock, readSegmentIndex } from "./segment_reader.ts";
import type { SegmentInfo } from "./segment_format.ts";
import { SegmentWriter } from "./segment_writer.ts";
import { mergeRanges } from "./seq_ranges.ts";
import type { ByteSource } from "./source/byte_source.ts";
import { openLocalSourceSync } from "./source/opener.ts";
import { serveJobs } from "./worker_pool.ts";
import { niceThisThread } from "../libc.ts";
import { partitionedName } from "./segment_name.ts";
import { partitionOf } from "./time_partition.ts";

/** A compaction job: the source files and the segments to write. */
export interface CompactJob {
  dir: string;
  sources: string[];
  /** The merge's name: each partition's segment is named after it ({@linkcode partitionedName}). */
  name: string;
  zstdLevel: number;
  blockBytes: number;
  /** Length of a time partition, in ns: each segment written holds the lines of one. */
  partitionNs: bigint;
  /**
   * With it, the one source is not merged but rewritten: its blocks compressed
   * again at `zstdLevel`, lines untouched, into `name`, with this file filter
   * (the source's, from the catalog).
   */
  recompress?: { filter: Uint8Array };
}

/** A decoded block being merged, and the next line to take from it. */
interface Cursor {
  block: Block;
  at: number;
  /** Position of the block in the stream's source order: ties go to the earlier. */
  order: number;
}

function before(a: Cursor, b: Cursor): boolean {
  const ta = a.block.ts[a.at];
  const tb = b.block.ts[b.at];
  return ta < tb || (ta === tb && a.order < b.order);
}

/** A binary min-heap of cursors by their next line's time. */
class CursorHeap {
  readonly items: Cursor[] = [];

  push(c: Cursor): void {
    const h = this.items;
    h.push(c);
    for (let i = h.length - 1; i > 0;) {
      const parent = (i - 1) >> 1;
      if (!before(h[i], h[parent])) break;
      [h[i], h[parent]] = [h[parent], h[i]];
      i = parent;
    }
  }

  /** Restores order after the top cursor advanced, or removes it when spent. */
  fixTop(): void {
    const h = this.items;
    if (h[0].at >= h[0].block.ts.length) {
      const last = h.pop()!;
      if (h.length === 0) return;
      h[0] = last;
    }
    for (let i = 0;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < h.length && before(h[l], h[m])) m = l;
      if (r < h.length && before(h[r], h[m])) m = r;
      if (m === i) return;
      [h[i], h[m]] = [h[m], h[i]];
      i = m;
    }
  }
}

/**
 * Segments a merge writes at once. A merge whose lines fall in more
 * partitions (a backfill of months in hour-long partitions) goes through
 * them a window of this many at a time, each window's segments finished
 * before the next starts, so it never holds thousands of open files.
 */
export const MAX_OPEN_SEGMENTS = 128;

/** A stream's blocks in all sources, in order of their first time. */
type StreamRefs = { source: ByteSource; ref: BlockRef }[];

/** The index of the first line of `block` at or after `ts`. */
function firstAtOrAfter(block: Block, ts: bigint): number {
  let lo = 0;
  let hi = block.ts.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (block.ts[mid] < ts) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * The partitions the lines of `streams` fall in, in order. Blocks inside one
 * partition are known from the index; the others are read.
 */
async function partitionsOf(streams: StreamRefs[], partitionNs: bigint): Promise<bigint[]> {
  const partitions = new Set<bigint>();
  for (const refs of streams) {
    for (const { source, ref } of refs) {
      const first = partitionOf(ref.minTs, partitionNs);
      if (first === partitionOf(ref.maxTs, partitionNs)) {
        partitions.add(first);
        continue;
      }
      const { ts } = await readBlock(source, ref);
      for (let i = 0; i < ts.length; i++) partitions.add(partitionOf(ts[i], partitionNs));
    }
  }
  return [...partitions].sort((a, b) => (a < b ? -1 : 1));
}

/** How many partitions the blocks of `streams` may touch, from the index alone (at least). */
function partitionsSpanned(streams: StreamRefs[], partitionNs: bigint): number {
  const spans = streams.flat().map(({ ref }) => [
    partitionOf(ref.minTs, partitionNs),
    partitionOf(ref.maxTs, partitionNs),
  ]).sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  let count = 0n;
  let end = -1n;
  for (const [first, last] of spans) {
    if (last <= end) continue;
    count += last - (first > end ? first : end + 1n) + 1n;
    end = last;
  }
  return Number(count);
}

/**
 * Merges the sources of `job` into one segment per time partition and returns
 * their catalog facts. Each holds the WAL sequences of all the sources: the
 * segments of one merge are siblings, kept or dropped together (see
 * `Catalog`), and each name says how many there are.
 */
export async function compact(job: CompactJob): Promise<SegmentInfo[]> {
  if (job.recompress) return [await recompress(job, job.recompress.filter)];
  const sources: ByteSource[] = [];
  const writers = new Map<bigint, SegmentWriter>();
  const finished: SegmentInfo[] = [];
  const writerOf = (partition: bigint) => {
    let writer = writers.get(partition);
    if (writer === undefined) {
      // Named once the merge knows how many segments it writes (at finish).
      writer = new SegmentWriter(
        job.dir,
        partitionedName(job.name, partition, job.partitionNs, 0),
        {
          level: 1,
          zstdLevel: job.zstdLevel,
        },
      );
      writers.set(partition, writer);
    }
    return writer;
  };
  try {
    const byStream = new Map<string, StreamRefs>();
    const seqs: [number, number][] = [];
    for (const name of job.sources) {
      // Synchronous reads: the worker has a thread of its own (see file.ts).
      const source = openLocalSourceSync(job.dir, name);
      sources.push(source);
      const index = await readSegmentIndex(source);
      seqs.push(...index.seqs);
      for (const ref of index.blocks) {
        const key = index.streams[ref.stream];
        let list = byStream.get(key);
        if (!list) byStream.set(key, list = []);
        list.push({ source, ref });
      }
    }
    const streams = [...byStream.keys()].sort().map((key) => {
      const refs = byStream.get(key)!.sort((a, b) =>
        a.ref.minTs < b.ref.minTs ? -1 : a.ref.minTs > b.ref.minTs ? 1 : 0
      );
      return { key, refs };
    });
    const ranges = mergeRanges(seqs);
    const finish = (siblings: number) => {
      for (const [partition, writer] of [...writers].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
        finished.push(
          writer.finish(ranges, partitionedName(job.name, partition, job.partitionNs, siblings)),
        );
        writers.delete(partition);
      }
    };
    const { partitionNs } = job;
    const refLists = streams.map((s) => s.refs);
    if (partitionsSpanned(refLists, partitionNs) <= MAX_OPEN_SEGMENTS) {
      for (const { key, refs } of streams) await mergeStream(key, refs, writerOf, job);
      finish(writers.size);
    } else {
      const partitions = await partitionsOf(refLists, partitionNs);
      for (let i = 0; i < partitions.length; i += MAX_OPEN_SEGMENTS) {
        const window = partitions.slice(i, i + MAX_OPEN_SEGMENTS);
        const fromTs = window[0] * partitionNs;
        const toTs = (window[window.length - 1] + 1n) * partitionNs;
        for (const { key, refs } of streams) {
          await mergeStream(key, refs, writerOf, job, fromTs, toTs);
        }
        finish(partitions.length);
      }
      if (finished.length !== partitions.length) {
        throw new Error(
          `merge ${job.name} wrote ${finished.length} segments for ${partitions.length} partitions`,
        );
      }
    }
    return finished;
  } catch (error) {
    for (const writer of writers.values()) writer.abort();
    // Siblings already finished go too: the merge is all or nothing.
    for (const info of finished) Deno.removeSync(join(job.dir, info.name));
    throw error;
  } finally {
    for (const s of sources) await s.close();
  }
}

/**
 * Rewrites the one source of `job` with its blocks compressed again at the
 * job's level: same streams, blocks, filters and WAL sequences, and no line
 * decoded, filtered or coded again (what a merge spends most of its time on
 * below level 9). A segment that a merge wrote at a fast level while lines
 * arrived gets the level of an idle machine.
 */
async function recompress(job: CompactJob, filter: Uint8Array): Promise<SegmentInfo> {
  const source = openLocalSourceSync(job.dir, job.sources[0]);
  let writer: SegmentWriter | undefined;
  try {
    const index = await readSegmentIndex(source);
    // Its block filters are copied: they must hold what a new one would.
    if (!index.filtersCoverMetadata) {
      throw new Error(`cannot recompress ${source.name}: its filters predate metadata terms`);
    }
    const w = writer = new SegmentWriter(job.dir, job.name, {
      level: index.level,
      zstdLevel: job.zstdLevel,
    });
    const ids = index.streams.map((key) => w.stream(key));
    for (const ref of index.blocks) {
      w.writeRawBlock(ids[ref.stream], await readRawBlock(source, ref), ref);
    }
    return w.finish(index.seqs, job.name, filter);
  } catch (error) {
    writer?.abort();
    throw error;
  } finally {
    await source.close();
  }
}

/**
 * Merges the lines of one stream at or after `fromTs` and before `toTs` into
 * the writers of their partitions. Each stream's blocks are k-way merged by
 * time; the merge yields its lines in time order, so the partition changes
 * only upwards, once its end is reached.
 */
async function mergeStream(
  key: string,
  refs: StreamRefs,
  writerOf: (partition: bigint) => SegmentWriter,
  job: CompactJob,
  fromTs = -1n,
  toTs: bigint | undefined = undefined,
): Promise<void> {
  const builder = new BlockBuilder({ codeLines: true });
  let writer: SegmentWriter | undefined;
  let id = 0;
  let partitionEnd = -1n;
  // Blocks are loaded in order of their first time, only once the merge
  // reaches it: memory holds the blocks that overlap in time, not the stream.
  const heap = new CursorHeap();
  let next = 0;
  while (next < refs.length || heap.items.length > 0) {
    while (
      next < refs.length &&
      (heap.items.length === 0 ||
        refs[next].ref.minTs <= heap.items[0].block.ts[heap.items[0].at])
    ) {
      const { source, ref } = refs[next];
      const order = next++;
      if (ref.maxTs < fromTs || (toTs !== undefined && ref.minTs >= toTs)) continue;
      const block = await readBlock(source, ref);
      const at = firstAtOrAfter(block, fromTs);
      if (at < block.ts.length) heap.push({ block, at, order });
    }
    if (heap.items.length === 0) continue;
    const top = heap.items[0];
    const { block, at } = top;
    const ts = block.ts[at];
    // Every line left comes at or after this one: the window is done.
    if (toTs !== undefined && ts >= toTs) break;
    if (ts >= partitionEnd) {
      if (builder.count > 0) writer!.writeBlock(id, builder);
      const partition = partitionOf(ts, job.partitionNs);
      partitionEnd = (partition + 1n) * job.partitionNs;
      writer = writerOf(partition);
      id = writer.stream(key);
    }
    builder.addFrom(block, at);
    if (builder.size >= job.blockBytes) writer!.writeBlock(id, builder);
    top.at++;
    heap.fixTop();
  }
  if (builder.count > 0) writer!.writeBlock(id, builder);
}

if (import.meta.main) {
  // Compaction takes the CPU that ingest leaves: a burst of pushes is not
  // slowed by it, and admission holds pushes when its backlog grows too long.
  niceThisThread(10);
  serveJobs(compact);
}
