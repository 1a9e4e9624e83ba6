/**
 * Worker: writes the lines of one flush (one or more in-memory batches, merged)
 * as a level-0 segment file.
 *
 * It receives the lines as {@linkcode EncodedBatch} columns (the ingest side
 * makes them from its head), so its heap never holds them as strings.
 *
 * @module
 */

import { BlockBuilder } from "./block_codec.ts";
import type { SegmentInfo } from "./segment_format.ts";
import { SegmentWriter } from "./segment_writer.ts";
import type { SeqRanges } from "./seq_ranges.ts";
import { serveJobs } from "./worker_pool.ts";

/**
 * Lines of several batches as transferable columns (times, UTF-8 bytes, end
 * offsets, per-stream counts), stream after stream: what a flush worker gets,
 * so its heap never holds the lines as strings and a job moves as a handful
 * of buffers and one string.
 */
export interface EncodedBatch {
  /** Canonical label JSON of each stream, joined by "\n" (which label JSON never holds). */
  readonly keys: string;
  /** Lines per stream, in column order. */
  readonly counts: Uint32Array;
  /** Metadata JSON per line, by stream index, for the streams that have some. */
  readonly metadata: Record<number, (string | undefined)[]>;
  readonly ts: BigInt64Array;
  /**
   * UTF-8 of every line, each but the last followed by a "\n" that belongs to
   * no line: line `i` is `lines[i === 0 ? 0 : ends[i - 1] + 1, ends[i])`.
   */
  readonly lines: Uint8Array;
  readonly ends: Uint32Array;
}

/** Where line `i` of an {@linkcode EncodedBatch} starts. */
export function lineStart(ends: Uint32Array, i: number): number {
  return i === 0 ? 0 : ends[i - 1] + 1;
}

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
        return p.metadata?.[g - p.first];
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

if (import.meta.main) serveJobs(writeBatch);
