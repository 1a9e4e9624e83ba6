import assert from "node:assert/strict";
import {
  collectGarbage,
  IdleProcessRelease,
  RELEASE_GROWTH_BYTES,
  releaseIdleMemory,
} from "./idle_memory.ts";
import { V8_FLAGS, V8_FLAGS_ENV } from "./cli/runtime.ts";

Deno.test("without --expose-gc nothing is collected and nothing throws", () => {
  assert.equal("gc" in globalThis, false, "the test runner runs without the server's V8 flags");
  assert.equal(collectGarbage(), false);
  assert.equal(releaseIdleMemory(), false);
});

Deno.test("with the server's V8 flags an idle release gives the isolate's garbage back to the system", async () => {
  const module = new URL("./idle_memory.ts", import.meta.url).href;
  // Garbage of ~100 MB in strings and arrays, then the release: heap used and RSS must both fall.
  const script = `
    import { releaseIdleMemory } from ${JSON.stringify(module)};
    let garbage = Array.from({ length: 1_000_000 }, (_, i) => ["line " + i, { i }]);
    const before = Deno.memoryUsage();
    garbage = [];
    const collected = releaseIdleMemory();
    const after = Deno.memoryUsage();
    console.log(JSON.stringify({ collected, before, after, left: garbage.length }));
  `;
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["eval", script],
    env: { [V8_FLAGS_ENV]: V8_FLAGS.join(",") },
    stderr: "inherit",
  }).output();
  assert.equal(out.code, 0);
  const { collected, before, after } = JSON.parse(new TextDecoder().decode(out.stdout));
  assert.equal(collected, true);
  assert.ok(before.heapUsed > 80e6, `garbage made: ${before.heapUsed}`);
  assert.ok(
    after.heapUsed < before.heapUsed / 4,
    `heap used ${before.heapUsed} → ${after.heapUsed}`,
  );
  // The freed pages are unmapped, not kept by V8 for later.
  const freed = before.rss - after.rss;
  assert.ok(freed > before.heapUsed / 2, `RSS ${before.rss} → ${after.rss}`);
});

/** A process whose CPU time and RSS the test sets, second by second. */
function fakeProcess() {
  const p = { ticks: 0, rss: 200e6, released: 0 };
  const watch = new IdleProcessRelease(
    { cpuTicks: () => p.ticks, rss: () => p.rss },
    () => {
      p.released++;
      p.rss = 150e6;
      p.ticks += 10; // the release's own CPU time
    },
  );
  return { p, watch };
}

Deno.test("a busy process is not released, however large it grows", () => {
  const { p, watch } = fakeProcess();
  for (let s = 0; s < 20; s++) {
    p.ticks += 30; // 30% of a core
    p.rss += 50e6;
    assert.equal(watch.check(), false);
  }
  assert.equal(p.released, 0);
});

Deno.test("an idle process is released once per growth, 2 s after its work stops", () => {
  const { p, watch } = fakeProcess();
  p.ticks += 100;
  p.rss += RELEASE_GROWTH_BYTES + 1;
  assert.equal(watch.check(), false);
  assert.equal(watch.check(), false);
  assert.equal(watch.check(), true);
  // Its own CPU time (10 ticks) is not work, and idle time counts from after it: memory that
  // grew right after the release goes at the second check, not the first.
  p.rss += 2 * RELEASE_GROWTH_BYTES;
  assert.equal(watch.check(), false);
  assert.equal(watch.check(), true);
  for (let s = 0; s < 5; s++) assert.equal(watch.check(), false);
  // Work that grows RSS again by less than the threshold, above the lowest seen (150 MB): nothing.
  p.ticks += 100;
  p.rss = 150e6 + RELEASE_GROWTH_BYTES - 1;
  for (let s = 0; s < 5; s++) assert.equal(watch.check(), false);
  p.rss += 2;
  assert.equal(watch.check(), true);
  assert.equal(p.released, 3);
});

Deno.test("under 2% of a core over 2 s is idle, above it is not", () => {
  const { p, watch } = fakeProcess();
  p.rss += 2 * RELEASE_GROWTH_BYTES;
  p.ticks += 3;
  assert.equal(watch.check(), false); // 1 s seen only
  p.ticks += 3;
  assert.equal(watch.check(), false); // 6 ticks over 2 s: 3% of a core
  p.ticks += 1;
  assert.equal(watch.check(), true); // 4 ticks over the last 2 s: 2%
  assert.equal(p.released, 1);
});

Deno.test("growth counts from the lowest RSS since the last release, not from the release", () => {
  const { p, watch } = fakeProcess();
  // RSS falls on its own (V8 shrinking a heap) while idle: nothing to release.
  p.rss = 120e6;
  for (let s = 0; s < 3; s++) assert.equal(watch.check(), false);
  // From that low, the growth releases although RSS stays under where it started (200 MB).
  p.rss = 120e6 + RELEASE_GROWTH_BYTES;
  assert.ok(p.rss < 200e6);
  assert.equal(watch.check(), true);
  // A release that leaves RSS at 150 MB: growth counts from there.
  p.rss = 150e6 + RELEASE_GROWTH_BYTES - 1;
  for (let s = 0; s < 3; s++) assert.equal(watch.check(), false);
  assert.equal(p.released, 1);
});
