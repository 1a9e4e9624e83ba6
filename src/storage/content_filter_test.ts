import assert from "node:assert/strict";
import { addLineTerms, bloomFilter, bloomHasAll, termsOf } from "./content_filter.ts";

const enc = new TextEncoder();

function filterOf(lines: string[]): Uint8Array {
  const terms = new Set<number>();
  for (const line of lines) {
    const b = enc.encode(line);
    addLineTerms(b, 0, b.length, terms);
  }
  return bloomFilter(terms);
}

Deno.test("a needle inside a longer token still matches its filter", () => {
  const trace = "4bf92f3577b34da6a3ce929d0e0e4736";
  const filter = filterOf([`GET /x trace_id=${trace}ffff rt=0.1`]);
  for (const needle of [trace, trace.slice(3, 29), `=${trace}`, trace.slice(0, 24)]) {
    assert.ok(bloomHasAll(filter, termsOf(needle)), needle);
  }
});

Deno.test("identifiers bounded by separators are checked whole; short words are not indexed", () => {
  const filter = filterOf(['{"user":"u_1234567","msg":"connection refused"}', "cache miss"]);
  assert.ok(bloomHasAll(filter, termsOf('"user":"u_1234567",')));
  assert.deepEqual(termsOf("u_1234567").length, 0, "an edge token may sit inside a longer one");
  assert.equal(termsOf('"u_1234567"').length, 1);
  assert.equal(termsOf(" refused ").length, 0, "words under 8 bytes are not indexed");
  assert.ok(!bloomHasAll(filter, termsOf('"u_7654321"')));
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
    if (bloomHasAll(filter, termsOf(needle))) falsePositives++;
  }
  assert.ok(falsePositives < 30, `false positives: ${falsePositives}`);
  assert.ok(bloomHasAll(filter, termsOf(lines[1234].slice(9))));
});

Deno.test("non-ASCII text is tokenized on bytes", () => {
  const filter = filterOf(["Größe überschritten: café"]);
  assert.ok(bloomHasAll(filter, termsOf(" überschritten:")));
  assert.ok(!bloomHasAll(filter, termsOf(" unterschritten:")));
  assert.equal(termsOf(" café ").length, 0);
});

/** The terms of a line as the filter's definition states them, by brute force (the oracle). */
function referenceTerms(bytes: Uint8Array): Set<number> {
  const fmix = (h: number) => {
    h ^= h >>> 16;
    h = Math.imul(h, 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    return (h ^ (h >>> 16)) >>> 0;
  };
  const hash = (from: number, to: number, seed: number) => {
    let h = seed;
    for (let i = from; i < to; i++) h = Math.imul(h ^ bytes[i], 0x01000193);
    return fmix(h);
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

Deno.test("addLineTerms() gives the terms of the definition on 5,000 random lines", () => {
  let seed = 11;
  const random = (n: number) => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed % n;
  };
  const alphabet = 'abcdef0123456789_ -:/."{}ü';
  for (let n = 0; n < 5000; n++) {
    const line = Array.from(
      { length: random(300) },
      () => random(8) === 0 ? alphabet[random(alphabet.length)] : "0123456789abcdef"[random(16)],
    ).join("");
    const bytes = new TextEncoder().encode(line);
    const terms = new Set<number>();
    addLineTerms(bytes, 0, bytes.length, terms);
    assert.deepEqual(terms, referenceTerms(bytes), line);
  }
});
