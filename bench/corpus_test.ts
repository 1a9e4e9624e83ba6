import assert from "node:assert/strict";
import { corpusRate, MAX_RATE, MIN_SPAN_SECONDS } from "./corpus.ts";

Deno.test("corpusRate() spreads small corpora over at least the minimum span", () => {
  assert.equal(corpusRate(1_000_000), MAX_RATE);
  assert.equal(corpusRate(50_000) * MIN_SPAN_SECONDS, 50_000);
  assert.ok(50_000 / corpusRate(50_000) >= 300, "a quick corpus spans more than 5 minutes");
});
