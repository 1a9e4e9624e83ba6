/**
 * The protobuf wire format, read by hand: the push decoders (loge's
 * `push.proto` and Loki's `logproto.PushRequest`) walk their few messages
 * with this reader instead of a generated one. Every length is checked
 * against the enclosing message, so malformed bytes raise an error, never a
 * read past the end.
 *
 * @module
 */

import { decodeUtf8 } from "../utf8.ts";

/**
 * Reads the fields of one message, between `pos` and `end` of `buf`.
 *
 * @example
 * ```ts
 * import { Reader } from "./protobuf_wire.ts";
 * import assert from "node:assert/strict";
 * // field 1 (varint) = 150, field 2 (bytes) = "hi"
 * const r = new Reader(new Uint8Array([0x08, 0x96, 0x01, 0x12, 0x02, 0x68, 0x69]));
 * const seen: unknown[] = [];
 * for (let tag = r.tag(); tag >= 0; tag = r.tag()) {
 *   seen.push(Math.floor(tag / 8), tag % 8 === 0 ? r.varint() : r.string());
 * }
 * assert.deepEqual(seen, [1, 150, 2, "hi"]);
 * // a 5-byte field with 1 byte left
 * assert.throws(() => new Reader(new Uint8Array([0x05, 0x68])).skip(2), /runs past its message/);
 * ```
 */
export class Reader {
  /** Offset of the next byte to read. */
  pos = 0;

  /** A view of `buf` for fixed-width fields, made once and shared by sub-readers. */
  #shared: { view?: DataView } = {};

  /** Offset past the message's last byte (narrowed by {@linkcode Reader.enter}). */
  end: number;

  /** A reader of `buf` up to `end`. */
  constructor(readonly buf: Uint8Array, end: number = buf.length) {
    this.end = end;
  }

  /** An unsigned varint (exact up to 2^53). */
  varint(): number {
    let result = 0;
    let scale = 1;
    for (;;) {
      if (this.pos >= this.end) throw new Error("truncated varint");
      const b = this.buf[this.pos++];
      result += (b & 0x7f) * scale;
      if (b < 0x80) return result;
      scale *= 128;
      if (scale > 2 ** 63) throw new Error("varint too long");
    }
  }

  /** A reader of the length-delimited field that starts here; skips past it. */
  sub(): Reader {
    const len = this.varint();
    if (this.pos + len > this.end) throw new Error("length-delimited field runs past its message");
    const r = new Reader(this.buf, this.pos + len);
    r.pos = this.pos;
    r.#shared = this.#shared;
    this.pos += len;
    return r;
  }

  #view(): DataView {
    const buf = this.buf;
    return this.#shared.view ??= new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  /** `n` bytes of a fixed-width field: their offset, checked against the message's end. */
  #fixed(n: number): number {
    const at = this.pos;
    if (at + n > this.end) throw new Error(`fixed${n * 8} field runs past its message`);
    this.pos = at + n;
    return at;
  }

  /** A `fixed64` field. */
  fixed64(): bigint {
    return this.#view().getBigUint64(this.#fixed(8), true);
  }

  /** A `double` field. */
  double(): number {
    return this.#view().getFloat64(this.#fixed(8), true);
  }

  /** A `fixed32` field. */
  fixed32(): number {
    return this.#view().getUint32(this.#fixed(4), true);
  }

  /** A length-delimited field's bytes (a view, not a copy). */
  bytes(): Uint8Array {
    const len = this.varint();
    const start = this.pos;
    if (start + len > this.end) throw new Error("length-delimited field runs past its message");
    this.pos = start + len;
    return this.buf.subarray(start, this.pos);
  }

  /**
   * Narrows this reader to the length-delimited field that starts here, as
   * {@linkcode Reader.sub} without a new reader (this runs per record);
   * returns the end that {@linkcode Reader.leave} gives back.
   */
  enter(): number {
    const len = this.varint();
    const end = this.pos + len;
    if (end > this.end) throw new Error("length-delimited field runs past its message");
    const outer = this.end;
    this.end = end;
    return outer;
  }

  /** Back to the enclosing message after {@linkcode Reader.enter}, past the field. */
  leave(outer: number): void {
    this.pos = this.end;
    this.end = outer;
  }

  /**
   * A length-delimited field as strict UTF-8 text: a string of its own, not a
   * slice of one decoded for the whole message, so that keeping a line keeps
   * only its own characters (slices of a body-wide string held every body in
   * memory until its lines were flushed, and cost more in GC than a decoder
   * call per field saves).
   */
  string(): string {
    const len = this.varint();
    const start = this.pos;
    const end = start + len;
    if (end > this.end) throw new Error("length-delimited field runs past its message");
    this.pos = end;
    const buf = this.buf;
    try {
      return decodeUtf8(buf.subarray(start, end));
    } catch {
      throw new Error(`invalid UTF-8 in the string field at byte ${start}`);
    }
  }

  /** Skips a field of wire type `wire`. */
  skip(wire: number): void {
    if (wire === 0) this.varint();
    else if (wire === 1) this.pos += 8;
    else if (wire === 2) this.sub();
    else if (wire === 5) this.pos += 4;
    else throw new Error(`unsupported wire type ${wire}`);
    if (this.pos > this.end) throw new Error("field runs past its message");
  }

  /**
   * The tag of the next field (field number × 8 + wire type), or -1 at the
   * end of the message. A loop, not a generator: this runs per field.
   */
  tag(): number {
    return this.pos < this.end ? this.varint() : -1;
  }
}
