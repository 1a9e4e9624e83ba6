/**
 * End-to-end tests of the read path against the real `loge serve` process.
 *
 * Selection: label matchers, line filters, bounds and limits select the same lines from
 * memory, flush files and segments, and a pushed line is readable at once.
 *
 * @module
 */

import assert from "node:assert/strict";
import { startServer, withServer } from "../../testing/server.ts";
import { type Labels, lines, push, stats, waitCompacted, waitFor } from "../../testing/http.ts";
import { byId, type FixtureLine, otherAnswers, runCases, T0 } from "./fixture.ts";

Deno.test("matchers, line filters, bounds and limits select the same lines from memory, flush files and segments", async () => {
  // Interleaved payloads: two reach --payload-size and are flushed, seven stay in memory.
  const order = "w1 x1 k1 w2 x2 k2 w3 d1 e1 a1 d2 e2 a2 d3 u1".split(" ");
  const lines = order.map((id) => byId.get(id)!);
  const row = (f: FixtureLine): [Labels, bigint, string, Labels?] => [
    f.labels,
    f.ts,
    f.line,
    f.metadata,
  ];
  let server = await startServer({
    args: [
      ...["--compact-interval", "0", "--payload-size", "4", "--flush-interval", "1h"],
      ...["--flush-coalesce", "0"],
    ],
  });
  const dir = server.dir;
  try {
    await push(server.url, lines.slice(0, 4).map(row));
    await push(server.url, lines.slice(4, 8).map(row));
    for (const f of lines.slice(8)) await push(server.url, [row(f)]);
    await waitFor("two flush files", async () => (await stats(server.url)).flush_files === 2);
    const mixed = await stats(server.url);
    assert.equal(mixed.rows_in_memory, 7);
    assert.equal(mixed.rows_total, 15);
    const fromMemory = await runCases(server.url, "memory + flush files");
    const otherFromMemory = await otherAnswers(server.url);

    assert.equal(await server.stop(), 0);
    server = await startServer({ dir, args: ["--compact-interval", "0"] });
    const flushed = await stats(server.url);
    assert.equal(flushed.rows_in_memory, 0);
    assert.equal(flushed.compacted_segments, 0);
    assert.ok(flushed.flush_files >= 3, `flush files: ${flushed.flush_files}`);
    const fromFlushFiles = await runCases(server.url, "flush files");
    assert.deepEqual(await otherAnswers(server.url), otherFromMemory);
    assert.deepEqual(fromFlushFiles, fromMemory);

    assert.equal(await server.stop(), 0);
    server = await startServer({
      dir,
      args: ["--compact-interval", "200ms", "--compact-min-files", "2"],
    });
    await waitCompacted(dir);
    const compacted = await stats(server.url);
    assert.equal(compacted.flush_files, 0);
    assert.ok(compacted.compacted_segments >= 1);
    assert.equal(compacted.rows_total, 15);
    const fromSegments = await runCases(server.url, "compacted segments");
    assert.deepEqual(await otherAnswers(server.url), otherFromMemory);
    assert.deepEqual(fromSegments, fromMemory);
  } finally {
    await server.stop().catch(() => {});
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a pushed line is visible right after the 200, and still after its flush", () =>
  withServer(async ({ url }) => {
    const v = { app: "visible" };
    for (let i = 0; i < 5; i++) {
      await push(url, [[v, T0 + BigInt(i), `seen ${i}`]]);
      // Served from memory: no waiting for the flush.
      assert.deepEqual(
        await lines(url, { query: '{app="visible"}', limit: 1 }),
        [`seen ${i}`],
      );
    }
    // Across the flush, never missing and never twice.
    const want = ["seen 4", "seen 3", "seen 2", "seen 1", "seen 0"];
    const until = Date.now() + 300;
    while (Date.now() < until) {
      assert.deepEqual(await lines(url, { query: '{app="visible"}' }), want);
      assert.deepEqual(await lines(url, { query: '|= "seen 3"' }), ["seen 3"]);
    }
    await waitFor("the flush", async () => (await stats(url)).rows_in_memory === 0);
    assert.ok((await stats(url)).flush_files >= 1);
    assert.deepEqual(await lines(url, { query: '{app="visible"}' }), want);
    assert.deepEqual(await lines(url, { query: '|= "seen 3"' }), ["seen 3"]);
  }, { args: ["--flush-interval", "100ms", "--compact-interval", "0"] }));
