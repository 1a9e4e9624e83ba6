/**
 * Reads segment files (see `segment_format.ts`): the index once, in one read
 * of the file's tail in nearly every case, then blocks through byte ranges,
 * adjacent ones in one read (each {@linkcode ByteSource.read} is a round trip:
 * a remote source pays a request for it).
 *
 * @module
 */

import { DatabaseSync } from "node:sqlite";
import { crc32, zstdDecompressSync } from "node:zlib";
import { type Block, type BlockTimes, decodeBlock } from "./block_codec.ts";
import { type ByteSource, SourceUnavailableError } from "./source/byte_source.ts";
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
  /** The zstd level of its blocks; unknown for files written before it was recorded. */
  readonly zstdLevel?: number;
  readonly seqs: SeqRanges;
  /**
   * Whether the block filters hold the terms of metadata as well as of lines
   * (files written before that hold line terms only).
   */
  readonly filtersCoverMetadata: boolean;
  /** Canonical label JSON per stream id. */
  readonly streams: readonly string[];
  /** Blocks, grouped by stream and in time order within a stream. */
  readonly blocks: readonly BlockRef[];
}

/**
 * Bytes read from the end of a segment to get its footer: the compressed
 * index sits right before the footer and, at this size, in the same read for
 * nearly every segment (a segment of thousands of blocks has a bigger one).
 */
export const INDEX_TAIL_BYTES = 64 * 1024;

/**
 * Reads the footer and the compressed index of the segment in `source` and
 * verifies the index checksum: the cheap check of a file's soundness, without
 * decoding the index. One read of the last `tailBytes` of the file holds the
 * footer and, in nearly every case, the index; a second read fetches the part
 * of a bigger index that the first missed.
 *
 * @throws {SegmentFormatError} when the file is torn, foreign, of an unknown
 * version or its index fails its checksum.
 */
export async function readIndexBytes(
  source: ByteSource,
  tailBytes: number = source.tailHint ?? INDEX_TAIL_BYTES,
): Promise<Uint8Array> {
  if (source.size < FOOTER_SIZE) throw new SegmentFormatError(source.name, "file too short");
  const tailStart = source.size - Math.min(source.size, Math.max(tailBytes, FOOTER_SIZE));
  const tail = await source.read(tailStart, source.size - tailStart);
  const footer = decodeFooter(source.name, tail.subarray(tail.length - FOOTER_SIZE), source.size);
  let compressed: Uint8Array;
  if (footer.indexOffset >= tailStart) {
    const at = footer.indexOffset - tailStart;
    compressed = tail.subarray(at, at + footer.indexLength);
  } else {
    // The index starts before the tail: read only what the tail missed.
    const missed = tailStart - footer.indexOffset;
    compressed = new Uint8Array(footer.indexLength);
    compressed.set(await source.read(footer.indexOffset, missed));
    compressed.set(tail.subarray(0, footer.indexLength - missed), missed);
  }
  if (crc32(compressed) !== footer.indexCrc) {
    throw new SegmentFormatError(source.name, "index checksum mismatch");
  }
  return compressed;
}

/**
 * Reads and verifies the index of the segment in `source`: one read for
 * nearly every segment (see {@linkcode readIndexBytes}).
 *
 * @throws {SegmentFormatError} when the file is torn, foreign, of an unknown
 * version or its index fails its checksum or does not decode.
 */
export async function readSegmentIndex(
  source: ByteSource,
  tailBytes: number = source.tailHint ?? INDEX_TAIL_BYTES,
): Promise<SegmentIndex> {
  const compressed = await readIndexBytes(source, tailBytes);
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
      ...(facts.has("zstd_level") ? { zstdLevel: Number(facts.get("zstd_level")) } : {}),
      seqs: JSON.parse(facts.get("seqs") as string),
      filtersCoverMetadata: Number(facts.get("filters_cover_metadata")) === 1,
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

/** What a read makes of a block's raw bytes: the whole block, or its times alone (`decodeTimes`). */
export type BlockDecoder<T extends BlockTimes> = (raw: Uint8Array) => T;

/**
 * Reads, decompresses and decodes one block (with `decode`, only what it decodes).
 *
 * @throws {SegmentFormatError} when the frame fails its checksum or the block
 * does not decode to the line count the index gives.
 */
export function readBlock(source: ByteSource, ref: BlockRef): Promise<Block>;
export function readBlock<T extends BlockTimes>(
  source: ByteSource,
  ref: BlockRef,
  decode: BlockDecoder<T>,
): Promise<T>;
export async function readBlock(
  source: ByteSource,
  ref: BlockRef,
  decode: BlockDecoder<BlockTimes> = decodeBlock,
): Promise<BlockTimes> {
  return decodeFrame(source, ref, await readFrame(source, ref), decode);
}

/** The compressed frame of the block at `ref`. */
async function readFrame(source: ByteSource, ref: BlockRef): Promise<Uint8Array> {
  try {
    return await source.read(ref.offset, ref.length);
  } catch (error) {
    if (error instanceof SourceUnavailableError) throw error;
    // A short read (the file shrank) is damage like a bad checksum.
    throw blockError(source, ref, error);
  }
}

/** Blocks further apart than this are read apart (the gap would be read for nothing). */
export const COALESCE_GAP_BYTES = 4 * 1024;
/** The most bytes one coalesced read spans (a single bigger block is read alone). */
export const COALESCE_MAX_BYTES = 1024 * 1024;

/**
 * Reads the blocks `refs` of `source`: blocks whose byte ranges are adjacent,
 * or apart by at most {@linkcode COALESCE_GAP_BYTES}, are read together, one
 * {@linkcode ByteSource.read} per run of at most {@linkcode COALESCE_MAX_BYTES},
 * and each is decoded from its slice. Runs are read concurrently.
 *
 * Returns one result per ref, in the order of `refs`: the block, or the
 * {@linkcode SegmentFormatError} that {@linkcode readBlock} would throw for it
 * (a damaged block spoils only itself; a run whose read fails is read again
 * block by block, so a short read spoils only the blocks it did not reach).
 *
 * @throws {SourceUnavailableError} when the source cannot be read at all now.
 */
export function readBlocks(
  source: ByteSource,
  refs: readonly BlockRef[],
): Promise<(Block | SegmentFormatError)[]>;
export function readBlocks<T extends BlockTimes>(
  source: ByteSource,
  refs: readonly BlockRef[],
  decode: BlockDecoder<T>,
): Promise<(T | SegmentFormatError)[]>;
export async function readBlocks(
  source: ByteSource,
  refs: readonly BlockRef[],
  decode: BlockDecoder<BlockTimes> = decodeBlock,
): Promise<(BlockTimes | SegmentFormatError)[]> {
  const out = new Array<BlockTimes | SegmentFormatError>(refs.length);
  const settle = async (i: number, read: () => BlockTimes | Promise<BlockTimes>) => {
    try {
      out[i] = await read();
    } catch (error) {
      if (!(error instanceof SegmentFormatError)) throw error;
      out[i] = error;
    }
  };
  const runs: { start: number; end: number; members: number[] }[] = [];
  const order = refs.map((_, i) => i).sort((a, b) => refs[a].offset - refs[b].offset);
  let run: { start: number; end: number; members: number[] } | undefined;
  for (const i of order) {
    const { offset, length } = refs[i];
    const end = offset + length;
    if (
      run && offset - run.end <= COALESCE_GAP_BYTES &&
      Math.max(run.end, end) - run.start <= COALESCE_MAX_BYTES
    ) {
      run.end = Math.max(run.end, end);
      run.members.push(i);
    } else {
      runs.push(run = { start: offset, end, members: [i] });
    }
  }
  await Promise.all(runs.map(async ({ start, end, members }) => {
    if (members.length === 1) {
      return settle(members[0], () => readBlock(source, refs[members[0]], decode));
    }
    let bytes: Uint8Array;
    try {
      bytes = await source.read(start, end - start);
    } catch (error) {
      // Unreachable is not damage: block by block would only ask again.
      if (error instanceof SourceUnavailableError) throw error;
      await Promise.all(members.map((i) => settle(i, () => readBlock(source, refs[i], decode))));
      return;
    }
    for (const i of members) {
      const ref = refs[i];
      const at = ref.offset - start;
      await settle(i, () => decodeFrame(source, ref, bytes.subarray(at, at + ref.length), decode));
    }
  }));
  return out;
}

/**
 * The block at `ref` as its builder encoded it, decompressed but not decoded:
 * what a segment's rewrite compresses again.
 *
 * @throws {SegmentFormatError} when the frame is damaged or not as long as
 * the index says.
 */
export async function readRawBlock(source: ByteSource, ref: BlockRef): Promise<Uint8Array> {
  const frame = await readFrame(source, ref);
  try {
    const raw = decompress(frame, ref.rawLength);
    if (raw.length !== ref.rawLength) {
      throw new Error(`${raw.length} bytes where the index says ${ref.rawLength}`);
    }
    return raw;
  } catch (error) {
    throw blockError(source, ref, error);
  }
}

/**
 * A block's frame decompressed, as a plain view: typed-array methods are
 * native, Buffer's are not here. The index says how long the block is: its
 * room is taken at once (in 16 KiB chunks joined at the end, a 128 KiB block
 * took 17% longer) and a frame that would give more is refused before its
 * bytes are made.
 */
function decompress(frame: Uint8Array, rawLength: number): Uint8Array {
  const buf = zstdDecompressSync(frame, {
    // zlib's least chunk is 64 bytes; a chunk with room to spare ends in one call.
    chunkSize: Math.min(rawLength, MAX_CHUNK_BYTES) + 64,
    maxOutputLength: Math.max(rawLength, 1),
  });
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}

/** The largest output chunk taken at once: a damaged index must not make a frame take more. */
const MAX_CHUNK_BYTES = 16 * 1024 * 1024;

/** Decompresses and decodes the frame of the block at `ref` with `decode`. */
function decodeFrame<T extends BlockTimes>(
  source: ByteSource,
  ref: BlockRef,
  frame: Uint8Array,
  decode: BlockDecoder<T>,
): T {
  try {
    const block = decode(decompress(frame, ref.rawLength));
    if (block.ts.length !== ref.count) {
      throw new Error(`${block.ts.length} lines where the index says ${ref.count}`);
    }
    return block;
  } catch (error) {
    throw blockError(source, ref, error);
  }
}

function blockError(source: ByteSource, ref: BlockRef, error: unknown): SegmentFormatError {
  return new SegmentFormatError(
    source.name,
    `block at ${ref.offset} is corrupt (${(error as Error).message})`,
  );
}
