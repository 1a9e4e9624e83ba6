/**
 * Regression tests for defects that lost, corrupted or blocked data (found by
 * hostile testing at 72d9c63), each against the real server process.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { rawConnect, statusOf } from "./raw_http.ts";
import { pushJson, startServer, type TestServer, withServer } from "../testing/server.ts";
import { stats } from "../testing/http.ts";

const T0 = 1_700_000_000_000_000_000n;

function lines(app: string, from: number, count: number) {
  return {
    streams: [{
      stream: { app },
      values: Array.from(
        { length: count },
        (_, i) => [String(T0 + BigInt(from + i)), `${app} line ${from + i}`],
      ),
    }],
  };
}

/** Every line of `app` the server returns, oldest first. */
async function readApp(url: string, app: string): Promise<string[]> {
  const res = await fetch(`${url}/api/v1/query`, {
    method: "POST",
    body: JSON.stringify({ query: `{app="${app}"}`, limit: 5000 }),
  });
  const body = await res.json();
  assert.equal(res.status, 200, JSON.stringify(body));
  return body.data.map((e: { line: string }) => e.line).reverse();
}

async function walFiles(dir: string): Promise<string[]> {
  return (await Array.fromAsync(Deno.readDir(join(dir, "wal")), (e) => e.name)).sort();
}

const SLOW_FLUSH = ["--flush-interval", "60s", "--payload-size", "1000000"];

Deno.test("a WAL segment with a torn first record never takes later acknowledged pushes with it", async () => {
  const dir = await Deno.makeTempDir({ prefix: "loge-torn-first-" });
  const args = [...SLOW_FLUSH, "--checkpoint-interval", "500ms"];
  let server: TestServer | undefined;
  try {
    server = await startServer({ dir, args });
    assert.equal((await pushJson(server.url, lines("first", 0, 120))).status, 200);
    await server.kill();
    const [segment] = await walFiles(dir);
    await Deno.truncate(join(dir, "wal", segment), 10);
    server = await startServer({ dir, args });
    assert.equal((await pushJson(server.url, lines("second", 0, 120))).status, 200);
    await new Promise((r) => setTimeout(r, 2000)); // checkpoints run meanwhile
    await server.kill();
    assert.match(server.stderr(), /10 bytes at offset 0 hold no intact record/);
    server = await startServer({ dir, args });
    assert.deepEqual(
      await readApp(server.url, "second"),
      lines("second", 0, 120).streams[0].values.map((v) => v[1]),
    );
  } finally {
    await server?.stop();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a WAL segment created but never written (a crash before its first fsync) loses nothing", async () => {
  const dir = await Deno.makeTempDir({ prefix: "loge-empty-segment-" });
  const args = [...SLOW_FLUSH, "--checkpoint-interval", "200ms"];
  let server: TestServer | undefined;
  try {
    server = await startServer({ dir, args });
    assert.equal((await pushJson(server.url, lines("a", 0, 10))).status, 200);
    await server.kill();
    // What a crash right after creating the next segment leaves: an empty file
    // named like the next segment (by sequence, as names used to be).
    await Deno.writeFile(join(dir, "wal", `${"2".padStart(20, "0")}.wal`), new Uint8Array());
    server = await startServer({ dir, args });
    assert.equal((await pushJson(server.url, lines("b", 0, 10))).status, 200);
    await new Promise((r) => setTimeout(r, 800));
    await server.kill();
    server = await startServer({ dir, args });
    assert.equal((await readApp(server.url, "a")).length, 10);
    assert.equal((await readApp(server.url, "b")).length, 10);
  } finally {
    await server?.stop();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a torn WAL tail is logged with its segment, offset and size, and counted in stats", async () => {
  const dir = await Deno.makeTempDir({ prefix: "loge-torn-tail-" });
  let server: TestServer | undefined;
  try {
    server = await startServer({ dir, args: SLOW_FLUSH });
    for (let p = 0; p < 4; p++) {
      assert.equal((await pushJson(server.url, lines("t", p * 30, 30))).status, 200);
    }
    await server.kill();
    const [segment] = await walFiles(dir);
    const path = join(dir, "wal", segment);
    const bytes = await Deno.readFile(path);
    // Records are `u32 length | u32 crc | u64 seq | length bytes`: find the fourth.
    const view = new DataView(bytes.buffer);
    let fourth = 0;
    for (let r = 0; r < 3; r++) fourth += 16 + view.getUint32(fourth, true);
    const cut = fourth + 100; // mid-record
    await Deno.truncate(path, cut);
    server = await startServer({ dir, args: SLOW_FLUSH });
    assert.deepEqual(
      await readApp(server.url, "t"),
      lines("t", 0, 90).streams[0].values.map((v) => v[1]),
    );
    assert.match(
      server.stderr(),
      new RegExp(`${segment}: 100 bytes at offset ${fourth} hold no intact record .*torn tail`),
    );
    const { wal } = await stats(server.url);
    assert.deepEqual(wal, {
      segments: 1,
      damaged_stretches: 1,
      skipped_bytes: 100,
      records_lost: 1,
    });
  } finally {
    await server?.stop();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("lone surrogates become U+FFFD and never cut other clients' lines", async () => {
  const dir = await Deno.makeTempDir({ prefix: "loge-surrogates-" });
  const args = ["--buckets", "1", ...SLOW_FLUSH];
  let server: TestServer | undefined;
  const normal = lines("normal", 0, 50).streams[0].values.map((v) => v[1]);
  const odd = Array.from({ length: 400 }, (_, i) => (i % 2 === 0 ? "x\ufffd" : "\ufffdy"));
  try {
    server = await startServer({ dir, args });
    // Escapes written by hand: JSON.stringify would never send lone surrogates.
    const values = Array.from(
      { length: 400 },
      (_, i) => `["${T0 + BigInt(i)}", "${i % 2 === 0 ? "x\\ud83d" : "\\ude00y"}"]`,
    );
    const body = `{"streams":[{"stream":{"app":"odd"},"values":[${values.join(",")}]}]}`;
    const res = await fetch(`${server.url}/api/v1/push`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body,
    });
    assert.equal(res.status, 200, await res.text());
    assert.equal((await pushJson(server.url, lines("normal", 0, 50))).status, 200);
    assert.deepEqual(await readApp(server.url, "normal"), normal);
    assert.deepEqual(await readApp(server.url, "odd"), odd);
    assert.equal(await server.stop(), 0); // flushes both into one file
    server = await startServer({ dir, args });
    assert.deepEqual(await readApp(server.url, "normal"), normal);
    assert.deepEqual(await readApp(server.url, "odd"), odd);
  } finally {
    await server?.stop();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("rejected pushes with huge label values are refused before they are kept", () =>
  withServer(async (server) => {
    for (let i = 0; i < 20; i++) {
      const value = `${i}`.padEnd(8 * 1024 * 1024, "v");
      const res = await pushJson(server.url, { streams: [{ stream: { a: value } }] });
      assert.equal(res.status, 400);
      assert.match(String(res.body?.error), /label a is 8388608 characters long/);
    }
    assert.equal((await pushJson(server.url, lines("after", 0, 3))).status, 200);
  }));

Deno.test("slow senders hold no admission slot: other pushes go on, the slow ones get 408", () =>
  withServer(async (server) => {
    const head = "POST /api/v1/push HTTP/1.1\r\nHost: x\r\ncontent-type: application/json\r\n" +
      "content-length: 1000\r\n\r\n{";
    const slow = await Promise.all(
      Array.from({ length: 8 }, () => rawConnect(server.url, head)),
    );
    try {
      await new Promise((r) => setTimeout(r, 200));
      const res = await fetch(`${server.url}/api/v1/push`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(lines("fast", 0, 5)),
        signal: AbortSignal.timeout(5000),
      });
      assert.equal(res.status, 200, await res.text());
      assert.equal((await readApp(server.url, "fast")).length, 5);
      for (const conn of slow) {
        const answer = await conn.response();
        assert.equal(statusOf(answer), 408, answer);
        assert.match(answer, /--read-timeout/);
      }
    } finally {
      for (const conn of slow) conn.close();
    }
  }, { args: ["--buckets", "1", "--read-timeout", "1500ms"] }));

Deno.test("a client that leaves mid-body is logged as such, without a stack or a 500", () =>
  withServer(async (server) => {
    const conn = await rawConnect(
      server.url,
      "POST /api/v1/push HTTP/1.1\r\nHost: x\r\ncontent-type: application/json\r\n" +
        'content-length: 1000\r\n\r\n{"streams":',
    );
    await new Promise((r) => setTimeout(r, 200));
    conn.close();
    await new Promise((r) => setTimeout(r, 500));
    assert.equal((await pushJson(server.url, lines("after", 0, 1))).status, 200);
    const log = server.stderr();
    assert.match(log, /client went away while sending POST \/api\/v1\/push/);
    assert.doesNotMatch(log, /internal error|\n\s+at /);
  }));

Deno.test("a transfer coding the server does not apply is refused, and nothing is stored", () =>
  withServer(async (server) => {
    const json = JSON.stringify(lines("te", 0, 3));
    const chunked = `${json.length.toString(16)}\r\n${json}\r\n0\r\n\r\n`;
    const conn = await rawConnect(
      server.url,
      "POST /api/v1/push HTTP/1.1\r\nHost: x\r\ncontent-type: application/json\r\n" +
        `transfer-encoding: gzip, chunked\r\n\r\n${chunked}`,
    );
    const answer = await conn.response();
    conn.close();
    assert.equal(statusOf(answer), 400, answer);
    assert.match(answer, /transfer coding \\"gzip\\" is not supported/);
    assert.deepEqual(await readApp(server.url, "te"), []);
  }));

Deno.test("a Host header that makes no URL is a 400 with the reason, not a 500 with a stack", async () => {
  for (const args of [[], ["--multi-tenant"]]) {
    await withServer(async (server) => {
      for (const host of ["a b", "-Type: application/json", "[::1"]) {
        const conn = await rawConnect(
          server.url,
          `GET /api/v1/labels HTTP/1.1\r\nHost: ${host}\r\n\r\n`,
        );
        const answer = await conn.response();
        conn.close();
        assert.equal(statusOf(answer), 400, `${args} ${host}: ${answer}`);
        assert.match(answer, /malformed request: its target and Host header make no URL/);
      }
      assert.doesNotMatch(server.stderr(), /TypeError|\n\s+at /);
    }, { args });
  }
});

Deno.test("headers over 64 KiB, or over 100 of them, are a 400 from the HTTP layer; the server goes on", () =>
  withServer(async (server) => {
    const heads = [
      `GET /api/v1/labels HTTP/1.1\r\nHost: x\r\nX-Big: ${"a".repeat(64 * 1024)}\r\n\r\n`,
      `GET /api/v1/labels HTTP/1.1\r\nHost: x\r\n${
        Array.from({ length: 200 }, (_, i) => `X-H${i}: v\r\n`).join("")
      }\r\n`,
    ];
    for (const head of heads) {
      const conn = await rawConnect(server.url, head);
      const answer = await conn.response(5000);
      conn.close();
      assert.equal(statusOf(answer), 400, answer.slice(0, 200));
    }
    const res = await fetch(`${server.url}/api/v1/labels`);
    assert.equal(res.status, 200);
    await res.body?.cancel();
  }));
