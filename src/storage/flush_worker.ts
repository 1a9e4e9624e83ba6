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
      const lines: [EncodedStream, number][] = [];
      for (const s of parts) for (let i = 0; i < s.ts.length; i++) lines.push([s, i]);
      // Stable: lines of equal time keep their arrival order.
      lines.sort(([a, i], [b, j]) => (a.ts[i] < b.ts[j] ? -1 : a.ts[i] > b.ts[j] ? 1 : 0));
      for (const [s, i] of lines) {
        const meta = s.metadata?.[i];
        builder.add(
          s.ts[i],
          s.lines.subarray(i === 0 ? 0 : s.ends[i - 1], s.ends[i]),
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
