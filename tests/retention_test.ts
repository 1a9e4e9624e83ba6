/**
 * Retention on the real server: files whose lines are all older than
 * `--retention-age` are deleted (rows, files, and the S3 objects of rotated
 * ones) while younger lines stay; `--retention-size` deletes the oldest
 * files down to `--retention-target`; what was deleted is counted.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { startServer, withServer } from "../testing/server.ts";
import { startS3, tierArgs } from "../testing/s3.ts";
import { runLoge } from "../testing/cli.ts";

const HOUR_NS = 3_600_000_000_000n;
const FAST = [
  "--flush-interval",
  "100ms",
  "--checkpoint-interval",
  "100ms",
  "--retention-interval",
  "200ms",
];

async function push(url: string, app: string, ts: bigint, lines: number) {
  const values = Array.from({ length: lines }, (_, i) => [String(ts + BigInt(i)), `${app} ${i}`]);
  const res = await fetch(`${url}/api/v1/push`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ streams: [{ stream: { app }, values }] }),
  });
  assert.equal(res.status, 200);
}

async function count(url: string, app: string): Promise<number> {
  const res = await fetch(`${url}/api/v1/query`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ query: `{app="${app}"}`, start: "0", limit: 5000 }),
  });
  return (await res.json()).data.length;
}

async function until(what: string, check: () => Promise<boolean>, ms = 15_000) {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const stats = async (url: string) => (await fetch(`${url}/api/v1/stats`)).json();

Deno.test("retention: files whose lines are all older than --retention-age go; younger lines stay", async () => {
  await withServer(async ({ url, dir }) => {
    const now = BigInt(Date.now()) * 1_000_000n;
    await push(url, "old", now - 3n * HOUR_NS, 300);
    await until("the old lines in a file", async () => (await stats(url)).rows_in_memory === 0);
    await push(url, "new", now, 200);
    await until("the old file deleted", async () => (await stats(url)).retention.files_deleted > 0);
    assert.equal(await count(url, "old"), 0);
    assert.equal(await count(url, "new"), 200);
    const { retention } = await stats(url);
    assert.equal(retention.lines_deleted, 300);
    const files = (await Array.fromAsync(Deno.readDir(dir))).map((e) => e.name);
    assert.equal(
      files.filter((n) => n.endsWith(".loge")).length,
      (await stats(url)).segments_local,
    );
  }, { args: [...FAST, "--retention-age", "2h", "--compact-interval", "0"] });
});

Deno.test("retention: over --retention-size the oldest files go, down to --retention-target", async () => {
  await withServer(async ({ url }) => {
    const now = BigInt(Date.now()) * 1_000_000n;
    // Five files of distinct hours, oldest first, each well over 20 KB.
    for (let h = 5; h >= 1; h--) {
      const values = Array.from({ length: 400 }, (_, i) => [
        String(now - BigInt(h) * HOUR_NS + BigInt(i)),
        `h${h} ${i} ${crypto.randomUUID()} ${crypto.randomUUID()}`,
      ]);
      const res = await fetch(`${url}/api/v1/push`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ streams: [{ stream: { app: `h${h}` }, values }] }),
      });
      assert.equal(res.status, 200);
      await until(`hour ${h} in a file`, async () => (await stats(url)).rows_in_memory === 0);
    }
    await until("files deleted", async () => (await stats(url)).retention.files_deleted >= 2);
    await new Promise((r) => setTimeout(r, 500));
    const s = await stats(url);
    assert.ok(s.bytes_local <= 60_000, `${s.bytes_local} bytes left`);
    // The oldest went first: whatever is left is the newest hours, whole.
    const left = [];
    for (let h = 1; h <= 5; h++) left.push(await count(url, `h${h}`));
    const firstGone = left.findIndex((n) => n === 0);
    assert.ok(firstGone > 0, JSON.stringify(left));
    assert.ok(left.every((n, i) => (i < firstGone ? n === 400 : n === 0)), JSON.stringify(left));
  }, {
    args: [
      ...FAST,
      "--compact-interval",
      "0",
      "--retention-size",
      "80000",
      "--retention-target",
      "60000",
    ],
  });
});

Deno.test("retention: a rotated file that expires is deleted from S3 too", async () => {
  await using s3 = await startS3();
  /** The objects in the bucket, from the S3 server's folder. */
  const objects = async () => {
    const out: string[] = [];
    const walk = async (d: string) => {
      for await (const e of Deno.readDir(d)) {
        if (e.isDirectory) await walk(join(d, e.name));
        else if (e.name.endsWith("._S3rver_object")) out.push(e.name);
      }
    };
    await walk(join(s3.dir, s3.bucket));
    return out;
  };
  await withServer(async ({ url }) => {
    const now = BigInt(Date.now()) * 1_000_000n;
    await push(url, "cold", now - 3n * HOUR_NS, 300);
    await until("a segment in S3", async () => (await stats(url)).segments_remote > 0, 30_000);
    assert.ok((await objects()).length > 0);
  }, { args: [...tierArgs(s3), ...FAST], env: s3.env });
  // Once in S3, a server with retention deletes it there.
  await withServer(async ({ url }) => {
    await until(
      "the cold file deleted",
      async () => (await stats(url)).retention.files_deleted > 0,
      30_000,
    );
    assert.equal(await count(url, "cold"), 0);
    // A listing of the bucket that raced the deletion may catalog the object again for a
    // moment: the next retention deletes it, the next listing drops it.
    await until(
      "the bucket empty",
      async () => (await stats(url)).segments_remote === 0 && (await objects()).length === 0,
    );
  }, { args: [...tierArgs(s3), ...FAST, "--retention-age", "2h"], env: s3.env });
});

Deno.test("retention: deleted lines never come back from the WAL, after a kill and a restart", async () => {
  const args = [...FAST, "--retention-age", "2h", "--compact-interval", "0"];
  const first = await startServer({ args });
  try {
    const now = BigInt(Date.now()) * 1_000_000n;
    await push(first.url, "old", now - 3n * HOUR_NS, 100);
    await until(
      "the old lines in a file",
      async () => (await stats(first.url)).rows_in_memory === 0,
    );
    await push(first.url, "new", now, 50); // the WAL's segment holds both records
    await until(
      "the old file deleted",
      async () => (await stats(first.url)).retention.files_deleted > 0,
    );
  } finally {
    await first.kill();
  }
  await withServer(async ({ url }) => {
    assert.equal(await count(url, "old"), 0);
    assert.equal(await count(url, "new"), 50);
  }, { dir: first.dir, args });
});

Deno.test("retention: old and new lines pushed together are compacted into time partitions; the expired one goes whole", async () => {
  await withServer(async ({ url, dir }) => {
    const now = BigInt(Date.now()) * 1_000_000n;
    // Each push holds, in one stream and in another, lines of 5 hours ago and of now.
    const expected = { old: [] as string[], new: [] as string[] };
    for (let p = 0; p < 4; p++) {
      const streams = ["a", "b"].map((app) => {
        const values: [string, string][] = [];
        for (let i = 0; i < 50; i++) {
          for (const [age, when] of [["old", now - 5n * HOUR_NS], ["new", now]] as const) {
            const line = `${age} ${app} push ${p} line ${i}`;
            values.push([String(when + BigInt(p * 1000 + i)), line]);
            expected[age].push(line);
          }
        }
        return { stream: { app }, values };
      });
      const res = await fetch(`${url}/api/v1/push`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ streams }),
      });
      assert.equal(res.status, 200);
      await until("the push in a file", async () => (await stats(url)).rows_in_memory === 0);
    }
    // Passes may merge the pushes' files in several steps: each expired partition goes as it appears.
    await until("retention of every old line", async () => {
      const s = await stats(url);
      return s.compaction.flush_files === 0 && s.retention.lines_deleted >= expected.old.length;
    }, 30_000);
    const { retention } = await stats(url);
    assert.equal(retention.lines_deleted, expected.old.length);
    const res = await fetch(`${url}/api/v1/query`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ query: `{app=~"a|b"}`, start: "0", limit: 5000 }),
    });
    const stored = (await res.json()).data.map((r: { line: string }) => r.line).sort();
    assert.deepEqual(stored, expected.new.sort());
    // What is left: compacted segments of the current hour's partition.
    const hour = now / HOUR_NS;
    const names = (await Array.fromAsync(Deno.readDir(dir))).map((e) => e.name)
      .filter((n) => n.endsWith(".loge"));
    assert.ok(names.length > 0);
    for (const name of names) {
      assert.match(name, new RegExp(`^l1-.*-p(${hour}|${hour + 1n})-1h-\\d+\\.loge$`));
    }
  }, {
    args: [
      ...FAST,
      "--time-partition",
      "1h",
      "--retention-age",
      "2h",
      "--compact-interval",
      "300ms",
      "--compact-min-files",
      "4",
    ],
  });
});

Deno.test("retention: --time-partition takes whole hours", async () => {
  for (const value of ["30m", "90m", "0s"]) {
    const run = await runLoge(["serve", "--time-partition", value]);
    assert.equal(run.code, 2, value);
    assert.match(run.stderr, /--time-partition: expected whole hours/);
  }
});
