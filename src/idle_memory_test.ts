import assert from "node:assert/strict";
import { collectGarbage, releaseIdleMemory } from "./idle_memory.ts";
import { V8_FLAGS, V8_FLAGS_ENV } from "./cli/runtime.ts";

Deno.test("without --expose-gc nothing is collected and nothing throws", () => {
  assert.equal("gc" in globalThis, false, "the test runner runs without the server's V8 flags");
  assert.equal(collectGarbage(), false);
  assert.equal(releaseIdleMemory(), false);
});

Deno.test("with the server's V8 flags an idle release collects the isolate's garbage", async () => {
  const module = new URL("./idle_memory.ts", import.meta.url).href;
  // Garbage of ~40 MB in strings and arrays, then the release: heapUsed must fall below what is live.
  const script = `
    import { releaseIdleMemory } from ${JSON.stringify(module)};
    let garbage = Array.from({ length: 400_000 }, (_, i) => ["line " + i, { i }]);
    const before = Deno.memoryUsage().heapUsed;
    garbage = [];
    const collected = releaseIdleMemory();
    console.log(JSON.stringify({ collected, before, after: Deno.memoryUsage().heapUsed, left: garbage.length }));
  `;
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["eval", script],
    env: { [V8_FLAGS_ENV]: V8_FLAGS.join(",") },
    stderr: "inherit",
  }).output();
  assert.equal(out.code, 0);
  const { collected, before, after } = JSON.parse(new TextDecoder().decode(out.stdout));
  assert.equal(collected, true);
  assert.ok(before > 30e6, `garbage made: ${before}`);
  assert.ok(after < before / 4, `heap used ${before} → ${after}`);
});
