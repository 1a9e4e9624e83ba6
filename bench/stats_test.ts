import assert from "node:assert/strict";
import { percentile, round, summarize } from "./stats.ts";

Deno.test("percentile() uses the nearest rank", () => {
  const sorted = [10, 20, 30, 40, 50, 60, 70, 80, 90, 100];
  assert.equal(percentile(sorted, 0), 10);
  assert.equal(percentile(sorted, 10), 10);
  assert.equal(percentile(sorted, 11), 20);
  assert.equal(percentile(sorted, 50), 50);
  assert.equal(percentile(sorted, 95), 100);
  assert.equal(percentile(sorted, 100), 100);
  assert.equal(percentile([7], 99), 7);
});

Deno.test("percentile() rejects no samples and out-of-range percentiles", () => {
  assert.throws(() => percentile([], 50), RangeError);
  assert.throws(() => percentile([1], -1), /expected a number in \[0, 100\]/);
  assert.throws(() => percentile([1], 101), RangeError);
  assert.throws(() => percentile([1], NaN), RangeError);
});

Deno.test("summarize() sorts, rounds and reports every figure", () => {
  const samples = Array.from({ length: 20 }, (_, i) => 20 - i + 0.123);
  assert.deepEqual(summarize(samples), {
    runs: 20,
    min: 1.12,
    p50: 10.12,
    p95: 19.12,
    p99: 20.12,
    max: 20.12,
    mean: 10.62,
  });
  assert.equal(summarize([3, 1, 2], 0).p50, 2);
  assert.throws(() => summarize([]), /no samples/);
});

Deno.test("round() rounds to the given decimals", () => {
  assert.equal(round(3.14159, 2), 3.14);
  assert.equal(round(2.5, 0), 3);
  assert.equal(round(1234.5678, 1), 1234.6);
});
