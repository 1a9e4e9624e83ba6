import assert from "node:assert/strict";
import { FileFilterCache } from "./file_filter_cache.ts";

/** Deterministic pseudo-random integers in [0, n). */
function rng(seed: number) {
  let x = seed;
  return (n: number) => {
    x = (x * 1103515245 + 12345) % 2147483648;
    return x % n;
  };
}

Deno.test("the cache holds what a plain least-recently-used list of the same bound holds", () => {
  const random = rng(7);
  const max = 1000;
  const cache = new FileFilterCache(max);
  // The model: ids, least recently used first, and their sizes.
  let model: number[] = [];
  const sizes = new Map<number, number>();
  let loads = 0;
  let modelLoads = 0;
  for (let step = 0; step < 5000; step++) {
    const id = random(60);
    if (random(10) === 0) {
      cache.delete(id);
      model = model.filter((m) => m !== id);
      continue;
    }
    // A file's filter never changes: its size is its id's.
    const size = sizes.get(id) ?? sizes.set(id, random(400)).get(id)!;
    const filter = cache.get(id, (i) => {
      loads++;
      return new Uint8Array(sizes.get(i)!).fill(i);
    });
    assert.equal(filter.byteLength, size);
    assert.ok(filter.every((b) => b === id), "the filter of the id asked for");
    if (model.includes(id)) model = [...model.filter((m) => m !== id), id];
    else {
      modelLoads++;
      model.push(id);
      while (model.reduce((a, m) => a + sizes.get(m)!, 0) > max) model.shift();
    }
    const held = model.reduce((a, m) => a + sizes.get(m)!, 0);
    assert.equal(cache.bytes, held, `step ${step}`);
    assert.ok(cache.bytes <= max);
  }
  assert.equal(loads, modelLoads);
  assert.ok(loads > 100 && loads < 5000, `loads ${loads}: some hits, some misses`);
});

Deno.test("a filter larger than the whole bound is returned, not kept, and evicts nothing", () => {
  const cache = new FileFilterCache(10);
  cache.get(1, () => new Uint8Array(6));
  const big = cache.get(2, () => new Uint8Array(11));
  assert.equal(big.byteLength, 11);
  assert.equal(cache.bytes, 6);
  let reloaded = false;
  cache.get(1, () => (reloaded = true, new Uint8Array(6)));
  assert.equal(reloaded, false);
});
