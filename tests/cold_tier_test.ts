/**
 * The S3 cold tier end to end: real `loge serve` processes against a real S3
 * server (`s3rver`), as an operator runs them. Expected answers are computed
 * here from the pushed lines, never by the engine under test.
 */

import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { call, type Entry, push, stats, waitFor } from "../testing/http.ts";
import { hexToken, type S3Server, startCountingProxy, startS3, tierArgs } from "../testing/s3.ts";
import { loseCatalog } from "../testing/segments.ts";
import { startServer, type TestServer } from "../testing/server.ts";

/** 16 hex digits of line `i` of `app`. */
function token(app: string, i: number): string {
  return hexToken(`${app}:${i}`);
}

/** The 32-hex trace id of stream `app`'s one needle line. */
function needle(app: string): string {
  return token(app, -1) + token(app, -2);
}

/** `count` lines of stream `app`, one per millisecond from `t0`, a needle at `needleAt`. */
function rows(app: string, t0: bigint, count: number, needleAt = -1) {
  return Array.from({ length: count }, (_, i) =>
    [
      { app, env: i % 2 === 0 ? "prod" : "dev" },
      t0 + BigInt(i) * 1_000_000n,
      i === needleAt
        ? `needle trace_id=${needle(app)} found at ${i}`
        : `GET /api/items/${i} status=${200 + (i % 5)} took=${i % 97}ms app=${app} req=${
          token(app, i)
        }`,
    ] as [Record<string, string>, bigint, string]);
}

type Row = ReturnType<typeof rows>[number];

/** The answer a backward query with `limit` must give over `pushed`, newest first. */
function expected(pushed: Row[], pick: (r: Row) => boolean, limit: number): string[] {
  return pushed.filter(pick)
    .sort((a, b) => (a[1] < b[1] ? 1 : a[1] > b[1] ? -1 : 0))
    .slice(0, limit)
    .map((r) => r[2]);
}

async function queryLines(url: string, q: string, limit = 1000) {
  const r = await call(url, "/api/v1/query", { body: { query: q, limit } });
  assert.equal(r.status, 200, r.text);
  return {
    lines: (r.body.data as Entry[]).map((e) => e.line),
    warnings: (r.body.warnings ?? []) as string[],
  };
}

async function tier(url: string) {
  const s = await stats(url);
  assert.ok(s.cold_tier, "stats without cold_tier");
  return s;
}

/** Waits until every cataloged segment of `url` is remote (local copies may wait for their grace). */
async function waitRotated(url: string) {
  await waitFor("every segment rotated", async () => {
    const s = await tier(url);
    return s.segments_remote > 0 && s.segments_local === 0 && s.rows_in_memory === 0;
  });
}

/** Waits until every cataloged segment of `url` is remote and the local copies are gone. */
async function waitAllRemote(server: TestServer) {
  await waitFor("every segment rotated and its local copy deleted", async () => {
    const s = await tier(server.url);
    const local = (await Array.fromAsync(Deno.readDir(server.dir))).filter((e) =>
      e.name.endsWith(".loge")
    );
    return s.segments_local === 0 && s.segments_remote > 0 && s.rows_in_memory === 0 &&
      local.length === 0;
  }, 30_000);
}

async function withS3(fn: (s3: S3Server) => Promise<void>) {
  await using s3 = await startS3();
  await fn(s3);
}

async function stopAll(...servers: TestServer[]) {
  for (const s of servers) {
    await s.stop().catch(() => {});
    await Deno.remove(s.dir, { recursive: true }).catch(() => {});
  }
}

const T0 = 1_795_000_000_000_000_000n;

Deno.test("rotation: segments move to S3 after the rotate age, local copies go after the grace, answers stay the same", () =>
  withS3(async (s3) => {
    const server = await startServer({ args: tierArgs(s3), env: s3.env });
    try {
      const pushed = [...rows("web", T0, 3000, 1234), ...rows("api", T0 + 7n, 2000, 99)];
      for (let i = 0; i < pushed.length; i += 500) await push(server.url, pushed.slice(i, i + 500));
      const queries: [string, (r: Row) => boolean][] = [
        ['{app="web"}', (r) => r[0].app === "web"],
        [
          '{app=~"web|api", env="dev"} |= "status=203"',
          (r) => r[0].env === "dev" && r[2].includes("status=203"),
        ],
        [`{app="api"} |= "${needle("api")}"`, (r) => r[2].includes(needle("api"))],
      ];
      for (const [q, pick] of queries) {
        assert.deepEqual((await queryLines(server.url, q, 700)).lines, expected(pushed, pick, 700));
      }
      await waitAllRemote(server);
      const s = await tier(server.url);
      assert.ok(s.cold_tier.uploads >= 1);
      assert.equal(s.cold_tier.upload_errors, 0);
      assert.equal(s.bytes_local, 0);
      assert.ok(s.bytes_remote > 0);
      for (const [q, pick] of queries) {
        const cold = await queryLines(server.url, q, 700);
        assert.deepEqual(cold.warnings, []);
        assert.deepEqual(cold.lines, expected(pushed, pick, 700), q);
      }
      // The keys say node, time bounds and level; nothing else is in the bucket.
      const listing = await fetch(`${s3.endpoint}/${s3.bucket}?list-type=2`).then((r) => r.text());
      const keys = [...listing.matchAll(/<Key>([^<]+)<\/Key>/g)].map((m) => m[1]);
      assert.ok(keys.length >= 1);
      for (const key of keys) {
        assert.match(key, /^loge\/node-a\/\d+-\d+-\d+-\d+-\d+-l1-[0-9a-z-]+\.loge$/);
      }
    } finally {
      await stopAll(server);
    }
  }));

Deno.test("a node started without its tier answers what it holds, with warnings, and so does loge search", () =>
  withS3(async (s3) => {
    let server = await startServer({ args: tierArgs(s3), env: s3.env });
    try {
      const cold = rows("web", T0, 1000);
      await push(server.url, cold);
      await waitAllRemote(server);
      assert.equal(await server.stop(), 0);
      // The same folder, no --s3-bucket: its catalog still has remote rows.
      server = await startServer({ dir: server.dir });
      const hot = rows("web", T0 + 60_000_000_000n, 10);
      await push(server.url, hot);
      const answer = await queryLines(server.url, '{app="web"}', 100);
      assert.deepEqual(answer.lines, expected(hot, () => true, 100));
      assert.equal(answer.warnings.length, 1);
      assert.match(answer.warnings[0], /^segment node-a\/.* in s3 was skipped: .*has no reader/);
      const cli = await new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "-A",
          "main.ts",
          "search",
          '{app="web"}',
          "--addr",
          server.url,
          "--start",
          "1",
        ],
        cwd: new URL("..", import.meta.url).pathname,
        stdout: "piped",
        stderr: "piped",
      }).output();
      assert.equal(cli.code, 0);
      const printed = new TextDecoder().decode(cli.stdout).trim().split("\n");
      assert.equal(printed.length, hot.length);
      assert.match(
        new TextDecoder().decode(cli.stderr),
        /^loge: warning: segment node-a\/.* in s3 was skipped/m,
      );
    } finally {
      await stopAll(server);
    }
  }));

Deno.test("a fresh node with an empty folder finds the cold files by listing, and cold reads cost few GETs", () =>
  withS3(async (s3) => {
    // Rotating after compaction merged the pushes into one segment, as in production.
    const writer = await startServer({ args: tierArgs(s3, { age: "4s" }), env: s3.env });
    const pushed = [...rows("web", T0, 20_000, 15_000), ...rows("db", T0 + 3n, 5000)];
    let reader: TestServer | undefined;
    await using proxy = startCountingProxy(s3.endpoint);
    try {
      for (let i = 0; i < pushed.length; i += 2000) {
        await push(writer.url, pushed.slice(i, i + 2000));
      }
      await waitAllRemote(writer);
      const remoteBytes = (await tier(writer.url)).bytes_remote as number;
      // A query-only node on an empty folder, reading through the counting proxy.
      reader = await startServer({
        // Listing once, at start: every GET the proxy counts is a read.
        args: [
          ...tierArgs(s3, { endpoint: proxy.url, node: "reader", interval: "1h" }),
          "--ingest=false",
        ],
        env: s3.env,
      });
      const s = await tier(reader.url);
      assert.equal(s.segments_remote, (await tier(writer.url)).segments_remote);
      assert.equal(s.segments_local, 0);
      proxy.reset();
      const found = await queryLines(reader.url, `{app="web"} |= "${needle("web")}"`);
      assert.deepEqual(
        found.lines,
        expected(pushed, (r) => r[2].includes(needle("web")), 1000),
      );
      const cost = proxy.counts();
      // The index once (one read: its size is in the key), then only the
      // needle's block: of a file's twelve or so blocks, one.
      assert.ok(cost.gets >= 2 && cost.gets <= 3, `GETs: ${cost.gets}`);
      assert.ok(cost.bytes <= remoteBytes / 4, `${cost.bytes} of ${remoteBytes} bytes fetched`);
      // Again: indexes come from the disk cache and blocks from the block cache.
      proxy.reset();
      assert.deepEqual(
        (await queryLines(reader.url, `{app="web"} |= "${needle("web")}"`)).lines,
        found.lines,
      );
      assert.equal(proxy.counts().gets, 0);
      // Every stream and label is known to the query-only node.
      const labels = await call(reader.url, "/loki/api/v1/label/app/values?start=1");
      assert.deepEqual(labels.body.data, ["db", "web"]);
      const all = await queryLines(reader.url, '{app=~".+"}', 5000);
      assert.deepEqual(all.lines, expected(pushed, () => true, 5000));
      // A query-only node refuses pushes with a reason.
      const refused = await call(reader.url, "/api/v1/push", {
        body: { streams: [{ stream: { app: "x" }, values: [["1", "x"]] }] },
      });
      assert.equal(refused.status, 503);
      assert.match(refused.body.error, /does not ingest/);
    } finally {
      await stopAll(writer, ...(reader ? [reader] : []));
    }
  }));

Deno.test("S3 down: queries answer what they can with warnings, pushes go on, rotation resumes", () =>
  withS3(async (s3) => {
    const server = await startServer({ args: tierArgs(s3), env: s3.env });
    try {
      const old = rows("web", T0, 8000);
      await push(server.url, old);
      await waitAllRemote(server);
      await s3.stop();
      const fresh = rows("web", T0 + 10_000_000_000n, 500);
      await push(server.url, fresh);
      const answer = await queryLines(server.url, '{app="web"}', 5000);
      assert.deepEqual(answer.lines, expected(fresh, () => true, 5000));
      assert.ok(answer.warnings.length >= 1, "no warnings");
      for (const w of answer.warnings) assert.match(w, /^segment node-a\/.* in s3 was skipped: /);
      // The new lines' segment cannot rotate while S3 is down: it stays local.
      await waitFor(
        "an upload failure",
        async () => (await tier(server.url)).cold_tier.upload_errors > 0,
      );
      assert.ok((await tier(server.url)).segments_local >= 1);
      await s3.restart();
      await waitAllRemote(server);
      const after = await queryLines(server.url, '{app="web"}', 5000);
      assert.deepEqual(after.warnings, []);
      assert.deepEqual(after.lines, expected([...old, ...fresh], () => true, 5000));
    } finally {
      await stopAll(server);
    }
  }));

Deno.test("two ingesting nodes and a query-only node share one bucket", () =>
  withS3(async (s3) => {
    const a = await startServer({ args: tierArgs(s3, { node: "node-a" }), env: s3.env });
    const b = await startServer({ args: tierArgs(s3, { node: "node-b" }), env: s3.env });
    let q: TestServer | undefined;
    try {
      const onA = rows("web", T0, 2000, 10);
      const onB = rows("web", T0 + 500_000n, 2000, 20);
      await push(a.url, onA);
      await push(b.url, onB);
      await waitAllRemote(a);
      await waitAllRemote(b);
      q = await startServer({
        args: [...tierArgs(s3, { node: "q" }), "--ingest=false"],
        env: s3.env,
      });
      const all = [...onA, ...onB];
      for (const url of [a.url, b.url, q.url]) {
        // Each ingesting node finds the other's files at its next listing.
        await waitFor("both nodes' files", async () => (await tier(url)).segments_remote >= 2);
        const got = await queryLines(url, '{app="web"}', 5000);
        const want = expected(all, () => true, 5000);
        assert.deepEqual(got.lines, want, url);
      }
      const listing = await fetch(`${s3.endpoint}/${s3.bucket}?list-type=2`).then((r) => r.text());
      const nodes = new Set([...listing.matchAll(/<Key>loge\/([^/]+)\//g)].map((m) => m[1]));
      assert.deepEqual([...nodes].sort(), ["node-a", "node-b"]);
    } finally {
      await stopAll(a, b, ...(q ? [q] : []));
    }
  }));

Deno.test("a catalog lost while a rotated copy waits for its grace shows no line twice", () =>
  withS3(async (s3) => {
    // A long grace: the local copy is still there when the catalog is lost.
    const args = tierArgs(s3, { grace: "1h" });
    let server = await startServer({ args, env: s3.env });
    try {
      const pushed = rows("web", T0, 3000);
      await push(server.url, pushed);
      await waitRotated(server.url);
      assert.equal(await server.stop(), 0);
      await loseCatalog(server.dir);
      server = await startServer({ dir: server.dir, args, env: s3.env });
      assert.deepEqual(
        (await queryLines(server.url, '{app="web"}', 5000)).lines,
        expected(pushed, () => true, 5000),
      );
      // The copy is rotated again (same key) and the answer stays whole.
      await waitFor(
        "the copy rotated again",
        async () => (await tier(server.url)).segments_local === 0,
      );
      assert.deepEqual(
        (await queryLines(server.url, '{app="web"}', 5000)).lines,
        expected(pushed, () => true, 5000),
      );
    } finally {
      await stopAll(server);
    }
  }));

Deno.test("a catalog lost after rotation, its lines still in the WAL, shows no line twice", () =>
  withS3(async (s3) => {
    // No checkpoint: the WAL still holds every push when the server is killed.
    const args = [...tierArgs(s3), "--checkpoint-interval", "1h"];
    let server = await startServer({ args, env: s3.env });
    try {
      const pushed = rows("web", T0, 3000);
      await push(server.url, pushed);
      await waitAllRemote(server);
      await server.kill();
      await loseCatalog(server.dir);
      server = await startServer({ dir: server.dir, args, env: s3.env });
      const want = expected(pushed, () => true, 5000);
      assert.deepEqual((await queryLines(server.url, '{app="web"}', 5000)).lines, want);
      // Once flushed, compacted and rotated again, still once.
      await waitAllRemote(server);
      assert.deepEqual((await queryLines(server.url, '{app="web"}', 5000)).lines, want);
    } finally {
      await stopAll(server);
    }
  }));

Deno.test("a catalog lost with a merge's sources left beside its cold output shows no line twice", () =>
  withS3(async (s3) => {
    // Flush files first, without compaction, kept aside.
    const noMerge = tierArgs(s3).map((a, i, all) => all[i - 1] === "--compact-interval" ? "0" : a);
    let server = await startServer({ args: noMerge, env: s3.env });
    const aside = await Deno.makeTempDir();
    try {
      const pushed = rows("web", T0, 3000);
      await push(server.url, pushed);
      await waitFor(
        "every line in a file",
        async () => (await stats(server.url)).rows_in_memory === 0,
      );
      assert.equal(await server.stop(), 0);
      const sources = (await Array.fromAsync(Deno.readDir(server.dir)))
        .map((e) => e.name).filter((n) => n.endsWith(".loge"));
      assert.ok(sources.length > 0 && sources.every((n) => n.startsWith("l0-")), `${sources}`);
      for (const n of sources) await Deno.copyFile(`${server.dir}/${n}`, `${aside}/${n}`);
      // Merged, rotated, local copies gone; then the sources come back, as a
      // crash between a merge's commit and its sources' deletion leaves them,
      // and the catalog is lost.
      server = await startServer({ dir: server.dir, args: tierArgs(s3), env: s3.env });
      await waitAllRemote(server);
      await server.kill();
      for (const n of sources) await Deno.copyFile(`${aside}/${n}`, `${server.dir}/${n}`);
      await loseCatalog(server.dir);
      server = await startServer({ dir: server.dir, args: tierArgs(s3), env: s3.env });
      assert.deepEqual(
        (await queryLines(server.url, '{app="web"}', 5000)).lines,
        expected(pushed, () => true, 5000),
      );
      const left = (await Array.fromAsync(Deno.readDir(server.dir))).map((e) => e.name);
      assert.deepEqual(left.filter((n) => sources.includes(n)), [], "the sources are deleted");
    } finally {
      await stopAll(server);
      await Deno.remove(aside, { recursive: true });
    }
  }));

Deno.test("a catalog rebuilt while S3 is down loses no line, however many starts S3 stays down", () =>
  withS3(async (s3) => {
    const args = tierArgs(s3);
    let server = await startServer({ args, env: s3.env });
    try {
      // Fewer than half the most a query answers: old lines may show twice here.
      const old = rows("web", T0, 2000);
      await push(server.url, old);
      await waitAllRemote(server);
      // A clean stop empties the WAL: the next sequence is chosen from the files alone.
      assert.equal(await server.stop(), 0);
      await loseCatalog(server.dir);
      await s3.stop();
      // Rebuilt without the cold files' sequences, and stopped without a push;
      // then a start that is not a rebuild takes new pushes, S3 still down.
      server = await startServer({ dir: server.dir, args, env: s3.env });
      assert.equal(await server.stop(), 0);
      server = await startServer({ dir: server.dir, args, env: s3.env });
      const fresh = rows("new", T0 + 10_000_000_000n, 500);
      await push(server.url, fresh);
      await waitFor(
        "every line in a file",
        async () => (await stats(server.url)).rows_in_memory === 0,
      );
      assert.equal(await server.stop(), 0);
      // Their sequences are above any the node took before (the cold files',
      // unknown then): none is taken for another's once those are learnt.
      const db = new DatabaseSync(`${server.dir}/catalog.sqlite`, { readOnly: true });
      const freshSeqs = db.prepare("SELECT seqs FROM files WHERE min_ts >= ?").all(fresh[0][1])
        .flatMap((r) => JSON.parse(r.seqs as string) as [number, number][]);
      db.close();
      assert.ok(freshSeqs.length > 0, "no file of the new pushes knows its sequences");
      for (const [first] of freshSeqs) assert.ok(first >= 1e15, `sequence ${first} reused`);
      // S3 back: the start learns the cold files' sequences; every line is there.
      await s3.restart();
      server = await startServer({ dir: server.dir, args, env: s3.env });
      const want = new Set([...old, ...fresh].map((r) => r[2]));
      const got = new Set<string>();
      for (const app of ["web", "new"]) {
        const { lines, warnings } = await queryLines(server.url, `{app="${app}"}`, 5000);
        assert.deepEqual(warnings, []);
        for (const line of lines) got.add(line);
      }
      assert.deepEqual([...want].filter((line) => !got.has(line)), []);
    } finally {
      await stopAll(server);
    }
  }));

Deno.test("a catalog lost, a start without the tier flags, then the tier again: no line lost", () =>
  withS3(async (s3) => {
    let server = await startServer({ args: tierArgs(s3), env: s3.env });
    try {
      const old = rows("old", T0, 2000);
      for (let i = 0; i < old.length; i += 500) await push(server.url, old.slice(i, i + 500));
      await waitAllRemote(server);
      assert.equal(await server.stop(), 0);
      await loseCatalog(server.dir);
      // Rebuilt by a start that knows nothing of the tier: its pushes must not
      // take the sequences the node's cold files hold, which the tier's next
      // start learns (and takes the local files holding them for copies).
      const tierless = ["--compact-interval", "200ms", "--compact-min-files", "1"];
      server = await startServer({
        dir: server.dir,
        args: [...tierless, "--flush-interval", "100ms"],
      });
      const fresh = rows("new", T0 + 3_000_000_000n, 1000);
      for (let i = 0; i < fresh.length; i += 500) await push(server.url, fresh.slice(i, i + 500));
      await waitFor("the new lines compacted", async () => {
        const s = await stats(server.url);
        return s.rows_in_memory === 0 && s.compaction.flush_files === 0 && !s.compaction.running;
      });
      assert.equal(await server.stop(), 0);
      server = await startServer({ dir: server.dir, args: tierArgs(s3), env: s3.env });
      for (const [app, pushed] of [["new", fresh], ["old", old]] as const) {
        same((await queryLines(server.url, `{app="${app}"}`, 5000)).lines, newestFirst(pushed));
      }
    } finally {
      await stopAll(server);
    }
  }));

Deno.test("an upload never flipped, its segment merged since, shows no line twice and its object goes", () =>
  withS3(async (s3) => {
    // The store takes each upload but fails the check after it (HEAD), so no
    // upload is flipped: the objects wait in the bucket for rows that never come.
    let failHeads = true;
    await using proxy = startCountingProxy(s3.endpoint, {
      intercept: (req) =>
        failHeads && req.method === "HEAD" ? new Response(null, { status: 503 }) : undefined,
    });
    const args = tierArgs(s3, { endpoint: proxy.url });
    let server = await startServer({ args, env: s3.env });
    try {
      const first = rows("web", T0, 2000);
      await push(server.url, first);
      await waitFor("an upload of the first segment", async () => (await objects(s3)).length > 0);
      const orphans = await objects(s3);
      const orphanBytes = await Promise.all(orphans.map(async (k) => {
        const r = await fetch(`${s3.endpoint}/${s3.bucket}/${k}`);
        assert.equal(r.status, 200, k);
        return await r.bytes();
      }));
      // More lines of the same hour: the small segments merge, the first one's
      // object is left holding lines a local segment holds now.
      const second = rows("web", T0 + 2_000_000_000n, 2000);
      await push(server.url, second);
      await waitFor("the first segment merged and the merge uploaded", async () => {
        const keys = await objects(s3);
        const local = (await Array.fromAsync(Deno.readDir(server.dir))).map((e) => e.name);
        return keys.some((k) => !orphans.includes(k)) &&
          orphans.every((k) => !local.includes(k.replace(/^.*-(l\d+-[^/]+)$/, "$1")));
      }, 20_000);
      const want = expected([...first, ...second], () => true, 5000);
      // A listing finds the first upload: it is deleted, never cataloged.
      await waitFor(
        "the first upload deleted",
        async () => (await tier(server.url)).cold_tier.unflipped_deleted >= 1,
      );
      assert.deepEqual((await queryLines(server.url, '{app="web"}', 5000)).lines, want);
      failHeads = false;
      await waitAllRemote(server);
      assert.deepEqual((await queryLines(server.url, '{app="web"}', 5000)).lines, want);
      const s = await tier(server.url);
      await waitFor("the orphaned objects deleted", async () => {
        const keys = await objects(s3);
        return orphans.every((k) => !keys.includes(k)) && keys.length === s.segments_remote;
      });
      assert.ok(s.cold_tier.upload_errors > 0, "no upload failed: the case was not made");
      assert.ok((await tier(server.url)).cold_tier.unflipped_deleted >= orphans.length);
      // An upload given up at its deadline may land later: it is deleted again, never cataloged.
      for (const [i, k] of orphans.entries()) {
        const put = await fetch(`${s3.endpoint}/${s3.bucket}/${k}`, {
          method: "PUT",
          body: orphanBytes[i],
        });
        assert.equal(put.status, 200, await put.text());
      }
      await waitFor("the late upload deleted again", async () => {
        const keys = await objects(s3);
        return orphans.every((k) => !keys.includes(k));
      });
      assert.deepEqual((await queryLines(server.url, '{app="web"}', 5000)).lines, want);
      assert.ok((await tier(server.url)).cold_tier.unflipped_uploads > 0, "forgotten too soon");
      // Ten minutes later (the notes made older while the server is stopped) they are forgotten.
      assert.equal(await server.stop(), 0);
      const db = new DatabaseSync(`${server.dir}/catalog.sqlite`);
      const notes = JSON.parse(
        db.prepare("SELECT value FROM meta WHERE key = 'unflipped_uploads'").get()!.value as string,
      ) as [string, string, number, number][];
      db.prepare("UPDATE meta SET value = ? WHERE key = 'unflipped_uploads'").run(
        JSON.stringify(notes.map(([l, r, s, ms]) => [l, r, s, ms - 11 * 60_000])),
      );
      db.close();
      server = await startServer({ dir: server.dir, args, env: s3.env });
      await waitFor(
        "every note forgotten",
        async () => (await tier(server.url)).cold_tier.unflipped_uploads === 0,
      );
      assert.deepEqual((await queryLines(server.url, '{app="web"}', 5000)).lines, want);
    } finally {
      await stopAll(server);
    }
  }));

/** Lines of `app` for the tests of uploads never flipped: `tag` tells pushes of one app apart. */
function taggedRows(app: string, t0: bigint, count: number, tag = "") {
  return Array.from({ length: count }, (_, i) =>
    [
      { app },
      t0 + BigInt(i) * 1_000_000n,
      `GET /api/items/${i}${tag} app=${app} req=${hexToken(`${app}:${tag}${i}`)}`,
    ] as [Record<string, string>, bigint, string]);
}
const newestFirst = (pushed: Row[]) => expected(pushed, () => true, pushed.length);
/** Asserts that `got` holds each line of `want` once, and nothing else. */
function same(got: string[], want: string[], what = "") {
  const dup = got.length - new Set(got).size;
  const missing = want.filter((l) => !got.includes(l)).length;
  assert.ok(
    dup === 0 && missing === 0 && got.length === want.length,
    `${what} got ${got.length} lines (${dup} twice), want ${want.length} (${missing} missing)`,
  );
}
const lines = async (url: string) => (await queryLines(url, '{app="web"}', 5000)).lines;
async function objects(s3: S3Server) {
  const listing = await fetch(`${s3.endpoint}/${s3.bucket}?list-type=2`).then((r) => r.text());
  return [...listing.matchAll(/<Key>([^<]+)<\/Key>/g)].map((m) => m[1]);
}
const localSegments = async (dir: string) =>
  (await Array.fromAsync(Deno.readDir(dir))).map((e) => e.name).filter((n) => n.endsWith(".loge"));

/**
 * Pushes `pushed` to a node whose HEADs fail, until every local segment has an
 * object in the bucket (stored, noted, never flipped), and stops it cleanly.
 */
async function leaveUnflipped(s3: S3Server, pushed: Row[], node = "node-a") {
  await using proxy = startCountingProxy(s3.endpoint, {
    intercept: (req) => req.method === "HEAD" ? new Response(null, { status: 503 }) : undefined,
  });
  const server = await startServer({
    args: tierArgs(s3, { endpoint: proxy.url, node }),
    env: s3.env,
  });
  await push(server.url, pushed);
  await waitFor("every local segment uploaded, none flipped", async () => {
    const s = await stats(server.url);
    const local = await localSegments(server.dir);
    const keys = await objects(s3);
    return s.rows_in_memory === 0 && local.length > 0 && local.every((n) => n.startsWith("l1-")) &&
      local.every((n) => keys.some((k) => k.endsWith(`-${n}`)));
  }, 20_000);
  assert.equal(await server.stop(), 0); // a clean stop: the WAL is emptied
  return server.dir;
}

Deno.test("an upload never flipped whose segment is then found damaged is cataloged: the intact copy keeps every line", async () => {
  await using s3 = await startS3();
  const pushed = taggedRows("web", T0, 2000);
  const dir = await leaveUnflipped(s3, pushed);
  let server: TestServer | undefined;
  try {
    // The local segment is damaged on disk (one byte short): the catalog quarantines it at start.
    for (const n of await localSegments(dir)) {
      const f = await Deno.open(`${dir}/${n}`, { write: true });
      await f.truncate((await f.stat()).size - 1);
      f.close();
    }
    assert.equal((await objects(s3)).length > 0, true, "the intact copy is in the bucket");
    server = await startServer({ dir, args: tierArgs(s3), env: s3.env });
    assert.equal((await stats(server.url)).quarantined_files, 1);
    same(await lines(server.url), newestFirst(pushed));
  } finally {
    await server?.stop().catch(() => {});
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
});

Deno.test("a flip's commit lost to a power cut after the local copy went: the upload is cataloged, no line lost", async () => {
  await using s3 = await startS3();
  const pushed = taggedRows("web", T0, 2000);
  const dir = await leaveUnflipped(s3, pushed);
  const aside = await Deno.makeTempDir();
  let server: TestServer | undefined;
  try {
    // The catalog as durable on disk before the flip (note present, row local).
    await Deno.copyFile(`${dir}/catalog.sqlite`, `${aside}/catalog.sqlite`);
    server = await startServer({ dir, args: tierArgs(s3), env: s3.env });
    await waitFor("flipped and the local copy swept", async () => {
      const s = await stats(server!.url);
      return s.segments_local === 0 && s.segments_remote > 0 &&
        (await localSegments(dir)).length === 0;
    });
    await server.kill();
    // The power cut loses the WAL tail holding the flip commit; the sweep's unlink survived.
    for (const x of ["-wal", "-shm"]) {
      await Deno.remove(`${dir}/catalog.sqlite${x}`).catch(() => {});
    }
    await Deno.copyFile(`${aside}/catalog.sqlite`, `${dir}/catalog.sqlite`);
    server = await startServer({ dir, args: tierArgs(s3), env: s3.env });
    same(await lines(server.url), newestFirst(pushed));
  } finally {
    await server?.stop().catch(() => {});
    await Deno.remove(dir, { recursive: true }).catch(() => {});
    await Deno.remove(aside, { recursive: true }).catch(() => {});
  }
});

/**
 * Waits until the `orphans` objects are deleted, then asserts that none was
 * cataloged and that `url` answers every line of `pushed` once.
 */
async function assertOrphansGone(s3: S3Server, orphans: string[], url: string, pushed: Row[]) {
  await waitFor("the orphaned uploads deleted", async () => {
    const keys = await objects(s3);
    return orphans.every((k) => !keys.includes(k));
  }, 20_000);
  assert.equal((await stats(url)).segments_remote, 0, "an orphaned object was cataloged");
  same(await lines(url), newestFirst(pushed));
}

Deno.test("an upload never flipped, its catalog then lost and its segment merged after, shows no line twice", async () => {
  await using s3 = await startS3();
  const first = taggedRows("web", T0, 2000);
  const dir = await leaveUnflipped(s3, first);
  const orphans = await objects(s3);
  let server: TestServer | undefined;
  try {
    // The catalog, and its notes with it, is lost: the start rebuilds it from the folder.
    await loseCatalog(dir);
    // Nothing is due for rotation now, so no upload notes the files again before they merge.
    server = await startServer({ dir, args: tierArgs(s3, { age: "1h" }), env: s3.env });
    // More lines of the same hour: the first segments merge away.
    const second = taggedRows("web", T0 + 2_000_000_000n, 2000, "b");
    await push(server.url, second);
    await waitFor("the first segments merged", async () => {
      const local = await localSegments(dir);
      return local.length > 0 &&
        orphans.every((k) => !local.includes(k.replace(/^.*-(l\d+-[^/]+)$/, "$1")));
    }, 20_000);
    await assertOrphansGone(s3, orphans, server.url, [...first, ...second]);
  } finally {
    await server?.stop().catch(() => {});
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
});

Deno.test("an upload never flipped, its catalog then lost while S3 is down, shows no line twice once S3 is back", async () => {
  await using s3 = await startS3();
  const first = taggedRows("web", T0, 2000);
  const dir = await leaveUnflipped(s3, first);
  const orphans = await objects(s3);
  let server: TestServer | undefined;
  try {
    await loseCatalog(dir);
    await s3.stop();
    // Rebuilt with no listing to say which local segments have objects, then
    // more lines of the same hour, compacted while S3 stays down.
    server = await startServer({ dir, args: tierArgs(s3, { age: "1h" }), env: s3.env });
    const second = taggedRows("web", T0 + 2_000_000_000n, 2000, "b");
    await push(server.url, second);
    await waitFor("the new lines compacted, nothing left to merge", async () => {
      const s = await stats(server!.url);
      return s.rows_in_memory === 0 && s.compaction.flush_files === 0 &&
        !s.compaction.running && s.compaction.units_waiting === 0;
    });
    assert.equal((await stats(server.url)).compaction.awaiting_listing, orphans.length);
    await s3.restart();
    await assertOrphansGone(s3, orphans, server.url, [...first, ...second]);
  } finally {
    await server?.stop().catch(() => {});
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
});

Deno.test("a rotated segment's local copy back in a rebuilt catalog, then deleted by size retention, leaves its lines in S3", () =>
  withS3(async (s3) => {
    // A long grace: the local copy is still there when the catalog is lost.
    const args = tierArgs(s3, { grace: "1h" });
    let server = await startServer({ args, env: s3.env });
    try {
      const pushed = rows("web", T0, 3000);
      await push(server.url, pushed);
      await waitRotated(server.url);
      const keys = await objects(s3);
      assert.equal(await server.stop(), 0);
      await loseCatalog(server.dir);
      // Local files are over the size now: retention deletes them; their objects are the lines'.
      const retained = [
        ...tierArgs(s3, { age: "1h" }),
        ...["--retention-size", "1", "--retention-interval", "200ms"],
      ];
      server = await startServer({ dir: server.dir, args: retained, env: s3.env });
      await waitFor("the local copies deleted by retention", async () => {
        const s = await tier(server.url);
        return (await localSegments(server.dir)).length === 0 && s.segments_local === 0 &&
          s.segments_remote === keys.length;
      });
      same(await lines(server.url), newestFirst(pushed));
      assert.deepEqual((await objects(s3)).sort(), keys.sort());
    } finally {
      await stopAll(server);
    }
  }));

Deno.test("an upload never flipped under a former node id shows no line twice", async () => {
  await using s3 = await startS3();
  const pushed = taggedRows("web", T0, 2000);
  const dir = await leaveUnflipped(s3, pushed, "node-a");
  let server: TestServer | undefined;
  try {
    // Same folder, node id changed (the default is the host name).
    server = await startServer({ dir, args: tierArgs(s3, { node: "node-b" }), env: s3.env });
    await waitFor(
      "rotated under node-b",
      async () => (await stats(server!.url)).segments_local === 0,
    );
    // The object under the former node id is deleted at a later listing, never cataloged.
    await waitFor(
      "the object under node-a deleted",
      async () => (await objects(s3)).every((k) => k.startsWith("loge/node-b/")),
    );
    same(await lines(server.url), newestFirst(pushed));
  } finally {
    await server?.stop().catch(() => {});
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
});

Deno.test("a cold tier cycle that throws is logged and tried again, never the end of the server", () =>
  withS3(async (s3) => {
    const args = tierArgs(s3, { grace: "2s" });
    const server = await startServer({ args, env: s3.env });
    try {
      const pushed = rows("web", T0, 1000);
      await push(server.url, pushed);
      await waitRotated(server.url);
      // Its local copy, waiting for its grace, becomes a folder that cannot be removed as a file.
      const [copy] = (await Array.fromAsync(Deno.readDir(server.dir)))
        .map((e) => e.name).filter((n) => n.endsWith(".loge"));
      assert.ok(copy, "no local copy waiting for its grace");
      await Deno.remove(`${server.dir}/${copy}`);
      await Deno.mkdir(`${server.dir}/${copy}/inside`, { recursive: true });
      await waitFor(
        "the failed cycle logged",
        () => Promise.resolve(/cold tier: cycle failed/.test(server.stderr())),
      );
      // The server goes on answering, and the tier goes on cycling.
      const before = (await tier(server.url)).cold_tier.reconciled_rows;
      assert.deepEqual(
        (await queryLines(server.url, '{app="web"}', 5000)).lines,
        expected(pushed, () => true, 5000),
      );
      await push(server.url, rows("more", T0 + 5_000_000_000n, 100));
      await waitFor("the new segment rotated too", async () => {
        const s = await tier(server.url);
        return s.segments_local === 0 && s.rows_in_memory === 0 &&
          s.cold_tier.reconciled_rows >= before;
      });
    } finally {
      await stopAll(server);
    }
  }));
