/**
 * End-to-end tests of the read path against the real `loge serve` process.
 *
 * Queries running while files are compacted.
 *
 * @module
 */

import assert from "node:assert/strict";
import { startServer } from "../../testing/server.ts";
import { lines, push, segmentFiles, stats } from "../../testing/http.ts";
import { MS, T0 } from "./fixture.ts";

Deno.test("queries running while files are compacted see every line exactly once", async () => {
  let server = await startServer({
    args: [
      ...["--compact-interval", "0", "--payload-size", "5", "--flush-interval", "1h"],
      ...["--flush-coalesce", "0"],
    ],
  });
  const dir = server.dir;
  try {
    for (let p = 0; p < 12; p++) {
      await push(
        server.url,
        Array.from({ length: 5 }, (_, i) => [
          { app: "c", part: String(p % 3) },
          T0 + BigInt(p * 5 + i) * MS,
          `c ${p * 5 + i}`,
        ]),
      );
    }
    assert.equal(await server.stop(), 0);
    const before = (await segmentFiles(dir)).length;
    // Busy flush workers merge queued batches, so there may be fewer files than pushes.
    assert.ok(before >= 2, `flush files: ${before}`);
    server = await startServer({
      dir,
      args: ["--compact-interval", "100ms", "--compact-min-files", "2"],
    });
    const want = Array.from({ length: 60 }, (_, i) => `c ${59 - i}`);
    let rounds = 0;
    for (;;) {
      const done = (await segmentFiles(dir)).every((n) => n.startsWith("l1-"));
      assert.deepEqual(await lines(server.url, { query: '{app="c"}' }), want);
      assert.deepEqual(await lines(server.url, { query: '|= "c 1"', limit: 3 }), [
        "c 19",
        "c 18",
        "c 17",
      ]);
      rounds++;
      if (done) break;
      assert.ok(rounds < 2000, "compaction did not finish");
    }
    assert.equal((await stats(server.url)).rows_total, 60);
  } finally {
    await server.stop().catch(() => {});
    await Deno.remove(dir, { recursive: true });
  }
});
