/**
 * Protobuf's wire primitives for the bench clients' hand-written encoders (Loki's push, OTLP
 * logs): no schema, no protobufjs, so encoding costs nothing the server's decoder is blamed for.
 *
 * @module
 */

const textEncoder = new TextEncoder();

/**
 * Bytes of `n` (a non-negative safe integer) as a varint.
 *
 * @example
 * ```ts
 * import { varintLength } from "./protobuf_writer.ts";
 * console.log(varintLength(127), varintLength(128)); // 1 2
 * ```
 */
export function varintLength(n: number): number {
  let len = 1;
  while (n >= 0x80) {
    n = Math.floor(n / 128);
    len++;
  }
  return len;
}

/**
 * A growing byte buffer with protobuf's wire primitives.
 *
 * @example
 * ```ts
 * import { ProtobufWriter } from "./protobuf_writer.ts";
 * const w = new ProtobufWriter();
 * w.stringField(1, "hi");
 * console.log(w.finish()); // Uint8Array(4) [ 10, 2, 104, 105 ]
 * ```
 */
export class ProtobufWriter {
  /** The buffer; bytes past {@linkcode ProtobufWriter.pos} are unused. */
  bytes: Uint8Array<ArrayBuffer> = new Uint8Array(256);
  /** Bytes written. */
  pos = 0;

  /** Makes room for `n` more bytes. */
  reserve(n: number): void {
    if (this.pos + n <= this.bytes.length) return;
    let size = this.bytes.length * 2;
    while (size < this.pos + n) size *= 2;
    const grown = new Uint8Array(size);
    grown.set(this.bytes.subarray(0, this.pos));
    this.bytes = grown;
  }

  /** A varint of `n`, a non-negative safe integer. */
  varint(n: number): void {
    this.reserve(10);
    while (n >= 0x80) {
      this.bytes[this.pos++] = (n % 128) | 0x80;
      n = Math.floor(n / 128);
    }
    this.bytes[this.pos++] = n;
  }

  /** Field `field` of wire type 2 holding `data`. */
  bytesField(field: number, data: Uint8Array): void {
    this.varint((field << 3) | 2);
    this.varint(data.length);
    this.reserve(data.length);
    this.bytes.set(data, this.pos);
    this.pos += data.length;
  }

  /** Field `field` of wire type 2 holding `s` as UTF-8. */
  stringField(field: number, s: string): void {
    this.bytesField(field, textEncoder.encode(s));
  }

  /** Field `field` of wire type 1 (`fixed64`) holding `n`. */
  fixed64Field(field: number, n: bigint): void {
    this.varint((field << 3) | 1);
    this.reserve(8);
    new DataView(this.bytes.buffer).setBigUint64(this.pos, n, true);
    this.pos += 8;
  }

  /** Field `field` holding the message that `write` writes. */
  messageField(field: number, write: (w: ProtobufWriter) => void): void {
    const inner = new ProtobufWriter();
    write(inner);
    this.bytesField(field, inner.bytes.subarray(0, inner.pos));
  }

  /** A copy of the bytes written. */
  finish(): Uint8Array<ArrayBuffer> {
    return this.bytes.slice(0, this.pos);
  }
}
