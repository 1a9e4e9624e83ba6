/**
 * Content filters: which search terms a block (or a whole segment) may contain,
 * so a line search skips blocks without decompressing them.
 *
 * Lines are split into tokens: maximal runs of `[0-9A-Za-z_]` and non-ASCII
 * bytes. A token of 8 to 31 bytes (identifiers, not words: a line filter
 * can only rely on a word it brackets with separators) is recorded whole. A longer token (trace ids,
 * hashes) is recorded by *winnowing*: of every window of 25 consecutive 8-byte
 * grams, the gram with the smallest hash (one term for a 32-hex trace id). Any substring of such a token that
 * spans a whole window selects the same gram, so a needle that is only part of
 * a line token (`|= "4bf92f35…"` inside `trace=4bf92f35…`) still prunes, and the
 * filter never claims a line filter cannot match when it can. Line filters are
 * substring matches, so a short term with no separator around it (`|= "time"`)
 * prunes nothing: it may sit inside any token.
 *
 * Terms are hashed to 32 bits and kept in filters: a Bloom filter of 9 bits
 * per term in a block (1.3% false positives), a binary fuse filter of ~3.4 in
 * a file's catalog filter (12.5%; `fuse_filter.ts`). A
 * block's terms are collected by `content_filter.c` ({@linkcode blockTerms});
 * a needle's here ({@linkcode termsOf}), with the same hashes.
 *
 * @module
 */

import * as wasm from "./content_filter.wasm";
import { memoryFor } from "../wasm_memory.ts";
import { fmix } from "./fmix.ts";
import {
  FUSE_HEADER,
  FUSE_TAG,
  fuseHasAll,
  fuseHeader,
  fuseShape,
  fuseSlots,
} from "./fuse_filter.ts";

const WORD_MIN = 8;
const LONG_TOKEN = 32;
const GRAM = 8;
const WINDOW = LONG_TOKEN - GRAM + 1;

const WORD_BYTES = new Uint8Array(256).map((_, b) =>
  (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a) ||
    b === 0x5f || b >= 0x80
    ? 1
    : 0
);

function isWordByte(b: number): boolean {
  return WORD_BYTES[b] === 1;
}

function hashBytes(bytes: Uint8Array, start: number, end: number, seed: number): number {
  let h = seed;
  for (let i = start; i < end; i++) h = Math.imul(h ^ bytes[i], 0x01000193);
  return fmix(h);
}

const WORD_SEED = 0x811c9dc5;
const GRAM_SEED = 0x2c1b3c6d;

/** Gram hashes and the window's candidate minima, reused from token to token. */
let gramHashes = new Uint32Array(256);
let window = new Int32Array(256);

/**
 * Adds the minimum gram hash of every window of {@linkcode WINDOW} grams of
 * `bytes[start..end)`: a monotonic queue of candidates makes it one pass,
 * not a scan per window (the same minima).
 */
function addWinnowed(bytes: Uint8Array, start: number, end: number, out: Set<number>): void {
  const grams = end - start - GRAM + 1;
  if (gramHashes.length < grams) {
    gramHashes = new Uint32Array(grams * 2);
    window = new Int32Array(grams * 2);
  }
  const hashes = gramHashes;
  for (let i = 0; i < grams; i++) {
    hashes[i] = hashBytes(bytes, start + i, start + i + GRAM, GRAM_SEED);
  }
  // window[head..tail) holds gram indices whose hashes increase: the first is the minimum.
  let head = 0;
  let tail = 0;
  let last = -1;
  for (let i = 0; i < grams; i++) {
    const h = hashes[i];
    while (tail > head && hashes[window[tail - 1]] >= h) tail--;
    window[tail++] = i;
    if (window[head] <= i - WINDOW) head++;
    if (i >= WINDOW - 1) {
      const min = hashes[window[head]];
      if (min !== last) out.add(last = min);
    }
  }
}

/** The lines of one part of a block: their bytes back to back, and where each ends. */
export interface LinesPart {
  bytes: Uint8Array;
  ends: ArrayLike<number>;
}

/**
 * The distinct term hashes of the UTF-8 lines of `parts` (a block's lines
 * and its metadata values), each once, in the order first met, by `content_filter.wasm`
 * (`content_filter.c`) in one call: compaction collects the terms of every
 * block it writes, and the same loops in JS took a third of a merge.
 *
 * @example
 * ```ts
 * import { blockTerms, termsOf } from "./content_filter.ts";
 * import assert from "node:assert/strict";
 * const bytes = new TextEncoder().encode("GET /users status=503 upstream timeoutGET /users");
 * const terms = blockTerms([{ bytes, ends: [38, bytes.length] }]);
 * const needle = termsOf(" upstream ");
 * assert.equal(needle.length, 1);
 * assert.ok(needle.every((t) => terms.includes(t)));
 * assert.equal(termsOf(" timeoutGET ").every((t) => terms.includes(t)), false); // two lines
 * ```
 */
export function blockTerms(
  parts: readonly LinesPart[],
  firstRoom?: number,
): Uint32Array {
  let textLength = 0;
  let lines = 0;
  let longest = 0;
  for (const p of parts) {
    textLength += p.bytes.length;
    lines += p.ends.length;
    for (let i = 0, start = 0; i < p.ends.length; start = p.ends[i++]) {
      longest = Math.max(longest, p.ends[i] - start);
    }
  }
  // A term takes 9 bytes of text (a word and a separator) or, winnowed, one
  // to 25 of a long token (~13 for random ids): a first try has room for one
  // in 4 bytes, the next for one a byte (`firstRoom` sets the first's).
  for (let room = firstRoom ?? Math.max(16, textLength >>> 2);; room = textLength + 16) {
    // Gram hashes are computed 8 at a time, reading past a token's end.
    const endsAt = align(HEAP_BASE + textLength + 16);
    const tableAt = endsAt + lines * 4;
    const slots = 2 ** Math.ceil(Math.log2(room * 2));
    const outAt = tableAt + slots * 4;
    const gramsAt = outAt + room * 4;
    const memory = heapOf(gramsAt + 3 * (longest + 8) * 4);
    const heap = new Uint8Array(memory.buffer);
    const ends = new Uint32Array(memory.buffer, endsAt, lines);
    let at = HEAP_BASE;
    let line = 0;
    for (const p of parts) {
      heap.set(p.bytes, at);
      for (let i = 0; i < p.ends.length; i++) ends[line++] = at - HEAP_BASE + p.ends[i];
      at += p.bytes.length;
    }
    const count = wasm.block_terms(
      HEAP_BASE,
      endsAt,
      lines,
      tableAt,
      slots,
      outAt,
      room,
      gramsAt,
      longest,
    ) as number;
    if (count >= 0) return new Uint32Array(memory.buffer, outAt, count).slice();
    if (room > textLength) throw new Error(`Cannot collect terms: ${room} of room was not enough`);
  }
}

/** Past the module's data, at a multiple of 4. */
const HEAP_BASE = align(wasm.heap_base() as number);

function align(at: number): number {
  return Math.ceil(at / 4) * 4;
}

/** The module's memory, grown to hold `end` bytes first. */
function heapOf(end: number): WebAssembly.Memory {
  return memoryFor(wasm.memory as WebAssembly.Memory, end);
}

const encoder = new TextEncoder();

/**
 * The term hashes that every line containing `needle` as a substring must
 * have. An empty result means the needle cannot prune.
 *
 * @example
 * ```ts
 * import { termsOf } from "./content_filter.ts";
 * import assert from "node:assert/strict";
 * assert.equal(termsOf("upstream").length, 0); // it may sit inside a longer token
 * assert.equal(termsOf(" upstream ").length, 1);
 * assert.equal(termsOf(" timeout ").length, 0); // under 8 bytes: not recorded
 * ```
 */
export function termsOf(needle: string): number[] {
  const bytes = encoder.encode(needle);
  const out = new Set<number>();
  let tokenStart = -1;
  const take = (end: number) => {
    const bounded = tokenStart > 0 && end < bytes.length;
    const len = end - tokenStart;
    if (len >= LONG_TOKEN) addWinnowed(bytes, tokenStart, end, out);
    else if (bounded && len >= WORD_MIN) out.add(hashBytes(bytes, tokenStart, end, WORD_SEED));
  };
  for (let i = 0; i < bytes.length; i++) {
    if (isWordByte(bytes[i])) {
      if (tokenStart < 0) tokenStart = i;
    } else if (tokenStart >= 0) {
      take(i);
      tokenStart = -1;
    }
  }
  if (tokenStart >= 0) take(bytes.length);
  return [...out];
}

/**
 * Bits per term of a block's filter. Filters cost a byte or two of every
 * stored line (mostly the random ids lines carry) beside ~40 for the line
 * itself: at 12 bits (0.3% false positives) the bench corpus took 0.7 B/line
 * more, while a needle decodes 1% more of the blocks its file filter lets by.
 */
export const BLOCK_FILTER_BITS = 9;
/**
 * Bits per term of a file's Bloom filter, when its terms do not make a fuse
 * filter ({@linkcode fileFilter}), and of files written before fuse filters.
 */
export const FILE_FILTER_BITS = 3;

/**
 * Builds a Bloom filter holding `terms` at `bitsPerTerm` bits each, with the
 * number of probes that minimizes false positives for that size (stored in
 * the first byte).
 *
 * @example
 * ```ts
 * import { bloomFilter, filterHasAll } from "./content_filter.ts";
 * import assert from "node:assert/strict";
 * const filter = bloomFilter(new Uint32Array([1, 2, 3]));
 * assert.equal(filterHasAll(filter, [2, 3]), true); // no false negatives
 * ```
 */
export function bloomFilter(
  terms: Uint32Array,
  bitsPerTerm: number = BLOCK_FILTER_BITS,
): Uint8Array {
  const bytes = Math.max(8, Math.ceil((terms.length * bitsPerTerm) / 8));
  const probes = Math.max(1, Math.round(bitsPerTerm * Math.LN2));
  // Set by `content_filter.c`'s bloom, as filterHasAll probes.
  const filterAt = align(HEAP_BASE + terms.length * 4);
  const memory = heapOf(filterAt + bytes);
  new Uint32Array(memory.buffer, HEAP_BASE, terms.length).set(terms);
  new Uint8Array(memory.buffer, filterAt, bytes).fill(0);
  wasm.bloom(HEAP_BASE, terms.length, bytes * 8, probes, filterAt);
  const filter = new Uint8Array(1 + bytes);
  filter[0] = probes;
  filter.set(new Uint8Array(memory.buffer, filterAt, bytes), 1);
  return filter;
}

/** Seeds a file filter tries before it settles for a Bloom filter. */
const FUSE_ATTEMPTS = 8;

/**
 * A file's filter of its distinct `terms`: a binary fuse filter
 * (`fuse_filter.ts`; 12.5% of other terms pass, at ~3.4 bits a term), or,
 * should no seed peel the terms, a Bloom filter of
 * {@linkcode FILE_FILTER_BITS} bits a term (24%).
 *
 * @example
 * ```ts
 * import { fileFilter, filterHasAll } from "./content_filter.ts";
 * import assert from "node:assert/strict";
 * const filter = fileFilter(new Uint32Array([1, 2, 3]));
 * assert.equal(filterHasAll(filter, [2, 3]), true); // no false negatives
 * ```
 */
export function fileFilter(terms: Uint32Array): Uint8Array {
  const n = terms.length;
  if (n === 0) return bloomFilter(terms, FILE_FILTER_BITS); // none passes
  let shape = fuseShape(n, 0);
  const slots = fuseSlots(shape);
  const scratchAt = align(HEAP_BASE + n * 4);
  // `fuse`'s scratch: counts and fingerprints, XORs and a queue by slot; the peeled terms.
  const outAt = align(scratchAt + 2 * align(slots) + 8 * slots + 5 * n);
  const outBytes = Math.ceil((slots * shape.bits) / 8) + 1;
  const memory = heapOf(outAt + outBytes);
  new Uint32Array(memory.buffer, HEAP_BASE, n).set(terms);
  const out = new Uint8Array(memory.buffer, outAt, outBytes);
  for (let attempt = 0; attempt < FUSE_ATTEMPTS; attempt++) {
    shape = { ...shape, seed: fmix(0x7f4a7c15 + attempt) };
    out.fill(0);
    const { seed, segmentBits, segmentCount, bits } = shape;
    if (wasm.fuse(HEAP_BASE, n, seed, segmentBits, segmentCount, bits, scratchAt, outAt) === 1) {
      const filter = new Uint8Array(FUSE_HEADER + outBytes);
      filter.set(fuseHeader(shape));
      filter.set(out, FUSE_HEADER);
      return filter;
    }
  }
  return bloomFilter(terms, FILE_FILTER_BITS);
}

/**
 * Whether `filter` may hold every term of `terms`: always true for no terms,
 * or for an empty filter (a file whose blocks carry none). Block filters are
 * Bloom filters; a file's is a fuse filter ({@linkcode fileFilter}) or, in
 * files written before them, a Bloom filter.
 */
export function filterHasAll(filter: Uint8Array, terms: readonly number[]): boolean {
  if (filter.length === 0) return true;
  if (filter[0] === FUSE_TAG) return fuseHasAll(filter, terms);
  const probes = filter[0];
  const bits = (filter.length - 1) * 8;
  for (const h of terms) {
    const step = ((fmix(h ^ 0x9e3779b9) | 1) >>> 0) % bits;
    let at = h % bits;
    for (let i = 0; i < probes; i++) {
      if ((filter[1 + (at >>> 3)] & (1 << (at & 7))) === 0) return false;
      at += step;
      if (at >= bits) at -= bits;
    }
  }
  return true;
}
