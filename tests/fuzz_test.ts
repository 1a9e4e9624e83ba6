/**
 * Fuzzing of every way in: push bodies of each format on their routes
 * (loge's JSON, msgpack and protobuf, Loki's snappy protobuf and JSON, OTLP
 * protobuf and JSON, Elasticsearch bulk), LogQL and the read routes'
 * parameters, through the real handler in this process; and raw HTTP
 * framing (lengths, chunking, stalls) against the real server process.
 * Every answer must be under 500 and come within a second, and the server
 * must still hold every line stored before the fuzzing (and, for raw HTTP,
 * keep its peak RSS near an idle server's).
 *
 * Inputs are mutations of valid seeds (`testing/fuzz.ts`), reproducible
 * from `LOGE_FUZZ_SEED`. A bounded run is part of the test suite;
 * `deno task fuzz` runs `LOGE_FUZZ_ITERATIONS` (default 20,000) per target.
 */

import assert from "node:assert/strict";
import { encode as encodeMsgpack } from "@msgpack/msgpack";
import { withApp } from "../testing/app_fixture.ts";
import { fuzzIterations, fuzzSeed, Mutator } from "../testing/fuzz.ts";
import { startServer } from "../testing/server.ts";
import { createEncoder, type PushPayload } from "../bench/push_client.ts";
import { rawConnect, statusOf } from "./raw_http.ts";

const ITERATIONS = fuzzIterations(300);
const SEED = fuzzSeed();
const BASE = "http://loge.test";
const T0 = 1_790_000_000_000_000_000n;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

const PAYLOAD: PushPayload = {
  streams: [
    {
      stream: { app: "web", level: "error" },
      values: [[`${T0}`, "GET /cart 502 upstream timeout"], [`${T0 + 1n}`, '{"msg":"hi","n":1}']],
    },
    { stream: { app: "db" }, values: [[`${T0 + 2n}`, "level=info msg=ok took=5ms"]] },
  ],
};

/** Each push route with its content type and valid seed bodies. */
async function pushTargets(): Promise<
  { name: string; path: string; type: string; seeds: Uint8Array[] }[]
> {
  const json = encoder.encode(JSON.stringify(PAYLOAD));
  const withMetadata = encoder.encode(
    JSON.stringify({
      streams: [{ stream: { app: "web" }, values: [[`${T0}`, "x", { trace_id: "abc" }]] }],
    }),
  );
  const encoded = async (format: Parameters<typeof createEncoder>[0]) => {
    const e = await createEncoder(format);
    return { path: e.path ?? "/api/v1/push", type: e.contentType, body: e.encode(PAYLOAD) };
  };
  const protobuf = await encoded("protobuf");
  const loki = await encoded("loki-protobuf");
  const otlp = await encoded("otlp-protobuf");
  const bulk = await encoded("es-bulk");
  const otlpJson = encoder.encode(JSON.stringify({
    resourceLogs: [{
      resource: { attributes: [{ key: "service.name", value: { stringValue: "web" } }] },
      scopeLogs: [{
        logRecords: [{
          timeUnixNano: `${T0}`,
          severityText: "ERROR",
          body: { kvlistValue: { values: [{ key: "a", value: { intValue: "7" } }] } },
          attributes: [{ key: "k", value: { arrayValue: { values: [{ boolValue: true }] } } }],
          traceId: "5b8efff798038103d269b633813fc60c",
        }],
      }],
    }],
  }));
  return [
    {
      name: "loge JSON",
      path: "/api/v1/push",
      type: "application/json",
      seeds: [json, withMetadata],
    },
    {
      name: "loge msgpack",
      path: "/api/v1/push",
      type: "application/msgpack",
      seeds: [encodeMsgpack(PAYLOAD)],
    },
    { name: "loge protobuf", path: protobuf.path, type: protobuf.type, seeds: [protobuf.body] },
    { name: "Loki snappy protobuf", path: loki.path, type: loki.type, seeds: [loki.body] },
    { name: "Loki JSON", path: "/loki/api/v1/push", type: "application/json", seeds: [json] },
    { name: "OTLP protobuf", path: otlp.path, type: otlp.type, seeds: [otlp.body] },
    { name: "OTLP JSON", path: "/v1/logs", type: "application/json", seeds: [otlpJson] },
    { name: "Elasticsearch bulk", path: bulk.path, type: bulk.type, seeds: [bulk.body] },
  ];
}

/** LogQL seeds: log queries with every kind of stage, and metric queries. */
const QUERIES = [
  '{app="web"}',
  '{app=~"w.*", level!="info"} |= "502" != "health" |~ "(?i)timeout"',
  '{app="web"} | json | msg="hi" | line_format "{{.msg}} {{.n}}"',
  '{app="db"} | logfmt | took > 2ms | label_format t="{{.took}}" | drop level',
  '{app="web"} | pattern "<method> <path> <status> <_>" | status >= 500',
  '{app="web"} | regexp "(?P<verb>\\\\w+) (?P<path>\\\\S+)" | keep verb',
  'sum by (level) (count_over_time({app=~".+"}[5m]))',
  'topk(3, rate({app="web"} |= "GET" [1m]))',
  'quantile_over_time(0.99, {app="db"} | logfmt | unwrap duration(took) [5m]) by (app)',
  'sum(rate({app="web"}[1m])) / sum(rate({app=~".+"}[1m])) > 0.5',
].map((q) => encoder.encode(q));

/** Values of the read routes' parameters. */
const PARAMS = [
  "0",
  `${T0}`,
  `${T0 + 10n}`,
  "1790000000",
  "2026-09-22T00:00:00Z",
  "now-1h",
  "5m",
  "1",
  "5000",
  "forward",
  "backward",
].map((p) => encoder.encode(p));

/** Sends `req`; the answer must be under 500 and come within a second. */
async function answerOf(
  handle: (req: Request) => Promise<Response>,
  req: Request,
  input: Uint8Array,
  what: string,
): Promise<number> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<"late">((resolve) => timer = setTimeout(() => resolve("late"), 1000));
  try {
    const res = await Promise.race([handle(req), late]);
    const input64 = btoa(String.fromCharCode(...input.subarray(0, 4096)));
    assert.notEqual(res, "late", `${what}: no answer within 1 s for input (base64) ${input64}`);
    const r = res as Response;
    const text = await r.text();
    assert.ok(r.status < 500, `${what}: ${r.status} ${text} for input (base64) ${input64}`);
    return r.status;
  } finally {
    clearTimeout(timer);
  }
}

/** Every stored entry, each as its JSON. */
async function stored(handle: (req: Request) => Promise<Response>): Promise<string[]> {
  const res = await handle(
    new Request(`${BASE}/api/v1/query`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ query: '{service_name=~".*"}', start: "0", limit: 5000 }),
    }),
  );
  assert.equal(res.status, 200);
  return (await res.json()).data.map((e: unknown) => JSON.stringify(e));
}

Deno.test(`fuzz: push bodies of every format (${ITERATIONS} each, seed ${SEED})`, async () => {
  await withApp(async ({ handle }) => {
    const targets = await pushTargets();
    // The seeds themselves are valid: each is stored.
    for (const t of targets) {
      for (const seed of t.seeds) {
        const status = await answerOf(handle, pushRequest(t.path, t.type, seed), seed, t.name);
        assert.ok(status === 200 || status === 204, `${t.name}: seed answered ${status}`);
      }
    }
    const before = await stored(handle);
    for (const [k, t] of targets.entries()) {
      const mutator = new Mutator(t.seeds, SEED + k);
      const statuses = new Map<number, number>();
      for (let i = 0; i < ITERATIONS; i++) {
        const input = mutator.next();
        const gzip: Record<string, string> = i % 17 === 0 ? { "content-encoding": "gzip" } : {};
        const status = await answerOf(
          handle,
          pushRequest(t.path, t.type, input, gzip),
          input,
          t.name,
        );
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
      }
      console.log(`${t.name}: ${JSON.stringify(Object.fromEntries(statuses))}`);
    }
    // What the fuzzed pushes stored never changes what was stored before them.
    const after = new Map<string, number>();
    for (const e of await stored(handle)) after.set(e, (after.get(e) ?? 0) + 1);
    for (const e of before) {
      assert.ok((after.get(e) ?? 0) > 0, `lost after fuzzing: ${e}`);
      after.set(e, after.get(e)! - 1);
    }
  }, {
    app: {
      maxBodyBytes: 1024 * 1024,
      esBulk: { streamFields: ["app", "level"], msgFields: ["message"], timeField: "@timestamp" },
    },
  });
});

function pushRequest(
  path: string,
  type: string,
  body: Uint8Array,
  headers: Record<string, string> = {},
): Request {
  return new Request(`${BASE}${path}`, {
    method: "POST",
    headers: { "content-type": type, ...headers },
    body: body as Uint8Array<ArrayBuffer>,
  });
}

Deno.test(`fuzz: LogQL and read parameters on loge's and Loki's routes (${ITERATIONS} each, seed ${SEED})`, async () => {
  await withApp(async ({ handle }) => {
    const seeded = await handle(
      pushRequest("/api/v1/push", "application/json", encoder.encode(JSON.stringify(PAYLOAD))),
    );
    assert.equal(seeded.status, 200);
    const queries = new Mutator(QUERIES, SEED);
    const params = new Mutator(PARAMS, SEED + 1);
    const statuses = new Map<number, number>();
    const count = (s: number) => statuses.set(s, (statuses.get(s) ?? 0) + 1);
    for (let i = 0; i < ITERATIONS; i++) {
      const input = queries.next(3);
      const query = decoder.decode(input);
      const [start, end, third] = [params.next(2), params.next(2), params.next(2)].map((p) =>
        decoder.decode(p)
      );
      count(
        await answerOf(
          handle,
          new Request(`${BASE}/api/v1/query`, {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: JSON.stringify({ query, start, end, limit: Number(third) || third }),
          }),
          input,
          "/api/v1/query",
        ),
      );
      const route = ["query_range", "query", "series", "labels", "index/volume", "patterns"][i % 6];
      const search = new URLSearchParams({
        query,
        start,
        end,
        step: third,
        limit: third,
        since: third,
      });
      if (route === "series") search.set("match[]", query);
      count(
        await answerOf(
          handle,
          new Request(`${BASE}/loki/api/v1/${route}?${search}`),
          input,
          `/loki/api/v1/${route}`,
        ),
      );
    }
    console.log(`reads: ${JSON.stringify(Object.fromEntries(statuses))}`);
    assert.ok(
      (statuses.get(200) ?? 0) > 0,
      "no fuzzed query was valid: the seeds do not reach the engine",
    );
  });
});

Deno.test(`fuzz: raw HTTP framing against the server process (${Math.ceil(ITERATIONS / 5)}, seed ${SEED})`, async () => {
  const server = await startServer({ args: ["--read-timeout", "300ms"] });
  try {
    const body = JSON.stringify(PAYLOAD);
    const seeds = [
      `POST /api/v1/push HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
      `POST /loki/api/v1/push HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n${
        body.length.toString(16)
      }\r\n${body}\r\n0\r\n\r\n`,
      `GET /loki/api/v1/query_range?query=%7Bapp%3D%22web%22%7D&start=0 HTTP/1.1\r\nHost: x\r\n\r\n`,
      `POST /api/v1/query HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 40\r\n\r\n{"query":"{app=\\"web\\"}","start":"0"}`,
    ].map((s) => encoder.encode(s));
    const mutator = new Mutator(seeds, SEED);
    const statuses = new Map<number, number>();
    for (let i = 0; i < Math.ceil(ITERATIONS / 5); i++) {
      const input = mutator.next();
      const conn = await rawConnect(server.url, decoder.decode(input));
      try {
        // Stalled or short bodies end in 408 after --read-timeout; framing errors close.
        const answer = await conn.response(2000);
        const status = statusOf(answer);
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
        assert.ok(
          status < 500,
          `${status} for raw input ${JSON.stringify(decoder.decode(input))}: ${answer}`,
        );
      } finally {
        conn.close();
      }
    }
    console.log(
      `raw HTTP: ${JSON.stringify(Object.fromEntries(statuses))} (0: closed without an answer)`,
    );
    const res = await fetch(`${server.url}/api/v1/labels?start=0`);
    assert.equal(res.status, 200);
    await res.body?.cancel();
    // No input made the server hold much memory: its peak RSS stays near an idle server's
    // (about 110 MB), far below what a claimed length or a runaway buffer would take.
    const status = await Deno.readTextFile(`/proc/${server.process.pid}/status`);
    const peakMb = Number(/VmHWM:\s+(\d+) kB/.exec(status)![1]) / 1024;
    console.log(`raw HTTP: server peak RSS ${peakMb.toFixed(0)} MB`);
    assert.ok(peakMb < 400, `the server's RSS peaked at ${peakMb.toFixed(0)} MB`);
  } finally {
    await server.stop();
    await Deno.remove(server.dir, { recursive: true });
  }
});
