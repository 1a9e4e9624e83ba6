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
 * for (const [field, wire] of r.fields()) seen.push(field, wire === 0 ? r.varint() : r.string());
 * assert.deepEqual(seen, [1, 150, 2, "hi"]);
 * // a 5-byte field with 1 byte left
 * assert.throws(() => new Reader(new Uint8Array([0x05, 0x68])).skip(2), /runs past its message/);
 * ```
 */
export class Reader {
  /** Offset of the next byte to read. */
  pos = 0;

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
    this.pos += len;
    return r;
  }

  /** A length-delimited field as strict UTF-8 text. */
  string(): string {
    const r = this.sub();
    try {
      return utf8.decode(this.buf.subarray(r.pos, r.end));
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

  /** The `[field number, wire type]` of each field left. */
  *fields(): Generator<[number, number]> {
    while (this.pos < this.end) {
      const tag = this.varint();
      yield [Math.floor(tag / 8), tag & 7];
    }
  }
}
