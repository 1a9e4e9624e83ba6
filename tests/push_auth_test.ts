/**
 * `--push-api-key` closes every push route (loge's, Loki's, OTLP's and
 * Elasticsearch's) to requests without the key, answered 401 in each API's
 * own error shape before the body is read; a bearer token or a basic-auth
 * password opens them. Reads stay as `--api-key` says. The key is never
 * written to the server's output.
 */

import assert from "node:assert/strict";
import { withServer } from "../testing/server.ts";

const KEY = "push-s3cret-7f3a";
const READ_KEY = "read-k3y-19c2";
const NOW = BigInt(Date.now()) * 1_000_000n;

/** A push of `line` on each route, as its clients send it. */
const ROUTES: Record<string, (line: string) => { path: string; type: string; body: string }> = {
  loge: (line) => ({
    path: "/api/v1/push",
    type: "application/json",
    body: JSON.stringify({
      streams: [{ stream: { service_name: "loge" }, values: [[String(NOW), line]] }],
    }),
  }),
  loki: (line) => ({
    path: "/loki/api/v1/push",
    type: "application/json",
    body: JSON.stringify({ streams: [{ stream: { app: "loki" }, values: [[String(NOW), line]] }] }),
  }),
  otlp: (line) => ({
    path: "/v1/logs",
    type: "application/json",
    body: JSON.stringify({
      resourceLogs: [{
        resource: { attributes: [{ key: "service.name", value: { stringValue: "otlp" } }] },
        scopeLogs: [{ logRecords: [{ timeUnixNano: String(NOW), body: { stringValue: line } }] }],
      }],
    }),
  }),
  bulk: (line) => ({
    path: "/_bulk",
    type: "application/x-ndjson",
    body: `{"create":{}}\n${JSON.stringify({ message: line, service_name: "bulk" })}\n`,
  }),
};

const basic = (user: string, password: string) => `Basic ${btoa(`${user}:${password}`)}`;

async function send(url: string, route: string, line: string, authorization?: string) {
  const { path, type, body } = ROUTES[route](line);
  const res = await fetch(`${url}${path}`, {
    method: "POST",
    headers: { "content-type": type, ...(authorization ? { authorization } : {}) },
    body,
  });
  return { status: res.status, text: await res.text(), headers: res.headers };
}

/** Every stored line, through Loki's API. */
async function storedLines(url: string, authorization?: string): Promise<string[]> {
  const params = new URLSearchParams({
    query: '{service_name=~".+"}',
    start: String(NOW - 60_000_000_000n),
    end: String(NOW + 3_600_000_000_000n),
    limit: "1000",
  });
  const res = await fetch(`${url}/loki/api/v1/query_range?${params}`, {
    headers: authorization ? { authorization } : {},
  });
  assert.equal(res.status, 200, await res.clone().text());
  const { data } = await res.json();
  return data.result.flatMap((s: { values: [string, string][] }) => s.values.map(([, l]) => l))
    .sort();
}

Deno.test("push auth: without the key every push route answers 401 in its API's shape, and stores nothing", async () => {
  await withServer(async ({ url, stderr }) => {
    for (const route of Object.keys(ROUTES)) {
      for (const authorization of [undefined, `Bearer wrong`, basic("x", "wrong"), "Bearer"]) {
        const r = await send(url, route, `${route} refused`, authorization);
        assert.equal(r.status, 401, `${route} ${authorization}: ${r.text}`);
        assert.match(r.headers.get("www-authenticate") ?? "", /^Bearer realm="loge"/);
        // Loki answers errors in plain text.
        if (route === "loki") assert.match(r.text, /^(missing|invalid) API key[^{]*\n$/);
        else if (route === "bulk") {
          assert.equal(JSON.parse(r.text).error.type, "security_exception");
        } else assert.equal(JSON.parse(r.text).status, "error");
      }
    }
    assert.deepEqual(await storedLines(url), []);
    assert.ok(!stderr().includes(KEY));
  }, { args: ["--push-api-key", KEY] });
});

Deno.test("push auth: a bearer token or a basic-auth password opens every push route", async () => {
  await withServer(async ({ url, stderr }) => {
    const expected: string[] = [];
    for (const route of Object.keys(ROUTES)) {
      for (
        const [how, authorization] of [["bearer", `Bearer ${KEY}`], [
          "basic",
          basic("shipper", KEY),
        ]]
      ) {
        const r = await send(url, route, `${route} ${how}`, authorization);
        assert.ok(r.status === 200 || r.status === 204, `${route} ${how}: ${r.status} ${r.text}`);
        expected.push(`${route} ${how}`);
      }
    }
    // Reads need the read key, not the push key.
    const res = await fetch(`${url}/loki/api/v1/labels`, {
      headers: { authorization: `Bearer ${KEY}` },
    });
    assert.equal(res.status, 401, await res.text());
    assert.deepEqual(await storedLines(url, `Bearer ${READ_KEY}`), expected.sort());
    assert.ok(!stderr().includes(KEY) && !stderr().includes(READ_KEY));
  }, { args: ["--push-api-key", KEY, "--api-key", READ_KEY] });
});

Deno.test("push auth: without --push-api-key pushes stay open, as before", async () => {
  await withServer(async ({ url }) => {
    for (const route of Object.keys(ROUTES)) {
      const r = await send(url, route, `${route} open`);
      assert.ok(r.status === 200 || r.status === 204, `${route}: ${r.status} ${r.text}`);
    }
    assert.deepEqual(
      await storedLines(url),
      Object.keys(ROUTES).map((route) => `${route} open`).sort(),
    );
  });
});
