import assert from "node:assert/strict";
import {
  blockTerms,
  bloomFilter,
  filterHasAll,
  type LinesPart,
  termsOf,
} from "./content_filter.ts";
import { Rng } from "../../testing/prng.ts";

const enc = new TextEncoder();

/** `lines` back to back, with where each ends. */
function partOf(lines: readonly string[]): LinesPart {
  const encoded = lines.map((l) => enc.encode(l));
  const bytes = new Uint8Array(encoded.reduce((n, b) => n + b.length, 0));
  const ends: number[] = [];
  let at = 0;
  for (const b of encoded) {
    bytes.set(b, at);
    ends.push(at += b.length);
  }
  return { bytes, ends };
}

function filterOf(lines: string[]): Uint8Array {
  return bloomFilter(blockTerms([partOf(lines)]));
}

Deno.test("a needle inside a longer token still matches its filter", () => {
  const trace = "4bf92f3577b34da6a3ce929d0e0e4736";
  const filter = filterOf([`GET /x trace_id=${trace}ffff rt=0.1`]);
  for (const needle of [trace, trace.slice(3, 29), `=${trace}`, trace.slice(0, 24)]) {
    assert.ok(filterHasAll(filter, termsOf(needle)), needle);
  }
});

Deno.test("identifiers bounded by separators are checked whole; short words are not indexed", () => {
  const filter = filterOf(['{"user":"u_1234567","msg":"connection refused"}', "cache miss"]);
  assert.ok(filterHasAll(filter, termsOf('"user":"u_1234567",')));
  assert.deepEqual(termsOf("u_1234567").length, 0, "an edge token may sit inside a longer one");
  assert.equal(termsOf('"u_1234567"').length, 1);
  assert.equal(termsOf(" refused ").length, 0, "words under 8 bytes are not indexed");
  assert.ok(!filterHasAll(filter, termsOf('"u_7654321"')));
});

Deno.test("an absent long needle is rejected by the filter", () => {
  const lines = Array.from(
    { length: 2000 },
    (_, i) => `trace_id=${i.toString(16).padStart(32, "a")}`,
  );
  const filter = filterOf(lines);
  let falsePositives = 0;
  for (let i = 0; i < 1000; i++) {
    const needle = (1_000_000 + i).toString(16).padStart(32, "b");
    if (filterHasAll(filter, termsOf(needle))) falsePositives++;
  }
  assert.ok(falsePositives < 30, `false positives: ${falsePositives}`);
  assert.ok(filterHasAll(filter, termsOf(lines[1234].slice(9))));
});

Deno.test("non-ASCII text is tokenized on bytes", () => {
  const filter = filterOf(["Größe überschritten: café"]);
  assert.ok(filterHasAll(filter, termsOf(" überschritten:")));
  assert.ok(!filterHasAll(filter, termsOf(" unterschritten:")));
  assert.equal(termsOf(" café ").length, 0);
});

/** murmur3's 32-bit finalizer, as the definition states it. */
function fmixOf(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** The terms of a line as the filter's definition states them, by brute force (the oracle). */
function referenceTerms(bytes: Uint8Array): Set<number> {
  const hash = (from: number, to: number, seed: number) => {
    let h = seed;
    for (let i = from; i < to; i++) h = Math.imul(h ^ bytes[i], 0x01000193);
    return fmixOf(h);
  };
  const word = (b: number) =>
    (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a) ||
    b === 0x5f || b >= 0x80;
  const out = new Set<number>();
  for (let i = 0; i < bytes.length;) {
    if (!word(bytes[i])) {
      i++;
      continue;
    }
    let j = i;
    while (j < bytes.length && word(bytes[j])) j++;
    const len = j - i;
    if (len >= 32) {
      const grams = Array.from({ length: len - 7 }, (_, g) => hash(i + g, i + g + 8, 0x2c1b3c6d));
      for (let w = 0; w + 25 <= grams.length; w++) out.add(Math.min(...grams.slice(w, w + 25)));
    } else if (len >= 8) out.add(hash(i, j, 0x811c9dc5));
    i = j;
  }
  return out;
}

Deno.test("blockTerms() gives the terms of the definition, each once, on 3,000 random blocks", () => {
  const rng = new Rng();
  rng.state = 11;
  const alphabet = 'abcdef0123456789_ -:/."{}ü';
  // One line in 10 is long, with separators one byte in 400: tokens of hundreds or thousands
  // of bytes, whose gram hashes go by chunks.
  const randomLine = () => {
    const long = rng.below(10) === 0;
    return Array.from(
      { length: rng.below(long ? 3000 : 300) },
      () =>
        rng.below(long ? 400 : 8) === 0
          ? alphabet[rng.below(alphabet.length)]
          : "0123456789abcdef"[rng.below(16)],
    ).join("");
  };
  for (let n = 0; n < 3000; n++) {
    // A block's lines, and metadata values for some of them (empty for others).
    const lines = Array.from({ length: 1 + rng.below(12) }, randomLine);
    const metadata = lines.map(() => rng.below(3) === 0 ? randomLine() : "");
    const parts = n % 2 === 0 ? [partOf(lines), partOf(metadata)] : [partOf(lines)];
    const expected = new Set<number>();
    for (const line of n % 2 === 0 ? [...lines, ...metadata] : lines) {
      for (const t of referenceTerms(enc.encode(line))) expected.add(t);
    }
    const terms = blockTerms(parts);
    assert.equal(new Set(terms).size, terms.length, "each term once");
    assert.deepEqual(new Set(terms), expected, lines.join("\n"));
    // With no room at first, the second try gives the same.
    assert.deepEqual(blockTerms(parts, 1), terms);
  }
});

Deno.test("bloomFilter() sets the bits filterHasAll() probes, as the definition places them", () => {
  const rng = new Rng();
  rng.state = 5;
  for (const bitsPerTerm of [12, 4]) {
    for (const count of [0, 1, 7, 1000, 30_000]) {
      const terms = new Uint32Array(count).map(() => rng.u32());
      const filter = bloomFilter(terms, bitsPerTerm);
      // The definition: double hashing, probe i at (h + i·step) mod bits.
      const bytes = Math.max(8, Math.ceil((count * bitsPerTerm) / 8));
      const probes = Math.max(1, Math.round(bitsPerTerm * Math.LN2));
      const expected = new Uint8Array(1 + bytes);
      expected[0] = probes;
      const bits = bytes * 8;
      for (const h of terms) {
        const step = ((fmixOf(h ^ 0x9e3779b9) | 1) >>> 0) % bits;
        for (let i = 0; i < probes; i++) {
          const at = (h + i * step) % bits;
          expected[1 + (at >>> 3)] |= 1 << (at & 7);
        }
      }
      assert.deepEqual(filter, expected, `${count} terms at ${bitsPerTerm} bits`);
      assert.ok(filterHasAll(filter, [...terms]));
    }
  }
});
