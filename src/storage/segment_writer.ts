/**
 * Writes a segment file (see `segment_format.ts`) atomically: to a temporary
 * name, fsynced, renamed, and the directory fsynced, so a file under its final
 * name is always whole. Runs inside workers, so it uses synchronous I/O.
 *
 * @module
 */

import { DatabaseSync } from "node:sqlite";
import { constants, crc32, zstdCompressSync } from "node:zlib";
import { join } from "node:path";
import type { BlockBuilder } from "./block_codec.ts";
import { ByteWriter } from "./byte_buffer.ts";
import { bloomFilter, fileFilter } from "./content_filter.ts";
import {
  encodeFooter,
  encodeHeader,
  INDEX_SCHEMA,
  SEGMENT_VERSION,
  type SegmentInfo,
} from "./segment_format.ts";
import type { SeqRanges } from "./seq_ranges.ts";
import { syncDir } from "./durable_file.ts";

/**
 * The zstd level of one frame of `rawLength` bytes when the file's level is
 * `level`: small frames are capped at a lower level, which compresses them as
 * well for less. Measured on blocks of the benchmark corpus: a 1.2 KiB block
 * compresses 1.81× at level 6 and 1.80× at 19 (0.09 vs 0.13 ms); a 4.3 KiB
 * block 2.88× at 12 and 2.87× at 19 (0.06 vs 0.70 ms). Larger blocks do gain
 * from 19: 3.94× vs 3.85× at 6 for 16 KiB, 5.18× vs 4.69× for 128 KiB.
 *
 * @example
 * ```ts
 * import { blockZstdLevel } from "./segment_writer.ts";
 * import assert from "node:assert/strict";
 * assert.equal(blockZstdLevel(200, 19), 6);
 * assert.equal(blockZstdLevel(128 * 1024, 19), 19);
 * ```
 */
export function blockZstdLevel(rawLength: number, level: number): number {
  if (rawLength < 1024) return Math.min(level, 6);
  if (rawLength < 4096) return Math.min(level, 12);
  return level;
}

/**
 * zstd window and table sizes for one frame of `length` bytes at `level`.
 *
 * zstd's defaults are sized for large inputs (level 19: an 8 MiB window,
 * 2^22 hash and 2^24 chain entries; level 9: 2^22 and 2^21), and clearing
 * those tables costs ~47 ms per frame at level 19: for a 200-byte block, 1,000
 * times the compression itself. Sized to the frame (a window 4× the input, at
 * most 256 KiB, and from level 5 2^(windowLog+1) hash and chain entries, where
 * zstd's levels 5–9 take 2^18–2^21), a 200-byte block takes ~0.04 ms, with the same output
 * within 0.01% over the benchmark corpus at every level; a window to scale
 * also makes 75-byte blocks 11% smaller at levels 6–9. A block of 256 KiB
 * needs no window past itself: at level 17 a window of 1 MiB and tables of
 * 2^21 entries gave the same bytes as 256 KiB and 2^19, and took 23 MB more
 * of each compaction worker's memory (level 9, with zstd's tables: 11 MB more,
 * for 0.06% fewer bytes). (zstd's pledged source size, which node:zlib
 * accepts, also shrinks the tables, but to a window just over the input,
 * which costs ~1% on blocks of 16–64 KiB.) Inputs over 256 KiB keep zstd's
 * defaults.
 *
 * @example
 * ```ts
 * import { frameParams } from "./segment_writer.ts";
 * import { constants } from "node:zlib";
 * import assert from "node:assert/strict";
 * assert.deepEqual(frameParams(256 * 1024, 3), { [constants.ZSTD_c_windowLog]: 18 });
 * ```
 */
export function frameParams(length: number, level: number): Record<number, number> {
  if (length > 256 * 1024) return {};
  const windowLog = Math.min(18, Math.max(10, Math.ceil(Math.log2(Math.max(length, 1))) + 2));
  const params: Record<number, number> = { [constants.ZSTD_c_windowLog]: windowLog };
  // From level 5 the defaults' tables hold 2^18 entries or more; levels 1–4 have small ones.
  if (level >= 5) {
    params[constants.ZSTD_c_hashLog] = windowLog + 1;
    params[constants.ZSTD_c_chainLog] = windowLog + 1;
  }
  return params;
}

const WRITE_BUFFER = 1024 * 1024;

/**
 * Streams blocks into a new segment file.
 *
 * @example
 * ```ts
 * import { BlockBuilder } from "./block_codec.ts";
 * import { SegmentWriter } from "./segment_writer.ts";
 * import assert from "node:assert/strict";
 * const dir = await Deno.makeTempDir();
 * const w = new SegmentWriter(dir, "l0-1.loge", { level: 0, zstdLevel: 3 });
 * const b = new BlockBuilder();
 * b.addString(1n, "hello");
 * b.addString(2n, "world");
 * w.writeBlock(w.stream('{"app":"web"}'), b);
 * const info = w.finish([[1, 1]]);
 * assert.equal(info.rows, 2);
 * assert.deepEqual(info.streams, ['{"app":"web"}']);
 * assert.equal((await Deno.stat(`${dir}/l0-1.loge`)).size, info.bytes);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export class SegmentWriter {
  readonly #dir: string;
  readonly #name: string;
  readonly #level: number;
  readonly #zstdLevel: number;
  readonly #file: Deno.FsFile;
  #offset = 0;
  #streams = new Map<string, number>();
  #blocks: {
    stream: number;
    minTs: bigint;
    maxTs: bigint;
    count: number;
    offset: number;
    length: number;
    rawLength: number;
    filter: Uint8Array;
  }[] = [];
  #terms = new Uint32Array(1024);
  readonly #pending = new ByteWriter(WRITE_BUFFER + 64 * 1024);
  #termCount = 0;

  /** Starts writing `dir/name` (under a temporary name until {@linkcode finish}). */
  constructor(dir: string, name: string, options: { level: number; zstdLevel: number }) {
    this.#dir = dir;
    this.#name = name;
    this.#level = options.level;
    this.#zstdLevel = options.zstdLevel;
    this.#file = Deno.openSync(this.#tempPath, { write: true, create: true, truncate: true });
    this.#write(encodeHeader());
  }

  get #tempPath(): string {
    return join(this.#dir, `${this.#name}.tmp`);
  }

  /** Appends to the file through a buffer: one write per megabyte, not per block. */
  #write(bytes: Uint8Array): void {
    this.#pending.bytes(bytes);
    this.#offset += bytes.length;
    if (this.#pending.length >= WRITE_BUFFER) this.#drain();
  }

  #drain(): void {
    const bytes = this.#pending.bytes();
    let done = 0;
    while (done < bytes.length) done += this.#file.writeSync(bytes.subarray(done));
    this.#pending.clear();
  }

  #compress(raw: Uint8Array): Uint8Array {
    const level = blockZstdLevel(raw.length, this.#zstdLevel);
    return zstdCompressSync(raw, {
      params: {
        [constants.ZSTD_c_compressionLevel]: level,
        [constants.ZSTD_c_checksumFlag]: 1,
        ...frameParams(raw.length, level),
      },
    });
  }

  /** The id of the stream with canonical label JSON `labels`, added on first use. */
  stream(labels: string): number {
    let id = this.#streams.get(labels);
    if (id === undefined) this.#streams.set(labels, id = this.#streams.size);
    return id;
  }

  /** Compresses the lines in `builder` as one block of `stream` and appends it. */
  writeBlock(stream: number, builder: BlockBuilder): void {
    const { raw, minTs, maxTs, count, terms } = builder.finish();
    // Flush files carry no filters (an empty filter passes every term).
    const filter = this.#level === 0 ? new Uint8Array() : bloomFilter(terms);
    this.writeRawBlock(stream, raw, { minTs, maxTs, count, filter });
    if (this.#termCount + terms.length > this.#terms.length) {
      const grown = new Uint32Array(
        Math.max(this.#terms.length * 2, this.#termCount + terms.length),
      );
      grown.set(this.#terms.subarray(0, this.#termCount));
      this.#terms = grown;
    }
    this.#terms.set(terms, this.#termCount);
    this.#termCount += terms.length;
  }

  /**
   * Compresses a block already encoded (`raw`, as {@linkcode BlockBuilder}
   * makes it) and appends it with what the index says of it: how a segment is
   * recompressed at another level without decoding its lines. Its terms are
   * not added to the segment's filter: pass that filter to {@linkcode finish}.
   */
  writeRawBlock(
    stream: number,
    raw: Uint8Array,
    facts: { minTs: bigint; maxTs: bigint; count: number; filter: Uint8Array },
  ): void {
    const frame = this.#compress(raw);
    this.#blocks.push({
      stream,
      minTs: facts.minTs,
      maxTs: facts.maxTs,
      count: facts.count,
      filter: facts.filter,
      offset: this.#offset,
      length: frame.length,
      rawLength: raw.length,
    });
    this.#write(frame);
  }

  #segmentFilter(): Uint8Array {
    if (this.#level === 0) return new Uint8Array();
    // Sorted, then deduplicated in place: a Set of a large segment's terms
    // would cost tens of megabytes.
    const terms = this.#terms.subarray(0, this.#termCount).sort();
    let distinct = 0;
    for (let i = 0; i < terms.length; i++) {
      if (i === 0 || terms[i] !== terms[distinct - 1]) terms[distinct++] = terms[i];
    }
    return fileFilter(terms.subarray(0, distinct));
  }

  /**
   * Writes the index and footer, makes the file durable under its final name
   * (`name`, when what it is called depends on what was written) and returns
   * what the catalog records of it, with `filter` as the file's content filter
   * (by default, one over the terms of the blocks written with
   * {@linkcode writeBlock}).
   */
  finish(seqs: SeqRanges, name: string = this.#name, filter?: Uint8Array): SegmentInfo {
    if (this.#blocks.length === 0) {
      throw new Error(`Cannot finish segment ${this.#name} without blocks`);
    }
    filter ??= this.#segmentFilter();
    let minTs = this.#blocks[0].minTs;
    let maxTs = this.#blocks[0].maxTs;
    let rows = 0;
    let rawBytes = 0;
    for (const b of this.#blocks) {
      if (b.minTs < minTs) minTs = b.minTs;
      if (b.maxTs > maxTs) maxTs = b.maxTs;
      rows += b.count;
      rawBytes += b.rawLength;
    }
    const db = new DatabaseSync(":memory:");
    try {
      db.exec(INDEX_SCHEMA);
      const meta = db.prepare("INSERT INTO meta VALUES (?, ?)");
      const facts: [string, string | number | bigint | Uint8Array][] = [
        ["version", SEGMENT_VERSION],
        ["level", this.#level],
        ["min_ts", minTs],
        ["max_ts", maxTs],
        ["rows", rows],
        ["raw_bytes", rawBytes],
        ["zstd_level", this.#zstdLevel],
        ["seqs", JSON.stringify(seqs)],
        // Content filters hold the terms of metadata as well as of lines (so
        // does the file filter: `filterCoversMetadata` below).
        ["filters_cover_metadata", 1],
      ];
      db.exec("BEGIN");
      for (const [k, v] of facts) meta.run(k, v);
      const stream = db.prepare("INSERT INTO streams VALUES (?, ?)");
      for (const [labels, id] of this.#streams) stream.run(id, labels);
      const block = db.prepare("INSERT INTO blocks VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
      for (const b of this.#blocks) {
        block.run(b.stream, b.minTs, b.maxTs, b.count, b.offset, b.length, b.rawLength, b.filter);
      }
      db.exec("COMMIT");
      const index = this.#compress(db.serialize());
      const indexOffset = this.#offset;
      this.#write(index);
      this.#write(encodeFooter({ indexOffset, indexLength: index.length, indexCrc: crc32(index) }));
    } finally {
      db.close();
    }
    this.#drain();
    this.#file.syncSync();
    this.#file.close();
    Deno.renameSync(this.#tempPath, join(this.#dir, name));
    syncDir(this.#dir);
    return {
      name,
      level: this.#level,
      minTs,
      maxTs,
      rows,
      bytes: this.#offset,
      rawBytes,
      zstdLevel: this.#zstdLevel,
      streams: [...this.#streams.keys()],
      filter,
      filterCoversMetadata: true,
      seqs,
    };
  }

  /** Abandons the file and removes its temporary name. */
  abort(): void {
    try {
      this.#file.close();
    } catch { /* already closed */ }
    Deno.removeSync(this.#tempPath);
  }
}
