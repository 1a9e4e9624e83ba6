/**
 * Worker: writes one in-memory batch as a level-0 segment file.
 *
 * @module
 */

import { BlockBuilder } from "./block_codec.ts";
import type { EncodedStream } from "./mem_batch.ts";
import { type SegmentInfo, SegmentWriter } from "./segment_writer.ts";
import type { SeqRanges } from "./seq_ranges.ts";
import { serveJobs } from "./worker_pool.ts";

/** A flush job: the batch's streams and where to write them. */
export interface FlushJob {
  dir: string;
  name: string;
  zstdLevel: number;
  blockBytes: number;
  streams: EncodedStream[];
  seqs: SeqRanges;
}

/**
 * Writes `job` as one segment file: per stream, its lines in time order.
 * `job.streams` may hold a stream more than once (several batches merged).
 */
export function writeBatch(job: FlushJob): SegmentInfo {
  const writer = new SegmentWriter(job.dir, job.name, { level: 0, zstdLevel: job.zstdLevel });
  try {
    const byKey = new Map<string, EncodedStream[]>();
    for (const s of job.streams) {
      const parts = byKey.get(s.key);
      if (parts) parts.push(s);
      else byKey.set(s.key, [s]);
    }
    // No content filters: level-0 files are small and soon compacted.
    const builder = new BlockBuilder({ collectTerms: false });
    for (const [key, parts] of byKey) {
      const id = writer.stream(key);
      // Lines as (part, index) pairs in time order; equal times keep arrival order.
      const count = parts.reduce((n, p) => n + p.ts.length, 0);
      const partOf = new Uint16Array(count);
      const indexIn = new Uint32Array(count);
      let k = 0;
      let sorted = true;
      let last = -(2n ** 63n);
      for (let p = 0; p < parts.length; p++) {
        const ts = parts[p].ts;
        for (let i = 0; i < ts.length; i++, k++) {
          partOf[k] = p;
          indexIn[k] = i;
          if (ts[i] < last) sorted = false;
          last = ts[i];
        }
      }
      let order: ArrayLike<number> | undefined;
      if (!sorted) {
        const o = Array.from({ length: count }, (_, j) => j);
        const tsOf = (j: number) => parts[partOf[j]].ts[indexIn[j]];
        o.sort((a, b) => (tsOf(a) < tsOf(b) ? -1 : tsOf(a) > tsOf(b) ? 1 : a - b));
        order = o;
      }
      for (let j = 0; j < count; j++) {
        const n = order ? order[j] : j;
        const s = parts[partOf[n]];
        const i = indexIn[n];
        const meta = s.metadata?.[i];
        builder.addSlice(
          s.ts[i],
          s.lines,
          i === 0 ? 0 : s.ends[i - 1],
          s.ends[i],
          meta === undefined ? undefined : encoder.encode(meta),
        );
        if (builder.size >= job.blockBytes) writer.writeBlock(id, builder);
      }
      if (builder.count > 0) writer.writeBlock(id, builder);
    }
    return writer.finish(job.seqs);
  } catch (error) {
    writer.abort();
    throw error;
  }
}

const encoder = new TextEncoder();

if (import.meta.main) serveJobs(writeBatch);
