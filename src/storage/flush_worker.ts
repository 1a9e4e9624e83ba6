/**
 * Worker: writes one in-memory batch as a level-0 segment file.
 *
 * @module
 */

import { BlockBuilder } from "./block_codec.ts";
import { type EncodedBatch, lineStart } from "./mem_batch.ts";
import type { SegmentInfo } from "./segment_format.ts";
import { SegmentWriter } from "./segment_writer.ts";
import type { SeqRanges } from "./seq_ranges.ts";
import { serveJobs } from "./worker_pool.ts";

/** A flush job: the batch's streams and where to write them. */
export interface FlushJob {
  dir: string;
  name: string;
  zstdLevel: number;
  blockBytes: number;
  batch: EncodedBatch;
  seqs: SeqRanges;
}

/**
 * Writes `job` as one segment file: per stream, its lines in time order.
 * A stream may appear more than once in the batch (several batches merged).
 */
export function writeBatch(job: FlushJob): SegmentInfo {
  const writer = new SegmentWriter(job.dir, job.name, { level: 0, zstdLevel: job.zstdLevel });
  try {
    const { ts, lines, ends, counts, metadata } = job.batch;
    // Each stream's parts: where its lines start in the columns, and its metadata.
    const byKey = new Map<
      string,
      { first: number; count: number; metadata?: (string | undefined)[] }[]
    >();
    let first = 0;
    for (const [k, key] of job.batch.keys.split("\n").entries()) {
      const part = { first, count: counts[k], metadata: metadata[k] };
      const parts = byKey.get(key);
      if (parts) parts.push(part);
      else byKey.set(key, [part]);
      first += counts[k];
    }
    // No content filters: level-0 files are small and soon compacted.
    const builder = new BlockBuilder({ collectTerms: false });
    for (const [key, parts] of byKey) {
      const id = writer.stream(key);
      // Column positions of the stream's lines, in time order; equal times keep arrival order.
      const order: number[] = [];
      let sorted = true;
      for (const p of parts) {
        for (let g = p.first; g < p.first + p.count; g++) {
          if (order.length > 0 && ts[g] < ts[order[order.length - 1]]) sorted = false;
          order.push(g);
        }
      }
      if (!sorted) order.sort((a, b) => (ts[a] < ts[b] ? -1 : ts[a] > ts[b] ? 1 : a - b));
      const metadataOf = (g: number) => {
        const p = parts.find((p) => g >= p.first && g < p.first + p.count)!;
        const meta = p.metadata?.[g - p.first];
        return meta === undefined ? undefined : encoder.encode(meta);
      };
      const anyMetadata = parts.some((p) => p.metadata);
      for (const g of order) {
        builder.addSlice(
          ts[g],
          lines,
          lineStart(ends, g),
          ends[g],
          anyMetadata ? metadataOf(g) : undefined,
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
