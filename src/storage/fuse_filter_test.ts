import assert from "node:assert/strict";
import { bloomFilter, FILE_FILTER_BITS, fileFilter, filterHasAll } from "./content_filter.ts";
import { FUSE_TAG, fuseHasAll, fuseShape } from "./fuse_filter.ts";
import { fmix } from "./fmix.ts";

/** `n` distinct 32-bit terms from a linear congruential generator, and a generator of others. */
function distinctTerms(n: number, seed: number) {
  const set = new Set<number>();
  let x = seed;
  const next = () => (x = (Math.imul(x, 1664525) + 1013904223) >>> 0);
  while (set.size < n) set.add(next());
  return { terms: Uint32Array.from(set), set, next };
}

Deno.test("a file filter holds every term it was given and lets 2^-3 of the others by", () => {
  const { terms, set, next } = distinctTerms(200_000, 7);
  const filter = fileFilter(terms);
  assert.equal(filter[0], FUSE_TAG);
  for (const t of terms) assert.ok(filterHasAll(filter, [t]), `term ${t} missing`);
  let others = 0;
  let passed = 0;
  while (others < 400_000) {
    const t = next();
    if (set.has(t)) continue;
    others++;
    if (filterHasAll(filter, [t])) passed++;
  }
  // 1/8 for 3-bit fingerprints; 0.01 is 20 standard deviations of the estimate.
  assert.ok(Math.abs(passed / others - 1 / 8) < 0.01, `${passed} of ${others} passed`);
  // Several terms pass only when each does.
  assert.equal(filterHasAll(filter, [terms[0], terms[1]]), true);
});

Deno.test("a file filter of a million terms takes under 3.45 bits a term", () => {
  const { terms } = distinctTerms(1_000_000, 11);
  const filter = fileFilter(terms);
  assert.ok((filter.length * 8) / terms.length < 3.45, `${filter.length} bytes`);
  assert.ok(bloomFilter(terms, FILE_FILTER_BITS).length * 8 / terms.length >= 3);
});

Deno.test("file filters of a few terms hold each of them; of none, pass nothing", () => {
  for (let n = 1; n <= 64; n++) {
    const { terms } = distinctTerms(n, n);
    const filter = fileFilter(terms);
    assert.equal(filter[0], FUSE_TAG);
    assert.ok(filterHasAll(filter, [...terms]), `${n} terms`);
  }
  const none = fileFilter(new Uint32Array());
  assert.equal(filterHasAll(none, [1]), false);
  assert.equal(filterHasAll(none, []), true);
});

Deno.test("terms that no seed peels (one given twice) make a Bloom filter, which holds them", () => {
  const filter = fileFilter(new Uint32Array([5, 5, 6]));
  assert.notEqual(filter[0], FUSE_TAG);
  assert.ok(filterHasAll(filter, [5, 6]));
});

Deno.test("fuseHasAll refuses what is not a fuse filter", () => {
  assert.throws(() => fuseHasAll(bloomFilter(new Uint32Array([1])), [1]), /not a fuse filter/);
});

/** The inverse of an odd multiplier mod 2^32, to invert fmix and craft terms by their slots. */
function inverse(a: number): number {
  const m = 1n << 32n;
  let y = BigInt(a);
  for (let i = 0; i < 5; i++) y = (y * (2n - ((BigInt(a) * y) % m) + m)) % m;
  return Number(y);
}
function unfmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, inverse(0xc2b2ae35));
  h ^= (h >>> 13) ^ (h >>> 26);
  h = Math.imul(h, inverse(0x85ebca6b));
  return (h ^ (h >>> 16)) >>> 0;
}

Deno.test("terms crafted to crowd one slot under the first seed take another, never a fault", () => {
  for (const h of [0, 1, 0xdeadbeef, 0xffffffff]) assert.equal(unfmix(fmix(h)), h);
  // The first seed a file filter tries, and its shape for 20,000 terms.
  const seed = fmix(0x7f4a7c15);
  const { segmentBits, segmentCount } = fuseShape(20_000, seed);
  // 300 terms whose first slot is slot 0: a slot's count would wrap past 255.
  const crowded = new Set<number>();
  for (let k = 1; crowded.size < 300; k++) {
    const t = (unfmix((k << segmentBits) >>> 0) ^ (seed + 0x9e3779b9)) >>> 0;
    if (Math.floor((fmix(t ^ seed) * segmentCount) / 4294967296) === 0) crowded.add(t);
  }
  const { terms: others } = distinctTerms(20_000 - crowded.size, 3);
  const terms = Uint32Array.from(new Set([...crowded, ...others]));
  const filter = fileFilter(terms);
  for (const t of terms) assert.ok(filterHasAll(filter, [t]), `term ${t} missing`);
  assert.equal(filter[0], FUSE_TAG);
  assert.notEqual(new DataView(filter.buffer).getUint32(2, true), seed, "the first seed was kept");
});
