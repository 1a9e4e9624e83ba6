/**
 * Worker: writes one in-memory batch as a level-0 segment file.
 *
 * @module
 */

import { BlockBuilder } from "./block_codec.ts";
import type { MemStream } from "./mem_batch.ts";
import { type SegmentInfo, SegmentWriter } from "./segment_writer.ts";
import type { SeqRanges } from "./seq_ranges.ts";
import { serveJobs } from "./worker_pool.ts";

/** A flush job: the batch's streams and where to write them. */
export interface FlushJob {
  dir: string;
  name: string;
  zstdLevel: number;
  blockBytes: number;
  streams: MemStream[];
  seqs: SeqRanges;
}

/** Writes `job` as one segment file: per stream, its lines in time order. */
export function writeBatch(job: FlushJob): SegmentInfo {
  const writer = new SegmentWriter(job.dir, job.name, { level: 0, zstdLevel: job.zstdLevel });
  try {
    const builder = new BlockBuilder();
    for (const s of job.streams) {
      const id = writer.stream(s.key);
      const order = s.ts.map((_, i) => i);
      // Stable: lines of equal time keep their arrival order.
      order.sort((a, b) => (s.ts[a] < s.ts[b] ? -1 : s.ts[a] > s.ts[b] ? 1 : a - b));
      for (const i of order) {
        builder.addString(s.ts[i], s.lines[i], s.metadata?.[i]);
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

if (import.meta.main) serveJobs(writeBatch);
