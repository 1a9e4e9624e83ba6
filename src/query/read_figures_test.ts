import assert from "node:assert/strict";
import { logQuery } from "../../testing/log_query.ts";
import { type Row, withEngine } from "../../testing/engine_fixture.ts";

const encoder = new TextEncoder();
const bytesOf = (rows: Row[]) => rows.reduce((n, r) => n + encoder.encode(r.line).length, 0);

/** 20 lines of `web` (one with non-ASCII text), 10 of `api`; the first 24 rows go to a file. */
const rows: Row[] = Array.from({ length: 30 }, (_, i) => ({
  ts: BigInt(1000 + i),
  labels: { app: i % 3 === 2 ? "api" : "web" },
  line: i === 4 ? "café timeout ☕" : `line ${i} ${i % 5 === 0 ? "timeout" : "ok"}`,
}));

Deno.test("a selection counts the lines it looks at in its bounds, filtered or not, by files and memory", () =>
  withEngine(rows, { inFiles: 24, blockLines: 4 }, async (engine) => {
    const web = (r: Row) => r.labels.app === "web";
    const q = logQuery('{app="web"} |= "timeout"', { start: 1002n, end: 1027n });
    const { entries, read } = await engine.select(q);
    const scanned = rows.filter((r) => web(r) && r.ts >= 1002n && r.ts <= 1027n);
    assert.deepEqual(
      entries.map((e) => e.line),
      scanned.filter((r) => r.line.includes("timeout")).map((r) => r.line).reverse(),
    );
    const inFiles = scanned.filter((r) => r.ts < 1024n);
    const inMemory = scanned.filter((r) => r.ts >= 1024n);
    assert.ok(read);
    assert.equal(read.blockLines, inFiles.length);
    assert.equal(read.blockBytes, bytesOf(inFiles));
    assert.equal(read.headLines, inMemory.length);
    assert.equal(read.headBytes, bytesOf(inMemory));
    // 16 web rows in files, 4 per block: every block overlaps the bounds.
    assert.equal(read.blocks, 4);
    assert.ok(read.compressedBytes > 0);
  }));

Deno.test("a limited selection stops counting where it stops reading", () =>
  withEngine(rows, { inFiles: 24, blockLines: 4 }, async (engine) => {
    const { entries, read } = await engine.select(logQuery('{app="web"}', { limit: 2 }));
    assert.equal(entries.length, 2);
    // The head's 4 web lines hold the two newest: every file is older than the
    // second of them, so none is opened and no block is read.
    assert.equal(read?.headLines, 4);
    assert.equal(read?.blocks, 0);
    assert.equal(read?.blockLines, 0);
  }));
