/**
 * Binary fuse filters (Graf and Lemire, "Binary Fuse Filters: Fast and
 * Smaller Than Xor Filters", 2022) of 32-bit term hashes, with fingerprints
 * of {@linkcode FUSE_FINGERPRINT_BITS} bits: a term not in the set passes with
 * probability 2^-bits, for about 1.125 × bits per term on large sets. A Bloom
 * filter of the same size lets nearly twice as many by (24% at 3 bits a term
 * against 12.5% at 3.4), so a file's catalog filter is one of these: every
 * file it lets by costs a query an index read, from S3 for a cold file.
 *
 * Each term maps to a slot in each of three consecutive segments of the slot
 * array; the XOR of those slots' fingerprints is the term's own. The filter is
 * built by `content_filter.c`'s `fuse` (see `fileFilter` in
 * `content_filter.ts`), whose hashes {@linkcode fuseHasAll} repeats.
 *
 * Layout: byte 0 is {@linkcode FUSE_TAG} (a Bloom filter's first byte is its
 * probe count, far below it), then the fingerprint bits, the seed (u32), the
 * segment length's log2 and the segment count (u32), all little-endian, then
 * the slots' fingerprints packed `bits` at a time, and a byte of padding.
 *
 * @module
 */

import { fmix } from "./fmix.ts";

/** First byte of a fuse filter. */
export const FUSE_TAG = 0xfb;
/** Fingerprint bits: 12.5% of terms not in the set pass. */
export const FUSE_FINGERPRINT_BITS = 3;
/** Bytes before the fingerprints. */
export const FUSE_HEADER = 11;

/** How a filter of some number of terms is laid out, and hashed. */
export interface FuseShape {
  /** Fingerprint bits. */
  readonly bits: number;
  /** Log2 of a segment's slots. */
  readonly segmentBits: number;
  /** Segments a term's first slot may fall in; the array has two more. */
  readonly segmentCount: number;
  readonly seed: number;
}

/**
 * The shape of a filter of `n` terms, sized as the paper sizes arity 3:
 * segments of about n^0.83 / 3 slots (at most 2^18), and 1.125 slots a term
 * for large sets, more for small ones.
 *
 * @example
 * ```ts
 * import { fuseShape } from "./fuse_filter.ts";
 * import assert from "node:assert/strict";
 * const shape = fuseShape(1_000_000, 7);
 * assert.ok(((shape.segmentCount + 2) << shape.segmentBits) < 1_140_000);
 * ```
 */
export function fuseShape(n: number, seed: number, bits = FUSE_FINGERPRINT_BITS): FuseShape {
  const size = Math.max(n, 2);
  const segmentBits = Math.min(18, Math.floor(Math.log(size) / Math.log(3.33) + 2.25));
  const sizeFactor = Math.max(1.125, 0.875 + (0.25 * Math.log(1e6)) / Math.log(size));
  const segmentCount = Math.max(
    1,
    Math.ceil(Math.round(size * sizeFactor) / (1 << segmentBits)) - 2,
  );
  return { bits, segmentBits, segmentCount, seed: seed >>> 0 };
}

/** The slots of a shape's filter. */
export function fuseSlots(shape: FuseShape): number {
  return (shape.segmentCount + 2) << shape.segmentBits;
}

/** The filter's bytes for `shape`, its fingerprints (packed, {@linkcode fuseSlots} of them) to follow. */
export function fuseHeader(shape: FuseShape): Uint8Array {
  const out = new Uint8Array(FUSE_HEADER);
  const view = new DataView(out.buffer);
  out[0] = FUSE_TAG;
  out[1] = shape.bits;
  view.setUint32(2, shape.seed, true);
  out[6] = shape.segmentBits;
  view.setUint32(7, shape.segmentCount, true);
  return out;
}

/**
 * Whether the fuse filter `filter` may hold every term of `terms` (always
 * true for none). The hashes are `content_filter.c`'s `fuse_slots`.
 *
 * @example
 * ```ts
 * import { fileFilter } from "./content_filter.ts";
 * import { fuseHasAll } from "./fuse_filter.ts";
 * import assert from "node:assert/strict";
 * const filter = fileFilter(new Uint32Array([10, 20, 30]));
 * assert.equal(fuseHasAll(filter, [10, 30]), true); // no false negatives
 * ```
 * @throws {RangeError} when `filter` is not a fuse filter.
 */
export function fuseHasAll(filter: Uint8Array, terms: readonly number[]): boolean {
  if (filter[0] !== FUSE_TAG || filter.length < FUSE_HEADER + 1) {
    throw new RangeError("not a fuse filter");
  }
  const view = new DataView(filter.buffer, filter.byteOffset, filter.byteLength);
  const bits = filter[1];
  const seed = view.getUint32(2, true);
  const segmentBits = filter[6];
  const segmentCount = view.getUint32(7, true);
  const mask = (1 << segmentBits) - 1;
  const fpMask = (1 << bits) - 1;
  const fingerprintAt = (slot: number) => {
    const at = FUSE_HEADER * 8 + slot * bits;
    return ((filter[at >>> 3] | (filter[(at >>> 3) + 1] << 8)) >>> (at & 7)) & fpMask;
  };
  for (const term of terms) {
    const segment = Math.floor((fmix(term ^ seed) * segmentCount) / 4294967296);
    const o0 = fmix(term ^ (seed + 0x9e3779b9)) & mask;
    const x = fmix(term ^ (seed + 0x3c6ef372));
    const o1 = o0 ^ (x & mask);
    const o2 = o1 ^ ((x >>> 14) & mask);
    const v = (fmix(term ^ (seed ^ 0x5bd1e995)) & fpMask) ^
      fingerprintAt((segment << segmentBits) + o0) ^
      fingerprintAt(((segment + 1) << segmentBits) + o1) ^
      fingerprintAt(((segment + 2) << segmentBits) + o2);
    if (v !== 0) return false;
  }
  return true;
}
