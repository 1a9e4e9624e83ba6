/**
 * Damaged storage, end to end: a segment file truncated or with a damaged
 * block, and catalog rows that make no sense. The server must go on answering
 * with every line it can still read, and say what it lost.
 */
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { join } from "node:path";
import { openLocalSource } from "../src/storage/source/opener.ts";
import { CATALOG_FILE } from "../src/storage/catalog.ts";
import { QUARANTINE_DIR } from "../src/storage/quarantine.ts";
import { readSegmentIndex } from "../src/storage/segment_reader.ts";
import { pushJson, startServer, type TestServer } from "../testing/server.ts";
import { segmentFiles, stats, waitFor } from "../testing/http.ts";
import { storedLines } from "../testing/stored_lines.ts";
import { damageFrame } from "../testing/segments.ts";

const T0 = 1_700_000_000_000_000_000n;
const NO_COMPACTION = ["--buckets", "1", "--compact-interval", "0"];
const COMPACTION = ["--buckets", "1", "--compact-interval", "100ms", "--compact-min-files", "1"];

/** Pushes `streams` streams (`app` = `<prefix>-s<k>`) of `lines` lines each, in one payload; returns the lines. */
async function pushStreams(
  url: string,
  prefix: string,
  streams: number,
  lines: number,
): Promise<Map<string, string[]>> {
  const pushed = new Map<string, string[]>();
  for (let s = 0; s < streams; s++) {
    const app = `${prefix}-s${s}`;
    pushed.set(
      app,
      Array.from({ length: lines }, (_, i) => `${app} line ${i} ${"x".repeat(i % 40)}`),
    );
  }
  const { status } = await pushJson(url, {
    streams: [...pushed].map(([app, values]) => ({
      stream: { app },
      values: values.map((line, i) => [String(T0 + BigInt(i)), line]),
    })),
  });
  assert.equal(status, 200);
  return pushed;
}

async function post(
  url: string,
  body: unknown,
): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`${url}/api/v1/query`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  return { status: res.status, json: await res.json() };
}

/** Every line the server answers (the `{}` query), sorted, with the warnings. */
async function queryAll(server: TestServer): Promise<{ lines: string[]; warnings: string[] }> {
  const { status, json } = await post(server.url, { query: "{}", limit: 5000 });
  assert.equal(status, 200, `${JSON.stringify(json)}\n${server.stderr()}`);
  const data = json.data as { line: string }[];
  return { lines: data.map((d) => d.line).sort(), warnings: (json.warnings as string[]) ?? [] };
}

const all = (...sets: Map<string, string[]>[]) =>
  sets.flatMap((s) => [...s.values()].flat()).sort();

Deno.test("truncated segments of both levels are quarantined at start; the other files still answer", async () => {
  const dir = await Deno.makeTempDir({ prefix: "loge-damaged-" });
  try {
    // Batch a becomes a level-1 segment; batches b and c one flush file each.
    let server = await startServer({ dir, args: [...COMPACTION, "--flush-interval", "50ms"] });
    await pushStreams(server.url, "a", 3, 200);
    await waitFor("compaction", async () => {
      const s = await stats(server.url);
      return s.compacted_segments === 1 && s.flush_files === 0;
    });
    assert.equal(await server.stop(), 0, server.stderr());
    const batches: Map<string, string[]>[] = [];
    for (const prefix of ["b", "c"]) {
      server = await startServer({ dir, args: NO_COMPACTION });
      batches.push(await pushStreams(server.url, prefix, 3, 200));
      assert.equal(await server.stop(), 0, server.stderr());
    }
    // Names sort by creation: the first flush file holds batch b.
    const names = await segmentFiles(dir);
    const level1 = names.find((n) => n.startsWith("l1-"))!;
    const flushB = names.filter((n) => n.startsWith("l0-"))[0];
    assert.equal(names.length, 3, names.join(", "));
    for (const name of [level1, flushB]) {
      assert.ok((await Deno.stat(join(dir, name))).size > 800);
      await Deno.truncate(join(dir, name), 800);
    }

    server = await startServer({ dir, args: NO_COMPACTION });
    try {
      const { lines, warnings } = await queryAll(server);
      assert.deepEqual(lines, all(batches[1]));
      assert.deepEqual(warnings, []);
      assert.equal((await post(server.url, {})).status, 200);
      const s = await stats(server.url);
      assert.equal(s.quarantined_files, 2);
      assert.equal(s.lost_lines, 1200);
      assert.deepEqual(
        (await Array.fromAsync(Deno.readDir(join(dir, QUARANTINE_DIR)), (e) => e.name)).sort(),
        [flushB, level1].sort(),
      );
      for (const name of [level1, flushB]) {
        assert.match(server.stderr(), new RegExp(`segment ${name} is damaged`));
      }
    } finally {
      assert.equal(await server.stop(), 0, server.stderr());
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/**
 * A folder with one flush file of 8 streams (one block each), the 4th block
 * damaged by 16 flipped bytes; returns the lines of the intact blocks.
 */
async function folderWithDamagedBlock(): Promise<{ dir: string; name: string; intact: string[] }> {
  const dir = await Deno.makeTempDir({ prefix: "loge-damaged-" });
  const server = await startServer({ dir, args: NO_COMPACTION });
  const pushed = await pushStreams(server.url, "d", 8, 30);
  assert.equal(await server.stop(), 0, server.stderr());
  const [name] = await segmentFiles(dir);
  const source = await openLocalSource(dir, name);
  const index = await readSegmentIndex(source);
  await source.close();
  assert.equal(index.blocks.length, 8);
  const ref = index.blocks[3];
  // Known from the index before the damage: the block holds its whole stream.
  assert.equal(ref.count, 30);
  assert.ok(ref.length > 48);
  const damagedApp = JSON.parse(index.streams[ref.stream]).app;
  await damageFrame(join(dir, name), ref, 16);
  pushed.delete(damagedApp);
  return { dir, name, intact: all(pushed) };
}

Deno.test("a damaged block: queries answer 200 with a warning, and the intact blocks are salvaged", async () => {
  const { dir, name, intact } = await folderWithDamagedBlock();
  try {
    let server = await startServer({ dir, args: NO_COMPACTION });
    try {
      const { lines, warnings } = await queryAll(server);
      assert.deepEqual(lines, intact);
      assert.equal(warnings.length, 1);
      assert.match(
        warnings[0],
        new RegExp(`^segment ${name} is damaged \\(block at \\d+ is corrupt`),
      );
      await waitFor(
        "the quarantine",
        async () => (await stats(server.url)).quarantined_files === 1,
      );
      const s = await stats(server.url);
      assert.deepEqual(
        [s.salvaged_lines, s.lost_blocks, s.lost_lines],
        [intact.length, 1, 30],
      );
      assert.deepEqual(await queryAll(server), { lines: intact, warnings: [] });
      await Deno.stat(join(dir, QUARANTINE_DIR, name));
      assert.match(server.stderr(), new RegExp(`segment ${name} is damaged .* 210 lines salvaged`));
    } finally {
      assert.equal(await server.stop(), 0, server.stderr());
    }
    // The salvage segment holds exactly the intact blocks' lines.
    assert.deepEqual((await storedLines(dir)).map((l) => l.line).sort(), intact);
    assert.ok(!(await segmentFiles(dir)).includes(name));

    server = await startServer({ dir, args: COMPACTION });
    try {
      await waitFor("compaction", async () => {
        const s = await stats(server.url);
        return s.compacted_segments === 1 && s.flush_files === 0;
      });
      assert.deepEqual(await queryAll(server), { lines: intact, warnings: [] });
    } finally {
      assert.equal(await server.stop(), 0, server.stderr());
    }
    assert.doesNotMatch(server.stderr(), /compaction failed/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a compaction pass that meets a damaged block quarantines the file and goes on", async () => {
  const { dir, name, intact } = await folderWithDamagedBlock();
  try {
    const server = await startServer({ dir, args: COMPACTION });
    try {
      await waitFor("quarantine and compaction", async () => {
        const s = await stats(server.url);
        return s.quarantined_files === 1 && s.compacted_segments === 1 && s.flush_files === 0;
      });
      assert.deepEqual(await queryAll(server), { lines: intact, warnings: [] });
      await Deno.stat(join(dir, QUARANTINE_DIR, name));
    } finally {
      assert.equal(await server.stop(), 0, server.stderr());
    }
    assert.doesNotMatch(server.stderr(), /compaction failed/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/** Pushes two batches in two runs (two flush files), damages the stopped catalog, restarts. */
async function damagedCatalog(damage: (path: string) => void | Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "loge-catalog-" });
  try {
    const batches: Map<string, string[]>[] = [];
    for (const prefix of ["e", "f"]) {
      const server = await startServer({ dir, args: NO_COMPACTION });
      batches.push(await pushStreams(server.url, prefix, 2, 20));
      assert.equal(await server.stop(), 0, server.stderr());
    }
    await damage(join(dir, CATALOG_FILE));
    const server = await startServer({ dir, args: NO_COMPACTION });
    try {
      assert.deepEqual(await queryAll(server), { lines: all(...batches), warnings: [] });
      assert.match(server.stderr(), /catalog \S*catalog\.sqlite unreadable \(.*\); rebuilding/);
    } finally {
      assert.equal(await server.stop(), 0, server.stderr());
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

function update(path: string, sql: string): void {
  const db = new DatabaseSync(path);
  try {
    assert.equal(db.prepare(sql).run().changes, 1);
  } finally {
    db.close();
  }
}

Deno.test("a catalog row with bad seqs JSON is rebuilt from the files", async () => {
  await damagedCatalog((path) =>
    update(path, `UPDATE files SET seqs = '[{x' WHERE id = (SELECT min(id) FROM files)`)
  );
});

Deno.test("a catalog row naming an unknown stream is rebuilt from the files", async () => {
  await damagedCatalog((path) =>
    update(path, `UPDATE files SET stream_ids = X'E7030000' WHERE id = (SELECT min(id) FROM files)`)
  );
});

Deno.test("a flipped byte in a cataloged file name is rebuilt from the files", async () => {
  await damagedCatalog(async (path) => {
    const db = new DatabaseSync(path);
    const { name } = db.prepare("SELECT name FROM files ORDER BY id LIMIT 1").get() as {
      name: string;
    };
    const { rootpage } = db.prepare("SELECT rootpage FROM sqlite_master WHERE name = 'files'")
      .get() as { rootpage: number };
    const { page_size } = db.prepare("PRAGMA page_size").get() as { page_size: number };
    db.close();
    // The table's copy of the name (one leaf page: a handful of rows), not its index's.
    const bytes = await Deno.readFile(path);
    const page = bytes.subarray((rootpage - 1) * page_size, rootpage * page_size);
    const needle = new TextEncoder().encode(name);
    const at = page.findIndex((_, i) => needle.every((b, k) => page[i + k] === b));
    assert.ok(at >= 0, "name not found in the table's page");
    // The last digit of the counter: still a valid segment name, now of no file.
    page[at + name.length - ".loge".length - 1] ^= 0x01;
    await Deno.writeFile(path, bytes);
  });
});
