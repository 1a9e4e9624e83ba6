/**
 * Tenants end to end (`--multi-tenant`): a real server, pushes and reads as
 * Loki's clients send them with `X-Scope-OrgID`. Each tenant sees its own
 * lines, labels, stats and live tail, and nothing of the others'.
 */

import assert from "node:assert/strict";
import { call } from "../testing/http.ts";
import { startServer, type TestServer } from "../testing/server.ts";

const T0 = 1_795_000_000_000_000_000n;

function lokiPush(url: string, tenant: string | undefined, app: string, lines: string[]) {
  return call(url, "/loki/api/v1/push", {
    headers: tenant === undefined ? {} : { "X-Scope-OrgID": tenant },
    body: {
      streams: [{
        stream: { app },
        values: lines.map((line, i) => [String(T0 + BigInt(i) * 1_000_000n), line]),
      }],
    },
  });
}

async function linesOf(url: string, tenant: string | undefined, query = '{app=~".+"}') {
  const r = await call(
    url,
    `/loki/api/v1/query_range?query=${encodeURIComponent(query)}&start=${T0 - 1n}&end=${
      T0 + 10_000_000_000n
    }&limit=1000&direction=forward`,
    { headers: tenant === undefined ? {} : { "X-Scope-OrgID": tenant } },
  );
  assert.equal(r.status, 200, r.text);
  return (r.body.data.result as { values: [string, string][] }[]).flatMap((s) =>
    s.values.map((v) => v[1])
  ).sort();
}

async function withServer(args: string[], fn: (server: TestServer) => Promise<void>) {
  const server = await startServer({ args });
  try {
    await fn(server);
  } finally {
    await server.stop();
    await Deno.remove(server.dir, { recursive: true });
  }
}

Deno.test("--multi-tenant: each X-Scope-OrgID sees its own lines, labels, stats and tail", () =>
  withServer(["--multi-tenant", "--flush-interval", "100ms"], async ({ url, dir }) => {
    assert.equal((await lokiPush(url, "team-a", "web", ["a1", "a2"])).status, 204);
    assert.equal((await lokiPush(url, "team-b", "db", ["b1"])).status, 204);
    const json = await call(url, "/api/v1/push", {
      headers: { "X-Scope-OrgID": "team-b" },
      body: { streams: [{ stream: { app: "db" }, values: [[String(T0 + 5n), "b2"]] }] },
    });
    assert.equal(json.status, 200, json.text);

    assert.deepEqual(await linesOf(url, "team-a"), ["a1", "a2"]);
    assert.deepEqual(await linesOf(url, "team-b"), ["b1", "b2"]);
    assert.deepEqual(await linesOf(url, "nobody"), []);
    const values = async (tenant: string) =>
      (await call(url, `/loki/api/v1/label/app/values?start=${T0 - 1n}`, {
        headers: { "X-Scope-OrgID": tenant },
      })).body.data;
    assert.deepEqual(await values("team-a"), ["web"]);
    assert.deepEqual(await values("team-b"), ["db"]);
    const stats = async (tenant: string) =>
      (await call(url, "/api/v1/stats", { headers: { "X-Scope-OrgID": tenant } })).body;
    assert.equal((await stats("team-a")).rows_total, 2);
    assert.equal((await stats("team-b")).rows_total, 2);
    // Each tenant's data lives in a folder of its own; reads create none.
    const folders = (await Array.fromAsync(Deno.readDir(`${dir}/tenants`))).map((e) => e.name);
    assert.deepEqual(folders.sort(), ["team-a", "team-b"]);
    assert.equal((await stats("nobody")).rows_total, 0);

    // A tenant's live tail sees its own new lines only.
    const controller = new AbortController();
    const tail = await fetch(`${url}/api/v1/tail?query=${encodeURIComponent("{}")}`, {
      headers: { "X-Scope-OrgID": "team-a" },
      signal: controller.signal,
    });
    assert.equal(tail.status, 200);
    const reader = tail.body!.pipeThrough(new TextDecoderStream()).getReader();
    await lokiPush(url, "team-b", "db", ["b-live"]);
    await lokiPush(url, "team-a", "web", ["a-live"]);
    let seen = "";
    while (!seen.includes("a-live")) seen += (await reader.read()).value ?? "";
    assert.doesNotMatch(seen, /b-live/);
    controller.abort();
    await reader.cancel().catch(() => {});
  }));

Deno.test("--multi-tenant: no tenant is 401 as in Loki, a bad one 400; the page needs none", () =>
  withServer(["--multi-tenant"], async ({ url }) => {
    const push = await lokiPush(url, undefined, "web", ["x"]);
    assert.equal(push.status, 401);
    assert.equal(push.text, "no org id\n");
    assert.equal((await call(url, "/loki/api/v1/labels")).status, 401);
    assert.equal((await call(url, "/api/v1/query", { body: { query: "{}" } })).status, 401);
    const bad = await lokiPush(url, "a/b", "web", ["x"]);
    assert.equal(bad.status, 400);
    assert.match(bad.text, /unsupported character '\/'/);
    assert.equal((await lokiPush(url, "x".repeat(151), "web", ["x"])).status, 400);
    assert.equal((await call(url, "/")).status, 200);
    assert.equal((await call(url, "/ready")).status, 200);
    assert.equal((await call(url, "/loki/api/v1/status/buildinfo")).status, 200);
  }));

Deno.test("without --multi-tenant the header is ignored: one store for everyone", () =>
  withServer([], async ({ url }) => {
    assert.equal((await lokiPush(url, "team-a", "web", ["a1"])).status, 204);
    assert.equal((await lokiPush(url, undefined, "web", ["n1"])).status, 204);
    assert.deepEqual(await linesOf(url, "team-b"), ["a1", "n1"]);
    assert.deepEqual(await linesOf(url, undefined), ["a1", "n1"]);
  }));
