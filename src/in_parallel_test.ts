import assert from "node:assert/strict";
import { inParallel } from "./in_parallel.ts";

Deno.test("inParallel runs every item once, never more than the limit at once", async () => {
  for (const [count, limit] of [[0, 3], [1, 3], [10, 3], [5, 10]]) {
    let running = 0;
    let most = 0;
    const seen: number[] = [];
    const items = Array.from({ length: count }, (_, i) => i);
    await inParallel(items, limit, async (n) => {
      most = Math.max(most, ++running);
      await new Promise((r) => setTimeout(r, (n * 7) % 5));
      seen.push(n);
      running--;
    });
    assert.deepEqual(seen.sort((a, b) => a - b), items);
    assert.equal(most, Math.min(count, limit));
  }
});

Deno.test("inParallel rejects with the first failure and starts nothing after it", async () => {
  const started: number[] = [];
  await assert.rejects(
    inParallel([0, 1, 2, 3, 4, 5], 2, async (n) => {
      started.push(n);
      await new Promise((r) => setTimeout(r, 1));
      if (n === 1) throw new Error("item 1 failed");
    }),
    { message: "item 1 failed" },
  );
  await new Promise((r) => setTimeout(r, 20));
  // Item 1 failed while item 2 ran beside it: nothing started after that.
  assert.deepEqual(started, [0, 1, 2]);
});
