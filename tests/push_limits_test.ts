/**
 * Push limits on the real server: `--max-line-size` and 15 labels a stream,
 * whatever the route; a push over either is a 400 naming the stream and the
 * limit, and nothing of it is stored. Lines acknowledged before a restart
 * with a lower limit stay stored.
 */

import assert from "node:assert/strict";
import { startServer, withServer } from "../testing/server.ts";

const NOW = BigInt(Date.now()) * 1_000_000n;
const LIMIT = 1024;

/** A push of `lines` in one stream of `labels` on each route, as its clients send it. */
const ROUTES: Record<
  string,
  (labels: Record<string, string>, lines: string[]) => [string, string, string]
> = {
  loge: (labels, lines) => [
    "/api/v1/push",
    "application/json",
    JSON.stringify({
      streams: [{ stream: labels, values: lines.map((l, i) => [String(NOW + BigInt(i)), l]) }],
    }),
  ],
  loki: (labels, lines) => [
    "/loki/api/v1/push",
    "application/json",
    JSON.stringify({
      streams: [{ stream: labels, values: lines.map((l, i) => [String(NOW + BigInt(i)), l]) }],
    }),
  ],
  otlp: (labels, lines) => [
    "/v1/logs",
    "application/json",
    JSON.stringify({
      resourceLogs: [{
        resource: {
          attributes: Object.entries(labels).map(([key, v]) => ({
            key,
            value: { stringValue: v },
          })),
        },
        scopeLogs: [{
          logRecords: lines.map((l, i) => ({
            timeUnixNano: String(NOW + BigInt(i)),
            body: { stringValue: l },
          })),
        }],
      }],
    }),
  ],
  bulk: (labels, lines) => [
    "/_bulk",
    "application/x-ndjson",
    lines.map((l) => `{"create":{}}\n${JSON.stringify({ ...labels, message: l })}\n`).join(""),
  ],
};

async function send(url: string, [path, type, body]: [string, string, string]) {
  const res = await fetch(`${url}${path}`, {
    method: "POST",
    headers: { "content-type": type },
    body,
  });
  return { status: res.status, text: await res.text() };
}

async function storedLines(url: string): Promise<string[]> {
  const res = await fetch(`${url}/api/v1/query`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ query: '{service_name=~".+"}', limit: 1000, start: "0" }),
  });
  assert.equal(res.status, 200);
  return (await res.json()).data.map((e: { line: string }) => e.line).sort();
}

/** `n` bytes of UTF-8, ending in a character of 3 bytes, starting with `tag`. */
const lineOf = (tag: string, n: number) => tag + "x".repeat(n - tag.length - 3) + "€";

// Label names every route keeps as they are (OTLP resource attributes and bulk
// fields become labels when --otlp-stream-attributes and --es-stream-fields name them).
const NAMES = Array.from({ length: 16 }, (_, i) => `l${i}`);
const ARGS = [
  "--max-line-size",
  `${LIMIT}`,
  "--otlp-stream-attributes",
  ["service.name", ...NAMES].join(","),
  "--es-stream-fields",
  ["service_name", ...NAMES].join(","),
];

Deno.test("push limits: a line over --max-line-size is a 400 on every route, and nothing of the push is stored", async () => {
  await withServer(async ({ url }) => {
    const kept: string[] = [];
    for (const [route, build] of Object.entries(ROUTES)) {
      const labels = { service_name: route };
      const over = await send(url, build(labels, [`${route} short`, lineOf(route, LIMIT + 1)]));
      assert.equal(over.status, 400, `${route}: ${over.text}`);
      assert.match(
        over.text,
        new RegExp(`is ${LIMIT + 1} bytes, over the limit of ${LIMIT} \\(--max-line-size\\)`),
      );
      const at = await send(url, build(labels, [lineOf(route, LIMIT)]));
      assert.ok(at.status === 200 || at.status === 204, `${route}: ${at.status} ${at.text}`);
      kept.push(lineOf(route, LIMIT));
    }
    assert.deepEqual(await storedLines(url), kept.sort());
  }, { args: ARGS });
});

Deno.test("push limits: a stream of 16 labels is a 400 on every route; 15 are stored", async () => {
  await withServer(async ({ url }) => {
    const kept: string[] = [];
    for (const [route, build] of Object.entries(ROUTES)) {
      // service_name is one of the labels; loge's own push derives none.
      const labels = (n: number) => ({
        service_name: route,
        ...Object.fromEntries(NAMES.slice(0, n - 1).map((l) => [l, "v"])),
      });
      const over = await send(url, build(labels(16), [`${route} 16`]));
      assert.equal(over.status, 400, `${route}: ${over.text}`);
      assert.match(
        over.text,
        /has 16 labels, over the limit of 15 \(--max-label-names-per-series\)/,
      );
      const at = await send(url, build(labels(15), [`${route} 15`]));
      assert.ok(at.status === 200 || at.status === 204, `${route}: ${at.status} ${at.text}`);
      kept.push(`${route} 15`);
    }
    assert.deepEqual(await storedLines(url), kept.sort());
  }, { args: ARGS });
});

Deno.test("push limits: lines acknowledged before a restart with a lower --max-line-size stay stored", async () => {
  const first = await startServer();
  const long = lineOf("long", 4096);
  try {
    const r = await send(first.url, ROUTES.loge({ service_name: "kept" }, [long]));
    assert.equal(r.status, 200, r.text);
  } finally {
    await first.kill(); // the line is in the WAL only
  }
  await withServer(async ({ url }) => {
    assert.deepEqual(await storedLines(url), [long]);
  }, { dir: first.dir, args: ["--max-line-size", "1KiB"] });
});
