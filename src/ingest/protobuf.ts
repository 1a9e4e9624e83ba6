/**
 * A decoder for `push.proto`, written out by hand: the schema is three small
 * messages, and decoding straight into the JSON shape keeps one validator for
 * every format. Unknown fields are skipped, as protobuf requires.
 *
 * @module
 */

const utf8 = new TextDecoder("utf-8", { fatal: true });

class Reader {
  pos = 0;
  constructor(readonly buf: Uint8Array, readonly end = buf.length) {}

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

  sub(): Reader {
    const len = this.varint();
    if (this.pos + len > this.end) throw new Error("length-delimited field runs past its message");
    const r = new Reader(this.buf, this.pos + len);
    r.pos = this.pos;
    this.pos += len;
    return r;
  }

  string(): string {
    const r = this.sub();
    return utf8.decode(this.buf.subarray(r.pos, r.end));
  }

  skip(wire: number): void {
    if (wire === 0) this.varint();
    else if (wire === 1) this.pos += 8;
    else if (wire === 2) this.sub();
    else if (wire === 5) this.pos += 4;
    else throw new Error(`unsupported wire type ${wire}`);
    if (this.pos > this.end) throw new Error("field runs past its message");
  }

  *fields(): Generator<[number, number]> {
    while (this.pos < this.end) {
      const tag = this.varint();
      yield [Math.floor(tag / 8), tag & 7];
    }
  }
}

function mapEntry(r: Reader, into: Record<string, string>): void {
  let key = "";
  let value = "";
  for (const [field, wire] of r.fields()) {
    if (field === 1 && wire === 2) key = r.string();
    else if (field === 2 && wire === 2) value = r.string();
    else r.skip(wire);
  }
  into[key] = value;
}

function value(r: Reader): unknown[] {
  let ts = "";
  let line = "";
  let metadata: Record<string, string> | undefined;
  for (const [field, wire] of r.fields()) {
    if (field === 1 && wire === 2) ts = r.string();
    else if (field === 2 && wire === 2) line = r.string();
    else if (field === 3 && wire === 2) mapEntry(r.sub(), metadata ??= {});
    else r.skip(wire);
  }
  return metadata ? [ts, line, metadata] : [ts, line];
}

function stream(r: Reader): { stream: Record<string, string>; values: unknown[][] } {
  const out = { stream: {} as Record<string, string>, values: [] as unknown[][] };
  for (const [field, wire] of r.fields()) {
    if (field === 1 && wire === 2) mapEntry(r.sub(), out.stream);
    else if (field === 2 && wire === 2) out.values.push(value(r.sub()));
    else r.skip(wire);
  }
  return out;
}

/**
 * Decodes a `loge.PushRequest` into the JSON payload shape.
 *
 * @throws {Error} on malformed protobuf or invalid UTF-8.
 *
 * @example
 * ```ts
 * import { decodePushProtobuf } from "./protobuf.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual(decodePushProtobuf(new Uint8Array()), { streams: [] });
 * ```
 */
export function decodePushProtobuf(bytes: Uint8Array): { streams: unknown[] } {
  const r = new Reader(bytes);
  const streams: unknown[] = [];
  for (const [field, wire] of r.fields()) {
    if (field === 1 && wire === 2) streams.push(stream(r.sub()));
    else r.skip(wire);
  }
  return { streams };
}
