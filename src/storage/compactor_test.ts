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

/**
 * Writes flush file `seq` of `lines` lines made by `line` (by default 400 hex
 * digits: slow to compress at level 19).
 */
function bulkyFlushFile(
  dir: string,
  seq: number,
  lines: number,
  line: (i: number, random: () => number) => string = hexLine,
) {
  const w = new SegmentWriter(dir, `l0-bulky-${String(seq).padStart(4, "0")}.loge`, {
    level: 0,
    zstdLevel: 1,
  });
  const b = new BlockBuilder();
  let state = seq * 2654435761;
  const random = () => (state = (Math.imul(state, 1103515245) + 12345) >>> 0);
  for (let i = 0; i < lines; i++) b.addString(BigInt(seq * 1_000_000 + i), line(i, random));
  w.writeBlock(w.stream('{"app":"bulky"}'), b);
  return w.finish([[seq, seq]]);
}

function hexLine(_i: number, random: () => number): string {
  let out = "";
  while (out.length < 400) out += random().toString(16).padStart(8, "0");
  return out;
}

/** An access-log line: what level 9 compresses better than level 1. */
function accessLine(i: number, random: () => number): string {
  const r = random();
  return `10.0.${r % 7}.${r % 251} - - "GET /api/v1/items/${r % 997}?page=${i % 13} HTTP/1.1" ` +
    `${[200, 200, 200, 404, 500][r % 5]} ${r % 65_536} "Mozilla/5.0 (X11; Linux x86_64)" ` +
    `rt=0.${String(r % 1000).padStart(3, "0")} user=${["ann", "bob", "cyd", "dee"][i % 4]}`;
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

Deno.test("segments written at a busy level are written again at recompressLevel once lines stop", () =>
  withDir(async (dir) => {
    const catalog = await Catalog.open(dir);
    try {
      for (let seq = 1; seq <= 4; seq++) catalog.add(bulkyFlushFile(dir, seq, 4000, accessLine));
      let ingesting = true;
      const compactor = new Compactor(
        catalog,
        options({
          // Units of two files (~1.1 MB raw): segments not small enough to merge again.
          unitFiles: 2,
          unitBytes: 1_200_000,
          busyZstdLevels: [{ upTo: Infinity, level: 1 }],
          recompressLevel: 9,
          ingesting: () => ingesting,
        }),
      );
      const levels = () => [...catalog.entries()].map((e) => [e.level, e.zstdLevel]);
      // While lines arrive: two segments at the busy level, and they stay so.
      assert.equal(await compactor.compactNow(), 4);
      assert.deepEqual(levels(), [[1, 1], [1, 1]]);
      // They wait (and say so) while lines arrive.
      assert.equal(compactor.stats().unitsWaiting, 2);
      assert.equal(await compactor.compactNow(), 0);
      const before = [...catalog.entries()].reduce((n, e) => n + e.bytes, 0);
      const lines = await catalogLines(catalog);

      ingesting = false;
      assert.equal(await compactor.compactNow(), 2);
      assert.deepEqual(levels(), [[1, 9], [1, 9]]);
      const after = [...catalog.entries()].reduce((n, e) => n + e.bytes, 0);
      assert.ok(after < before, `${after} bytes after, ${before} before`);
      assert.deepEqual(await catalogLines(catalog), lines);
      // Done: nothing more to rewrite.
      assert.equal(compactor.stats().unitsWaiting, 0);
      assert.equal(await compactor.compactNow(), 0);
      await compactor.stop();
    } finally {
      catalog.close();
    }
  }));

Deno.test("a quiet spell rewrites at most rewriteBytes, the newest segments first", () =>
  withDir(async (dir) => {
    const catalog = await Catalog.open(dir);
    try {
      for (let seq = 1; seq <= 6; seq++) catalog.add(bulkyFlushFile(dir, seq, 4000, accessLine));
      let ingesting = true;
      const unit = 1_200_000;
      const compactor = new Compactor(
        catalog,
        options({
          unitFiles: 2,
          unitBytes: unit,
          busyZstdLevels: [{ upTo: Infinity, level: 1 }],
          recompressLevel: 9,
          // Room for two of the three segments.
          rewriteBytes: 2 * unit,
          ingesting: () => ingesting,
        }),
      );
      assert.equal(await compactor.compactNow(), 6);
      const byTime = () =>
        [...catalog.entries()].sort((a, b) => (a.minTs < b.minTs ? -1 : 1)).map((e) => e.zstdLevel);
      assert.deepEqual(byTime(), [1, 1, 1]);
      ingesting = false;
      assert.equal(compactor.stats().unitsWaiting, 2);
      assert.equal(await compactor.compactNow(), 2);
      // The two newest were rewritten; the oldest waits for another quiet spell.
      assert.deepEqual(byTime(), [1, 9, 9]);
      assert.equal(compactor.stats().unitsWaiting, 0);
      await compactor.stop();
    } finally {
      catalog.close();
    }
  }));
