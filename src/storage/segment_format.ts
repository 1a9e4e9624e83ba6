/**
 * The segment file: the one on-disk format of loge, shared by flush files
 * (level 0) and compacted segments (level 1).
 *
 * ```
 * "LOGE" u32 version                      header, 8 bytes
 * zstd frame × blocks                     one independent frame per block
 * zstd(SQLite database)                   the index: meta, streams, blocks
 * u64 index offset, u32 index length,     footer, 24 bytes
 * u32 CRC-32 of the index bytes, u32 version, "LOGE"
 * ```
 *
 * A reader fetches the footer, then the index, then exactly the block frames a
 * query needs, each through one byte range (`pread` locally, a range GET from
 * object storage), never decompressing the whole file.
 *
 * Each block's frame is compressed with a window and tables sized to the block
 * and a level capped for small blocks (`segment_writer.ts`); readers need
 * none of that. A level-1 segment is the output of one bounded unit of
 * compaction (`compactor.ts`, incremental since a kill used to lose a whole
 * pass): its `seqs` are the union of its sources', and it replaces them in one
 * catalog transaction, so a kill between units leaves every WAL sequence in
 * exactly one cataloged file, and a kill within one loses only that unit.
 *
 * Segments outlive builds (in object storage, for months): any change to the
 * layout bumps the version, and readers keep reading every older version.
 * `testdata/segments/v<N>/` holds a file of each version, as its build wrote
 * it, which `segment_compat_test.ts` reads.
 *
 * @module
 */

import type { SeqRanges } from "./seq_ranges.ts";

/**
 * The format version this build writes. Version 2 stores timestamp deltas as
 * Rice codes (`block_codec.ts`); version 3 may code a block's lines, its long
 * hex ids and UUIDs apart as bytes (`line_coding.ts`); version 4 codes times
 * in lines as well, against the lines' timestamps.
 */
export const SEGMENT_VERSION = 4;
/** The format versions this build reads: every one before, too. */
export const READABLE_VERSIONS: readonly number[] = [1, 2, 3, 4];
/** File name suffix of segment files. */
export const SEGMENT_SUFFIX = ".loge";
/** Size of the fixed header. */
export const HEADER_SIZE = 8;
/** Size of the fixed footer. */
export const FOOTER_SIZE = 24;
const MAGIC = 0x45474f4c; // "LOGE" little-endian

/** The index SQLite schema: one row per stream and per block. */
export const INDEX_SCHEMA = `
  CREATE TABLE meta (key TEXT PRIMARY KEY, value ANY) STRICT, WITHOUT ROWID;
  CREATE TABLE streams (id INTEGER PRIMARY KEY, labels TEXT NOT NULL) STRICT;
  CREATE TABLE blocks (
    stream_id INTEGER NOT NULL, min_ts INTEGER NOT NULL, max_ts INTEGER NOT NULL,
    count INTEGER NOT NULL, offset INTEGER NOT NULL, length INTEGER NOT NULL,
    raw_length INTEGER NOT NULL, filter BLOB NOT NULL
  ) STRICT;
`;

const FORMAT_ERROR_PREFIX = "cannot read segment ";

/** A file that is not a segment, is damaged, or is of a version this build cannot read. */
export class SegmentFormatError extends Error {
  /** The file's name. */
  readonly file: string;
  /** What is wrong with it. */
  readonly reason: string;

  /** Creates the error for the file `name`. */
  constructor(name: string, reason: string) {
    super(`${FORMAT_ERROR_PREFIX}${name}: ${reason}`);
    this.name = "SegmentFormatError";
    this.file = name;
    this.reason = reason;
  }
}

/**
 * The file and reason of a {@linkcode SegmentFormatError} from its message,
 * for errors that crossed a worker boundary as text only; `undefined` for
 * other messages.
 *
 * @example
 * ```ts
 * import { parseSegmentFormatError, SegmentFormatError } from "./segment_format.ts";
 * import assert from "node:assert/strict";
 * const { message } = new SegmentFormatError("/d/l0-a-00000001.loge", "index checksum mismatch");
 * assert.equal(parseSegmentFormatError(message)?.file, "/d/l0-a-00000001.loge");
 * assert.equal(parseSegmentFormatError("permission denied"), undefined);
 * ```
 */
export function parseSegmentFormatError(
  message: string,
): { file: string; reason: string } | undefined {
  if (!message.startsWith(FORMAT_ERROR_PREFIX)) return undefined;
  const end = message.indexOf(": ", FORMAT_ERROR_PREFIX.length);
  if (end < 0) return undefined;
  return { file: message.slice(FORMAT_ERROR_PREFIX.length, end), reason: message.slice(end + 2) };
}

/** Encodes the header. */
export function encodeHeader(): Uint8Array {
  const out = new Uint8Array(HEADER_SIZE);
  const view = new DataView(out.buffer);
  view.setUint32(0, MAGIC, true);
  view.setUint32(4, SEGMENT_VERSION, true);
  return out;
}

/** Where the index lies, as the footer tells. */
export interface Footer {
  indexOffset: number;
  indexLength: number;
  indexCrc: number;
}

/** Encodes the footer. */
export function encodeFooter(footer: Footer): Uint8Array {
  const out = new Uint8Array(FOOTER_SIZE);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(footer.indexOffset), true);
  view.setUint32(8, footer.indexLength, true);
  view.setUint32(12, footer.indexCrc, true);
  view.setUint32(16, SEGMENT_VERSION, true);
  view.setUint32(20, MAGIC, true);
  return out;
}

/**
 * Decodes the footer of the file `name` of `size` bytes.
 *
 * @throws {SegmentFormatError} on a foreign file, an unknown version or bounds
 * outside the file.
 */
export function decodeFooter(name: string, bytes: Uint8Array, size: number): Footer {
  if (bytes.length !== FOOTER_SIZE) throw new SegmentFormatError(name, "file too short");
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint32(20, true) !== MAGIC) {
    throw new SegmentFormatError(name, "no segment footer (torn or foreign file)");
  }
  const version = view.getUint32(16, true);
  if (!READABLE_VERSIONS.includes(version)) {
    throw new SegmentFormatError(
      name,
      `format version ${version} is not supported (this build reads versions ${
        READABLE_VERSIONS.join(", ")
      })`,
    );
  }
  const footer = {
    indexOffset: Number(view.getBigUint64(0, true)),
    indexLength: view.getUint32(8, true),
    indexCrc: view.getUint32(12, true),
  };
  if (
    footer.indexOffset < HEADER_SIZE ||
    footer.indexOffset + footer.indexLength + FOOTER_SIZE !== size
  ) {
    throw new SegmentFormatError(name, "index bounds do not match the file size");
  }
  return footer;
}

/** What the catalog records of a segment file. */
export interface SegmentInfo {
  /** File name inside the data folder. */
  name: string;
  /** 0 for a flush file, 1 for a compacted segment. */
  level: number;
  minTs: bigint;
  maxTs: bigint;
  rows: number;
  /** File size in bytes. */
  bytes: number;
  /** Uncompressed size of the blocks. */
  rawBytes: number;
  /**
   * The zstd level its blocks were compressed at (small blocks at less, see
   * `blockZstdLevel`); unknown for files written before it was recorded.
   */
  zstdLevel?: number;
  /** Canonical label JSON of each stream in the file. */
  streams: string[];
  /**
   * Filter over the content terms of every line in the file (a binary fuse
   * filter, or a Bloom filter: `fileFilter` in `content_filter.ts`), for the
   * catalog only (empty when unknown: then it passes every term).
   */
  filter: Uint8Array;
  /**
   * Whether {@linkcode SegmentInfo.filter} holds the terms of the lines'
   * structured metadata too, so that values implied by label filters after
   * a parser may prune the file (absent: not known to).
   */
  filterCoversMetadata?: boolean;
  /** WAL sequences whose lines the file holds. */
  seqs: SeqRanges;
}

/** zstd levels by the `--flush-compression` names. */
export const COMPRESSION_LEVELS = { fastest: 1, default: 3, better: 7, best: 11 } as const;
