import assert from "node:assert/strict";
import { BlockBuilder } from "./block_codec.ts";
import { join } from "node:path";
import { Catalog, type CatalogEntry } from "./catalog.ts";
import { mergePartOf } from "./segment_name.ts";
import { MAX_OPEN_SEGMENTS } from "./compact_worker.ts";
import { COMPACTION_DEFAULTS, Compactor, type CompactorOptions } from "./compactor.ts";
import { catalogLines } from "../../testing/stored_lines.ts";
import { damageFrame, loseCatalog } from "../../testing/segments.ts";
import { waitFor } from "../../testing/http.ts";
import { readSegmentIndex } from "./segment_reader.ts";
import { SegmentWriter } from "./segment_writer.ts";
import { SegmentCache } from "./segment_cache.ts";
import { Quarantine, QUARANTINE_DIR } from "./quarantine.ts";
import { setLogSink } from "../log.ts";

async function withDir(fn: (dir: string) => Promise<void>) {
  const dir = await Deno.makeTempDir({ prefix: "loge-compactor-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Writes flush file `seq` (or a segment of `level`): one line in each of `streams` streams. */
function flushFile(dir: string, seq: number, streams: number, level = 0) {
  const w = new SegmentWriter(dir, `l${level}-test-${String(seq).padStart(4, "0")}.loge`, {
    level,
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
      // Default settings: level 17 for this small backlog, on ~25-byte blocks.
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

Deno.test("segments a rebuild beside a cold tier found wait for its listing; flush files and new segments merge", () =>
  withDir(async (dir) => {
    const catalog = await Catalog.open(dir);
    try {
      // Small segments written at a busy level: to be merged, and to be recompressed.
      for (let seq = 1; seq <= 4; seq++) catalog.add(flushFile(dir, seq, 5, 1));
      catalog.markRebuiltBesideTier();
      for (let seq = 5; seq <= 8; seq++) catalog.add(flushFile(dir, seq, 5));
      const compactor = new Compactor(catalog, options({ unitFiles: 2 }));
      // Flush files 5–8 merge in twos, and the two segments made then merge.
      assert.equal(await compactor.compactNow(), 6);
      const levels = () => [...catalog.entries()].map((e) => [e.seqs, e.zstdLevel]);
      const waited = [1, 2, 3, 4].map((seq) => [[[seq, seq]], 1]);
      assert.deepEqual(levels(), [...waited, [[[5, 8]], 17]]);
      assert.equal(compactor.stats().awaitingListing, 4);
      assert.deepEqual(waiting(compactor), { units: 0, recompress: 0 });
      // A listing noted what it found: they merge, with the segment of 5–8.
      catalog.noteFound([]);
      assert.equal(compactor.stats().awaitingListing, 0);
      assert.ok(await compactor.compactNow() >= 5);
      assert.deepEqual(levels(), [[[[1, 8]], 17]]);
      await compactor.stop();
      assert.deepEqual((await lines(catalog)).sort(), expected(8, 5));
    } finally {
      catalog.close();
    }
  }));

/** Writes flush file `seq` of `lines` lines of 400 hex digits (slow to compress at level 17). */
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

Deno.test("units merge side by side while no lines arrive or pushes wait, one at a time else", async () => {
  for (
    const [ingesting, held, side] of [[false, false, 2], [true, false, 1], [true, true, 2]] as const
  ) {
    await withDir(async (dir) => {
      const catalog = await Catalog.open(dir);
      try {
        for (let seq = 1; seq <= 8; seq++) catalog.add(bulkyFlushFile(dir, seq, 1500));
        const compactor = new Compactor(
          catalog,
          options({
            unitFiles: 2,
            idleWorkers: 2,
            ingesting: () => ingesting,
            pushesHeld: () => held,
          }),
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
        assert.equal(most, side, `most units at once, ingesting=${ingesting} held=${held}`);
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

const DAY = 86_400_000_000_000n;

/** Writes flush file `seq` whose streams hold lines of days 0, 1 and 3. */
function daysFlushFile(dir: string, seq: number) {
  const w = new SegmentWriter(dir, `l0-days-${seq}.loge`, { level: 0, zstdLevel: 1 });
  for (const [app, days] of [["a", [0n, 1n]], ["b", [1n, 3n]]] as const) {
    const b = new BlockBuilder();
    for (const day of days) {
      for (let i = 0; i < 3; i++) {
        b.addString(day * DAY + BigInt(seq * 10 + i), `${app} d${day} f${seq} ${i}`);
      }
    }
    w.writeBlock(w.stream(`{"app":"${app}"}`), b);
  }
  return w.finish([[seq, seq]]);
}

const daysExpected = [1, 2].flatMap((seq) =>
  [["a", [0, 1]], ["b", [1, 3]]].flatMap(([app, days]) =>
    (days as number[]).flatMap((d) =>
      [0, 1, 2].map((i) => `{"app":"${app}"} ${app} d${d} f${seq} ${i}`)
    )
  )
).sort();

Deno.test("a merge writes one segment per time partition, each within it, every line once", () =>
  withDir(async (dir) => {
    const catalog = await Catalog.open(dir);
    try {
      for (const seq of [1, 2]) catalog.add(daysFlushFile(dir, seq));
      const compactor = new Compactor(catalog, options());
      assert.equal(await compactor.compactNow(), 2);
      await compactor.stop();
      const entries = [...catalog.entries()].sort((a, b) => (a.minTs < b.minTs ? -1 : 1));
      assert.deepEqual(entries.map((e) => e.minTs / DAY), [0n, 1n, 3n]);
      for (const e of entries) {
        assert.equal(e.maxTs / DAY, e.minTs / DAY, e.name);
        const part = mergePartOf(e.name);
        assert.deepEqual([part?.from, part?.to, part?.siblings], [
          (e.minTs / DAY) * DAY,
          (e.minTs / DAY + 1n) * DAY,
          3,
        ]);
        assert.deepEqual(e.seqs, [[1, 2]]);
      }
      assert.deepEqual((await lines(catalog)).sort(), daysExpected);
    } finally {
      catalog.close();
    }
  }));

Deno.test("a merge over more partitions than it may write at once goes a window at a time", () =>
  withDir(async (dir) => {
    const catalog = await Catalog.open(dir);
    try {
      // Stream a: a line in each of hours 0–149 and 200–349 (300 partitions, a gap of 50);
      // stream b: lines in hours 0, 150 and 349. Blocks of a span many hours.
      const HOUR = 3_600_000_000_000n;
      const hours = [...Array(150).keys(), ...Array.from({ length: 150 }, (_, i) => 200 + i)];
      const expected: string[] = [];
      const w = new SegmentWriter(dir, "l0-backfill-1.loge", { level: 0, zstdLevel: 1 });
      for (const [app, at] of [["a", hours], ["b", [0, 150, 349]]] as const) {
        const b = new BlockBuilder();
        for (const h of at) {
          b.addString(BigInt(h) * HOUR + 7n, `${app} hour ${h}`);
          expected.push(`{"app":"${app}"} ${app} hour ${h}`);
          if (b.count === 64) w.writeBlock(w.stream(`{"app":"${app}"}`), b);
        }
        if (b.count > 0) w.writeBlock(w.stream(`{"app":"${app}"}`), b);
      }
      catalog.add(w.finish([[1, 1]]));
      const compactor = new Compactor(
        catalog,
        options({ minFiles: 1, partitionNs: HOUR }),
      );
      // The worker is a thread of this process: its open files are this process's.
      // Only those in `dir` count: tests of other files may run in this process.
      const openFiles = () =>
        [...Deno.readDirSync("/proc/self/fd")].filter(({ name }) => {
          try {
            return Deno.readLinkSync(`/proc/self/fd/${name}`).startsWith(dir);
          } catch {
            return false; // closed meanwhile
          }
        }).length;
      const before = openFiles();
      let most = before;
      const watch = setInterval(() => most = Math.max(most, openFiles()), 1);
      try {
        assert.equal(await compactor.compactNow(), 1);
      } finally {
        clearInterval(watch);
      }
      await compactor.stop();
      assert.ok(most - before <= MAX_OPEN_SEGMENTS + 16, `${most - before} files open at once`);
      const entries = [...catalog.entries()];
      // 300 hours of a, and hour 150 of b: one segment each, all siblings of one merge of 301.
      assert.equal(entries.length, 301);
      for (const e of entries) {
        assert.equal(e.minTs / HOUR, e.maxTs / HOUR, e.name);
        assert.deepEqual(e.seqs, [[1, 1]]);
        assert.equal(mergePartOf(e.name)?.siblings, 301, e.name);
      }
      assert.equal(new Set(entries.map((e) => mergePartOf(e.name)?.merge)).size, 1);
      assert.deepEqual((await lines(catalog)).sort(), expected.sort());
    } finally {
      catalog.close();
    }
  }));

Deno.test("a segment spanning partitions (an older version's) is split, even alone", () =>
  withDir(async (dir) => {
    const catalog = await Catalog.open(dir);
    try {
      const w = new SegmentWriter(dir, "l1-old-00000001.loge", { level: 1, zstdLevel: 1 });
      const b = new BlockBuilder();
      b.addString(5n, "day 0");
      b.addString(DAY + 5n, "day 1");
      w.writeBlock(w.stream('{"app":"a"}'), b);
      catalog.add(w.finish([[1, 1]]));
      const compactor = new Compactor(catalog, options());
      assert.equal(await compactor.compactNow(), 1);
      assert.equal(await compactor.compactNow(), 0); // split once: nothing left to do
      await compactor.stop();
      assert.deepEqual([...catalog.entries()].map((e) => e.rows), [1, 1]);
      assert.deepEqual((await lines(catalog)).sort(), ['{"app":"a"} day 0', '{"app":"a"} day 1']);
    } finally {
      catalog.close();
    }
  }));

Deno.test("a rebuilt catalog keeps every partition of a merge, and drops the sources it holds", () =>
  withDir(async (dir) => {
    let catalog = await Catalog.open(dir);
    for (const seq of [1, 2]) catalog.add(daysFlushFile(dir, seq));
    // A source left behind by a crash amid the deletion of merged sources.
    const source = await Deno.readFile(join(dir, "l0-days-1.loge"));
    const compactor = new Compactor(catalog, options());
    assert.equal(await compactor.compactNow(), 2);
    await compactor.stop();
    const merged = [...catalog.entries()].map((e) => e.name).sort();
    catalog.close();
    await Deno.writeFile(join(dir, "l0-days-1.loge"), source);
    await loseCatalog(dir);
    catalog = await Catalog.open(dir);
    try {
      // Each partition's segment holds seqs 1 and 2 only for its own days: all three stay.
      assert.deepEqual([...catalog.entries()].map((e) => e.name).sort(), merged);
      assert.deepEqual((await lines(catalog)).sort(), daysExpected);
    } finally {
      catalog.close();
    }
  }));

Deno.test("a unit that fails ends the pass at once, though a lane waits for a core", async () => {
  await withDir(async (dir) => {
    const catalog = await Catalog.open(dir);
    try {
      for (let seq = 1; seq <= 4; seq++) catalog.add(bulkyFlushFile(dir, seq, 10));
      // The oldest file's bytes are gone: its unit (the first) fails in lane 0.
      Deno.truncateSync(join(dir, "l0-bulky-0001.loge"), 16);
      const compactor = new Compactor(
        catalog,
        options({ unitFiles: 1, idleWorkers: 2, ingesting: () => true, pushesHeld: () => false }),
      );
      let timer: ReturnType<typeof setTimeout> | undefined;
      const late = new Promise<string>((resolve) => {
        timer = setTimeout(() => resolve("still running after 5 s"), 5_000);
      });
      try {
        const outcome = await Promise.race([
          compactor.compactNow().then(() => "merged", (e: Error) => `failed: ${e.message}`),
          late,
        ]);
        assert.match(outcome, /^failed: /);
      } finally {
        clearTimeout(timer);
        await compactor.stop();
      }
      // The units after it were not taken: their files wait for a later pass.
      assert.equal(catalog.flushFiles, 4);
    } finally {
      catalog.close();
    }
  });
});

/** What `stats()` says waits: units a pass would run now, and segments to recompress. */
function waiting(compactor: Compactor): { units: number; recompress: number } {
  const { unitsWaiting, recompressWaiting } = compactor.stats();
  return { units: unitsWaiting, recompress: recompressWaiting };
}

Deno.test("segments merged at a busy level under every idle one are recompressed once lines stop", () =>
  withDir(async (dir) => {
    const catalog = await Catalog.open(dir);
    try {
      for (let seq = 1; seq <= 4; seq++) catalog.add(flushFile(dir, seq, 50));
      let ingesting = true;
      const compactor = new Compactor(
        catalog,
        options({ busyZstdLevels: [{ upTo: Infinity, level: 1 }], ingesting: () => ingesting }),
      );
      assert.equal(await compactor.compactNow(), 4);
      const busy = [...catalog.entries()];
      assert.deepEqual(busy.map((e) => [e.level, e.zstdLevel]), [[1, 1]]);
      // Not while lines arrive: the machine is ingest's. The folder is not final for all that.
      assert.deepEqual(waiting(compactor), { units: 0, recompress: 1 });
      assert.equal(await compactor.compactNow(), 0);
      const before = await catalogLines(catalog);
      const filter = catalog.filterOf(busy[0]);
      const blocks = (await readIndexOf(catalog, busy[0])).blocks;

      ingesting = false;
      assert.deepEqual(waiting(compactor), { units: 1, recompress: 1 });
      assert.equal(await compactor.compactNow(), 1);
      const idle = [...catalog.entries()];
      // The idle level of a small backlog; the same lines, sequences, filters and merge part.
      assert.deepEqual(idle.map((e) => [e.level, e.zstdLevel]), [[1, 17]]);
      assert.notEqual(idle[0].name, busy[0].name);
      assert.deepEqual(mergePartOf(idle[0].name), mergePartOf(busy[0].name));
      assert.deepEqual(idle[0].seqs, busy[0].seqs);
      assert.deepEqual([idle[0].rows, idle[0].rawBytes], [busy[0].rows, busy[0].rawBytes]);
      assert.ok(idle[0].bytes < busy[0].bytes, `${idle[0].bytes} bytes, ${busy[0].bytes} before`);
      assert.deepEqual(catalog.filterOf(idle[0]), filter);
      const again = (await readIndexOf(catalog, idle[0])).blocks;
      assert.deepEqual(
        again.map((b) => [b.stream, b.minTs, b.maxTs, b.count, b.rawLength, b.filter]),
        blocks.map((b) => [b.stream, b.minTs, b.maxTs, b.count, b.rawLength, b.filter]),
      );
      assert.deepEqual(await catalogLines(catalog), before);
      assert.deepEqual((await lines(catalog)).sort(), expected(4, 50));
      const files = await Array.fromAsync(Deno.readDir(dir), (e) => e.name);
      assert.deepEqual(files.filter((n) => n.endsWith(".loge")), [idle[0].name]);
      // Once is enough: nothing is left to do, whether lines arrive or not.
      assert.deepEqual(waiting(compactor), { units: 0, recompress: 0 });
      ingesting = true;
      assert.deepEqual(waiting(compactor), { units: 0, recompress: 0 });
      assert.equal(await compactor.compactNow(), 0);
      await compactor.stop();
    } finally {
      catalog.close();
    }
  }));

Deno.test("segments merged at a busy level above the lowest idle one reach the level their backlog allows, once", () =>
  withDir(async (dir) => {
    const catalog = await Catalog.open(dir);
    try {
      for (let seq = 1; seq <= 4; seq++) catalog.add(flushFile(dir, seq, 50));
      let ingesting = true;
      // Merged at 9 while lines arrive (the busy level of a small backlog, above the idle 6).
      const busyLevels = [{ upTo: Infinity, level: 9 }];
      const idle = (upTo17: number) => [
        { upTo: upTo17, level: 17 },
        { upTo: Infinity, level: 6 },
      ];
      let compactor = new Compactor(
        catalog,
        options({ busyZstdLevels: busyLevels, zstdLevels: idle(0), ingesting: () => ingesting }),
      );
      assert.equal(await compactor.compactNow(), 4);
      const [merged] = catalog.entries();
      assert.equal(merged.zstdLevel, 9);
      ingesting = false;
      // A backlog over 17's bound: 9 is already above what an idle pass would pick.
      assert.deepEqual(waiting(compactor), { units: 0, recompress: 0 });
      await compactor.stop();
      // Within it: rewritten at 17, and then left alone.
      compactor = new Compactor(
        catalog,
        options({
          busyZstdLevels: busyLevels,
          zstdLevels: idle(merged.rawBytes),
          ingesting: () => ingesting,
        }),
      );
      assert.deepEqual(waiting(compactor), { units: 1, recompress: 1 });
      assert.equal(await compactor.compactNow(), 1);
      assert.deepEqual([...catalog.entries()].map((e) => e.zstdLevel), [17]);
      assert.deepEqual((await lines(catalog)).sort(), expected(4, 50));
      assert.deepEqual(waiting(compactor), { units: 0, recompress: 0 });
      await compactor.stop();
    } finally {
      catalog.close();
    }
  }));

Deno.test("once lines stop after a pass planned while they arrived, recompression starts without waiting for the interval", () =>
  withDir(async (dir) => {
    const catalog = await Catalog.open(dir);
    try {
      for (let seq = 1; seq <= 4; seq++) catalog.add(flushFile(dir, seq, 20));
      let ingesting = true;
      // An interval far longer than the test: only the urgent files start the first pass.
      const compactor = new Compactor(
        catalog,
        options({
          intervalMs: 3_600_000,
          urgentFiles: 4,
          busyZstdLevels: [{ upTo: Infinity, level: 1 }],
          ingesting: () => ingesting,
        }),
      );
      compactor.start();
      const levels = () => [...catalog.entries()].map((e) => [e.level, e.zstdLevel]);
      const reach = async (want: number[][]) => {
        const wanted = JSON.stringify(want);
        await waitFor(
          `levels ${wanted}`,
          () => Promise.resolve(JSON.stringify(levels()) === wanted),
          5_000,
        );
        assert.deepEqual(levels(), want);
      };
      await reach([[1, 1]]);
      // Lines still arrive: nothing more happens.
      await new Promise((resolve) => setTimeout(resolve, 600));
      assert.deepEqual(levels(), [[1, 1]]);
      ingesting = false;
      await reach([[1, 17]]);
      assert.deepEqual((await lines(catalog)).sort(), expected(4, 20));
      await compactor.stop();
    } finally {
      catalog.close();
    }
  }));

Deno.test("a damaged frame met by recompression sends the segment to the quarantine, its other blocks salvaged", () =>
  withDir(async (dir) => {
    const catalog = await Catalog.open(dir);
    const quarantine = new Quarantine(catalog, new SegmentCache(catalog.opener));
    const restore = setLogSink(() => {});
    try {
      for (let seq = 1; seq <= 4; seq++) catalog.add(flushFile(dir, seq, 20));
      let ingesting = true;
      const compactor = new Compactor(
        catalog,
        options({ busyZstdLevels: [{ upTo: Infinity, level: 1 }], ingesting: () => ingesting }),
        undefined,
        quarantine,
      );
      assert.equal(await compactor.compactNow(), 4);
      const [busy] = [...catalog.entries()];
      // One block a stream, of its 4 lines: the 8th stream's frame gets 8 bytes flipped.
      const index = await readIndexOf(catalog, busy);
      const ref = index.blocks.find((b) => index.streams[b.stream] === '{"app":"a7"}')!;
      assert.equal(ref.count, 4);
      await damageFrame(join(dir, busy.name), ref, 8);

      ingesting = false;
      assert.equal(await compactor.compactNow(), 0);
      await quarantine.close();
      assert.deepEqual(quarantine.stats, {
        quarantined_files: 1,
        salvaged_lines: 76,
        lost_blocks: 1,
        lost_lines: 4,
      });
      await Deno.stat(join(dir, QUARANTINE_DIR, busy.name));
      const intact = expected(4, 20).filter((l) => !l.startsWith('{"app":"a7"}'));
      assert.deepEqual((await lines(catalog)).sort(), intact);
      // The salvage holds the same sequences; what is left to do leaves every line in place.
      assert.deepEqual([...catalog.entries()].map((e) => e.seqs), [busy.seqs]);
      await compactor.compactNow();
      assert.equal(compactor.stats().recompressWaiting, 0);
      assert.deepEqual((await lines(catalog)).sort(), intact);
      await compactor.stop();
    } finally {
      restore();
      catalog.close();
    }
  }));

Deno.test("a rebuilt catalog after a recompression keeps every partition once, and drops what it replaced", () =>
  withDir(async (dir) => {
    let catalog = await Catalog.open(dir);
    for (const seq of [1, 2]) catalog.add(daysFlushFile(dir, seq));
    const source = await Deno.readFile(join(dir, "l0-days-1.loge"));
    let ingesting = true;
    const compactor = new Compactor(
      catalog,
      options({ busyZstdLevels: [{ upTo: Infinity, level: 1 }], ingesting: () => ingesting }),
    );
    assert.equal(await compactor.compactNow(), 2);
    const busy = [...catalog.entries()];
    const kept = await Deno.readFile(join(dir, busy[0].name));
    ingesting = false;
    assert.equal(await compactor.compactNow(), 3);
    await compactor.stop();
    const recompressed = [...catalog.entries()].map((e) => e.name).sort();
    assert.equal(recompressed.some((n) => busy.some((e) => e.name === n)), false);
    catalog.close();
    // Left behind by crashes amid deletions: a flush file the merge held, and a
    // segment the recompression replaced; then the catalog is lost.
    await Deno.writeFile(join(dir, "l0-days-1.loge"), source);
    await Deno.writeFile(join(dir, busy[0].name), kept);
    await loseCatalog(dir);
    catalog = await Catalog.open(dir);
    try {
      assert.equal([...catalog.entries()].length, 3);
      assert.deepEqual((await lines(catalog)).sort(), daysExpected);
    } finally {
      catalog.close();
    }
  }));

/** The index of the file of `entry`. */
async function readIndexOf(catalog: Catalog, entry: CatalogEntry) {
  const source = await catalog.opener.open(entry);
  try {
    return await readSegmentIndex(source);
  } finally {
    await source.close();
  }
}

Deno.test("lines arriving amid recompression end it for every lane; it resumes once they stop", () =>
  withDir(async (dir) => {
    const catalog = await Catalog.open(dir);
    try {
      for (let seq = 1; seq <= 6; seq++) catalog.add(flushFile(dir, seq, 20));
      let ingesting = true;
      // Segments of one flush file each (none is small), at a busy level.
      const compactor = new Compactor(
        catalog,
        options({
          busyZstdLevels: [{ upTo: Infinity, level: 1 }],
          ingesting: () => ingesting,
          pushesHeld: () => false,
          unitBytes: 1,
          idleWorkers: 2,
        }),
      );
      assert.equal(await compactor.compactNow(), 6);
      const levels = () => [...catalog.entries()].map((e) => e.zstdLevel).sort();
      assert.deepEqual(levels(), [1, 1, 1, 1, 1, 1]);
      ingesting = false;
      // Lines arrive again once the first recompressed segment is in.
      let arriveOnAdd = true;
      catalog.onAdded(() => ingesting ||= arriveOnAdd);
      let timer: ReturnType<typeof setTimeout> | undefined;
      const stuck = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error("the pass did not end")), 20_000);
      });
      let done: number;
      try {
        done = await Promise.race([compactor.compactNow(), stuck]);
      } finally {
        clearTimeout(timer);
      }
      // The units the two lanes had taken before lines arrived, no more.
      assert.ok(done >= 1 && done <= 2, `${done} recompressed`);
      assert.equal(levels().filter((l) => l === 17).length, done);
      assert.equal(compactor.stats().unitsWaiting, 0);
      arriveOnAdd = false;
      ingesting = false;
      assert.equal(await compactor.compactNow(), 6 - done);
      assert.deepEqual(levels(), [17, 17, 17, 17, 17, 17]);
      assert.deepEqual((await lines(catalog)).sort(), expected(6, 20));
      await compactor.stop();
    } finally {
      catalog.close();
    }
  }));
