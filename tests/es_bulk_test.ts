import assert from "node:assert/strict";
import { gzipSync } from "node:zlib";
import { stats, type StoredRow, storedRows as everything } from "../testing/http.ts";
import { startServer, type TestServer, withServer } from "../testing/server.ts";

const ARGS = ["--es-stream-fields", "host.name,app", "--flush-interval", "1h"];

/** NDJSON of `lines`, each a value turned into JSON (strings kept as they are). */
function ndjson(lines: unknown[]): string {
  return lines.map((l) => typeof l === "string" ? l : JSON.stringify(l)).join("\n") + "\n";
}

async function bulk(
  url: string,
  body: string | Uint8Array,
  path = "/_bulk",
  headers: Record<string, string> = {},
) {
  const res = await fetch(`${url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/x-ndjson", ...headers },
    body: typeof body === "string" ? body : new Uint8Array(body),
  });
  return {
    status: res.status,
    product: res.headers.get("x-elastic-product"),
    body: await res.json(),
  };
}

type Row = StoredRow;

/** Lines of streams without a level label carry a `detected_level`: here none names a level. */
const UNKNOWN = { detected_level: "unknown" };

const GOOD = [
  { create: { _index: "logs-a" } },
  {
    "@timestamp": "2026-11-30T09:00:00.123456789Z",
    message: "GET /cart 200",
    host: { name: "web-1", ip: "10.0.0.1" },
    app: "shop",
    http: { status: 200 },
    tags: ["a", "b"],
  },
  { index: {} },
  { "@timestamp": 1796029201000, _msg: "tick", host: { name: "web-1" }, app: "shop" },
  { index: { _index: "logs-b" } },
  { "@timestamp": "1796029202", message: "other host", "host.name": "web-2", level: "warn" },
];

/** The records of GOOD as stored, computed from the documents by hand. */
const GOOD_ROWS: Row[] = [
  [
    { app: "shop", host_name: "web-1", service_name: "shop" },
    "1796029200123456789",
    "GET /cart 200",
    { host_ip: "10.0.0.1", http_status: "200", tags: '["a","b"]', ...UNKNOWN },
  ],
  [
    { app: "shop", host_name: "web-1", service_name: "shop" },
    "1796029201000000000",
    "tick",
    UNKNOWN,
  ],
  [{ host_name: "web-2", service_name: "unknown_service" }, "1796029202000000000", "other host", {
    level: "warn",
    detected_level: "warn",
  }],
];

Deno.test("es bulk: documents are stored as mapped and read back through Loki's API", async () => {
  await withServer(async ({ url }) => {
    const r = await bulk(url, ndjson(GOOD));
    assert.equal(r.status, 200);
    assert.equal(r.product, "Elasticsearch");
    assert.equal(r.body.errors, false);
    assert.deepEqual(r.body.items, [
      { create: { status: 201 } },
      { index: { status: 201 } },
      { index: { status: 201 } },
    ]);
    assert.equal(typeof r.body.took, "number");
    assert.deepEqual(await everything(url, '{host_name=~".+"}'), GOOD_ROWS);
  }, { args: ARGS });
});

Deno.test("es bulk: VictoriaLogs' path, gzip, a missing time is the arrival time", async () => {
  await withServer(async ({ url }) => {
    const before = BigInt(Date.now()) * 1_000_000n;
    const body = gzipSync(ndjson([{ index: {} }, { message: "no time", app: "cron" }]));
    const r = await bulk(url, body, "/insert/elasticsearch/_bulk", { "content-encoding": "gzip" });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.errors, false);
    const after = BigInt(Date.now()) * 1_000_000n;
    const rows = await everything(url, '{app="cron"}');
    assert.equal(rows.length, 1);
    assert.deepEqual([rows[0][0], rows[0][2], rows[0][3]], [
      { app: "cron", service_name: "cron" },
      "no time",
      UNKNOWN,
    ]);
    const ts = BigInt(rows[0][1]);
    assert.ok(ts >= before && ts <= after, `${ts} not in [${before}, ${after}]`);
  }, { args: ARGS });
});

Deno.test("es bulk: bad documents are answered per item, the others stored", async () => {
  await withServer(async ({ url }) => {
    const r = await bulk(
      url,
      ndjson([
        { index: {} },
        ["not", "an", "object"],
        { index: {} },
        "{not json",
        { create: {} },
        { app: "shop", level: "info" },
        { create: {} },
        { message: "bad time", "@timestamp": "yesterday" },
        { delete: { _index: "x", _id: "1" } },
        { update: { _id: "2" } },
        { doc: { message: "u" } },
        { index: {} },
        { message: "kept", app: "shop" },
      ]),
    );
    assert.equal(r.status, 200);
    assert.equal(r.body.errors, true);
    const statuses = r.body.items.map((item: Record<string, { status: number }>) =>
      Object.entries(item).map(([action, { status }]) => `${action} ${status}`)[0]
    );
    assert.deepEqual(statuses, [
      "index 400",
      "index 400",
      "create 400",
      "create 400",
      "delete 400",
      "update 400",
      "index 201",
    ]);
    const reasons = r.body.items.map((item: Record<string, { error?: { reason: string } }>) =>
      Object.values(item)[0].error?.reason
    );
    assert.match(reasons[0], /must be a JSON object, got an array/);
    assert.match(reasons[1], /document is not JSON/);
    assert.match(reasons[2], /no message field \(message, _msg; --es-msg-field\)/);
    assert.match(reasons[3], /"@timestamp" is not an RFC 3339 time/);
    assert.match(reasons[4], /delete action is not supported/);
    assert.deepEqual((await everything(url, '{app=~".+"}')).map((row) => row[2]), ["kept"]);
  }, { args: ARGS });
});

Deno.test("es bulk: malformed bodies are a 400 with nothing stored", async () => {
  await withServer(async ({ url }) => {
    const cases: [string, RegExp][] = [
      [ndjson([{ index: {} }, { message: "a", app: "x" }, "{oops"]), /line 3: action is not JSON/],
      [
        ndjson([{ index: {} }, { message: "a", app: "x" }, { search: {} }, {}]),
        /expected an action/,
      ],
      [ndjson([{ index: {} }, { message: "a", app: "x" }, { index: {} }]), /has no document line/],
      ["\n\n", /no actions/],
    ];
    for (const [body, reason] of cases) {
      const r = await bulk(url, body);
      assert.equal(r.status, 400, body);
      assert.equal(r.product, "Elasticsearch");
      assert.match(r.body.error.reason, reason);
      assert.equal(r.body.status, 400);
    }
    const invalid = new Uint8Array([
      ...new TextEncoder().encode('{"index":{}}\n{"message":"'),
      0xff,
      0x22,
      0x7d,
    ]);
    const r = await bulk(url, invalid);
    assert.equal(r.status, 400);
    assert.match(r.body.error.reason, /cannot decode bulk body/);
    assert.equal((await stats(url)).rows_total, 0);
  }, { args: ARGS });
});

Deno.test("es bulk: what clients check before sending, and the web page for browsers", async () => {
  await withServer(async ({ url }) => {
    const get = (path: string, headers: Record<string, string>, method = "GET") =>
      fetch(`${url}${path}`, { method, headers });
    const clients: Record<string, string>[] = [
      { "user-agent": "Filebeat/8.15.0" },
      { accept: "application/json" },
    ];
    for (const headers of clients) {
      const res = await get("/", headers);
      assert.equal(res.status, 200);
      assert.equal(res.headers.get("x-elastic-product"), "Elasticsearch");
      const info = await res.json();
      assert.equal(info.version.number, "8.9.0");
      assert.equal(info.tagline, "You Know, for Search");
    }
    const head = await get("/", { "user-agent": "Vector/0.40.0" }, "HEAD");
    assert.equal(head.status, 200);
    assert.equal(head.headers.get("x-elastic-product"), "Elasticsearch");
    await head.body?.cancel();
    const page = await get("/", { accept: "text/html,application/xhtml+xml,*/*;q=0.8" });
    assert.equal(page.status, 200);
    assert.match(page.headers.get("content-type") ?? "", /text\/html/);
    await page.body?.cancel();
    for (
      const path of ["/_license", "/insert/elasticsearch/_license", "/_xpack", "/_cluster/health"]
    ) {
      const res = await get(path, {});
      assert.equal(res.status, 200, path);
      assert.equal(res.headers.get("x-elastic-product"), "Elasticsearch");
      await res.json();
    }
    const info = await get("/insert/elasticsearch/", {});
    assert.equal((await info.json()).version.number, "8.9.0");
  }, { args: ARGS });
});

Deno.test("es bulk: replay after a crash yields the same records, whatever the flags are then", async () => {
  let server: TestServer | undefined = await startServer({ args: ARGS });
  const dir = server.dir;
  try {
    const r = await bulk(server.url, ndjson(GOOD));
    assert.equal(r.body.errors, false);
    await server.kill();
    server = await startServer({ dir, args: ["--es-stream-fields", "level"] });
    assert.deepEqual(await everything(server.url, '{host_name=~".+"}'), GOOD_ROWS);
  } finally {
    await server?.stop().catch(() => {});
    await Deno.remove(dir, { recursive: true });
  }
});

const ELASTIC = new URL("./elastic/", import.meta.url).pathname;

Deno.test("es bulk: the @elastic/elasticsearch client's bulk helper under Node", async () => {
  await Deno.stat(`${ELASTIC}node_modules/@elastic/elasticsearch/package.json`).catch(() => {
    throw new Error(
      "@elastic/elasticsearch is not installed: run `npm ci --prefix tests/elastic` (.ci/run does)",
    );
  });
  await withServer(async ({ url }) => {
    const documents = Array.from({ length: 25 }, (_, i) => ({
      "@timestamp": new Date(Date.UTC(2026, 10, 30, 9, 0, i)).toISOString(),
      message: `job ${i} done`,
      app: i % 2 ? "worker" : "api",
      job: { id: i },
    }));
    documents.push({ "@timestamp": "never", message: "bad time", app: "api", job: { id: 99 } });
    const out = await new Deno.Command("node", {
      args: ["bulk.mjs", url, JSON.stringify(documents)],
      cwd: ELASTIC,
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stderr = new TextDecoder().decode(out.stderr);
    assert.equal(out.code, 0, stderr);
    assert.deepEqual(JSON.parse(new TextDecoder().decode(out.stdout)), {
      version: "8.9.0",
      total: 26,
      successful: 25,
      failed: 1,
      dropped: [{ status: 400, type: "mapper_parsing_exception" }],
    });
    const expected: Row[] = documents.slice(0, 25).map((d) => [
      { app: d.app, service_name: d.app },
      String(BigInt(Date.parse(d["@timestamp"])) * 1_000_000n),
      d.message,
      { job_id: String(d.job.id), ...UNKNOWN },
    ]);
    assert.deepEqual(await everything(url, '{app=~".+"}'), expected);
  }, { args: ARGS });
});
