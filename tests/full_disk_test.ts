/**
 * A full disk, on a small tmpfs (needs root, as CI runs): pushes answer 507
 * with a reason, the log says so once per change, nothing crashes, and
 * everything works again by itself once space is freed; nothing acknowledged
 * is lost.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { pushJson, startServer, type TestServer, withServer } from "../testing/server.ts";
import { stats, waitFor } from "../testing/http.ts";

const T0 = 1_700_000_000_000_000_000n;
const asRoot = Deno.uid() === 0;

async function sh(...args: string[]): Promise<void> {
  const { code, stderr } = await new Deno.Command(args[0], { args: args.slice(1), stderr: "piped" })
    .output();
  if (code !== 0) throw new Error(`${args.join(" ")}: ${new TextDecoder().decode(stderr)}`);
}

/** A tmpfs of `size` mounted on a new folder, for the length of `fn`. */
async function withTmpfs(size: string, fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "loge-full-" });
  await sh("mount", "-t", "tmpfs", "-o", `size=${size}`, "tmpfs", dir);
  try {
    await fn(dir);
  } finally {
    await sh("umount", "-l", dir);
    await Deno.remove(dir, { recursive: true });
  }
}

/** Fills the disk of `dir` until `leave` bytes remain (about): returns the filler's path. */
async function fill(dir: string, name: string, leave = 0): Promise<string> {
  const path = join(dir, name);
  const file = await Deno.open(path, { write: true, create: true, append: true });
  const chunk = new Uint8Array(4096);
  try {
    for (;;) {
      const { bsize, bavail } = await statfs(dir);
      if (bavail * bsize <= leave + chunk.length) break;
      await file.write(chunk);
    }
  } catch {
    /* full */
  } finally {
    file.close();
  }
  return path;
}

async function statfs(dir: string): Promise<{ bsize: number; bavail: number }> {
  const out = await new Deno.Command("stat", { args: ["-f", "-c", "%S %a", dir] }).output();
  const [bsize, bavail] = new TextDecoder().decode(out.stdout).trim().split(" ").map(Number);
  return { bsize, bavail };
}

function payload(n: number) {
  return {
    streams: [{
      stream: { app: "disk" },
      values: Array.from({ length: 20 }, (_, i) => [
        String(T0 + BigInt(n * 20 + i)),
        `push ${n} line ${i} ${"x".repeat(100)}`,
      ]),
    }],
  };
}

async function count(url: string): Promise<number> {
  const res = await fetch(`${url}/api/v1/query`, {
    method: "POST",
    body: JSON.stringify({ query: '{app="disk"}', limit: 5000 }),
  });
  assert.equal(res.status, 200);
  return (await res.json()).data.length;
}

Deno.test({
  name: "a full disk answers 507, logs once, never crashes, and recovers by itself",
  ignore: !asRoot,
  fn: () =>
    withTmpfs("8m", async (mount) => {
      const dir = join(mount, "data");
      const args = ["--flush-interval", "100ms", "--payload-size", "50", "--compact-interval", "0"];
      let server: TestServer = await startServer({ dir, args });
      let acknowledged = 0;
      let n = 0;
      try {
        const answers = new Map<number, number>();
        const pushOne = async () => {
          const res = await pushJson(server.url, payload(n++));
          answers.set(res.status, (answers.get(res.status) ?? 0) + 1);
          if (res.status === 200) acknowledged += 20;
          else {
            assert.equal(res.status, 507, JSON.stringify(res.body));
            assert.match(String(res.body?.error), /disk is full/);
          }
        };
        for (let i = 0; i < 10; i++) await pushOne();
        // Run out of space by steps, so the WAL, flush files and the catalog
        // each meet a full disk at some point.
        const fillers: string[] = [];
        for (const leave of [65536, 32768, 16384, 8192, 4096, 0]) {
          fillers.push(await fill(mount, `filler-${leave}`, leave));
          for (let i = 0; i < 10; i++) await pushOne();
          await new Promise((r) => setTimeout(r, 300)); // flushes run and fail
        }
        assert.ok((answers.get(507) ?? 0) > 0, `no 507 among ${[...answers]}`);
        // While pushes fail, the stats name the fault. Space comes and goes as
        // WAL segments and files are deleted, so look right after a 507.
        let fault: string | undefined;
        for (let i = 0; i < 50 && fault === undefined; i++) {
          const res = await pushJson(server.url, payload(n++));
          if (res.status === 200) acknowledged += 20;
          if (res.status !== 507) continue;
          const { faults } = await (await fetch(`${server.url}/api/v1/stats`)).json();
          fault = faults.wal ?? faults.flush ?? undefined;
        }
        assert.match(String(fault), /disk is full/);
        const log = server.stderr();
        // Space comes and goes as files are written and deleted: one line per change.
        const failing = log.match(/write-ahead log cannot write/g)?.length ?? 0;
        const recovered = log.match(/write-ahead log writes again/g)?.length ?? 0;
        assert.ok(
          failing >= 1 && failing <= recovered + 1,
          `logged more than once per change:\n${log}`,
        );
        assert.doesNotMatch(log, /internal error|Uncaught|\n\s+at /);
        for (const f of fillers) await Deno.remove(f);
        await new Promise((r) => setTimeout(r, 1500)); // flush retries succeed
        for (let i = 0; i < 5; i++) {
          const res = await pushJson(server.url, payload(n++));
          assert.equal(res.status, 200, JSON.stringify(res.body));
          acknowledged += 20;
        }
        assert.match(server.stderr(), /write-ahead log writes again/);
        assert.equal(await count(server.url), acknowledged);
        assert.equal(await server.stop(), 0, server.stderr());
        server = await startServer({ dir, args });
        assert.equal(await count(server.url), acknowledged);
      } finally {
        await server.stop();
      }
    }),
});

Deno.test({
  name: "without the WAL, a full disk answers 507 once the flush queue is full, instead of hanging",
  ignore: !asRoot,
  fn: () =>
    withTmpfs("4m", async (mount) => {
      const dir = join(mount, "data");
      const args = [
        "--durable=false",
        "--buckets",
        "1",
        "--flush-queue",
        "1",
        "--payload-size",
        "20",
        "--flush-interval",
        "50ms",
        "--compact-interval",
        "0",
      ];
      const server = await startServer({ dir, args });
      try {
        const filler = await fill(mount, "filler");
        const statuses: number[] = [];
        for (let i = 0; i < 30; i++) {
          const res = await fetch(`${server.url}/api/v1/push`, {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: JSON.stringify(payload(i)),
            signal: AbortSignal.timeout(10_000),
          });
          await res.body?.cancel();
          statuses.push(res.status);
          await new Promise((r) => setTimeout(r, 30));
        }
        assert.ok(statuses.includes(507), `statuses: ${statuses}`);
        assert.ok(statuses.every((s) => s === 202 || s === 507), `statuses: ${statuses}`);
        await Deno.remove(filler);
        await new Promise((r) => setTimeout(r, 1500));
        const res = await pushJson(server.url, payload(99));
        assert.equal(res.status, 202, JSON.stringify(res.body));
        assert.match(server.stderr(), /flush writes again/);
      } finally {
        await server.stop();
      }
    }),
});

/** Fills the disk of `dir` to the last byte, fast: big writes, then small ones. */
async function fillUp(dir: string, name: string): Promise<string> {
  const path = join(dir, name);
  const file = await Deno.open(path, { write: true, create: true, append: true });
  try {
    for (const size of [1 << 20, 4096, 1]) {
      const chunk = new Uint8Array(size);
      try {
        for (;;) await file.write(chunk);
      } catch { /* full at this size */ }
    }
  } finally {
    file.close();
  }
  return path;
}

/** Pushes 60 payloads as about ten flush files (compaction off); returns the lines acknowledged. */
async function flushFilesOf(dir: string): Promise<number> {
  const server = await startServer({
    dir,
    // Two flush workers for many files: one would write batches queued behind its current file into one.
    args: [
      "--payload-size",
      "20",
      "--flush-coalesce",
      "0s",
      "--compact-interval",
      "0",
      "--flush-workers",
      "2",
    ],
  });
  let acknowledged = 0;
  try {
    for (let n = 0; n < 60; n++) {
      const res = await pushJson(server.url, payload(n));
      assert.equal(res.status, 200, JSON.stringify(res.body));
      acknowledged += 20;
      if (n % 6 === 5) await new Promise((r) => setTimeout(r, 150)); // a flush file each
    }
  } finally {
    assert.equal(await server.stop(), 0, server.stderr());
  }
  return acknowledged;
}

const flushFiles = async (dir: string) =>
  (await Array.fromAsync(Deno.readDir(dir))).filter((e) => e.name.startsWith("l0-")).length;

Deno.test({
  name:
    "compaction on a full disk fails without a crash or a lost line, and completes once space is freed",
  ignore: !asRoot,
  fn: () =>
    withTmpfs("16m", async (mount) => {
      const dir = join(mount, "data");
      const acknowledged = await flushFilesOf(dir);
      const before = await flushFiles(dir);
      assert.ok(before >= 8, `${before} flush files`);
      const args = ["--compact-interval", "1s", "--compact-min-files", "2"];
      let server = await startServer({ dir, args });
      try {
        const filler = await fillUp(mount, "filler"); // before the first pass
        await new Promise((r) => setTimeout(r, 3000)); // passes run and fail
        assert.equal(await count(server.url), acknowledged);
        assert.equal(await flushFiles(dir), before, "nothing was merged without room to write it");
        assert.doesNotMatch(server.stderr(), /Uncaught|\n\s+at /);
        await Deno.remove(filler);
        const deadline = Date.now() + 20_000;
        while ((await flushFiles(dir)) > 0 && Date.now() < deadline) {
          await new Promise((r) => setTimeout(r, 200));
        }
        assert.equal(
          await flushFiles(dir),
          0,
          `not compacted once space was freed:\n${server.stderr()}`,
        );
        assert.equal(await count(server.url), acknowledged);
        assert.equal(await server.stop(), 0, server.stderr());
        server = await startServer({ dir, args });
        assert.equal(await count(server.url), acknowledged);
      } finally {
        await server.stop().catch(() => {}); // stopped already when a step failed
      }
    }),
});

Deno.test({
  name:
    "a start on a full disk exits naming the catalog and the full disk, sets nothing aside, and starts once space is freed",
  ignore: !asRoot,
  fn: () =>
    withTmpfs("16m", async (mount) => {
      const dir = join(mount, "data");
      const acknowledged = await flushFilesOf(dir);
      const filler = await fillUp(mount, "filler");
      await assert.rejects(
        startServer({ dir }),
        /cannot open the catalog .*catalog\.sqlite: (disk I\/O error|database or disk is full)/,
      );
      const names = (await Array.fromAsync(Deno.readDir(dir))).map((e) => e.name);
      assert.deepEqual(
        names.filter((n) => n.includes(".corrupt-")),
        [],
        "the catalog was set aside",
      );
      await Deno.remove(filler);
      await withServer(async ({ url }) => {
        assert.equal(await count(url), acknowledged);
      }, { dir });
    }),
});

Deno.test({
  name:
    "a file harvester on a full disk keeps every line: stored once space is freed, read again after a stop",
  ignore: !asRoot,
  fn: () =>
    withTmpfs("8m", async (mount) => {
      const dir = join(mount, "data");
      // The followed file is on another disk, which has room.
      const logs = await Deno.makeTempDir({ prefix: "loge-harvested-" });
      const log = join(logs, "app.log");
      await Deno.writeTextFile(log, "");
      const config = join(logs, "loge.yaml");
      await Deno.writeTextFile(
        config,
        `harvesters:\n  - { type: file, path: "${log}", labels: { app: harvested }, start_at: beginning }\n`,
      );
      const args = ["--config", config, "--flush-interval", "100ms", "--compact-interval", "0"];
      const append = (from: number, to: number) =>
        Deno.writeTextFile(
          log,
          Array.from({ length: to - from + 1 }, (_, i) => `line ${from + i}\n`).join(""),
          { append: true },
        );
      const harvested = async (url: string) => {
        const res = await fetch(`${url}/api/v1/query`, {
          method: "POST",
          body: JSON.stringify({ query: '{app="harvested"}', limit: 5000 }),
        });
        assert.equal(res.status, 200);
        return ((await res.json()).data as { line: string }[]).map((e) => e.line);
      };
      const numbers = async (url: string) =>
        (await harvested(url)).map((line) => Number(line.slice(5))).sort((a, b) => a - b);
      const range = (from: number, to: number) =>
        Array.from({ length: to - from + 1 }, (_, i) => from + i);
      const retries = async (url: string): Promise<number> =>
        (await stats(url)).harvesters[0].retries;
      const stored = (url: string, n: number) =>
        waitFor(`${n} lines stored`, async () => (await harvested(url)).length >= n, 20_000);
      let server: TestServer = await startServer({ dir, args });
      let appended = 0;
      /** Appends lines, 50 at a time, until storage refuses a batch (a page may still take some). */
      const appendUntilRefused = async () => {
        const before = await retries(server.url);
        await waitFor("storage refused a batch", async () => {
          await append(appended + 1, appended += 50);
          await new Promise((r) => setTimeout(r, 300));
          return await retries(server.url) > before;
        });
      };
      try {
        await append(1, appended = 50);
        await stored(server.url, 50);
        let filler = await fillUp(mount, "filler");
        await appendUntilRefused();
        await Deno.remove(filler);
        await stored(server.url, appended);
        assert.match(server.stderr(), /harvester file .*: storing again/);
        assert.deepEqual(await numbers(server.url), range(1, appended));
        // Refused again, then the server stops: the lines are read again at the next start.
        const saved = appended;
        filler = await fillUp(mount, "filler");
        await appendUntilRefused();
        await server.stop();
        await Deno.remove(filler);
        server = await startServer({ dir, args });
        await stored(server.url, appended);
        // None lost. Lines stored while the full disk kept their position from
        // being saved are read again: only those may show twice.
        const got = await numbers(server.url);
        assert.deepEqual([...new Set(got)], range(1, appended));
        const twice = got.filter((n, i) => got[i - 1] === n);
        assert.ok(twice.every((n) => n > saved), `stored twice: ${twice}`);
      } catch (e) {
        console.log("STDERR", server.stderr());
        throw e;
      } finally {
        await server.stop().catch(() => {});
        await Deno.remove(logs, { recursive: true });
      }
    }),
});
