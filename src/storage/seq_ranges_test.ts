import assert from "node:assert/strict";
import { mergeRanges, SeqSet, toRanges } from "./seq_ranges.ts";

Deno.test("toRanges merges adjacent and duplicate sequences", () => {
  assert.deepEqual(toRanges([7, 1, 2, 2, 3, 5, 6]), [[1, 3], [5, 7]]);
  assert.deepEqual(toRanges([]), []);
  assert.deepEqual(mergeRanges([[5, 9], [1, 6]]), [[1, 9]]);
});

Deno.test("SeqSet answers membership and coverage", () => {
  const s = new SeqSet();
  s.addRanges([[1, 3], [10, 12]]);
  s.addRanges([[4, 4]]);
  assert.ok(s.has(4) && s.has(12) && !s.has(5) && !s.has(0));
  assert.ok(s.coversRange(1, 4));
  assert.ok(!s.coversRange(3, 10));
  assert.ok(s.coversAll([[2, 3], [11, 12]]));
  assert.equal(s.max(), 12);
  assert.equal(new SeqSet().max(), 0);
});
