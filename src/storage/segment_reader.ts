/**
 * Reads segment files (see `segment_format.ts`): the index once, then single
 * blocks through byte ranges.
 *
 * @module
 */

import { DatabaseSync } from "node:sqlite";
import { crc32, zstdDecompressSync } from "node:zlib";
import { type Block, decodeBlock } from "./block_codec.ts";
import type { ByteSource } from "./byte_source.ts";
import { decodeFooter, FOOTER_SIZE, SegmentFormatError } from "./segment_format.ts";
import type { SeqRanges } from "./seq_ranges.ts";

/** Where one block lies and what it holds. */
export interface BlockRef {
  /** Index into {@linkcode SegmentIndex.streams}. */
  readonly stream: number;
  readonly minTs: bigint;
  readonly maxTs: bigint;
  readonly count: number;
  readonly offset: number;
  readonly length: number;
  readonly rawLength: number;
  /** Bloom filter over the block's content terms. */
  readonly filter: Uint8Array;
}

/** The decoded index of a segment file. */
export interface SegmentIndex {
  readonly level: number;
  readonly minTs: bigint;
  readonly maxTs: bigint;
  readonly rows: number;
  readonly rawBytes: number;
  readonly seqs: SeqRanges;
  /** Canonical label JSON per stream id. */
  readonly streams: readonly string[];
  /** Blocks, grouped by stream and in time order within a stream. */
  readonly blocks: readonly BlockRef[];
}

/**
 * Reads the footer and the compressed index of the segment in `source` and
 * verifies the index checksum: the cheap check of a file's soundness, without
 * decoding the index.
 *
 * @throws {SegmentFormatError} when the file is torn, foreign, of an unknown
 * version or its index fails its checksum.
 */
export async function readIndexBytes(source: ByteSource): Promise<Uint8Array> {
  if (source.size < FOOTER_SIZE) throw new SegmentFormatError(source.name, "file too short");
  const footer = decodeFooter(
    source.name,
    await source.read(source.size - FOOTER_SIZE, FOOTER_SIZE),
    source.size,
  );
  const compressed = await source.read(footer.indexOffset, footer.indexLength);
  if (crc32(compressed) !== footer.indexCrc) {
    throw new SegmentFormatError(source.name, "index checksum mismatch");
  }
  return compressed;
}

/**
 * Reads and verifies the index of the segment in `source`.
 *
 * @throws {SegmentFormatError} when the file is torn, foreign, of an unknown
 * version or its index fails its checksum or does not decode.
 */
export async function readSegmentIndex(source: ByteSource): Promise<SegmentIndex> {
  const compressed = await readIndexBytes(source);
  const db = new DatabaseSync(":memory:");
  try {
    db.deserialize(zstdDecompressSync(compressed));
    const meta = db.prepare("SELECT key, value FROM meta");
    meta.setReadBigInts(true);
    const facts = new Map(meta.all().map((r) => [r.key as string, r.value]));
    const streams: string[] = [];
    for (const r of db.prepare("SELECT id, labels FROM streams ORDER BY id").all()) {
      streams[r.id as number] = r.labels as string;
    }
    const blockRows = db.prepare(
      "SELECT stream_id, min_ts, max_ts, count, offset, length, raw_length, filter FROM blocks ORDER BY rowid",
    );
    blockRows.setReadBigInts(true);
    const blocks: BlockRef[] = blockRows.all().map((r) => ({
      stream: Number(r.stream_id),
      minTs: r.min_ts as bigint,
      maxTs: r.max_ts as bigint,
      count: Number(r.count),
      offset: Number(r.offset),
      length: Number(r.length),
      rawLength: Number(r.raw_length),
      filter: r.filter as Uint8Array,
    }));
    return {
      level: Number(facts.get("level")),
      minTs: facts.get("min_ts") as bigint,
      maxTs: facts.get("max_ts") as bigint,
      rows: Number(facts.get("rows")),
      rawBytes: Number(facts.get("raw_bytes")),
      seqs: JSON.parse(facts.get("seqs") as string),
      streams,
      blocks,
    };
  } catch (error) {
    if (error instanceof SegmentFormatError) throw error;
    throw new SegmentFormatError(source.name, `corrupt index (${(error as Error).message})`);
  } finally {
    db.close();
  }
}

/**
 * Reads, decompresses and decodes one block.
 *
 * @throws {SegmentFormatError} when the frame fails its checksum or the block
 * does not decode to the line count the index gives.
 */
export async function readBlock(source: ByteSource, ref: BlockRef): Promise<Block> {
  try {
    // A short read (the file shrank) is damage like a bad checksum.
    const buf = zstdDecompressSync(await source.read(ref.offset, ref.length));
    // A plain view: typed-array methods are native, Buffer's are not here.
    const block = decodeBlock(new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength));
    if (block.ts.length !== ref.count) {
      throw new Error(`${block.ts.length} lines where the index says ${ref.count}`);
    }
    return block;
  } catch (error) {
    throw new SegmentFormatError(
      source.name,
      `block at ${ref.offset} is corrupt (${(error as Error).message})`,
    );
  }
}
