import assert from "node:assert/strict";
import { BlockBuilder } from "./block_codec.ts";
import { Catalog } from "./catalog.ts";
import { COMPACTION_DEFAULTS, Compactor, type CompactorOptions } from "./compactor.ts";
import { catalogLines } from "../../testing/stored_lines.ts";
import { SegmentWriter } from "./segment_writer.ts";

async function withDir(fn: (dir: string) => Promise<void>) {
  const dir = await Deno.makeTempDir({ prefix: "loge-compactor-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Writes flush file `seq`: one line in each of `streams` streams. */
function flushFile(dir: string, seq: number, streams: number) {
  const w = new SegmentWriter(dir, `l0-test-${String(seq).padStart(4, "0")}.loge`, {
    level: 0,
    zstdLevel: 1,
  });
  const b = new BlockBuilder();
  for (let s = 0; s < streams; s++) {
    b.addString(BigInt(seq), `line ${seq} of stream ${s}`);
    w.writeBlock(w.stream(`{"app":"a${s}"}`), b);
  }
  return w.finish([[seq, seq]]);
}

/** Every line in the cataloged files, as "labels line". */
async function lines(catalog: Catalog): Promise<string[]> {
  return (await catalogLines(catalog)).map((l) => `${l.labels} ${l.line}`);
}

function expected(files: number, streams: number): string[] {
  const out: string[] = [];
  for (let seq = 1; seq <= files; seq++) {
    for (let s = 0; s < streams; s++) out.push(`{"app":"a${s}"} line ${seq} of stream ${s}`);
  }
  return out.sort();
}

function options(more: Partial<CompactorOptions> = {}): CompactorOptions {
  return { intervalMs: 0, minFiles: 2, ...COMPACTION_DEFAULTS, ...more };
}

Deno.test("compaction of 20,000 streams × 3 lines finishes and keeps every line once", () =>
  withDir(async (dir) => {
    const catalog = await Catalog.open(dir);
    try {
      for (let seq = 1; seq <= 3; seq++) catalog.add(flushFile(dir, seq, 20_000));
      // Default settings: level 19 for this small backlog, on ~25-byte blocks.
      const compactor = new Compactor(catalog, options());
      assert.equal(await compactor.compactNow(), 3);
      await compactor.stop();
      const entries = [...catalog.entries()];
      assert.deepEqual(entries.map((e) => e.level), [1]);
      assert.deepEqual(entries[0].seqs, [[1, 3]]);
      assert.deepEqual((await lines(catalog)).sort(), expected(3, 20_000));
    } finally {
      catalog.close();
    }
  }));

Deno.test("compaction commits bounded units, then merges the small segments they made", () =>
  withDir(async (dir) => {
    const catalog = await Catalog.open(dir);
    try {
      for (let seq = 1; seq <= 10; seq++) catalog.add(flushFile(dir, seq, 5));
      const compactor = new Compactor(catalog, options({ unitFiles: 3 }));
      // Units of 3, 3, 3 and 1 files: four segments, each committed on its
      // own. They are small: the same pass goes on to merge them, 3 at a time
      // (a lone segment left over waits), then the last two. 10 flush files
      // and 5 segments merged in all.
      assert.equal(await compactor.compactNow(), 15);
      const entries = [...catalog.entries()];
      assert.deepEqual(entries.map((e) => e.seqs), [[[1, 10]]]);
      assert.deepEqual((await compactor.stats()).passes, 1);
      await compactor.stop();
      assert.deepEqual((await lines(catalog)).sort(), expected(10, 5));
      const files = await Array.fromAsync(Deno.readDir(dir), (e) => e.name);
      assert.deepEqual(files.filter((n) => n.startsWith("l0-")), []);
    } finally {
      catalog.close();
    }
  }));

/** Writes flush file `seq` of `lines` lines of 400 hex digits (slow to compress at level 19). */
function bulkyFlushFile(dir: string, seq: number, lines: number) {
  const w = new SegmentWriter(dir, `l0-bulky-${String(seq).padStart(4, "0")}.loge`, {
    level: 0,
    zstdLevel: 1,
  });
  const b = new BlockBuilder();
  let state = seq * 2654435761;
  const hex = () => {
    let out = "";
    while (out.length < 400) {
      state = (Math.imul(state, 1103515245) + 12345) >>> 0;
      out += state.toString(16).padStart(8, "0");
    }
    return out;
  };
  for (let i = 0; i < lines; i++) b.addString(BigInt(seq * 1_000_000 + i), hex());
  w.writeBlock(w.stream('{"app":"bulky"}'), b);
  return w.finish([[seq, seq]]);
}

Deno.test("units merge side by side while no lines arrive, one at a time while they do", async () => {
  for (const [ingesting, side] of [[false, 2], [true, 1]] as const) {
    await withDir(async (dir) => {
      const catalog = await Catalog.open(dir);
      try {
        for (let seq = 1; seq <= 8; seq++) catalog.add(bulkyFlushFile(dir, seq, 1500));
        const compactor = new Compactor(
          catalog,
          options({ unitFiles: 2, idleWorkers: 2, ingesting: () => ingesting }),
        );
        let most = 0;
        const watch = setInterval(() => {
          most = Math.max(most, compactor.stats().unitsRunning);
        }, 2);
        try {
          // 4 units of 2 files; their 4 segments are small and merge again.
          assert.ok(await compactor.compactNow() >= 8);
        } finally {
          clearInterval(watch);
        }
        await compactor.stop();
        assert.equal(most, side, `most units at once while ingesting=${ingesting}`);
        assert.equal(compactor.stats().unitsRunning, 0);
        const stored = await catalogLines(catalog);
        assert.equal(stored.length, 8 * 1500);
        assert.equal(new Set(stored.map((l) => `${l.ts} ${l.line}`)).size, 8 * 1500);
      } finally {
        catalog.close();
      }
    });
  }
});
