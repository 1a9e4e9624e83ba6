import assert from "node:assert/strict";
import { gzipSync } from "node:zlib";
import { encode as encodeMsgpack } from "@msgpack/msgpack";
import protobuf from "protobufjs";
import { pushJson, startServer, withServer } from "../testing/server.ts";
import { storedLines } from "../testing/stored_lines.ts";

const T0 = 1_700_000_000_000_000_000n;

function payload(app: string, n: number, offset = 0) {
  return {
    streams: [{
      stream: { app, env: "test" },
      values: Array.from(
        { length: n },
        (_, i) => [String(T0 + BigInt(offset + i)), `${app} line ${offset + i}`],
      ),
    }],
  };
}

/** Waits until compaction has left exactly one file, a segment, in `dir`. */
async function oneSegmentLeft(dir: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  let names: string[] = [];
  while (Date.now() < deadline) {
    names = (await Array.fromAsync(Deno.readDir(dir), (e) => e.name)).filter((n) =>
      n.endsWith(".loge")
    );
    if (names.length === 1 && names[0].startsWith("l1-")) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.fail(`compaction left ${names.join(", ")}`);
}

async function push(url: string, body: string | Uint8Array, headers: Record<string, string>) {
  const bytes = typeof body === "string" ? body : new Uint8Array(body);
  const res = await fetch(`${url}/api/v1/push`, { method: "POST", headers, body: bytes });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

Deno.test("every format is stored, acknowledged with 200 once durable", async () => {
  const server = await startServer();
  try {
    assert.equal((await pushJson(server.url, payload("json", 3))).status, 200);
    const gz = gzipSync(new TextEncoder().encode(JSON.stringify(payload("gzip", 2))));
    assert.equal(
      (await push(server.url, gz, {
        "content-type": "application/json",
        "content-encoding": "gzip",
      })).status,
      200,
    );
    const mp = encodeMsgpack(payload("msgpack", 2));
    assert.equal(
      (await push(server.url, mp, { "content-type": "application/msgpack" })).status,
      200,
    );
    const root = await protobuf.load(new URL("../src/ingest/push.proto", import.meta.url).pathname);
    const PushRequest = root.lookupType("loge.PushRequest");
    const pb = PushRequest.encode(PushRequest.fromObject({
      streams: [{
        stream: { app: "protobuf", env: "test" },
        values: [{ timestamp: String(T0), line: "protobuf line 0", metadata: { trace_id: "abc" } }],
      }],
    })).finish();
    assert.equal(
      (await push(server.url, pb, { "content-type": "application/x-protobuf" })).status,
      200,
    );
    const withMeta = {
      streams: [{ stream: { app: "meta" }, values: [[String(T0), "m", { user: "u1" }]] }],
    };
    assert.equal((await pushJson(server.url, withMeta)).status, 200);
    assert.equal(await server.stop(), 0);
    const lines = await storedLines(server.dir);
    const byApp = (app: string) =>
      lines.filter((l) => JSON.parse(l.labels).app === app).map((l) => l.line).sort();
    assert.deepEqual(byApp("json"), ["json line 0", "json line 1", "json line 2"]);
    assert.deepEqual(byApp("gzip"), ["gzip line 0", "gzip line 1"]);
    assert.deepEqual(byApp("msgpack"), ["msgpack line 0", "msgpack line 1"]);
    const [pbLine] = lines.filter((l) => JSON.parse(l.labels).app === "protobuf");
    assert.equal(pbLine.line, "protobuf line 0");
    assert.equal(pbLine.ts, T0);
    assert.equal(pbLine.metadata, '{"trace_id":"abc"}');
    assert.equal(lines.find((l) => l.line === "m")?.metadata, '{"user":"u1"}');
    assert.equal(lines.length, 9);
  } finally {
    await Deno.remove(server.dir, { recursive: true });
  }
});

Deno.test("--durable=false acknowledges with 202", () =>
  withServer(async (server) => {
    assert.equal((await pushJson(server.url, payload("web", 1))).status, 202);
  }, { args: ["--durable=false"] }));

Deno.test("invalid payloads get 400 naming the problem, and nothing of them is stored", async () => {
  const server = await startServer({ args: ["--max-body-size", "4KiB"] });
  try {
    const good = payload("good", 1);
    const bad: [unknown, string][] = [
      [{}, "payload has no streams"],
      [{ streams: [] }, "payload has no streams"],
      [{ streams: [{ stream: {}, values: [["1", "x"]] }] }, "stream 0: stream has no labels"],
      [{ streams: [{ values: [["1", "x"]] }] }, "stream 0: stream has no labels"],
      [
        { streams: [good.streams[0], { stream: { a: "b" }, values: [] }] },
        "stream 1: stream has no values",
      ],
      [
        { streams: [{ stream: { "bad-name": "x" }, values: [["1", "x"]] }] },
        'stream 0: label name "bad-name" must match [a-zA-Z_][a-zA-Z0-9_]*',
      ],
      [
        { streams: [good.streams[0], { stream: { a: "b" }, values: [["1", "x"], ["12ab", "y"]] }] },
        'stream 1, value 1: timestamp must be an integer nanosecond string, got "12ab"',
      ],
      [
        { streams: [{ stream: { a: "b" }, values: [[1, "x"]] }] },
        "stream 0, value 0: timestamp must be an integer nanosecond string, got number 1",
      ],
      [
        { streams: [{ stream: { a: "b" }, values: [["1", { msg: "x" }]] }] },
        "stream 0, value 0: line must be a string, got an object",
      ],
    ];
    for (const [body, error] of bad) {
      const res = await pushJson(server.url, body);
      assert.equal(res.status, 400, error);
      assert.equal(res.body?.error, error);
    }
    const undecodable = await push(server.url, "{not json", { "content-type": "application/json" });
    assert.equal(undecodable.status, 400);
    assert.match(undecodable.body.error, /^cannot decode json body/);
    const badMsgpack = await push(server.url, new Uint8Array([0xc1]), {
      "content-type": "application/msgpack",
    });
    assert.equal(badMsgpack.status, 400);
    const badGzip = await push(server.url, "not gzip", {
      "content-type": "application/json",
      "content-encoding": "gzip",
    });
    assert.equal(badGzip.status, 400);
    assert.match(badGzip.body.error, /^cannot decode gzip body/);

    const unsupported = await push(server.url, JSON.stringify(good), {
      "content-type": "text/plain",
    });
    assert.equal(unsupported.status, 415);
    assert.match(unsupported.body.error, /unsupported content type "text\/plain"/);
    const brotli = await push(server.url, JSON.stringify(good), {
      "content-type": "application/json",
      "content-encoding": "br",
    });
    assert.equal(brotli.status, 415);

    const big = payload("big", 200);
    const tooLarge = await pushJson(server.url, big);
    assert.equal(tooLarge.status, 413);
    assert.match(String(tooLarge.body?.error), /exceeds the limit of 4096 bytes/);
    const bomb = gzipSync(
      new TextEncoder().encode(
        JSON.stringify({ streams: [{ stream: { a: "b" }, values: [["1", "x".repeat(100_000)]] }] }),
      ),
    );
    assert.ok(bomb.length < 4096);
    const bombed = await push(server.url, bomb, {
      "content-type": "application/json",
      "content-encoding": "gzip",
    });
    assert.equal(bombed.status, 413);

    assert.equal((await pushJson(server.url, good)).status, 200);
    assert.equal(await server.stop(), 0);
    const lines = await storedLines(server.dir);
    assert.deepEqual(lines.map((l) => l.line), ["good line 0"]);
  } finally {
    await Deno.remove(server.dir, { recursive: true });
  }
});

Deno.test("wrong methods and paths get JSON errors", () =>
  withServer(async (server) => {
    const get = await fetch(`${server.url}/api/v1/push`);
    assert.equal(get.status, 405);
    assert.match((await get.json()).error, /method GET not allowed on \/api\/v1\/push; use POST/);
    const missing = await fetch(`${server.url}/nope`);
    assert.equal(missing.status, 404);
    assert.equal((await missing.json()).status, "error");
  }));

Deno.test("a restart keeps data, and a clean stop leaves nothing to replay", async () => {
  let server = await startServer({ args: ["--compact-interval", "0"] });
  const dir = server.dir;
  try {
    assert.equal((await pushJson(server.url, payload("web", 5))).status, 200);
    assert.equal(await server.stop(), 0);
    assert.deepEqual(await Array.fromAsync(Deno.readDir(`${dir}/wal`)), []);
    server = await startServer({ dir, args: ["--compact-interval", "0"] });
    assert.equal((await pushJson(server.url, payload("web", 5, 5))).status, 200);
    assert.equal(await server.stop(), 0);
    const lines = await storedLines(dir);
    assert.deepEqual(
      lines.map((l) => l.line).sort(),
      Array.from({ length: 10 }, (_, i) => `web line ${i}`).sort(),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("compaction merges flush files into one segment with the same lines", async () => {
  const server = await startServer({
    args: [
      // One flush file is enough for a pass: with two, a pass that ran between the pushes could
      // leave the last flush file alone, waiting for another.
      ...["--compact-interval", "200ms", "--compact-min-files", "1", "--payload-size", "10"],
      ...["--flush-coalesce", "0"],
    ],
  });
  try {
    for (let i = 0; i < 6; i++) {
      assert.equal(
        (await pushJson(server.url, payload(i % 2 ? "api" : "web", 10, i * 10))).status,
        200,
      );
    }
    await oneSegmentLeft(server.dir);
    assert.equal(await server.stop(), 0);
    const lines = await storedLines(server.dir);
    assert.equal(lines.length, 60);
    assert.equal(new Set(lines.map((l) => l.line)).size, 60);
    const web = lines.filter((l) => l.labels.includes('"web"')).map((l) => l.ts);
    assert.deepEqual(web, [...web].sort((a, b) => (a < b ? -1 : 1)));
  } finally {
    await Deno.remove(server.dir, { recursive: true });
  }
});

Deno.test("--drop-on-backpressure answers 503 when the flush queue is full, and counts it", () =>
  withServer(async (server) => {
    const statuses = await Promise.all(
      Array.from(
        { length: 40 },
        (_, p) => pushJson(server.url, payload(`p${p}`, 2000)).then((r) => r),
      ),
    );
    const dropped = statuses.filter((r) => r.status === 503);
    const accepted = statuses.filter((r) => r.status === 202);
    assert.equal(dropped.length + accepted.length, 40);
    assert.ok(dropped.length > 0, "nothing was dropped");
    assert.ok(accepted.length > 0, "nothing was accepted");
    assert.match(String(dropped[0].body?.error), /dropped: the flush pipeline is saturated/);
    const stats = await (await fetch(`${server.url}/api/v1/stats`)).json();
    assert.equal(stats.ingest.dropped, dropped.length);
    assert.equal(stats.ingest.lines, accepted.length * 2000);
  }, {
    args: [
      "--durable=false",
      "--drop-on-backpressure",
      "--flush-queue",
      "1",
      "--flush-workers",
      "1",
      "--payload-size",
      "1",
      "--buckets",
      "1",
    ],
  }));

Deno.test("small segments are merged into larger ones", async () => {
  const server = await startServer({
    args: ["--compact-interval", "100ms", "--compact-min-files", "2", "--payload-size", "10"],
  });
  try {
    // Each push is compacted alone into a small segment; the small segments then merge.
    for (let i = 0; i < 4; i++) {
      assert.equal((await pushJson(server.url, payload("web", 10, i * 10))).status, 200);
      await new Promise((r) => setTimeout(r, 400));
    }
    await oneSegmentLeft(server.dir);
    assert.equal(await server.stop(), 0);
    const lines = await storedLines(server.dir);
    assert.equal(lines.length, 40);
  } finally {
    await Deno.remove(server.dir, { recursive: true });
  }
});
