/**
 * The block: lines of one stream in time order, encoded column by column and
 * compressed as one independent zstd frame, so a reader can fetch and decode a
 * single block through a byte range.
 *
 * Raw layout (before compression):
 * ```
 * u8      flags          bit 0: lines carry metadata; bit 1: every line is ASCII;
 *                        bit 2: lines are newline-terminated (no line holds one);
 *                        bit 3: the deltas are Rice codes (format version 2);
 *                        bit 4: the lines' bytes are coded as text and ids
 *                        (`line_coding.ts`, format version 3);
 *                        bit 5: with bit 4, the coded lines' length is kept
 *                        and their times are coded (format version 4)
 * uvarint count
 * i64     first timestamp (unix ns)
 * deltas  timestamp deltas × (count − 1)   (non-negative: lines are sorted), as
 *         Rice codes (`rice.ts`), or LEB128 varints without bit 3 (version 1,
 *         and deltas too large for a Rice code: over 104 days)
 * uvarint line byte lengths × count         (only without bit 2)
 * uvarint metadata byte lengths × count     (only with bit 0; 0 = none)
 * uvarint text bytes, then ids bytes         (only with bit 4)
 * uvarint the lines' bytes, decoded          (only with bit 5)
 * bytes   lines, concatenated (each followed by "\n" with bit 2); with bit 4
 *         these bytes coded: the text, then the ids
 * bytes   metadata JSON objects, concatenated (only with bit 0)
 * ```
 *
 * Newline-terminated lines need no length column: the separators cost less
 * after compression than the lengths would. Timestamps are random in their
 * low bits, which zstd cannot squeeze: Rice codes store them at what their
 * entropy costs (3.68 bytes a line on the bench corpus, 4.29 as varints).
 * Long hex ids and UUIDs are random too: where a builder is asked to, they
 * leave the lines for a column of their bytes, and times written in lines are
 * coded against the timestamps ({@linkcode codeLines}).
 *
 * @module
 */

import { ByteReader, ByteWriter } from "./byte_buffer.ts";
import { blockTerms } from "./content_filter.ts";
import { MAX_RICE_VALUE, readRice, writeRice } from "./rice.ts";
import { type CodedLines, codeLines, decodeLines, lineEnds } from "./line_coding.ts";

const HAS_METADATA = 1;
const ALL_ASCII = 2;
const NEWLINE_TERMINATED = 4;
const RICE_DELTAS = 8;
const CODED_LINES = 16;
const CODED_TIMES = 32;
const NEWLINE = 0x0a;

/** A decoded block: parallel columns over `count` lines. */
export interface Block {
  /** Timestamps in unix nanoseconds, ascending. */
  readonly ts: BigInt64Array;
  /** UTF-8 bytes of all lines, concatenated. */
  readonly lines: Uint8Array;
  /** Line `i` is `lines[starts[i]:ends[i]]`. */
  readonly starts: Uint32Array;
  readonly ends: Uint32Array;
  /** Metadata JSON bytes per line, concatenated, when any line has some. */
  readonly metadata?: Uint8Array;
  /** End offsets into `metadata`, like `ends`. */
  readonly metadataEnds?: Uint32Array;
  /** Whether every line is ASCII, so byte offsets equal string offsets. */
  readonly ascii: boolean;
}

/**
 * Accumulates lines of one stream (added in timestamp order) and encodes them
 * as a raw block, collecting the block's content-filter terms on the way.
 *
 * @example
 * ```ts
 * import { BlockBuilder, decodeBlock } from "./block_codec.ts";
 * import assert from "node:assert/strict";
 * const b = new BlockBuilder();
 * b.addString(1n, "hello");
 * b.addString(5n, "world");
 * const block = decodeBlock(b.finish().raw);
 * assert.deepEqual([...block.ts], [1n, 5n]);
 * const text = new TextDecoder().decode(block.lines.subarray(block.starts[1], block.ends[1]));
 * assert.equal(text, "world");
 * ```
 */
export class BlockBuilder {
  #ts: bigint[] = [];
  #lines = new ByteWriter(64 * 1024);
  #ends: number[] = [];
  #metadata = new ByteWriter(256);
  #metadataEnds: number[] = [];
  #hasMetadata = false;
  readonly #collectTerms: boolean;
  /** The lines' section, gathered to be coded; only with `codeLines`. */
  readonly #section?: ByteWriter;

  /**
   * Creates a builder. Without `collectTerms` the block gets no content-filter
   * terms (level-0 files skip filters to keep flushing cheap). With
   * `codeLines` its ids and the times in its lines are coded
   * ({@linkcode codeLines}) when that takes enough bytes out of its text to
   * pay for decoding ({@linkcode MIN_CODED_SHARE}).
   */
  constructor(options: { collectTerms?: boolean; codeLines?: boolean } = {}) {
    this.#collectTerms = options.collectTerms ?? true;
    if (options.codeLines) this.#section = new ByteWriter(64 * 1024);
  }

  /** Lines added since the last {@linkcode finish}. */
  get count(): number {
    return this.#ts.length;
  }

  /** Bytes of line text (and metadata) added since the last {@linkcode finish}. */
  get size(): number {
    return this.#lines.length + this.#metadata.length;
  }

  /** Adds a line given as UTF-8 bytes; `ts` must not be below the previous one. */
  add(ts: bigint, line: Uint8Array, metadata?: Uint8Array): void {
    this.addSlice(ts, line, 0, line.length, metadata);
  }

  /**
   * Adds the line `bytes[start:end]` (no view is made), with its metadata as
   * bytes or as text; `ts` must not be below the previous one.
   */
  addSlice(
    ts: bigint,
    bytes: Uint8Array,
    start: number,
    end: number,
    metadata?: Uint8Array | string,
  ): void {
    this.#lines.append(bytes, start, end);
    this.#endLine(ts, metadata);
  }

  /** Adds line `i` of a decoded block, with its metadata; `ts` must not be below the previous one. */
  addFrom(block: Block, i: number): void {
    const ends = block.metadataEnds;
    const metaStart = i === 0 || !ends ? 0 : ends[i - 1];
    this.addSlice(
      block.ts[i],
      block.lines,
      block.starts[i],
      block.ends[i],
      ends && ends[i] > metaStart ? block.metadata!.subarray(metaStart, ends[i]) : undefined,
    );
  }

  /** Adds a line given as a string; `ts` must not be below the previous one. */
  addString(ts: bigint, line: string, metadata?: string): void {
    this.#lines.text(line);
    this.#endLine(ts, metadata);
  }

  #endLine(ts: bigint, metadata: Uint8Array | string | undefined): void {
    const end = this.#lines.length;
    // Text is encoded in place: a buffer a line costs a microsecond to make.
    const metaStart = this.#metadata.length;
    if (typeof metadata === "string") this.#metadata.text(metadata);
    else if (metadata !== undefined) this.#metadata.bytes(metadata);
    const metaEnd = this.#metadata.length;
    this.#ts.push(ts);
    this.#ends.push(end);
    if (metaEnd > metaStart) this.#hasMetadata = true;
    this.#metadataEnds.push(metaEnd);
  }

  /**
   * Encodes the lines added so far and starts a new block.
   *
   * @returns the raw (uncompressed) block, its time bounds and its filter terms.
   */
  finish(): { raw: Uint8Array; minTs: bigint; maxTs: bigint; count: number; terms: Uint32Array } {
    const count = this.#ts.length;
    if (count === 0) throw new Error("Cannot finish an empty block");
    // Metadata values too: a label filter sees them, so pruning by a value
    // must know whether a block holds it in either place.
    const terms = this.#collectTerms
      ? blockTerms([
        { bytes: this.#lines.bytes(), ends: this.#ends },
        ...(this.#hasMetadata ? [{ bytes: this.#metadata.bytes(), ends: this.#metadataEnds }] : []),
      ])
      : NO_TERMS;
    const out = new ByteWriter(this.size + count * 4 + 32);
    const { ascii, newlines } = textFlags(this.#lines.bytes());
    const terminated = !newlines;
    const deltas = new Float64Array(count - 1);
    let rice = true;
    for (let i = 1; i < count && rice; i++) {
      const delta = this.#ts[i] - this.#ts[i - 1];
      rice = delta <= MAX_RICE_VALUE;
      deltas[i - 1] = Number(delta);
    }
    const coded = this.#section && this.#codedSection(this.#section, terminated);
    out.u8(
      (this.#hasMetadata ? HAS_METADATA : 0) | (ascii ? ALL_ASCII : 0) |
        (terminated ? NEWLINE_TERMINATED : 0) | (rice ? RICE_DELTAS : 0) |
        (coded ? CODED_LINES | CODED_TIMES : 0),
    );
    out.uvarint(count);
    out.i64(this.#ts[0]);
    if (rice) writeRice(out, deltas);
    else for (let i = 1; i < count; i++) out.bigUvarint(this.#ts[i] - this.#ts[i - 1]);
    let prev = 0;
    if (!terminated) {
      for (const end of this.#ends) {
        out.uvarint(end - prev);
        prev = end;
      }
    }
    if (this.#hasMetadata) {
      prev = 0;
      for (const end of this.#metadataEnds) {
        out.uvarint(end - prev);
        prev = end;
      }
    }
    if (coded) {
      out.uvarint(coded.text.length);
      out.uvarint(coded.ids.length);
      out.uvarint(coded.length);
      out.bytes(coded.text);
      out.bytes(coded.ids);
    } else this.#writeSection(out, terminated);
    if (this.#hasMetadata) out.bytes(this.#metadata.bytes());
    const result = {
      raw: out.bytes(),
      minTs: this.#ts[0],
      maxTs: this.#ts[count - 1],
      count,
      terms,
    };
    this.#ts = [];
    this.#lines.clear();
    this.#ends = [];
    this.#metadata.clear();
    this.#metadataEnds = [];
    this.#hasMetadata = false;
    return result;
  }

  /** Writes the lines' section: the lines, each followed by "\n" when `terminated`. */
  #writeSection(out: ByteWriter, terminated: boolean): void {
    const lines = this.#lines.bytes();
    if (!terminated) return out.bytes(lines);
    let prev = 0;
    for (const end of this.#ends) {
      out.bytes(lines.subarray(prev, end));
      out.u8(NEWLINE);
      prev = end;
    }
  }

  /**
   * The lines' section, gathered in `into`, coded, with its length, when
   * enough of it leaves the text; else `undefined`. Times are coded in
   * newline-terminated lines only: the coder finds a time's line by the
   * newlines before it.
   */
  #codedSection(
    into: ByteWriter,
    terminated: boolean,
  ): CodedLines & { length: number } | undefined {
    into.clear();
    this.#writeSection(into, terminated);
    const section = into.bytes();
    const coded = codeLines(section, terminated ? this.#ts : undefined);
    return section.length - coded.text.length >= section.length * MIN_CODED_SHARE
      ? { ...coded, length: section.length }
      : undefined;
  }
}

/**
 * Whether `bytes` are all ASCII, and whether they hold a newline, read four
 * bytes at a time once a block (a loop a byte a line took a tenth of a
 * merge's JS).
 */
function textFlags(bytes: Uint8Array): { ascii: boolean; newlines: boolean } {
  let high = 0;
  let newlines = false;
  let i = 0;
  if (bytes.byteOffset % 4 === 0) {
    const words = new Uint32Array(bytes.buffer, bytes.byteOffset, bytes.length >>> 2);
    for (let w = 0; w < words.length; w++) {
      const word = words[w];
      high |= word;
      // A zero byte in word ^ 0x0a0a0a0a is a newline in word (the test is exact for "any").
      const x = word ^ 0x0a0a0a0a;
      if (((x - 0x01010101) & ~x & 0x80808080) !== 0) newlines = true;
    }
    i = words.length * 4;
  }
  for (; i < bytes.length; i++) {
    high |= bytes[i];
    if (bytes[i] === NEWLINE) newlines = true;
  }
  return { ascii: (high & 0x80808080) === 0, newlines };
}

/** The terms of a block built without them. */
const NO_TERMS = new Uint32Array(0);

/**
 * The least share of a block's line bytes that must leave its text for the
 * lines to be coded: decoding costs a copy of the lines on every read, which
 * the bytes saved pay for.
 */
const MIN_CODED_SHARE = 1 / 16;

function readEnds(r: ByteReader, count: number): Uint32Array {
  const ends = new Uint32Array(count);
  let at = 0;
  for (let i = 0; i < count; i++) ends[i] = at += r.uvarint();
  return ends;
}

/** The weight of the high 32-bit word of a 64-bit integer. */
const WORD = 2 ** 32;

/** Whether typed arrays store the low word of a 64-bit integer first. */
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/**
 * Sets `ts[i]` to `ts[i - 1] + deltas[i - 1]` from `ts[0]` on (deltas are
 * whole numbers up to 2^53 − 1), wrapping as a `BigInt64Array` does. Summed
 * word by word in plain numbers: a BigInt addition per line cost four times
 * as much, a sizable part of a query that reads many blocks for few lines.
 */
function addDeltas(ts: BigInt64Array, deltas: Float64Array): void {
  if (!LITTLE_ENDIAN) {
    for (let i = 1; i < ts.length; i++) ts[i] = ts[i - 1] + BigInt(deltas[i - 1]);
    return;
  }
  const words = new Uint32Array(ts.buffer, ts.byteOffset, ts.length * 2);
  let low = words[0];
  let high = words[1];
  for (let i = 1; i < ts.length; i++) {
    const delta = deltas[i - 1];
    const deltaHigh = Math.floor(delta / WORD);
    low += delta - deltaHigh * WORD;
    high += deltaHigh;
    if (low >= WORD) {
      low -= WORD;
      high++;
    }
    high >>>= 0;
    words[2 * i] = low;
    words[2 * i + 1] = high;
  }
}

/** A raw block read up to its lines' section: the columns before it. */
interface BlockHead {
  readonly r: ByteReader;
  readonly flags: number;
  readonly ts: BigInt64Array;
  readonly terminated: boolean;
  readonly lengths?: Uint32Array;
  readonly metadataEnds?: Uint32Array;
}

function readHead(raw: Uint8Array): BlockHead {
  const r = new ByteReader(raw);
  const flags = r.u8();
  const count = r.uvarint();
  const ts = new BigInt64Array(count);
  if (count > 0) {
    let t = r.i64();
    ts[0] = t;
    if (flags & RICE_DELTAS) addDeltas(ts, readRice(r, count - 1));
    else for (let i = 1; i < count; i++) ts[i] = t += r.bigUvarint();
  }
  const terminated = (flags & NEWLINE_TERMINATED) !== 0;
  const lengths = terminated ? undefined : readEnds(r, count);
  const metadataEnds = flags & HAS_METADATA ? readEnds(r, count) : undefined;
  return { r, flags, ts, terminated, lengths, metadataEnds };
}

/** A coded lines' section's lengths, read from `r`. */
function codedSection(r: ByteReader, flags: number) {
  const textLength = r.uvarint();
  const idsLength = r.uvarint();
  const times = (flags & CODED_TIMES) !== 0;
  const length = times ? r.uvarint() : undefined;
  return { textLength, idsLength, times, length };
}

/** The metadata section that follows the lines, read from `r`. */
function readMetadata(
  r: ByteReader,
  metadataEnds: Uint32Array | undefined,
): Uint8Array | undefined {
  const count = metadataEnds?.length ?? 0;
  return metadataEnds ? r.bytes(count > 0 ? metadataEnds[count - 1] : 0) : undefined;
}

/**
 * Decodes a raw block. The returned columns are views into `raw`.
 *
 * @throws {RangeError} when `raw` is truncated.
 */
export function decodeBlock(raw: Uint8Array): Block {
  const { r, flags, ts, terminated, lengths, metadataEnds } = readHead(raw);
  const count = ts.length;
  // A coded section is decoded whole; a plain one is read in place.
  let section: ByteReader = r;
  if (flags & CODED_LINES) {
    const { textLength, idsLength, times, length } = codedSection(r, flags);
    const text = r.bytes(textLength);
    const ids = r.bytes(idsLength);
    section = new ByteReader(decodeLines(text, ids, times && terminated ? ts : undefined, length));
  }
  const starts = new Uint32Array(count);
  let ends: Uint32Array;
  let lines: Uint8Array;
  if (lengths) {
    ends = lengths;
    for (let i = 1; i < count; i++) starts[i] = ends[i - 1];
    lines = section.bytes(count > 0 ? ends[count - 1] : 0);
  } else {
    ends = lineEnds(section.rest(), count);
    for (let i = 1; i < count; i++) starts[i] = ends[i - 1] + 1;
    lines = section.bytes(count > 0 ? ends[count - 1] + 1 : 0);
  }
  if (section !== r && section.pos !== section.buf.length) {
    throw new RangeError(
      `Block damaged: ${section.buf.length - section.pos} coded line bytes left over`,
    );
  }
  const metadata = readMetadata(r, metadataEnds);
  return { ts, lines, starts, ends, metadata, metadataEnds, ascii: (flags & ALL_ASCII) !== 0 };
}

/** The timestamps and metadata of a block, without its lines. */
export type BlockTimes = Pick<Block, "ts" | "metadata" | "metadataEnds">;

/**
 * Decodes a raw block's timestamps and metadata, and not its lines: what a
 * count needs. A coded lines' section is skipped whole (decoding it cost a
 * quarter of a `count_over_time` over an hour); a plain one is found as
 * {@linkcode decodeBlock} finds it.
 *
 * @example
 * ```ts
 * import { BlockBuilder, decodeTimes } from "./block_codec.ts";
 * import assert from "node:assert/strict";
 * const b = new BlockBuilder();
 * b.addString(5n, "trace_id=6a8ec3aab898ae608aa7225fdc44a737 ok", '{"k":"v"}');
 * b.addString(7n, "done");
 * const { ts, metadataEnds } = decodeTimes(b.finish().raw);
 * assert.deepEqual([...ts], [5n, 7n]);
 * assert.deepEqual([...metadataEnds!], [9, 9]);
 * ```
 * @throws {RangeError} when `raw` is truncated.
 */
export function decodeTimes(raw: Uint8Array): BlockTimes {
  const { r, flags, ts, lengths, metadataEnds } = readHead(raw);
  const count = ts.length;
  if (metadataEnds === undefined) return { ts };
  if (flags & CODED_LINES) {
    const { textLength, idsLength } = codedSection(r, flags);
    r.bytes(textLength + idsLength);
  } else if (lengths) {
    r.bytes(count > 0 ? lengths[count - 1] : 0);
  } else {
    const ends = lineEnds(r.rest(), count);
    r.bytes(count > 0 ? ends[count - 1] + 1 : 0);
  }
  return { ts, metadata: readMetadata(r, metadataEnds), metadataEnds };
}
