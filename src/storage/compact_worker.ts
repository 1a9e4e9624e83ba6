/**
 * Worker: merges segment files into one larger, time-local segment. Each
 * stream's blocks from all sources are read in order of their first timestamp
 * and merged by a sweep, so memory holds only the lines of blocks that overlap
 * in time, never a whole stream.
 *
 * @module
 */

import { join } from "node:path";
import { BlockBuilder } from "./block_codec.ts";
import { type ByteSource, openFileSource } from "./byte_source.ts";
import { type BlockRef, readBlock, readSegmentIndex } from "./segment_reader.ts";
import { type SegmentInfo, SegmentWriter } from "./segment_writer.ts";
import { mergeRanges } from "./seq_ranges.ts";
import { serveJobs } from "./worker_pool.ts";

/** A compaction job: the source files and the segment to write. */
export interface CompactJob {
  dir: string;
  sources: string[];
  name: string;
  zstdLevel: number;
  blockBytes: number;
}

interface Line {
  ts: bigint;
  line: Uint8Array;
  metadata?: Uint8Array;
}

function mergeSorted(a: Line[], b: Line[]): Line[] {
  const out: Line[] = new Array(a.length + b.length);
  let i = 0, j = 0, k = 0;
  while (i < a.length && j < b.length) out[k++] = b[j].ts < a[i].ts ? b[j++] : a[i++];
  while (i < a.length) out[k++] = a[i++];
  while (j < b.length) out[k++] = b[j++];
  return out;
}

/** Merges the sources of `job` into one segment and returns its catalog facts. */
export async function compact(job: CompactJob): Promise<SegmentInfo> {
  const sources: ByteSource[] = [];
  const writer = new SegmentWriter(job.dir, job.name, { level: 1, zstdLevel: job.zstdLevel });
  try {
    const byStream = new Map<string, { source: ByteSource; ref: BlockRef }[]>();
    const seqs: [number, number][] = [];
    for (const name of job.sources) {
      const source = await openFileSource(join(job.dir, name));
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
      const id = writer.stream(key);
      let pending: Line[] = [];
      for (let r = 0; r < refs.length; r++) {
        const block = await readBlock(refs[r].source, refs[r].ref);
        const lines: Line[] = new Array(block.ts.length);
        let metaStart = 0;
        for (let i = 0; i < block.ts.length; i++) {
          lines[i] = {
            ts: block.ts[i],
            line: block.lines.subarray(block.starts[i], block.ends[i]),
          };
          if (block.metadataEnds) {
            const metaEnd = block.metadataEnds[i];
            if (metaEnd > metaStart) {
              lines[i].metadata = block.metadata!.subarray(metaStart, metaEnd);
            }
            metaStart = metaEnd;
          }
        }
        pending = mergeSorted(pending, lines);
        // Every later block starts at or after `bound`: lines before it are final.
        const bound = r + 1 < refs.length ? refs[r + 1].ref.minTs : undefined;
        let emitted = 0;
        for (; emitted < pending.length; emitted++) {
          const l = pending[emitted];
          if (bound !== undefined && l.ts >= bound) break;
          builder.add(l.ts, l.line, l.metadata);
          if (builder.size >= job.blockBytes) writer.writeBlock(id, builder);
        }
        pending = pending.slice(emitted);
      }
      if (builder.count > 0) writer.writeBlock(id, builder);
    }
    return writer.finish(mergeRanges(seqs));
  } catch (error) {
    writer.abort();
    throw error;
  } finally {
    for (const s of sources) await s.close();
  }
}

if (import.meta.main) serveJobs(compact);
