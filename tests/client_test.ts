/**
 * The client library (`@loge/loge/client`) against the real server: lines
 * of every level read back exactly (JSON lines, and text lines with their
 * fields as structured metadata), several loggers at once, a batch the
 * server refuses dropped and reported while the others go, and nothing lost
 * across a server restart: the logger retries until the server is back.
 */

import assert from "node:assert/strict";
import { Loge } from "../src/client/mod.ts";
import { startServer, withServer } from "../testing/server.ts";

/** Every line of `app`, oldest first, with its level label and metadata, through loge's API. */
async function linesOf(url: string, app: string) {
  const res = await fetch(`${url}/api/v1/query`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      query: `{app="${app}"}`,
      start: "0",
      limit: 5000,
      direction: "forward",
    }),
  });
  assert.equal(res.status, 200);
  const { data } = await res.json();
  return (data as {
    timestamp: number;
    labels: Record<string, string>;
    line: string;
    metadata?: Record<string, string>;
  }[]).map((e) => ({
    level: e.labels.level,
    line: e.line,
    meta: e.metadata,
  }));
}

function freePort(): number {
  const listener = Deno.listen({ port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

Deno.test("client: lines of every level read back exactly, as JSON lines and as text with metadata", async () => {
  await withServer(async ({ url }) => {
    const json = new Loge({ url, labels: { app: "client-json" }, flushIntervalMs: 50 });
    const text = new Loge({ url, labels: { app: "client-text" }, lines: "text", batchLines: 7 });
    const levels = ["debug", "info", "warn", "error", "critical"] as const;
    for (let i = 0; i < 100; i++) {
      json.log(levels[i % 5], `event ${i}`, { n: i, ok: i % 2 === 0, skip: undefined });
      text.log(levels[i % 5], `event ${i}`, { n: i, user: `u${i % 3}` });
    }
    await Promise.all([json.close(), text.close()]);
    assert.deepEqual(json.stats, { sent: 100, queued: 0, dropped: 0, retries: 0 });
    const jsonLines = await linesOf(url, "client-json");
    assert.deepEqual(
      jsonLines.map((l) => [l.level, JSON.parse(l.line)]),
      Array.from({ length: 100 }, (_, i) => [
        levels[i % 5],
        { level: levels[i % 5], msg: `event ${i}`, n: i, ok: i % 2 === 0 },
      ]),
    );
    const textLines = await linesOf(url, "client-text");
    assert.deepEqual(
      textLines.map((l) => [l.level, l.line, l.meta?.n, l.meta?.user]),
      Array.from({ length: 100 }, (_, i) => [levels[i % 5], `event ${i}`, String(i), `u${i % 3}`]),
    );
  });
});

Deno.test("client: several loggers under load; a refused batch is reported and dropped, the rest sent", async () => {
  await withServer(async ({ url }) => {
    const errors: string[] = [];
    const loggers = Array.from(
      { length: 4 },
      (_, k) =>
        new Loge({
          url,
          labels: { app: `load-${k}` },
          batchLines: 500,
          onError: (e) => errors.push(e.message),
        }),
    );
    for (let i = 0; i < 2500; i++) for (const [k, log] of loggers.entries()) log.info(`l${k} ${i}`);
    // A line over --max-line-size alone in its batch: the server refuses it (400).
    await loggers[0].flush();
    loggers[0].info("x".repeat(2048));
    await Promise.all(loggers.map((l) => l.close()));
    assert.equal(loggers[0].stats.dropped, 1);
    assert.match(errors[0], /the server refused 1 lines: 400 .*--max-line-size/);
    for (const [k, log] of loggers.entries()) {
      assert.equal(log.stats.sent, 2500);
      assert.equal((await linesOf(url, `load-${k}`)).length, 2500);
    }
  }, { args: ["--max-line-size", "1KiB"] });
});

Deno.test("client: nothing is lost across a server restart; the logger retries until it is back", async () => {
  const port = freePort();
  let server = await startServer({ args: ["--port", String(port)] });
  const url = server.url;
  const log = new Loge({ url, labels: { app: "restart" }, flushIntervalMs: 20, maxBackoffMs: 500 });
  try {
    for (let i = 0; i < 300; i++) {
      log.info(`line ${i}`);
      if (i === 100) await server.stop(); // lines 101… wait in the queue, retried
      if (i === 200) {
        server = await startServer({ dir: server.dir, args: ["--port", String(port)] });
      }
      await new Promise((r) => setTimeout(r, 5));
    }
    await log.close();
    assert.equal(log.stats.sent, 300);
    assert.ok(log.stats.retries > 0, "the logger never had to retry");
    const lines = (await linesOf(url, "restart")).map((l) => JSON.parse(l.line).msg);
    assert.deepEqual(lines, Array.from({ length: 300 }, (_, i) => `line ${i}`));
  } finally {
    await server.stop();
    await Deno.remove(server.dir, { recursive: true });
  }
});

/** Builds the client for Node as README says (`deno task build:client`) and returns its path. */
async function nodeClient(): Promise<string> {
  const root = new URL("..", import.meta.url).pathname;
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["task", "build:client"],
    cwd: root,
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  return `${root}dist/client.mjs`;
}

/** Runs `script` under Node beside a copy of the built client; its exit code, time and output. */
async function runNode(client: string, script: string, ...args: string[]) {
  const dir = await Deno.makeTempDir({ prefix: "loge-node-client-" });
  try {
    await Deno.copyFile(client, `${dir}/client.mjs`);
    await Deno.writeTextFile(`${dir}/app.mjs`, script);
    const t0 = performance.now();
    const out = await new Deno.Command("node", {
      args: [`${dir}/app.mjs`, ...args],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const decode = (b: Uint8Array) => new TextDecoder().decode(b);
    return {
      code: out.code,
      ms: performance.now() - t0,
      stdout: decode(out.stdout),
      stderr: decode(out.stderr),
    };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** A Node program that logs 120 lines and exits without closing: the last batch goes at exit. */
const NODE_APP = `
import { Loge } from "./client.mjs";
const log = new Loge({ url: process.argv[2], labels: { app: "node-client" }, batchLines: 50, flushIntervalMs: 60000 });
const levels = ["debug", "info", "warn", "error", "critical"];
for (let i = 0; i < 120; i++) log[levels[i % 5]]("event " + i, { n: i, runtime: "node" });
process.on("exit", () => console.log(JSON.stringify(log.stats)));
`;

Deno.test("client: under Node, the built library sends every line and flushes what is queued at exit", async () => {
  const client = await nodeClient();
  await withServer(async ({ url }) => {
    const run = await runNode(client, NODE_APP, url);
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(JSON.parse(run.stdout), { sent: 120, queued: 0, dropped: 0, retries: 0 });
    const levels = ["debug", "info", "warn", "error", "critical"];
    const lines = await linesOf(url, "node-client");
    assert.deepEqual(
      lines.map((l) => [l.level, JSON.parse(l.line)]),
      Array.from({ length: 120 }, (_, i) => [
        levels[i % 5],
        { level: levels[i % 5], msg: `event ${i}`, n: i, runtime: "node" },
      ]),
    );
  });
  // With no server, the process still ends: the exit flush gives up after its 5 s.
  const run = await runNode(client, NODE_APP, `http://127.0.0.1:${freePort()}`);
  assert.equal(run.code, 0, run.stderr);
  assert.ok(run.ms < 20_000, `node took ${run.ms} ms to exit`);
  const stats = JSON.parse(run.stdout);
  assert.equal(stats.sent, 0);
  assert.equal(stats.queued, 120);
});
