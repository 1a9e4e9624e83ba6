/**
 * A push body as it arrived: the chunks the connection delivered. The WAL
 * writes a record as its parts; a decoder reads the chunks in place (the bulk
 * scanner copies them straight into its own memory) or joined into a buffer
 * that every body reuses. A fresh buffer the size of the body per request,
 * whose pages fault in on the copy and go back to the system when it is
 * collected, costs more than the copy: it is made only when asked for.
 *
 * @module
 */

/**
 * The buffer {@linkcode ReceivedBody.transient} joins bodies into, grown and
 * reused: decodes run one at a time on the event loop. It grows in steps of
 * {@linkcode GROWTH} to the largest body joined, at most `--max-body-size`
 * rounded up, and is kept.
 */
let scratch = new Uint8Array(0);
const GROWTH = 256 * 1024;

/**
 * The bytes of a body, as its chunks.
 *
 * @example
 * ```ts
 * import { ReceivedBody } from "./received_body.ts";
 * import assert from "node:assert/strict";
 * const body = new ReceivedBody([new Uint8Array([1, 2]), new Uint8Array([3])]);
 * assert.equal(body.size, 3);
 * const into = new Uint8Array(2);
 * body.copy(into, 1, 3);
 * assert.deepEqual(into, new Uint8Array([2, 3]));
 * assert.deepEqual(body.transient(), new Uint8Array([1, 2, 3]));
 * assert.deepEqual(body.bytes(), new Uint8Array([1, 2, 3]));
 * ```
 */
export class ReceivedBody {
  /** The chunks, in order; none for an empty body. */
  readonly parts: readonly Uint8Array[];
  /** Bytes in all chunks. */
  readonly size: number;
  #joined: Uint8Array | undefined;

  constructor(parts: readonly Uint8Array[]) {
    this.parts = parts;
    let size = 0;
    for (const part of parts) size += part.length;
    this.size = size;
    if (parts.length === 1) this.#joined = parts[0];
  }

  /** The whole body in one buffer: the only chunk, or the chunks joined (once). */
  bytes(): Uint8Array {
    if (this.#joined === undefined) {
      const joined = new Uint8Array(this.size);
      let at = 0;
      for (const part of this.parts) {
        joined.set(part, at);
        at += part.length;
      }
      this.#joined = joined;
    }
    return this.#joined;
  }

  /**
   * The whole body in one buffer that holds it only until the next call of
   * this method on any body: the only chunk, or the chunks copied into a
   * buffer that every body reuses. For a synchronous decoder that keeps no
   * view of its input (its strings are copies): unlike {@linkcode bytes}, no
   * fresh body-sized buffer per request.
   */
  transient(): Uint8Array {
    if (this.#joined !== undefined) return this.#joined;
    if (scratch.length < this.size) {
      scratch = new Uint8Array(Math.ceil(this.size / GROWTH) * GROWTH);
    }
    this.copy(scratch, 0, this.size);
    return scratch.subarray(0, this.size);
  }

  /**
   * Copies the body's bytes `[from, to)` to the start of `into`.
   *
   * @throws {RangeError} when the range is not within the body or does not fit `into`.
   */
  copy(into: Uint8Array, from: number, to: number): void {
    if (!(0 <= from && from <= to && to <= this.size) || to - from > into.length) {
      throw new RangeError(
        `cannot copy bytes [${from}, ${to}) of a ${this.size}-byte body into ${into.length} bytes`,
      );
    }
    if (this.#joined !== undefined) {
      into.set(this.#joined.subarray(from, to));
      return;
    }
    let start = 0;
    for (const part of this.parts) {
      const end = start + part.length;
      if (end > from && start < to) {
        const a = Math.max(from, start);
        into.set(part.subarray(a - start, Math.min(to, end) - start), a - from);
      }
      if (end >= to) break;
      start = end;
    }
  }
}
