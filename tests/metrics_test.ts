/**
 * `GET /metrics` on the real server: Prometheus' text format, parsed here
 * independently, guarded like the reads unless `--metrics-open`, with the
 * figures the pushes and requests made.
 */

import assert from "node:assert/strict";
import { withServer } from "../testing/server.ts";

const KEY = "metrics-k3y";
const NOW = BigInt(Date.now()) * 1_000_000n;

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/**
 * Parses the text format strictly: every sample's family is declared by
 * `# TYPE` before it, names and labels are well formed, values are numbers.
 */
function parseExposition(text: string): { types: Map<string, string>; samples: Sample[] } {
  const types = new Map<string, string>();
  const samples: Sample[] = [];
  assert.ok(text.endsWith("\n"), "the text ends with a newline");
  for (const line of text.slice(0, -1).split("\n")) {
    const type = /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram)$/.exec(line);
    if (type) {
      assert.ok(!types.has(type[1]), `${type[1]} declared twice`);
      types.set(type[1], type[2]);
      continue;
    }
    if (/^# HELP [a-zA-Z_:][a-zA-Z0-9_:]* \S/.test(line)) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    assert.ok(m, `malformed line: ${line}`);
    const [, name, labelText = "", valueText] = m;
    const labels: Record<string, string> = {};
    const labelRe = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(,|$)/y;
    for (let at = 0; at < labelText.length;) {
      labelRe.lastIndex = at;
      const l = labelRe.exec(labelText);
      assert.ok(l, `malformed labels: ${line}`);
      labels[l[1]] = l[2].replace(/\\(.)/g, (_, c) => (c === "n" ? "\n" : c));
      at = labelRe.lastIndex;
    }
    const value = valueText === "+Inf" ? Infinity : Number(valueText);
    assert.ok(!Number.isNaN(value), `not a number: ${line}`);
    const family = name.replace(/_(bucket|sum|count)$/, "");
    assert.ok(types.has(name) || types.get(family) === "histogram", `undeclared: ${line}`);
    samples.push({ name, labels, value });
  }
  return { types, samples };
}

function value(samples: Sample[], name: string, labels: Record<string, string> = {}): number {
  const found = samples.filter((s) =>
    s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v)
  );
  assert.equal(found.length, 1, `${name} ${JSON.stringify(labels)}: ${found.length} samples`);
  return found[0].value;
}

async function push(url: string, path: string, lines: number, app: string) {
  const values = Array.from({ length: lines }, (_, i) => [String(NOW + BigInt(i)), `${app} ${i}`]);
  const res = await fetch(`${url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ streams: [{ stream: { app }, values }] }),
  });
  await res.body?.cancel();
  return res.status;
}

Deno.test("metrics: Prometheus text with the pushes, lines, requests and fsyncs the server saw", async () => {
  await withServer(async ({ url }) => {
    assert.equal(await push(url, "/api/v1/push", 10, "a"), 200);
    assert.equal(await push(url, "/api/v1/push", 5, "a"), 200);
    assert.equal(await push(url, "/loki/api/v1/push", 7, "b"), 204);
    const bad = await fetch(`${url}/api/v1/push`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{",
    });
    assert.equal(bad.status, 400);
    await bad.body?.cancel();

    const refused = await fetch(`${url}/metrics`);
    assert.equal(refused.status, 401);
    await refused.body?.cancel();
    const res = await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${KEY}` } });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("content-type"), "text/plain; version=0.0.4; charset=utf-8");
    const { types, samples } = parseExposition(await res.text());

    assert.equal(types.get("loge_ingest_lines_total"), "counter");
    assert.equal(value(samples, "loge_ingest_lines_total", { format: "json" }), 15);
    assert.equal(value(samples, "loge_ingest_lines_total", { format: "loki_json" }), 7);
    assert.equal(value(samples, "loge_ingest_pushes_total", { format: "json" }), 2);
    assert.equal(value(samples, "loge_rows"), 22);
    const push200 = { route: "/api/v1/push", method: "POST", code: "200" };
    assert.equal(value(samples, "loge_http_requests_total", push200), 2);
    assert.equal(value(samples, "loge_http_requests_total", { ...push200, code: "400" }), 1);
    assert.equal(
      value(samples, "loge_http_requests_total", { route: "/metrics", code: "401" }),
      1,
    );
    // Three durable pushes, at least one fsync; buckets grow to +Inf, which counts them all.
    const fsyncs = value(samples, "loge_wal_fsync_duration_seconds_count");
    assert.ok(fsyncs >= 1 && fsyncs <= 3, `${fsyncs} fsyncs`);
    const buckets = samples.filter((s) => s.name === "loge_wal_fsync_duration_seconds_bucket");
    assert.deepEqual(
      buckets.map((b) => b.value),
      buckets.map((b) => b.value).sort((a, b) => a - b),
    );
    assert.equal(buckets.at(-1)!.labels.le, "+Inf");
    assert.equal(buckets.at(-1)!.value, fsyncs);
    const latencyCount = value(samples, "loge_http_request_duration_seconds_count", {
      route: "/api/v1/push",
    });
    assert.equal(latencyCount, 3);
    assert.equal(value(samples, "loge_wal_fault"), 0);
    assert.equal(types.get("loge_flush_duration_seconds"), "histogram");
    assert.ok(value(samples, "process_resident_memory_bytes") > 10_000_000);
  }, { args: ["--api-key", KEY] });
});

Deno.test("metrics: a flush file's index is read as it is cataloged, so a query finds it open", async () => {
  await withServer(async ({ url }) => {
    const metrics = async () => {
      const res = await fetch(`${url}/metrics`);
      return parseExposition(await res.text()).samples;
    };
    assert.equal(await push(url, "/api/v1/push", 10, "a"), 200);
    let files = 0;
    for (const deadline = Date.now() + 10_000; files === 0 && Date.now() < deadline;) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      files = (await (await fetch(`${url}/api/v1/stats`)).json()).flush_files;
    }
    assert.equal(files, 1);
    let samples = await metrics();
    assert.equal(value(samples, "loge_segment_cache_misses_total"), 1);
    assert.equal(value(samples, "loge_segment_cache_hits_total"), 0);
    const res = await fetch(`${url}/api/v1/query`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ query: '{app="a"}', limit: 3, start: 0 }),
    });
    const lines = (await res.json()).data.map((e: { line: string }) => e.line);
    assert.deepEqual(lines, ["a 9", "a 8", "a 7"]);
    samples = await metrics();
    assert.equal(value(samples, "loge_segment_cache_misses_total"), 1);
    assert.equal(value(samples, "loge_segment_cache_hits_total"), 1);
  }, { args: ["--metrics-open", "--flush-interval", "50ms", "--compact-interval", "0"] });
});

Deno.test("metrics: the memory of the main thread and of each worker, by isolate", async () => {
  await withServer(async ({ url }) => {
    const memory = async () => {
      const { samples } = parseExposition(await (await fetch(`${url}/metrics`)).text());
      const byIsolate = new Map<string, Record<string, number>>();
      for (const s of samples.filter((s) => s.name === "loge_isolate_memory_bytes")) {
        const kinds = byIsolate.get(s.labels.isolate) ?? {};
        kinds[s.labels.kind] = s.value;
        byIsolate.set(s.labels.isolate, kinds);
      }
      return byIsolate;
    };
    // No job yet: only the main thread has figures.
    assert.deepEqual([...(await memory()).keys()], ["main"]);
    assert.equal(await push(url, "/api/v1/push", 10, "a"), 200);
    let isolates = await memory();
    for (const deadline = Date.now() + 10_000; isolates.size < 2 && Date.now() < deadline;) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      isolates = await memory();
    }
    // The push made one flush file: a flush worker wrote it (one or two, by the cores).
    const names = [...isolates.keys()];
    assert.equal(names.length, 2, names.join(", "));
    assert.equal(names[0], "main");
    assert.match(names[1], /^flush_worker#[01]$/);
    for (const [isolate, kinds] of isolates) {
      assert.deepEqual(Object.keys(kinds).sort(), ["external", "heap_total", "heap_used"]);
      assert.ok(kinds.heap_used > 1_000_000, `${isolate}: ${kinds.heap_used}`);
      assert.ok(kinds.heap_used <= kinds.heap_total, isolate);
    }
  }, { args: ["--metrics-open", "--flush-interval", "50ms", "--compact-interval", "0"] });
});

Deno.test("metrics: --metrics-open serves them without the key; the reads stay guarded", async () => {
  await withServer(async ({ url }) => {
    const res = await fetch(`${url}/metrics`);
    assert.equal(res.status, 200);
    parseExposition(await res.text());
    const labels = await fetch(`${url}/api/v1/labels`);
    assert.equal(labels.status, 401);
    await labels.body?.cancel();
  }, { args: ["--api-key", KEY, "--metrics-open"] });
});
