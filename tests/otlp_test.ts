import assert from "node:assert/strict";
import { gzipSync } from "node:zlib";
import protobuf from "protobufjs";
import { type StoredRow, storedRows } from "../testing/http.ts";
import { startServer, type TestServer, withServer } from "../testing/server.ts";

const root = await protobuf.load(new URL("../testing/otlp_logs.proto", import.meta.url).pathname);
const Request = root.lookupType("otlp.ExportLogsServiceRequest");
const Response = root.lookupType("otlp.ExportLogsServiceResponse");

/** A 64-bit value as protobufjs writes it exactly (plain numbers lose nanoseconds). */
const u64 = (n: bigint) => ({ low: Number(n & 0xffffffffn), high: Number(n >> 32n) });

const T = 1_700_000_000_000_000_000n;
const TRACE = "4bf92f3577b34da6a3ce929d0e0e4736";
const SPAN = "00f067aa0ba902b7";
const hexBytes = (hex: string) => new Uint8Array(hex.match(/../g)!.map((b) => parseInt(b, 16)));

const str = (s: string) => ({ stringValue: s });
const int = (n: number) => ({ intValue: n });

/** Two resources of one service, the second in another namespace, with all kinds of fields. */
const REQUEST = {
  resourceLogs: [
    {
      resource: {
        attributes: [
          { key: "service.name", value: str("shop") },
          { key: "k8s.namespace.name", value: str("prod") },
          { key: "host.name", value: str("web-1") },
          { key: "process.pid", value: int(42) },
        ],
      },
      scopeLogs: [{
        scope: {
          name: "checkout",
          version: "1.2.0",
          attributes: [{ key: "lib.kind", value: str("http") }],
        },
        logRecords: [
          {
            timeUnixNano: u64(T + 1n),
            observedTimeUnixNano: u64(T + 5n),
            severityNumber: 17,
            severityText: "ERROR",
            body: str("payment failed"),
            attributes: [
              { key: "http.status_code", value: int(502) },
              {
                key: "user",
                value: {
                  kvlistValue: {
                    values: [{ key: "id", value: str("u1") }, { key: "tier", value: str("gold") }],
                  },
                },
              },
            ],
            traceId: hexBytes(TRACE),
            spanId: hexBytes(SPAN),
          },
          {
            observedTimeUnixNano: u64(T + 2n),
            severityNumber: 9,
            severityText: "INFO",
            body: {
              kvlistValue: {
                values: [
                  { key: "msg", value: str("cart <ok>") },
                  { key: "items", value: int(3) },
                  { key: "ok", value: { boolValue: true } },
                  { key: "ratio", value: { doubleValue: 0.5 } },
                  { key: "tags", value: { arrayValue: { values: [str("a"), int(7)] } } },
                ],
              },
            },
          },
        ],
      }],
    },
    {
      resource: { attributes: [{ key: "service.name", value: str("shop") }] },
      scopeLogs: [{
        logRecords: [{ timeUnixNano: u64(T + 3n), body: str("level=warn disk low") }],
      }],
    },
  ],
};

const SCOPE = { lib_kind: "http", scope_name: "checkout", scope_version: "1.2.0" };
const RESOURCE = { host_name: "web-1", process_pid: "42" };

/** What Loki's mapping makes of REQUEST, worked out by hand, oldest first. */
const EXPECTED: Row[] = [
  [
    { service_name: "shop", k8s_namespace_name: "prod" },
    String(T + 1n),
    "payment failed",
    {
      http_status_code: "502",
      user_id: "u1",
      user_tier: "gold",
      observed_timestamp: String(T + 5n),
      severity_number: "17",
      severity_text: "ERROR",
      trace_id: TRACE,
      span_id: SPAN,
      ...SCOPE,
      ...RESOURCE,
      detected_level: "error",
    },
  ],
  [
    { service_name: "shop", k8s_namespace_name: "prod" },
    String(T + 2n),
    '{"items":3,"msg":"cart <ok>","ok":true,"ratio":0.5,"tags":["a",7]}',
    { severity_number: "9", severity_text: "INFO", ...SCOPE, ...RESOURCE, detected_level: "info" },
  ],
  [{ service_name: "shop" }, String(T + 3n), "level=warn disk low", { detected_level: "warn" }],
];

type Row = StoredRow;

/** Every stored line, oldest first: OTLP streams all have a service_name. */
const everything = (url: string) => storedRows(url, '{service_name=~".+"}');

async function post(
  url: string,
  path: string,
  body: Uint8Array | string,
  headers: Record<string, string>,
) {
  const res = await fetch(`${url}${path}`, {
    method: "POST",
    headers,
    body: typeof body === "string" ? body : new Uint8Array(body),
  });
  return {
    status: res.status,
    type: res.headers.get("content-type"),
    bytes: new Uint8Array(await res.arrayBuffer()),
  };
}

const PROTOBUF = { "content-type": "application/x-protobuf" };
const JSON_TYPE = { "content-type": "application/json" };
const protobufBody = (request: unknown) => Request.encode(request as protobuf.Message).finish();

/** REQUEST in OTLP's JSON encoding: 64-bit integers as strings, ids in hex. */
function jsonBody(): string {
  return JSON.stringify(REQUEST, (key, value) => {
    if (value && typeof value === "object" && "low" in value && "high" in value) {
      return String((BigInt(value.high) << 32n) + BigInt(value.low));
    }
    if (value instanceof Uint8Array) {
      return Array.from(value, (b) => b.toString(16).padStart(2, "0")).join("");
    }
    return key === "intValue" ? String(value) : value;
  });
}

Deno.test("OTLP protobuf at /otlp/v1/logs: 200 with an empty response, every record read back as mapped", async () => {
  await withServer(async ({ url }) => {
    const res = await post(url, "/otlp/v1/logs", protobufBody(REQUEST), PROTOBUF);
    assert.equal(res.status, 200, new TextDecoder().decode(res.bytes));
    assert.equal(res.type, "application/x-protobuf");
    assert.equal(res.bytes.length, 0);
    assert.deepEqual(await everything(url), EXPECTED);
  });
});

Deno.test("OTLP JSON at /v1/logs, gzipped: 200 with {}, the same records", async () => {
  await withServer(async ({ url }) => {
    const res = await post(url, "/v1/logs", gzipSync(jsonBody()), {
      ...JSON_TYPE,
      "content-encoding": "gzip",
    });
    assert.equal(res.status, 200, new TextDecoder().decode(res.bytes));
    assert.equal(res.type, "application/json");
    assert.deepEqual(JSON.parse(new TextDecoder().decode(res.bytes)), {});
    assert.deepEqual(await everything(url), EXPECTED);
  });
});

Deno.test("OTLP: records with a time that cannot be stored or invalid labels are counted in partial_success, the rest stored", async () => {
  await withServer(async ({ url }) => {
    const request = {
      resourceLogs: [{
        resource: { attributes: [{ key: "service.name", value: str("api") }] },
        scopeLogs: [{
          logRecords: [
            { timeUnixNano: u64(2n ** 64n - 1n), body: str("far future") },
            { timeUnixNano: u64(T), body: str("kept") },
          ],
        }],
      }, {
        resource: { attributes: [{ key: "service.name", value: str("x".repeat(3000)) }] },
        scopeLogs: [{ logRecords: [{ timeUnixNano: u64(T), body: str("long label") }] }],
      }],
    };
    const res = await post(url, "/otlp/v1/logs", protobufBody(request), PROTOBUF);
    assert.equal(res.status, 200);
    const answer = Response.toObject(Response.decode(res.bytes), { longs: String });
    assert.equal(answer.partialSuccess.rejectedLogRecords, "2");
    assert.match(
      answer.partialSuccess.errorMessage,
      /18446744073709551615 is past the largest time/,
    );
    const rows = await everything(url);
    assert.deepEqual(rows.map((r) => r[2]), ["kept"]);
  });
});

Deno.test("OTLP: malformed bodies are 400 and store nothing; other content types 415", async () => {
  await withServer(async ({ url }) => {
    const good = protobufBody(REQUEST);
    const cases: [string, Uint8Array | string, Record<string, string>, RegExp][] = [
      [
        "truncated protobuf",
        good.subarray(0, good.length - 3),
        PROTOBUF,
        /cannot decode OTLP protobuf body: .*runs past/,
      ],
      ["not JSON", "{", JSON_TYPE, /cannot decode OTLP JSON body/],
      ["wrong type", '{"resourceLogs":{}}', JSON_TYPE, /resourceLogs must be an array/],
      [
        "bad time",
        '{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"timeUnixNano":"soon"}]}]}]}',
        JSON_TYPE,
        /resourceLogs\[0\]\.scopeLogs\[0\]\.logRecords\[0\]\.timeUnixNano must be an integer/,
      ],
      [
        "bad trace id",
        '{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"traceId":"xyz"}]}]}]}',
        JSON_TYPE,
        /traceId must be hex/,
      ],
    ];
    for (const [name, body, headers, message] of cases) {
      const res = await post(url, "/otlp/v1/logs", body, headers);
      const text = new TextDecoder().decode(res.bytes);
      assert.equal(res.status, 400, `${name}: ${text}`);
      assert.match(text, message, name);
    }
    const other = await post(url, "/v1/logs", "x", { "content-type": "text/plain" });
    assert.equal(other.status, 415);
    assert.deepEqual(await everything(url), []);
  });
});

Deno.test("OTLP: an empty request is 200 and stores nothing", async () => {
  await withServer(async ({ url }) => {
    const res = await post(url, "/v1/logs", '{"resourceLogs":[]}', JSON_TYPE);
    assert.equal(res.status, 200);
    assert.deepEqual(await everything(url), []);
  });
});

Deno.test("OTLP: --otlp-stream-attributes picks the labels; a restart replays the WAL with the mapping of the push", async () => {
  let server: TestServer | undefined = await startServer({
    args: ["--otlp-stream-attributes", "host.name,service.name"],
  });
  const dir = server.dir;
  try {
    const res = await post(server.url, "/otlp/v1/logs", protobufBody(REQUEST), PROTOBUF);
    assert.equal(res.status, 200);
    const rows = await everything(server.url);
    assert.deepEqual(rows[0][0], { service_name: "shop", host_name: "web-1" });
    assert.equal(rows[0][3].k8s_namespace_name, "prod");
    assert.equal(rows[0][3].host_name, undefined);
    await server.kill();
    // Restarted with the default labels, the replayed records keep theirs.
    server = await startServer({ dir });
    assert.deepEqual(await everything(server.url), rows);
  } finally {
    await server?.stop().catch(() => {});
    await Deno.remove(dir, { recursive: true });
  }
});
