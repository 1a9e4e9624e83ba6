/**
 * MurmurHash3's 32-bit finalizer, the mixer of the content filters' hashes
 * (`content_filter.ts`, `fuse_filter.ts`, and `content_filter.c`'s `fmix`).
 *
 * @example
 * ```ts
 * import { fmix } from "./fmix.ts";
 * import assert from "node:assert/strict";
 * assert.equal(fmix(0), 0);
 * assert.notEqual(fmix(1), fmix(2));
 * ```
 *
 * @module
 */

/** Mixes the bits of `h`, a 32-bit integer, into an unsigned 32-bit hash. */
export function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}
