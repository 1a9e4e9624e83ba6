/**
 * The protobuf wire format, read by hand: the push decoders (loge's
 * `push.proto` and Loki's `logproto.PushRequest`) walk their few messages
 * with this reader instead of a generated one. Every length is checked
 * against the enclosing message, so malformed bytes raise an error, never a
 * read past the end.
 *
 * @module
 */

const utf8 = new TextDecoder("utf-8", { fatal: true });
/** One character per byte (WHATWG's latin1 is windows-1252: still one unit per byte). */
const bytewise = new TextDecoder("latin1");

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

  /**
   * `buf` decoded one character per byte, once for the whole message and
   * shared by sub-readers: an ASCII string field is then a slice of it,
   * without a decoder call per field (most log lines are ASCII).
   */
  #bytewise: { text?: string } = {};

  /** A reader of `buf` up to `end`. */
  constructor(readonly buf: Uint8Array, readonly end: number = buf.length) {}

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
    r.#bytewise = this.#bytewise;
    this.pos += len;
    return r;
  }

  /** A length-delimited field as strict UTF-8 text. */
  string(): string {
    const r = this.sub();
    const buf = this.buf;
    let ascii = true;
    for (let i = r.pos; i < r.end; i++) {
      if (buf[i] >= 0x80) {
        ascii = false;
        break;
      }
    }
    if (ascii) {
      const text = this.#bytewise.text ??= bytewise.decode(buf);
      return text.slice(r.pos, r.end);
    }
    try {
      return utf8.decode(buf.subarray(r.pos, r.end));
    } catch {
      throw new Error(`invalid UTF-8 in the string field at byte ${r.pos}`);
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
