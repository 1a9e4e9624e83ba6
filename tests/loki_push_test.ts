import assert from "node:assert/strict";
import { gzipSync } from "node:zlib";
import protobuf from "protobufjs";
import snappy from "snappyjs";
import { call, type Entry, query, stats } from "../testing/http.ts";
import { startServer, type TestServer, withServer } from "../testing/server.ts";

const root = await protobuf.load(new URL("../testing/loki_push.proto", import.meta.url).pathname);
const PushRequest = root.lookupType("logproto.PushRequest");

/** Loki's wire form: protobufjs-encoded `logproto.PushRequest` in one snappy block. */
function snappyProtobuf(object: Record<string, unknown>): Uint8Array {
  return snappy.compress(PushRequest.encode(PushRequest.fromObject(object)).finish());
}

async function lokiPush(
  url: string,
  body: string | Uint8Array,
  headers: Record<string, string>,
): Promise<{ status: number; text: string; type: string | null }> {
  const res = await fetch(`${url}/loki/api/v1/push`, {
    method: "POST",
    headers,
    body: typeof body === "string" ? body : new Uint8Array(body),
  });
  return { status: res.status, text: await res.text(), type: res.headers.get("content-type") };
}

const PROTOBUF = { "content-type": "application/x-protobuf" };
const JSON_TYPE = { "content-type": "application/json" };

/** Every stored entry, oldest first, as `[labels, ts, line, metadata]`. */
async function everything(url: string) {
  const { entries } = await query(url, {
    query: '{service_name=~".+"}',
    limit: 1000,
    direction: "forward",
  });
  return entries.map((e: Entry) => [e.labels, BigInt(e.timestamp), e.line, e.metadata]);
}

const T = 1_700_000_000n;

const protobufPush = {
  streams: [
    {
      labels: '{app="shop", env="prod"}',
      entries: [
        {
          timestamp: { seconds: Number(T), nanos: 1 },
          line: "GET /cart 200",
          structuredMetadata: [{ name: "trace_id", value: "4bf92f35" }],
        },
        { timestamp: { seconds: Number(T), nanos: 2 }, line: "GET /pay 502" },
      ],
    },
    {
      labels: '{level="info",job="cron"}',
      entries: [{ timestamp: { seconds: Number(T) + 1 }, line: "tick" }],
    },
  ],
};

const jsonPush = {
  streams: [
    {
      stream: { service_name: "billing", app: "ignored-for-service" },
      values: [[`${T}000000010`, "invoice 7 sent", { user_id: "u1", region: "eu" }]],
    },
    { stream: { host: "h1" }, values: [[`${T}000000011`, "no service label"]] },
  ],
};

/** Lines of streams without a level label carry a `detected_level`: here none names a level. */
const UNKNOWN = { detected_level: "unknown" };

const expected = [
  [
    { app: "shop", env: "prod", service_name: "shop" },
    T * 1_000_000_000n + 1n,
    "GET /cart 200",
    { trace_id: "4bf92f35", ...UNKNOWN },
  ],
  [
    { app: "shop", env: "prod", service_name: "shop" },
    T * 1_000_000_000n + 2n,
    "GET /pay 502",
    UNKNOWN,
  ],
  [
    { app: "ignored-for-service", service_name: "billing" },
    T * 1_000_000_000n + 10n,
    "invoice 7 sent",
    { user_id: "u1", region: "eu", ...UNKNOWN },
  ],
  [
    { host: "h1", service_name: "unknown_service" },
    T * 1_000_000_000n + 11n,
    "no service label",
    UNKNOWN,
  ],
  [
    { job: "cron", level: "info", service_name: "cron" },
    (T + 1n) * 1_000_000_000n,
    "tick",
    undefined,
  ],
];

/** Pushes the snappy protobuf and the gzipped JSON payloads; each must answer 204 with no body. */
async function pushBoth(url: string) {
  const pb = await lokiPush(url, snappyProtobuf(protobufPush), PROTOBUF);
  assert.deepEqual([pb.status, pb.text], [204, ""]);
  const gz = gzipSync(new TextEncoder().encode(JSON.stringify(jsonPush)));
  const js = await lokiPush(url, gz, { ...JSON_TYPE, "content-encoding": "gzip" });
  assert.deepEqual([js.status, js.text], [204, ""]);
}

Deno.test("Loki push: snappy protobuf and JSON with structured metadata read back, service_name and detected_level derived", async () => {
  await withServer(async ({ url }) => {
    await pushBoth(url);
    assert.deepEqual(await everything(url), expected);
    // Plain JSON (no gzip) and a charset parameter are fine too.
    const res = await lokiPush(
      url,
      JSON.stringify({
        streams: [{ stream: { container: "db" }, values: [[`${T}000000099`, "x"]] }],
      }),
      { "content-type": "application/json; charset=utf-8" },
    );
    assert.equal(res.status, 204);
    const { entries } = await query(url, { query: '{service_name="db"}', limit: 10 });
    assert.deepEqual(entries.map((e: Entry) => [e.labels, e.line]), [[{
      container: "db",
      service_name: "db",
    }, "x"]]);
  });
});

Deno.test("Loki push: 204 when not durable as well", async () => {
  await withServer(async ({ url }) => {
    await pushBoth(url);
    assert.deepEqual(await everything(url), expected);
  }, { args: ["--durable=false"] });
});

Deno.test("Loki push: the WAL keeps the snappy body and replays it the same way after a crash", async () => {
  // Nothing is flushed to a file before the crash: the lines come back from the WAL alone.
  const args = ["--flush-interval", "1h"];
  let server: TestServer = await startServer({ args });
  try {
    await pushBoth(server.url);
    await server.kill();
    server = await startServer({ dir: server.dir, args });
    assert.equal((await stats(server.url)).ingest.replayed, 2);
    assert.deepEqual(await everything(server.url), expected);
  } finally {
    await server.stop().catch(() => {});
    await Deno.remove(server.dir, { recursive: true });
  }
});

Deno.test("Loki push: bad input is 400/413/415 in plain text, and nothing of it is stored", async () => {
  await withServer(async ({ url }) => {
    const good = { labels: '{app="ok"}', entries: [{ timestamp: { seconds: 1 }, line: "fine" }] };
    const badProtobuf: [Record<string, unknown>, string][] = [
      [
        { streams: [good, { labels: '{app="web"', entries: [{ line: "x" }] }] },
        'stream 1: cannot parse labels "{app=\\"web\\"": cannot parse label set at 11: expected "," or "}"',
      ],
      [
        { streams: [good, { labels: '{app!="web"}', entries: [{ line: "x" }] }] },
        'stream 1: cannot parse labels "{app!=\\"web\\"}": cannot parse label set at 5: only "=" makes a label set, got "!="',
      ],
      [
        {
          streams: [{
            ...good,
            entries: [good.entries[0], { timestamp: { seconds: 1, nanos: -1 } }],
          }],
        },
        "stream 0, value 1: timestamp nanos must be within 0..999999999, got 18446744073709552000",
      ],
      [{ streams: [good, { labels: '{app="x"}' }] }, "stream 1: stream has no values"],
      [{ streams: [] }, "payload has no streams"],
    ];
    for (const [object, message] of badProtobuf) {
      const res = await lokiPush(url, snappyProtobuf(object), PROTOBUF);
      assert.deepEqual(
        [res.status, res.text, res.type],
        [400, `${message}\n`, "text/plain; charset=utf-8"],
      );
    }
    const raw = PushRequest.encode(PushRequest.fromObject({ streams: [good] })).finish();
    const badBodies: [Uint8Array | string, Record<string, string>, number, string][] = [
      // protobuf without its snappy block
      [raw, PROTOBUF, 400, "cannot decode snappy protobuf body: snappy: "],
      [
        snappy.compress(raw).subarray(0, 8),
        PROTOBUF,
        400,
        "cannot decode snappy protobuf body: snappy: ",
      ],
      [
        snappy.compress(raw.subarray(0, raw.length - 2)),
        PROTOBUF,
        400,
        "stream 0: malformed protobuf: length-delimited field runs past its message",
      ],
      [
        new Uint8Array([0x80]),
        PROTOBUF,
        400,
        "cannot decode snappy protobuf body: snappy: truncated length header",
      ],
      [
        '{"streams":[{"stream":{"a":"b"},"values":[[1,"x"]]}]}',
        JSON_TYPE,
        400,
        "stream 0, value 0: timestamp must be an integer nanosecond string, got number 1",
      ],
      [
        '{"streams":[{"stream":{"a":"b"},"values":[["1","x",{"n":1}]]}]}',
        JSON_TYPE,
        400,
        "stream 0, value 0: metadata n must be a string, got number 1",
      ],
      ["{not json", JSON_TYPE, 400, "cannot decode json body: "],
      // a small snappy block that declares 2 MiB, over --max-body-size
      [
        new Uint8Array([0x80, 0x80, 0x80, 0x01, 0x00]),
        PROTOBUF,
        413,
        "request body decodes to 2097152 bytes, over the limit of 1048576 (--max-body-size)",
      ],
      [
        "x".repeat(1_100_000),
        JSON_TYPE,
        413,
        "request body exceeds the limit of 1048576 bytes (--max-body-size)",
      ],
      [
        "{}",
        { "content-type": "text/plain" },
        415,
        'unsupported content type "text/plain"; use one of application/json, application/x-protobuf, application/protobuf',
      ],
      [
        "{}",
        { "content-type": "application/msgpack" },
        415,
        'unsupported content type "application/msgpack"',
      ],
      [
        "{}",
        { ...JSON_TYPE, "content-encoding": "br" },
        415,
        'unsupported content encoding "br"; use gzip or none',
      ],
    ];
    for (const [body, headers, status, message] of badBodies) {
      const res = await lokiPush(url, body, headers);
      assert.equal(res.status, status, `${message} → ${res.text}`);
      assert.equal(res.type, "text/plain; charset=utf-8");
      assert.ok(res.text.startsWith(message) && res.text.endsWith("\n"), res.text);
    }
    // No Content-Type at all.
    const res = await fetch(`${url}/loki/api/v1/push`, {
      method: "POST",
      body: new Uint8Array(raw),
    });
    assert.deepEqual([res.status, await res.text()], [
      415,
      'unsupported content type ""; use one of application/json, application/x-protobuf, application/protobuf\n',
    ]);
    const { entries } = await query(url, { query: '{service_name=~".+"}', limit: 10 });
    assert.deepEqual(entries, []);
    // loge's own push route keeps its JSON errors.
    const own = await call(url, "/api/v1/push", { body: { streams: [] } });
    assert.deepEqual([own.status, own.body], [400, {
      status: "error",
      error: "payload has no streams",
    }]);
  }, { args: ["--max-body-size", "1MiB"] });
});
