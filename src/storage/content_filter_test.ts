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
