/**
 * Compaction keeps its progress across kills: a pass is a series of bounded
 * units, each committed before the next starts, so SIGKILLing the server in
 * the middle of a pass loses at most the unit under way.
 */
import assert from "node:assert/strict";
import { Catalog } from "../src/storage/catalog.ts";
import { startServer } from "../testing/server.ts";
import { storedLines } from "../testing/stored_lines.ts";

/** Flush files (level 0) in `dir`. */
async function flushFiles(dir: string): Promise<number> {
  let n = 0;
  for await (const e of Deno.readDir(dir)) {
    if (e.name.startsWith("l0-") && e.name.endsWith(".loge")) n++;
  }
  return n;
}

/** Flush files the catalog of a stopped server's `dir` still lists. */
async function catalogedFlushFiles(dir: string): Promise<number> {
  const catalog = await Catalog.open(dir);
  try {
    return [...catalog.entries()].filter((e) => e.level === 0).length;
  } finally {
    catalog.close();
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// The first pass starts half a second after the start: the test is polling by then.
const COMPACT = ["--compact-interval", "500ms", "--compact-min-files", "2"];
const KILL_ROUNDS = 4;

Deno.test("compaction progress survives SIGKILL, and every line is stored once", async () => {
  const dir = await Deno.makeTempDir({ prefix: "loge-compaction-" });
  try {
    // Many small flush files, no compaction.
    const pushed: string[] = [];
    const ingest = await startServer({
      dir,
      args: [
        "--payload-size",
        "10",
        "--flush-interval",
        "50ms",
        "--flush-coalesce",
        "0",
        // Two flush workers for many files: one would write batches queued behind its current
        // file into one.
        "--flush-workers",
        "2",
        "--compact-interval",
        "0",
      ],
    });
    const pusher = async (worker: number) => {
      for (let n = 0; n < 50; n++) {
        const lines = Array.from({ length: 10 }, (_, i) => `w${worker} p${n} l${i}`);
        const res = await fetch(`${ingest.url}/api/v1/push`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({
            streams: [{
              stream: { app: `w${worker}` },
              values: lines.map((
                line,
                i,
              ) => [String(1_700_000_000_000_000_000n + BigInt(n * 10 + i)), line]),
            }],
          }),
        });
        await res.body?.cancel();
        assert.equal(res.status, 200);
        pushed.push(...lines);
      }
    };
    await Promise.all(Array.from({ length: 4 }, (_, w) => pusher(w)));
    assert.equal(await ingest.stop(), 0, ingest.stderr());
    let left = await flushFiles(dir);
    // Batches that queue while the flush workers are busy share a file: ~200
    // files on a quiet machine, fewer on a loaded one; the rounds need a dozen.
    assert.ok(left >= 16, `only ${left} flush files`);
    const initial = left;

    // Compaction in units of 2 files, killed as soon as a unit has committed.
    const history = [left];
    for (let round = 0; round < KILL_ROUNDS && left > 0; round++) {
      const server = await startServer({ dir, args: [...COMPACT, "--compact-unit-files", "2"] });
      while (await flushFiles(dir) >= left) await sleep(5);
      await server.kill();
      // What the catalog lists after the kill (its start removes the files of
      // sources a committed unit replaced).
      const now = await catalogedFlushFiles(dir);
      assert.ok(now < left, `round ${round}: ${now} flush files, ${left} before`);
      left = now;
      history.push(left);
    }
    // The first kill came in the middle of the pass, and the units it had
    // committed were kept: neither all its work nor none of it.
    assert.ok(history[1] > 0 && history[1] < initial, `flush files by round: ${history}`);

    // A last clean run compacts the rest.
    const last = await startServer({ dir, args: COMPACT });
    while (await flushFiles(dir) > 0) await sleep(50);
    assert.equal(await last.stop(), 0, last.stderr());

    const counts = new Map<string, number>();
    for (const l of await storedLines(dir)) counts.set(l.line, (counts.get(l.line) ?? 0) + 1);
    const twice = [...counts].filter(([, n]) => n > 1);
    assert.deepEqual(twice.slice(0, 5), [], `${twice.length} lines stored more than once`);
    const missing = pushed.filter((l) => !counts.has(l));
    assert.deepEqual(missing.slice(0, 5), [], `${missing.length} lines lost`);
    assert.equal(counts.size, pushed.length);
    const temps = await Array.fromAsync(Deno.readDir(dir), (e) => e.name);
    assert.deepEqual(temps.filter((n) => n.endsWith(".tmp")), []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/** The `compaction` figures of `GET /api/v1/stats`. */
interface Compaction {
  flush_files: number;
  flush_raw_bytes: number;
  units_waiting: number;
  recompress_waiting: number;
  running: boolean;
  running_since: string | null;
  units: number;
  units_done: number;
  passes: number;
  last_pass: {
    files: number;
    duration_ms: number;
    raw_bytes: number;
    raw_bytes_per_second: number;
  } | null;
}

/** `GET /api/v1/stats` of the server at `url`. */
async function stats(
  url: string,
): Promise<
  {
    rows_in_memory: number;
    compaction: Compaction;
    ingest: { held_by_compaction: number; held_now: number };
  }
> {
  const res = await fetch(`${url}/api/v1/stats`);
  assert.equal(res.status, 200);
  return await res.json();
}

Deno.test("/api/v1/stats shows the compaction backlog, the pass under way and the last pass", async () => {
  const dir = await Deno.makeTempDir({ prefix: "loge-compaction-stats-" });
  try {
    const ingest = await startServer({
      dir,
      args: [
        "--payload-size",
        "20",
        "--flush-interval",
        "50ms",
        "--flush-coalesce",
        "0",
        // Two flush workers for many files: one would write batches queued behind its current
        // file into one.
        "--flush-workers",
        "2",
        "--compact-interval",
        "0",
      ],
    });
    let lineBytes = 0;
    for (let n = 0; n < 40; n++) {
      const lines = Array.from({ length: 20 }, (_, i) => `push ${n} line ${i} ${"x".repeat(n)}`);
      lineBytes += lines.reduce((sum, l) => sum + l.length, 0);
      const res = await fetch(`${ingest.url}/api/v1/push`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          streams: [{
            stream: { app: `a${n % 3}` },
            values: lines.map((
              l,
              i,
            ) => [String(1_700_000_000_000_000_000n + BigInt(n * 20 + i)), l]),
          }],
        }),
      });
      await res.body?.cancel();
      assert.equal(res.status, 200);
    }
    // Every line in a flush file, nothing compacted.
    while ((await stats(ingest.url)).rows_in_memory > 0) await sleep(20);
    const waiting = (await stats(ingest.url)).compaction;
    const files = await flushFiles(dir);
    assert.ok(files >= 10, `${files} flush files`);
    assert.equal(waiting.flush_files, files);
    assert.ok(waiting.flush_raw_bytes >= lineBytes, `${waiting.flush_raw_bytes} < ${lineBytes}`);
    assert.equal(waiting.running, false);
    assert.ok(waiting.units_waiting >= 1, "a pass would have work");
    // Flush files are merged, not recompressed.
    assert.equal(waiting.recompress_waiting, 0);
    assert.equal(waiting.running_since, null);
    assert.equal(waiting.passes, 0);
    assert.equal(waiting.last_pass, null);
    assert.equal(await ingest.stop(), 0, ingest.stderr());

    // Units of 2 files: the pass is seen under way, then done.
    const server = await startServer({ dir, args: [...COMPACT, "--compact-unit-files", "2"] });
    try {
      let seen: Compaction | undefined;
      for (
        let s = await stats(server.url);
        s.compaction.flush_files > 0 || s.compaction.running || s.compaction.units_waiting > 0;
        s = await stats(server.url)
      ) {
        if (s.compaction.running) seen ??= s.compaction;
        await sleep(5);
      }
      assert.ok(seen, "no pass was seen running");
      assert.ok(Date.parse(seen.running_since!) <= Date.now());
      assert.ok(seen.units >= files / 2 && seen.units_done < seen.units, JSON.stringify(seen));
      const done = (await stats(server.url)).compaction;
      assert.equal(done.flush_files, 0);
      assert.equal(done.flush_raw_bytes, 0);
      assert.equal(done.units_waiting, 0);
      // Merged with no line arriving: at an idle level, nothing to recompress.
      assert.equal(done.recompress_waiting, 0);
      assert.ok(done.passes >= 1);
      const last = done.last_pass!;
      // The flush files, and then the small segments that their units made.
      if (done.passes === 1) assert.ok(last.files > files, `${last.files} files merged`);
      assert.ok(last.duration_ms >= 0 && last.raw_bytes > 0);
      assert.ok(last.raw_bytes_per_second > 0);
      assert.equal(await flushFiles(dir), 0);
    } finally {
      assert.equal(await server.stop(), 0, server.stderr());
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/** Pushes `lines` as one JSON payload of stream `app`; the answer's status. */
async function pushLines(url: string, app: string, lines: string[], first: number) {
  const res = await fetch(`${url}/api/v1/push`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      streams: [{
        stream: { app },
        values: lines.map((l, i) => [String(1_700_000_000_000_000_000n + BigInt(first + i)), l]),
      }],
    }),
  });
  await res.body?.cancel();
  return res.status;
}

Deno.test("full batches that arrive together are written as one flush file", async () => {
  const dir = await Deno.makeTempDir({ prefix: "loge-coalesce-" });
  try {
    // A full batch every push; the default --flush-coalesce gathers them.
    const server = await startServer({
      dir,
      args: ["--payload-size", "10", "--compact-interval", "0"],
    });
    try {
      for (let n = 0; n < 10; n++) {
        const lines = Array.from({ length: 10 }, (_, i) => `push ${n} line ${i}`);
        assert.equal(await pushLines(server.url, "a", lines, n * 10), 200);
      }
      while ((await stats(server.url)).rows_in_memory > 0) await sleep(20);
      const files = await flushFiles(dir);
      assert.ok(files >= 1 && files <= 2, `${files} flush files for 10 batches`);
    } finally {
      assert.equal(await server.stop(), 0, server.stderr());
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("pushes wait while --max-flush-files flush files wait for compaction, then go on", async () => {
  const dir = await Deno.makeTempDir({ prefix: "loge-held-" });
  try {
    const server = await startServer({
      dir,
      args: [
        ...["--payload-size", "10", "--flush-coalesce", "0", "--max-flush-files", "3"],
        ...["--compact-interval", "1s", "--compact-min-files", "2"],
      ],
    });
    const pushed: string[] = [];
    try {
      for (let n = 0; n < 8; n++) {
        const lines = Array.from({ length: 10 }, (_, i) => `held ${n} line ${i}`);
        assert.equal(await pushLines(server.url, "h", lines, n * 10), 200);
        pushed.push(...lines);
        // Each batch in its own file before the next push is admitted.
        while ((await stats(server.url)).rows_in_memory > 0) await sleep(10);
      }
      const { ingest } = await stats(server.url);
      assert.ok(ingest.held_by_compaction >= 1, `held_by_compaction: ${ingest.held_by_compaction}`);
    } finally {
      assert.equal(await server.stop(), 0, server.stderr());
    }
    const stored = (await storedLines(dir)).map((l) => l.line).sort();
    assert.deepEqual(stored, pushed.sort());
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a push held by the compaction backlog when the server stops is stored, not left waiting for the pass", async () => {
  const dir = await Deno.makeTempDir({ prefix: "loge-held-stop-" });
  try {
    const server = await startServer({
      dir,
      args: [
        ...["--flush-coalesce", "0", "--max-flush-files", "1"],
        ...["--compact-interval", "10m", "--compact-min-files", "1"],
      ],
    });
    let held: Promise<number> | undefined;
    try {
      assert.equal(await pushLines(server.url, "h", ["first"], 0), 200);
      while ((await stats(server.url)).compaction.flush_files < 1) await sleep(10);
      held = pushLines(server.url, "h", ["held at the stop"], 10);
      while ((await stats(server.url)).ingest.held_by_compaction < 1) await sleep(10);
      assert.equal((await stats(server.url)).ingest.held_now, 1);
    } finally {
      assert.equal(await server.stop(), 0, server.stderr());
    }
    assert.equal(await held, 200);
    const stored = (await storedLines(dir)).map((l) => l.line).sort();
    assert.deepEqual(stored, ["first", "held at the stop"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
