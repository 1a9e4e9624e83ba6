import assert from "node:assert/strict";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { loseCatalog, writeOneLine } from "../../testing/segments.ts";
import { Catalog, CATALOG_FILE } from "./catalog.ts";
import { bloomFilter, FILE_FILTER_BITS, filterHasAll, termsOf } from "./content_filter.ts";
import { FUSE_TAG } from "./fuse_filter.ts";
import type { SeqRanges } from "./seq_ranges.ts";

function write(dir: string, name: string, level: number, seqs: SeqRanges) {
  const stream = '{"app":"web","env":"prod"}';
  return writeOneLine(dir, name, {
    level,
    ts: BigInt(seqs[0][0]),
    line: `line ${name}`,
    stream,
    seqs,
  });
}

/** Asserts that the catalog of `dir` was opened in place, never set aside and rebuilt. */
async function assertNotSetAside(dir: string) {
  const aside = await Array.fromAsync(Deno.readDir(dir), (e) => e.name);
  assert.deepEqual(aside.filter((n) => n.startsWith(`${CATALOG_FILE}.corrupt-`)), []);
}

async function withDir(fn: (dir: string) => Promise<void>) {
  const dir = await Deno.makeTempDir();
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const names = (c: Catalog) => [...c.entries()].map((e) => e.name).sort();

/** The column each catalog version added, newest first: what an older loge's catalog lacks. */
const ADDED_IN: readonly [number, string][] = [
  [4, "filter_covers_metadata"],
  [3, "zstd_level"],
  [2, "indexed"],
];

/**
 * Makes the catalog of `dir` what loge wrote at `version` (the columns added
 * since dropped, the version stamped), then opens it, migrated in place.
 */
async function openFromVersion(dir: string, version: number): Promise<Catalog> {
  const db = new DatabaseSync(join(dir, CATALOG_FILE));
  for (const [added, column] of ADDED_IN) {
    if (added > version) db.exec(`ALTER TABLE files DROP COLUMN ${column}`);
  }
  db.exec(`UPDATE meta SET value = ${version} WHERE key = 'version'`);
  db.close();
  const catalog = await Catalog.open(dir);
  await assertNotSetAside(dir);
  return catalog;
}

Deno.test("the catalog persists rows and replaces sources atomically", () =>
  withDir(async (dir) => {
    let catalog = await Catalog.open(dir);
    const a = catalog.add(write(dir, "l0-a.loge", 0, [[1, 2]]));
    const b = catalog.add(write(dir, "l0-b.loge", 0, [[3, 3]]));
    assert.deepEqual(a.streams[0].labels, { app: "web", env: "prod" });
    catalog.replace([a, b], [write(dir, "l1-c.loge", 1, [[1, 3]])]);
    catalog.close();
    catalog = await Catalog.open(dir);
    // The sources are still on disk (not yet unlinked) but hold nothing new.
    assert.deepEqual(names(catalog), ["l1-c.loge"]);
    assert.deepEqual(
      await Array.fromAsync(Deno.readDir(dir), (e) => e.name).then((n) =>
        n.filter((x) => x.endsWith(".loge")).sort()
      ),
      ["l1-c.loge"],
    );
    assert.ok(catalog.covered.coversRange(1, 3));
    catalog.close();
  }));

Deno.test("listeners hear of each file a flush or a merge catalogs, once committed", () =>
  withDir(async (dir) => {
    const catalog = await Catalog.open(dir);
    const heard: string[][] = [];
    catalog.onAdded((entries) => {
      // Committed first: the listener finds the new files among the entries.
      assert.ok(entries.every((e) => catalog.has(e)));
      heard.push(entries.map((e) => `${e.name}@${e.level}`));
    });
    const a = catalog.add(write(dir, "l0-a.loge", 0, [[1, 2]]));
    const b = catalog.add(write(dir, "l0-b.loge", 0, [[3, 3]]));
    catalog.replace([a, b], [
      write(dir, "l1-c.loge", 1, [[1, 2]]),
      write(dir, "l1-d.loge", 1, [[3, 3]]),
    ]);
    catalog.remove([...catalog.entries()]);
    assert.deepEqual(heard, [["l0-a.loge@0"], ["l0-b.loge@0"], ["l1-c.loge@1", "l1-d.loge@1"]]);
    catalog.close();
  }));

Deno.test("a lost or corrupt catalog is rebuilt from the files", () =>
  withDir(async (dir) => {
    let catalog = await Catalog.open(dir);
    assert.equal(catalog.rebuilt, true, "none was there");
    catalog.add(write(dir, "l0-a.loge", 0, [[1, 2]]));
    catalog.add(write(dir, "l0-b.loge", 0, [[3, 3]]));
    write(dir, "l1-c.loge", 1, [[1, 2]]); // unfinished compaction of l0-a alone
    catalog.close();
    await Deno.writeTextFile(join(dir, CATALOG_FILE), "this is not a database".repeat(100));
    await Deno.remove(join(dir, `${CATALOG_FILE}-wal`)).catch(() => {});
    catalog = await Catalog.open(dir);
    assert.equal(catalog.rebuilt, true, "set aside");
    assert.deepEqual(names(catalog), ["l0-b.loge", "l1-c.loge"]);
    assert.equal([...catalog.entries()].reduce((n, e) => n + e.rows, 0), 2);
    catalog.close();
    catalog = await Catalog.open(dir);
    assert.equal(catalog.rebuilt, true, "rebuilt, and not yet beside a cold tier");
    catalog.markRebuiltBesideTier();
    catalog.close();
    catalog = await Catalog.open(dir);
    assert.equal(catalog.rebuilt, false, "opened as it was");
    catalog.close();
    await loseCatalog(dir);
    catalog = await Catalog.open(dir);
    assert.equal(catalog.rebuilt, true, "lost");
    assert.deepEqual(names(catalog), ["l0-b.loge", "l1-c.loge"]);
    catalog.close();
    await loseCatalog(dir);
    await Deno.writeFile(join(dir, CATALOG_FILE), new Uint8Array());
    catalog = await Catalog.open(dir);
    assert.equal(catalog.rebuilt, true, "an empty file");
    assert.deepEqual(names(catalog), ["l0-b.loge", "l1-c.loge"]);
    catalog.close();
  }));

Deno.test("what a rebuild beside a cold tier leaves unknown, and the sequence floor, outlive restarts", () =>
  withDir(async (dir) => {
    let catalog = await Catalog.open(dir);
    catalog.add(write(dir, "l0-a.loge", 0, [[1, 1]]));
    catalog.add(write(dir, "l1-b.loge", 1, [[2, 2]]));
    catalog.close();
    // Rebuilt, and started again before it met its tier (or cut short): still a rebuild.
    await Deno.remove(join(dir, "l0-a.loge"));
    await loseCatalog(dir);
    catalog = await Catalog.open(dir);
    catalog.close();
    catalog = await Catalog.open(dir);
    assert.equal(catalog.rebuilt, true);
    assert.equal(catalog.coldSequencesUnknown, false);
    assert.equal(catalog.seqFloor, 0);
    catalog.markRebuiltBesideTier();
    catalog.setSeqFloor(1_795_000_000_000_000);
    catalog.setSeqFloor(5); // never lowered
    // Written since: no object of it can be unnoted.
    catalog.add(write(dir, "l1-c.loge", 1, [[3, 3]]));
    catalog.add(write(dir, "l0-d.loge", 0, [[4, 4]]));
    catalog.close();
    catalog = await Catalog.open(dir);
    const awaiting = () =>
      [...catalog.entries()].filter((e) => catalog.awaitsListing(e)).map((e) => e.name);
    assert.equal(catalog.rebuilt, false);
    assert.equal(catalog.coldSequencesUnknown, true);
    assert.deepEqual(awaiting(), ["l1-b.loge"]);
    assert.equal(catalog.seqFloor, 1_795_000_000_000_000);
    // A listing that found nothing still notes all there is to note.
    catalog.noteFound([]);
    assert.deepEqual(awaiting(), []);
    catalog.markColdSequencesKnown();
    catalog.close();
    catalog = await Catalog.open(dir);
    assert.equal(catalog.coldSequencesUnknown, false);
    assert.deepEqual(awaiting(), []);
    assert.equal(catalog.seqFloor, 1_795_000_000_000_000);
    // A start without the tier ends the wait too: no listing will come.
    catalog.markRebuiltBesideTier();
    assert.deepEqual(awaiting(), ["l1-b.loge", "l1-c.loge"]);
    catalog.endListingWait();
    catalog.close();
    catalog = await Catalog.open(dir);
    assert.deepEqual(awaiting(), []);
    catalog.close();
  }));

const upload = (n: number) => ({
  local: `l1-a-0000000${n}.loge`,
  remote: `node-a/${n}-${n}-1-10-99-l1-a-0000000${n}.loge`,
});

Deno.test("uploads noted and not flipped outlive restarts; a flip forgets its own in the same commit", () =>
  withDir(async (dir) => {
    let catalog = await Catalog.open(dir);
    const [one, two] = [upload(1), upload(2)];
    catalog.add(write(dir, one.local, 1, [[1, 1]]));
    assert.deepEqual([...catalog.unflippedUploads], []);
    catalog.noteUpload(one.local, one.remote);
    catalog.noteUpload(two.local, two.remote);
    catalog.noteUpload(two.local, two.remote); // noted once
    catalog.close();
    catalog = await Catalog.open(dir);
    const noted = [...catalog.unflippedUploads].sort();
    assert.deepEqual(noted.map(([remote, u]) => [remote, u.local, u.superseded]), [
      [one.remote, one.local, false],
      [two.remote, two.local, false],
    ]);
    // When each was noted: a later upload's landing is told apart by it.
    for (const [, u] of noted) assert.ok(Math.abs(Date.now() - u.notedMs) < 60_000, `${u.notedMs}`);
    const [entry] = catalog.entries();
    catalog.moveToRemote(entry, "s3", one.remote);
    catalog.forgetUpload("node-a/9-9-1-10-99-l1-a-00000009.loge"); // never noted: nothing
    catalog.close();
    catalog = await Catalog.open(dir);
    assert.deepEqual([...catalog.unflippedUploads.keys()], [two.remote]);
    assert.deepEqual([...catalog.entries()].map((e) => [e.location, e.name]), [["s3", one.remote]]);
    catalog.forgetUpload(two.remote);
    catalog.close();
    const db = new DatabaseSync(join(dir, CATALOG_FILE));
    assert.equal(db.prepare("SELECT * FROM meta WHERE key = 'unflipped_uploads'").get(), undefined);
    db.close();
  }));

Deno.test("a merge, retention or the flip of another upload of the file marks an upload superseded; other drops do not", () =>
  withDir(async (dir) => {
    let catalog = await Catalog.open(dir);
    const uploads = [1, 2, 3, 4, 5, 6].map(upload);
    const [, , damaged, salvaged, moved] = uploads;
    const entries = uploads.map((u, i) => catalog.add(write(dir, u.local, 1, [[i + 1, i + 1]])));
    for (const u of uploads) {
      catalog.noteUpload(u.local, u.remote);
    }
    catalog.replace([entries[0]], [write(dir, "l1-b-00000001.loge", 1, [[1, 1]])]);
    catalog.retire([entries[1]]);
    catalog.remove([entries[2]]); // as a damaged file's row goes
    catalog.remove([entries[5]], { held: true }); // as one whose lines others hold goes
    // A salvage may lack lines of its source: the upload may be their one intact copy.
    catalog.replace([entries[3]], [write(dir, "l1-b-00000004.loge", 1, [[4, 4]])], {
      salvage: true,
    });
    // The same file uploaded again under another node id, and flipped there.
    const again = moved.remote.replace("node-a/", "node-b/");
    catalog.noteUpload(moved.local, again);
    catalog.moveToRemote(entries[4], "s3", again);
    catalog.close();
    catalog = await Catalog.open(dir);
    assert.deepEqual(
      [...catalog.unflippedUploads].map(([remote, u]) => [remote, u.local, u.superseded]).sort(),
      uploads.map((u) => [
        u.remote,
        u.local,
        u !== damaged && u !== salvaged,
      ]),
    );
    catalog.close();
  }));

Deno.test("objects a listing found are marked superseded by a merge or a flip of their file, forgotten by retention or a held removal", () =>
  withDir(async (dir) => {
    let catalog = await Catalog.open(dir);
    const uploads = [1, 2, 3, 4, 5, 6, 7].map(upload);
    const [merged, retired, held, damaged, salvaged, moved, uploaded] = uploads;
    const entries = uploads.map((u, i) => catalog.add(write(dir, u.local, 1, [[i + 1, i + 1]])));
    catalog.noteFound(uploads);
    assert.deepEqual(
      [...catalog.unflippedUploads].map(([remote, u]) => [remote, u.found, u.superseded]).sort(),
      uploads.map((u) => [u.remote, true, false]),
    );
    catalog.replace([entries[0]], [write(dir, "l1-b-00000001.loge", 1, [[1, 1]])]);
    catalog.retire([entries[1]]);
    catalog.remove([entries[2]], { held: true });
    catalog.remove([entries[3]]);
    catalog.replace([entries[4]], [write(dir, "l1-b-00000005.loge", 1, [[5, 5]])], {
      salvage: true,
    });
    catalog.moveToRemote(entries[5], "s3", moved.remote.replace("node-a/", "node-b/"));
    // Uploaded again under its key: an upload's note now, which retention marks.
    catalog.noteUpload(uploaded.local, uploaded.remote);
    catalog.retire([entries[6]]);
    catalog.close();
    catalog = await Catalog.open(dir);
    assert.deepEqual(
      [...catalog.unflippedUploads].map(([remote, u]) => [remote, u.found, u.superseded]).sort(),
      [
        [merged.remote, true, true],
        [damaged.remote, true, false],
        [salvaged.remote, true, false],
        [moved.remote, true, true],
        [uploaded.remote, false, true],
      ],
    );
    assert.ok(![retired, held].some((u) => catalog.unflippedUploads.has(u.remote)));
    catalog.close();
    // Only found notes carry a fifth field: the build before reads the others.
    const db = new DatabaseSync(join(dir, CATALOG_FILE));
    const rows = JSON.parse(
      db.prepare("SELECT value FROM meta WHERE key = 'unflipped_uploads'").get()!.value as string,
    ) as unknown[][];
    db.close();
    assert.deepEqual(
      rows.map((r) => [r[1], r.length]).sort(),
      [[merged.remote, 5], [damaged.remote, 5], [salvaged.remote, 5], [moved.remote, 5], [
        uploaded.remote,
        4,
      ]],
    );
  }));

Deno.test("noting an upload again clears an old mark and restarts its time; renewing keeps the mark", () =>
  withDir(async (dir) => {
    let catalog = await Catalog.open(dir);
    const [one, two] = [upload(1), upload(2)];
    // As an earlier build wrote them: no time, so noted long ago.
    catalog.close();
    const db = new DatabaseSync(join(dir, CATALOG_FILE));
    db.prepare("INSERT INTO meta VALUES ('unflipped_uploads', ?)").run(
      JSON.stringify([[one.local, one.remote, 1], [two.local, two.remote, 1]]),
    );
    db.close();
    catalog = await Catalog.open(dir);
    await assertNotSetAside(dir);
    const state = () =>
      [...catalog.unflippedUploads].map(([remote, u]) => [remote, u.superseded, u.notedMs > 0])
        .sort();
    assert.deepEqual(state(), [[one.remote, true, false], [two.remote, true, false]]);
    // The file is cataloged again (its merge's commit was lost) and uploaded again.
    catalog.noteUpload(one.local, one.remote);
    // The other was given up now: the store may still complete it.
    catalog.renewUpload(two.remote);
    catalog.close();
    catalog = await Catalog.open(dir);
    assert.deepEqual(state(), [[one.remote, false, true], [two.remote, true, true]]);
    catalog.close();
  }));

Deno.test("a damaged list of unflipped uploads is named, never half read", () =>
  withDir(async (dir) => {
    (await Catalog.open(dir)).close();
    const values = [
      "not json",
      '{"a":1}',
      '[["l1-a.loge", "x/l1-a.loge", 2, 5]]',
      '[["", "x", 0, 5]]',
      '[["l1-a.loge", "x/l1-a.loge", 0, -1]]',
      '[["l1-a.loge", "x/l1-a.loge", 0, 5, 6]]',
    ];
    for (const value of values) {
      const db = new DatabaseSync(join(dir, CATALOG_FILE));
      db.prepare("INSERT OR REPLACE INTO meta VALUES ('unflipped_uploads', ?)").run(value);
      db.close();
      const catalog = await Catalog.open(dir);
      // A catalog whose rows cannot be read is set aside and rebuilt from the folder.
      assert.equal(catalog.rebuilt, true, value);
      assert.deepEqual([...catalog.unflippedUploads], []);
      catalog.close();
    }
  }));

Deno.test("a file that is not in the catalog and holds new sequences is added", () =>
  withDir(async (dir) => {
    let catalog = await Catalog.open(dir);
    catalog.add(write(dir, "l0-a.loge", 0, [[1, 2]]));
    catalog.close();
    write(dir, "l0-b.loge", 0, [[3, 4]]);
    await Deno.writeTextFile(join(dir, "l0-x.loge.tmp"), "half");
    catalog = await Catalog.open(dir);
    assert.deepEqual(names(catalog), ["l0-a.loge", "l0-b.loge"]);
    await assert.rejects(() => Deno.stat(join(dir, "l0-x.loge.tmp")), Deno.errors.NotFound);
    catalog.close();
  }));

Deno.test("after a crash amid deleting merged sources, the merged segment wins", () =>
  withDir(async (dir) => {
    let catalog = await Catalog.open(dir);
    catalog.add(write(dir, "l1-a.loge", 1, [[1, 5]]));
    catalog.add(write(dir, "l1-b.loge", 1, [[6, 9]]));
    write(dir, "l1-c.loge", 1, [[1, 9]]); // their merge, finished but not yet cataloged
    catalog.close();
    await loseCatalog(dir);
    await Deno.remove(join(dir, "l1-a.loge")); // one source already unlinked
    catalog = await Catalog.open(dir);
    assert.deepEqual(names(catalog), ["l1-c.loge"]);
    catalog.close();
  }));

Deno.test("a version 2 catalog is migrated in place: rows kept, zstd levels recorded from then on", () =>
  withDir(async (dir) => {
    let catalog = await Catalog.open(dir);
    catalog.add(write(dir, "l1-a.loge", 1, [[1, 2]]));
    assert.equal([...catalog.entries()][0].zstdLevel, 1);
    catalog.close();
    // What loge wrote before zstd levels.
    catalog = await openFromVersion(dir, 2);
    catalog.add(write(dir, "l1-b.loge", 1, [[3, 4]]));
    catalog.close();
    catalog = await Catalog.open(dir);
    const levels = [...catalog.entries()].map((e) => [e.name, e.zstdLevel]);
    assert.deepEqual(levels, [["l1-a.loge", undefined], ["l1-b.loge", 1]]);
    catalog.close();
  }));

Deno.test("a version 3 catalog is migrated in place: its rows' filters are not known to hold metadata terms", () =>
  withDir(async (dir) => {
    let catalog = await Catalog.open(dir);
    catalog.add(write(dir, "l1-a.loge", 1, [[1, 2]]));
    assert.equal([...catalog.entries()][0].filterCoversMetadata, true);
    catalog.close();
    // What loge wrote before it recorded what file filters hold.
    catalog = await openFromVersion(dir, 3);
    catalog.add(write(dir, "l1-b.loge", 1, [[3, 4]]));
    catalog.close();
    catalog = await Catalog.open(dir);
    const covers = [...catalog.entries()].map((e) => [e.name, e.filterCoversMetadata]);
    assert.deepEqual(covers, [["l1-a.loge", false], ["l1-b.loge", true]]);
    catalog.close();
  }));

Deno.test("a version 4 catalog is migrated in place: its Bloom file filters still prune, new files get fuse filters", () =>
  withDir(async (dir) => {
    let catalog = await Catalog.open(dir);
    const [a, b] = [" request_aaaaaaaa ", " request_bbbbbbbb "];
    catalog.add(writeOneLine(dir, "l1-a.loge", { line: `GET${a}done` }));
    catalog.close();
    // What loge wrote before fuse filters: a Bloom filter of 3 bits a term.
    const db = new DatabaseSync(join(dir, CATALOG_FILE));
    const bloom = bloomFilter(new Uint32Array(termsOf(a)), FILE_FILTER_BITS);
    db.prepare("UPDATE files SET filter = ? WHERE name = 'l1-a.loge'").run(bloom);
    db.close();
    catalog = await openFromVersion(dir, 4);
    catalog.add(writeOneLine(dir, "l1-b.loge", { line: `GET${b}done`, seqs: [[2, 2]] }));
    catalog.close();
    catalog = await Catalog.open(dir);
    const [old, added] = [...catalog.entries()].sort((x, y) => x.name.localeCompare(y.name));
    assert.deepEqual(catalog.filterOf(old), bloom);
    assert.equal(catalog.filterOf(added)[0], FUSE_TAG);
    for (const [entry, holds, lacks] of [[old, a, b], [added, b, a]] as const) {
      assert.equal(filterHasAll(catalog.filterOf(entry), termsOf(holds)), true, entry.name);
      assert.equal(filterHasAll(catalog.filterOf(entry), termsOf(lacks)), false, entry.name);
    }
    catalog.close();
  }));

Deno.test("a version 1 catalog is migrated in place: rows kept, remote rows possible", () =>
  withDir(async (dir) => {
    let catalog = await Catalog.open(dir);
    catalog.add(write(dir, "l1-a.loge", 1, [[1, 2]]));
    catalog.close();
    // What loge wrote before remote rows.
    catalog = await openFromVersion(dir, 1);
    assert.deepEqual(names(catalog), ["l1-a.loge"]);
    assert.equal([...catalog.entries()][0].indexed, true);
    // Its zstd level was not recorded then.
    assert.equal([...catalog.entries()][0].zstdLevel, undefined);
    const [remote] = catalog.addRemote("s3", [{
      name: "node-b/1-9-5-100-l1-b.loge",
      level: 1,
      minTs: 1n,
      maxTs: 9n,
      rows: 5,
      rawBytes: 100,
      bytes: 4096,
    }]);
    assert.equal(remote.indexed, false);
    catalog.close();
    catalog = await Catalog.open(dir);
    const again = [...catalog.entries()].find((e) => e.location === "s3")!;
    assert.deepEqual({ ...again, id: 0 }, { ...remote, id: 0 });
    const indexed = catalog.setStreams(again, ['{"app":"web"}']);
    assert.deepEqual(indexed.streams.map((s) => s.key), ['{"app":"web"}']);
    catalog.close();
    catalog = await Catalog.open(dir);
    const known = [...catalog.entries()].find((e) => e.location === "s3")!;
    assert.equal(known.indexed, true);
    assert.deepEqual(known.streams.map((s) => s.labels), [{ app: "web" }]);
    // Remote rows survive a restart: the data folder does not hold their files.
    assert.deepEqual(names(catalog), ["l1-a.loge", "node-b/1-9-5-100-l1-b.loge"]);
    catalog.close();
  }));

Deno.test("a catalog of a newer version is set aside and rebuilt, never misread", () =>
  withDir(async (dir) => {
    let catalog = await Catalog.open(dir);
    catalog.add(write(dir, "l0-a.loge", 0, [[1, 1]]));
    catalog.close();
    const db = new DatabaseSync(join(dir, CATALOG_FILE));
    db.exec("UPDATE meta SET value = 99 WHERE key = 'version'");
    db.close();
    catalog = await Catalog.open(dir);
    assert.deepEqual(names(catalog), ["l0-a.loge"]);
    const aside = (await Array.fromAsync(Deno.readDir(dir))).filter((e) =>
      e.name.startsWith(`${CATALOG_FILE}.corrupt-`)
    );
    assert.ok(aside.length >= 1);
    catalog.close();
  }));

Deno.test("retired sequences stay covered across a reopen, until pruned below the WAL's floor", () =>
  withDir(async (dir) => {
    let catalog = await Catalog.open(dir);
    const a = catalog.add(write(dir, "l1-a-00000001.loge", 1, [[1, 5]]));
    catalog.add(write(dir, "l1-b-00000002.loge", 1, [[6, 9]]));
    catalog.retire([a]);
    assert.deepEqual(names(catalog), ["l1-b-00000002.loge"]);
    assert.equal(catalog.covered.coversRange(1, 9), true);
    catalog.close();
    // The retired file was not deleted (a crash): the start finds it covered and deletes it.
    catalog = await Catalog.open(dir);
    assert.deepEqual(names(catalog), ["l1-b-00000002.loge"]);
    await assert.rejects(Deno.stat(join(dir, "l1-a-00000001.loge")), Deno.errors.NotFound);
    assert.equal(catalog.covered.coversRange(1, 5), true);
    catalog.pruneRetired(4); // the WAL still holds 4 and 5: kept
    assert.equal(catalog.covered.coversRange(1, 5), true);
    catalog.pruneRetired(6);
    assert.equal(catalog.covered.has(3), false);
    assert.equal(catalog.covered.coversRange(6, 9), true);
    catalog.close();
    catalog = await Catalog.open(dir);
    assert.equal(catalog.covered.has(3), false);
    catalog.close();
  }));

Deno.test("a cold row that learns its sequences covers them, and only local files it holds go", () =>
  withDir(async (dir) => {
    const HOUR = 3_600_000_000_000n;
    const catalog = await Catalog.open(dir);
    const one = (name: string, level: number, ts: bigint, seqs: SeqRanges) =>
      catalog.add(writeOneLine(dir, name, { level, ts, line: name, seqs }));
    // A merge of pushes 1-3 into three hourly siblings. p0 moved to the cold
    // tier; p1 is local; p2 expired (retention retired its sequences).
    one("l1-m-00000001-p1-1h-3.loge", 1, HOUR + 5n, [[1, 3]]);
    const p2 = one("l1-m-00000001-p2-1h-3.loge", 1, 2n * HOUR + 5n, [[1, 3]]);
    catalog.retire([...catalog.entries()].filter((e) => e.name === p2.name));
    await Deno.remove(join(dir, p2.name));
    // Left by a crash: one of the merge's sources (its lines in p0's hour),
    // and a rewrite of p0 whose row was lost (the cold copy holds the same).
    one("l0-a-00000001.loge", 0, 5n, [[1, 2]]);
    one("l1-m-00000001-p0-1h-3-r2.loge", 1, 5n, [[1, 3]]);
    // A flush file of pushes no other file holds.
    one("l0-a-00000004.loge", 0, 6n, [[4, 4]]);
    const cold = (node: string) =>
      catalog.addRemote("s3", [{
        name: `${node}/5-5-1-100-4096-l1-m-00000001-p0-1h-3.loge`,
        level: 1,
        minTs: 5n,
        maxTs: 5n,
        rows: 1,
        rawBytes: 100,
        bytes: 4096,
      }])[0];
    // Another node's copy: it knows no sequences (they would be that node's
    // WAL's), so it holds nothing here.
    cold("b-node");
    // This node's, named after the local files (a node id past "l" sorts it last by name).
    const own = cold("z-node");
    assert.deepEqual(own.seqs, []);
    const learned = catalog.setStreams(own, ['{"app":"web"}'], [[1, 3]]);
    assert.deepEqual(learned.seqs, [[1, 3]]);
    assert.ok(catalog.covered.has(3));
    const dropped = await catalog.removeSuperseded();
    assert.deepEqual(dropped.map((e) => e.name).sort(), [
      "l0-a-00000001.loge",
      "l1-m-00000001-p0-1h-3-r2.loge",
    ]);
    const local = await Array.fromAsync(Deno.readDir(dir), (e) => e.name);
    assert.deepEqual(local.filter((n) => n.endsWith(".loge")).sort(), [
      "l0-a-00000004.loge",
      "l1-m-00000001-p1-1h-3.loge",
    ]);
    // Sequences that are not sorted, disjoint ranges are not learnt.
    const [other] = catalog.addRemote("s3", [{
      ...own,
      name: `z-node/5-5-1-100-4096-l1-x-1.loge`,
    }]);
    assert.deepEqual(catalog.setStreams(other, ['{"app":"web"}'], [[3, 1]]).seqs, []);
    catalog.close();
    // Persisted: a reopen knows the cold row's sequences.
    const again = await Catalog.open(dir);
    assert.deepEqual(
      [...again.entries()].filter((e) => e.location === "s3").map((e) => e.seqs),
      [[], [[1, 3]], []],
    );
    again.close();
  }));
