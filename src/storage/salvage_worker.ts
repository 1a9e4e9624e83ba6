/**
 * Worker: verifies every block of a segment file reported damaged and
 * rewrites the blocks that still decode into a new segment of the same level.
 *
 * The salvage segment records the damaged file's WAL sequences, all of them:
 * the catalog's covered sequences tell the WAL which records are stored, and
 * a salvage recording fewer would have its own lines replayed a second time
 * at the next start. Lines of the lost blocks are lost with them.
 *
 * @module
 */

import { type Block, BlockBuilder } from "./block_codec.ts";
import { SegmentFormatError } from "./segment_format.ts";
import { readBlock, readSegmentIndex, type SegmentIndex } from "./segment_reader.ts";
import type { SegmentInfo } from "./segment_format.ts";
import { SegmentWriter } from "./segment_writer.ts";
import { openLocalSource } from "./source/opener.ts";
import { serveJobs } from "./worker_pool.ts";

/** A salvage job: the damaged file and the name of its salvage segment. */
export interface SalvageJob {
  dir: string;
  name: string;
  salvageName: string;
  zstdLevel: number;
}

/** What verification found. */
export interface SalvageResult {
  /** The first damage found; absent when the whole file reads back intact. */
  damage?: string;
  /** The salvage segment, when any block was intact (absent when the file is intact). */
  info?: SegmentInfo;
  /** Blocks that failed; absent when the index is unreadable (nothing is known of them). */
  lostBlocks?: number;
  /** Lines of the blocks that failed; absent when the index is unreadable. */
  lostLines?: number;
}

/** Verifies `job.name` block by block and writes its intact blocks into `job.salvageName`. */
export async function salvage(job: SalvageJob): Promise<SalvageResult> {
  const source = await openLocalSource(job.dir, job.name);
  try {
    let index: SegmentIndex;
    try {
      index = await readSegmentIndex(source);
    } catch (error) {
      if (!(error instanceof SegmentFormatError)) throw error;
      return { damage: error.reason };
    }
    const writer = new SegmentWriter(job.dir, job.salvageName, {
      level: index.level,
      zstdLevel: job.zstdLevel,
    });
    try {
      let damage: string | undefined;
      let lostBlocks = 0;
      let lostLines = 0;
      const builder = new BlockBuilder({ codeLines: true });
      for (const ref of index.blocks) {
        let block: Block;
        try {
          block = await readBlock(source, ref);
        } catch (error) {
          if (!(error instanceof SegmentFormatError)) throw error;
          damage ??= error.reason;
          lostBlocks++;
          lostLines += ref.count;
          continue;
        }
        // One block out per intact block in: the salvage holds exactly their lines.
        for (let i = 0; i < block.ts.length; i++) builder.addFrom(block, i);
        writer.writeBlock(writer.stream(index.streams[ref.stream]), builder);
      }
      if (damage === undefined || lostBlocks === index.blocks.length) {
        writer.abort();
        return damage === undefined ? {} : { damage, lostBlocks, lostLines };
      }
      return { damage, info: writer.finish(index.seqs), lostBlocks, lostLines };
    } catch (error) {
      writer.abort();
      throw error;
    }
  } finally {
    await source.close();
  }
}

if (import.meta.main) serveJobs(salvage);
