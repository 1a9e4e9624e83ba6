/**
 * Rice codes: how a block stores its timestamp deltas, at what their entropy
 * costs. The deltas between lines of a stream are random in their low bits
 * (what zstd cannot squeeze) and roughly geometric, for which a Rice code with
 * the best parameter `k` is within a tenth of a bit of the entropy of
 * a memoryless source of the same mean. A LEB128 varint spends whole bytes and
 * a continuation bit per 7: 4.29 bytes a line on the bench corpus, where Rice
 * codes take 3.68 (the geometric bound for those means is 3.67).
 *
 * A value `v` is `q = floor(v / 2^k)` one-bits, a zero-bit and the `k` low
 * bits of `v`; a quotient of {@linkcode ESCAPE_QUOTIENT} or more (a stream
 * silent for long among busy seconds) is that many one-bits and then `v` in
 * {@linkcode ESCAPE_BITS} bits. Bits fill each byte from its lowest bit; the
 * last byte is padded with zeros.
 *
 * ```
 * u8     k
 * bits   codes × count, padded to a byte
 * ```
 *
 * @module
 */

import type { ByteReader, ByteWriter } from "./byte_buffer.ts";

/** Quotients from this up are escaped: the value follows in full. */
export const ESCAPE_QUOTIENT = 40;
/** Bits of an escaped value: any safe integer. */
export const ESCAPE_BITS = 53;
/** The largest value a Rice code here holds. */
export const MAX_RICE_VALUE = Number.MAX_SAFE_INTEGER;

/** Bits of `values` coded with parameter `k`. */
function codeBits(values: ArrayLike<number>, k: number): number {
  const scale = 2 ** k;
  let bits = 0;
  for (let i = 0; i < values.length; i++) {
    const q = Math.floor(values[i] / scale);
    bits += q >= ESCAPE_QUOTIENT ? ESCAPE_QUOTIENT + ESCAPE_BITS : q + 1 + k;
  }
  return bits;
}

/**
 * The parameter that codes `values` in the fewest bits: one at most a step
 * above log2 of their mean, but maybe far below it when a few values dwarf
 * the rest (those are better escaped), so every one up to there is tried.
 */
function bestParameter(values: ArrayLike<number>): { k: number; bits: number } {
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += values[i];
  const mean = values.length === 0 ? 0 : sum / values.length;
  const top = Math.min(ESCAPE_BITS - 1, mean < 1 ? 0 : Math.floor(Math.log2(mean)) + 1);
  let best = { k: 0, bits: Infinity };
  for (let k = top; k >= 0; k--) {
    const bits = codeBits(values, k);
    if (bits < best.bits) best = { k, bits };
  }
  return best;
}

/**
 * Appends `values` (non-negative safe integers) as Rice codes with the best
 * parameter; {@linkcode readRice} reads them back given their count.
 *
 * @example
 * ```ts
 * import { readRice, writeRice } from "./rice.ts";
 * import { ByteReader, ByteWriter } from "./byte_buffer.ts";
 * import assert from "node:assert/strict";
 * const w = new ByteWriter();
 * writeRice(w, [5_000_123, 4_999_870, 0, 2 ** 50]);
 * const values = readRice(new ByteReader(w.bytes()), 4);
 * assert.deepEqual([...values], [5_000_123, 4_999_870, 0, 2 ** 50]);
 * ```
 * @throws {RangeError} when a value is negative, fractional or above
 * {@linkcode MAX_RICE_VALUE}.
 */
export function writeRice(out: ByteWriter, values: ArrayLike<number>): void {
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!(Number.isSafeInteger(v) && v >= 0)) {
      throw new RangeError(`Cannot Rice-code ${v}: not a safe non-negative integer`);
    }
  }
  const { k, bits } = bestParameter(values);
  out.u8(k);
  const bytes = Math.ceil(bits / 8);
  const at = out.reserve(bytes);
  const buf = out.bytes();
  buf.fill(0, at, at + bytes);
  let pos = at * 8;
  // Sets `n` low bits of `value` at `pos` (n ≤ 24: one 32-bit window).
  const put = (value: number, n: number) => {
    let v = value * (1 << (pos & 7));
    for (let b = pos >>> 3; v > 0; b++) {
      buf[b] |= v & 0xff;
      v = Math.floor(v / 256);
    }
    pos += n;
  };
  const putBits = (value: number, n: number) => {
    for (; n > 24; n -= 24) {
      put(value % 0x100_0000, 24);
      value = Math.floor(value / 0x100_0000);
    }
    put(value, n);
  };
  const scale = 2 ** k;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    const q = Math.floor(v / scale);
    if (q >= ESCAPE_QUOTIENT) {
      putBits(2 ** ESCAPE_QUOTIENT - 1, ESCAPE_QUOTIENT);
      putBits(v, ESCAPE_BITS);
    } else {
      putBits(2 ** q - 1, q + 1); // q ones, then the zero
      putBits(v - q * scale, k);
    }
  }
}

/**
 * Reads `count` values that {@linkcode writeRice} wrote, leaving `reader`
 * after their last byte.
 *
 * @throws {RangeError} when the codes run past the end of the buffer.
 */
export function readRice(reader: ByteReader, count: number): Float64Array {
  const k = reader.u8();
  if (k >= ESCAPE_BITS) throw new RangeError(`Rice parameter ${k} out of range`);
  const buf = reader.buf;
  const end = buf.length * 8;
  let pos = reader.pos * 8;
  // The 24 bits at `pos` (bytes past the end read as zeros).
  const window = () => {
    const b = pos >>> 3;
    return ((buf[b] | (buf[b + 1] << 8) | (buf[b + 2] << 16) | (buf[b + 3] << 24)) >>>
      (pos & 7)) & 0xff_ffff;
  };
  const take = (n: number) => {
    let value = 0;
    let scale = 1;
    for (; n > 24; n -= 24) {
      value += window() * scale;
      scale *= 0x100_0000;
      pos += 24;
    }
    value += (window() & ((1 << n) - 1)) * scale;
    pos += n;
    return value;
  };
  const scale = 2 ** k;
  const values = new Float64Array(count);
  for (let i = 0; i < count; i++) {
    let q = 0;
    for (;;) {
      const zeros = ~window() & 0xff_ffff;
      const ones = zeros === 0 ? 24 : 31 - Math.clz32(zeros & -zeros);
      if (q + ones >= ESCAPE_QUOTIENT) {
        pos += ESCAPE_QUOTIENT - q;
        q = ESCAPE_QUOTIENT;
        break;
      }
      q += ones;
      pos += ones;
      if (ones < 24 || pos > end) break;
    }
    if (pos > end) break;
    if (q === ESCAPE_QUOTIENT) values[i] = take(ESCAPE_BITS);
    else {
      pos++; // the zero
      values[i] = q * scale + take(k);
    }
  }
  if (pos > end) throw new RangeError(`Rice codes run past the end of the buffer`);
  reader.pos = Math.ceil(pos / 8);
  return values;
}
