/**
 * Growable byte buffer with little-endian and unsigned LEB128 varint writers,
 * and the matching reader. Used by the block codec and the segment writer.
 *
 * @module
 */

const encoder = new TextEncoder();

/**
 * Appends bytes, text, integers and varints to a growing `Uint8Array`.
 *
 * @example Write a varint and read it back
 * ```ts
 * import { ByteReader, ByteWriter } from "./byte_buffer.ts";
 * import assert from "node:assert/strict";
 * const w = new ByteWriter();
 * w.uvarint(300);
 * const r = new ByteReader(w.bytes());
 * assert.equal(r.uvarint(), 300);
 * assert.equal(r.pos, 2);
 * ```
 */
export class ByteWriter {
  #buf: Uint8Array;
  #view: DataView;
  #len = 0;

  /** Creates a writer with `capacity` bytes reserved. */
  constructor(capacity = 1024) {
    this.#buf = new Uint8Array(capacity);
    this.#view = new DataView(this.#buf.buffer);
  }

  /** Number of bytes written so far. */
  get length(): number {
    return this.#len;
  }

  /** Forgets what was written, keeping the memory for reuse. */
  clear(): void {
    this.#len = 0;
  }

  /** Makes room for `n` more bytes and returns the offset to write them at. */
  reserve(n: number): number {
    const need = this.#len + n;
    if (need > this.#buf.length) {
      let size = this.#buf.length * 2;
      while (size < need) size *= 2;
      const next = new Uint8Array(size);
      next.set(this.#buf.subarray(0, this.#len));
      this.#buf = next;
      this.#view = new DataView(next.buffer);
    }
    const at = this.#len;
    this.#len = need;
    return at;
  }

  /** Appends raw bytes. */
  bytes(): Uint8Array;
  bytes(data: Uint8Array): void;
  bytes(data?: Uint8Array): Uint8Array | void {
    if (data === undefined) return this.#buf.subarray(0, this.#len);
    // Reserve first: it may replace the buffer.
    const at = this.reserve(data.length);
    this.#buf.set(data, at);
  }

  /** Appends `data[start:end]`. */
  append(data: Uint8Array, start: number, end: number): void {
    const at = this.reserve(end - start);
    this.#buf.set(data.subarray(start, end), at);
  }

  /** Appends the UTF-8 bytes of `text`, encoded in place (no buffer made for them). */
  text(text: string): void {
    const at = this.reserve(text.length * 3); // three bytes at most per UTF-16 unit
    this.#len = at + encoder.encodeInto(text, this.#buf.subarray(at)).written;
  }

  /** Appends one byte. */
  u8(value: number): void {
    const at = this.reserve(1);
    this.#buf[at] = value;
  }

  /** Appends a little-endian signed 64-bit integer. */
  i64(value: bigint): void {
    const at = this.reserve(8);
    this.#view.setBigInt64(at, value, true);
  }

  /** Appends an unsigned LEB128 varint; `value` must be a safe non-negative integer. */
  uvarint(value: number): void {
    while (value >= 0x80) {
      this.u8((value % 0x80) | 0x80);
      value = Math.floor(value / 0x80);
    }
    this.u8(value);
  }

  /** Appends a non-negative bigint as an unsigned LEB128 varint. */
  bigUvarint(value: bigint): void {
    if (value <= 0xffff_ffffn) return this.uvarint(Number(value));
    while (value >= 0x80n) {
      this.u8(Number(value & 0x7fn) | 0x80);
      value >>= 7n;
    }
    this.u8(Number(value));
  }
}

/**
 * Reads what a {@linkcode ByteWriter} wrote. Reading past the end throws a
 * `RangeError`, so a truncated buffer never yields garbage silently.
 */
export class ByteReader {
  readonly buf: Uint8Array;
  readonly #view: DataView;
  /** Current read offset. */
  pos: number;

  /** Reads `buf` starting at `pos`. */
  constructor(buf: Uint8Array, pos = 0) {
    this.buf = buf;
    this.#view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    this.pos = pos;
  }

  #take(n: number): number {
    const at = this.pos;
    if (at + n > this.buf.length) {
      throw new RangeError(`Cannot read ${n} bytes at offset ${at}: buffer has ${this.buf.length}`);
    }
    this.pos = at + n;
    return at;
  }

  /** Reads `n` raw bytes (a view, not a copy). */
  bytes(n: number): Uint8Array {
    const at = this.#take(n);
    return this.buf.subarray(at, at + n);
  }

  /** The bytes not read yet (a view; nothing is read). */
  rest(): Uint8Array {
    return this.buf.subarray(this.pos);
  }

  /** Reads one byte. */
  u8(): number {
    return this.buf[this.#take(1)];
  }

  /** Reads a little-endian signed 64-bit integer. */
  i64(): bigint {
    return this.#view.getBigInt64(this.#take(8), true);
  }

  /** Reads an unsigned LEB128 varint that fits a safe integer. */
  uvarint(): number {
    let result = 0;
    let scale = 1;
    for (;;) {
      const byte = this.buf[this.#take(1)];
      result += (byte & 0x7f) * scale;
      if (byte < 0x80) return result;
      scale *= 0x80;
      if (scale > 2 ** 56) throw new RangeError(`Varint too long at offset ${this.pos}`);
    }
  }

  /** Reads an unsigned LEB128 varint of any size as a bigint. */
  bigUvarint(): bigint {
    // Most values fit 7 bytes (49 bits): read those as numbers, no bigint steps.
    let small = 0;
    let scale = 1;
    for (let i = 0; i < 7; i++) {
      const byte = this.buf[this.pos + i];
      if (byte === undefined) break;
      small += (byte & 0x7f) * scale;
      if (byte < 0x80) {
        this.pos += i + 1;
        return BigInt(small);
      }
      scale *= 0x80;
    }
    let result = 0n;
    let shift = 0n;
    for (;;) {
      const byte = this.buf[this.#take(1)];
      result |= BigInt(byte & 0x7f) << shift;
      if (byte < 0x80) return result;
      shift += 7n;
      if (shift > 70n) throw new RangeError(`Varint too long at offset ${this.pos}`);
    }
  }
}
