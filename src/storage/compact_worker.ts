/**
 * Worker: merges segment files into larger, time-local segments, one for each
 * time partition their lines fall in (see `time_partition.ts`). Each stream's
 * blocks from all sources are read in order of their first timestamp and
 * k-way merged by time, so memory holds only the blocks that overlap in time,
 * never a whole stream.
 *
 * @module
 */

import { join } from "node:path";
import { type Block, BlockBuilder } from "./block_codec.ts";
import { type BlockRef, readBlock, readSegmentIndex } from "./segment_reader.ts";
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
 * Merges the sources of `job` into one segment per time partition and returns
 * their catalog facts. Each holds the WAL sequences of all the sources: the
 * segments of one merge are siblings, kept or dropped together (see
 * `Catalog`).
 */
export async function compact(job: CompactJob): Promise<SegmentInfo[]> {
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
    const byStream = new Map<string, { source: ByteSource; ref: BlockRef }[]>();
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
    const builder = new BlockBuilder();
    for (const key of [...byStream.keys()].sort()) {
      const refs = byStream.get(key)!.sort((a, b) =>
        a.ref.minTs < b.ref.minTs ? -1 : a.ref.minTs > b.ref.minTs ? 1 : 0
      );
      // The merge yields the stream's lines in time order: its partition
      // changes only upwards, once its end is reached.
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
          const block = await readBlock(refs[next].source, refs[next].ref);
          heap.push({ block, at: 0, order: next++ });
        }
        const top = heap.items[0];
        const { block, at } = top;
        const ts = block.ts[at];
        if (ts >= partitionEnd) {
          if (builder.count > 0) writer!.writeBlock(id, builder);
          const partition = partitionOf(ts, job.partitionNs);
          partitionEnd = (partition + 1n) * job.partitionNs;
          writer = writerOf(partition);
          id = writer.stream(key);
        }
        const metaEnds = block.metadataEnds;
        builder.add(
          ts,
          block.lines.subarray(block.starts[at], block.ends[at]),
          metaEnds && metaEnds[at] > (at === 0 ? 0 : metaEnds[at - 1])
            ? block.metadata!.subarray(at === 0 ? 0 : metaEnds[at - 1], metaEnds[at])
            : undefined,
        );
        if (builder.size >= job.blockBytes) writer!.writeBlock(id, builder);
        top.at++;
        heap.fixTop();
      }
      if (builder.count > 0) writer!.writeBlock(id, builder);
    }
    const ranges = mergeRanges(seqs);
    const siblings = writers.size;
    for (const [partition, writer] of [...writers].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
      finished.push(
        writer.finish(ranges, partitionedName(job.name, partition, job.partitionNs, siblings)),
      );
      writers.delete(partition);
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

if (import.meta.main) {
  // Compaction takes the CPU that ingest leaves: a burst of pushes is not
  // slowed by it, and admission holds pushes when its backlog grows too long.
  niceThisThread(10);
  serveJobs(compact);
}
