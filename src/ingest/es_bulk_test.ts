import assert from "node:assert/strict";
import {
  decodeEsBulk,
  type EsBulkMapping,
  frameEsBulk,
  MAX_BULK_DOCUMENTS,
  parseBulk,
  unframeEsBulk,
} from "./es_bulk.ts";
import { PushError } from "./payload.ts";

const MAPPING: EsBulkMapping = {
  streamFields: ["app"],
  msgFields: ["message", "_msg"],
  timeField: "@timestamp",
};

function decode(lines: unknown[], mapping = MAPPING, receivedNs = 42n) {
  const body = lines.map((l) => typeof l === "string" ? l : JSON.stringify(l)).join("\n");
  return decodeEsBulk(new TextEncoder().encode(body), { ...mapping, receivedNs });
}

Deno.test("es bulk: times in RFC 3339, unix seconds, milliseconds, microseconds, nanoseconds", () => {
  const times: [unknown, bigint][] = [
    ["2026-11-30T10:00:00+01:00", 1796029200000000000n],
    [1796029200, 1796029200000000000n],
    [1796029200.5, 1796029200500000000n],
    ["1796029200", 1796029200000000000n],
    [1796029200123, 1796029200123000000n],
    [1796029200123456, 1796029200123456000n],
    ["1796029200123456789", 1796029200123456789n],
  ];
  const { payload, items } = decode(
    times.flatMap(([t]) => [{ index: {} }, { "@timestamp": t, message: "m", app: "a" }]),
  );
  assert.ok(items.every((item) => item.index.status === 201));
  assert.deepEqual(payload!.streams[0].ts, times.map(([, ns]) => ns));
});

Deno.test("es bulk: a time past int64 nanoseconds is a bad document", () => {
  const { payload, items } = decode([{ index: {} }, {
    "@timestamp": "9999999999999999999",
    message: "m",
  }]);
  assert.equal(payload, undefined);
  assert.match(items[0].index.error!.reason, /not an RFC 3339 time or a unix timestamp/);
});

Deno.test("es bulk: without stream fields a document goes to service_name unknown_service", () => {
  const { payload } = decode(
    [{ index: {} }, { message: "m", app: "" }, { index: {} }, { _msg: "n", "@timestamp": null }],
  );
  assert.equal(payload!.streams.length, 1);
  assert.equal(payload!.streams[0].key, '{"service_name":"unknown_service"}');
  assert.deepEqual(payload!.streams[0].lines, ["m", "n"]);
  assert.deepEqual(payload!.streams[0].ts, [42n, 42n]);
});

Deno.test("es bulk: field names that Loki refuses are mapped to valid ones", () => {
  const { payload } = decode([
    { index: {} },
    { message: "m", app: "a", "kubernetes.pod-name": "p", "1st": true, n: 1.5 },
  ]);
  assert.deepEqual(JSON.parse(payload!.streams[0].metadata![0]!), {
    kubernetes_pod_name: "p",
    _1st: "true",
    n: "1.5",
    detected_level: "unknown",
  });
});

Deno.test("es bulk: all documents bad is no payload, every item answered", () => {
  const { payload, items } = decode([{ create: {} }, { app: "a" }, { delete: { _id: "1" } }]);
  assert.equal(payload, undefined);
  assert.deepEqual(items.map((item) => Object.values(item)[0].status), [400, 400]);
});

Deno.test("es bulk: more actions than the limit is a PushError", () => {
  const lines = Array.from({ length: MAX_BULK_DOCUMENTS + 1 }, () => '{"delete":{}}');
  assert.throws(
    () => decode(lines),
    new PushError(
      `cannot decode bulk body: more than ${MAX_BULK_DOCUMENTS} actions in one request`,
    ),
  );
});

Deno.test("es bulk: a label that cannot be stored fails its document only", () => {
  const long = "x".repeat(2049);
  const { payload, items } = decode([
    { index: {} },
    { message: "kept", app: "a" },
    { index: {} },
    { message: "refused", app: long },
    { index: {} },
    { message: "kept too", app: "a", nested: { app: long } },
  ]);
  assert.deepEqual(items.map((item) => item.index.status), [201, 400, 201]);
  assert.match(items[1].index.error!.reason, /^label app is 2049 characters long, over the limit/);
  assert.deepEqual(payload!.streams.map((s) => s.lines), [["kept", "kept too"]]);
});

Deno.test("es bulk: documents with the same labels as strings or numbers share a stream", () => {
  const { payload } = decode([
    { create: {} },
    { message: "a", app: "7" },
    { create: {} },
    { message: "b", app: 7 },
    { create: {} },
    { message: "c", app: "7", "@timestamp": "2026-11-30T10:00:00.000000001Z" },
  ]);
  assert.equal(payload!.streams.length, 1);
  assert.deepEqual(payload!.streams[0].lines, ["a", "b", "c"]);
  assert.deepEqual(payload!.streams[0].ts, [42n, 42n, 1796032800000000001n]);
  // No field left for metadata: only the level that Loki would detect.
  assert.deepEqual(payload!.streams[0].metadata, Array(3).fill('{"detected_level":"unknown"}'));
});

Deno.test("unframeEsBulk: a record without a valid header line is refused", () => {
  const encode = (text: string) => new TextEncoder().encode(text);
  assert.throws(() => unframeEsBulk(encode("{}")), /bulk record has no header line/);
  assert.throws(() => unframeEsBulk(encode("{oops\n{}")), /bulk record header is not JSON/);
  assert.throws(
    () => unframeEsBulk(encode('{"streamFields":[],"msgFields":["m"],"timeField":"t"}\n')),
    /bulk record header is malformed/,
  );
  const header = { ...MAPPING, receivedNs: 7n };
  const [line, body] = frameEsBulk(encode('{"index":{}}\n{"message":"x"}'), header);
  const unframed = unframeEsBulk(new Uint8Array([...line, ...body]));
  assert.deepEqual(unframed.header, header);
  assert.equal(decodeEsBulk(unframed.body, unframed.header).payload!.streams[0].lines[0], "x");
});

Deno.test("es bulk: each document joins the stream of its own labels, whatever came before", () => {
  const mapping = { ...MAPPING, streamFields: ["app", "env"] };
  const docs = [
    { app: "x", env: "y" },
    { app: "x", env: "y" },
    { app: "z", env: 5 },
    { app: "z", env: "y" },
    { app: "z" },
    { app: "x", env: "y" },
    { app: "z", env: "y" },
  ];
  const { payload } = decode(
    docs.flatMap((doc, i) => [{ index: {} }, { ...doc, message: `m${i}` }]),
    mapping,
  );
  const linesByStream = Object.fromEntries(
    payload!.streams.map((s) => [s.key, s.lines]),
  );
  assert.deepEqual(linesByStream, {
    '{"app":"x","env":"y","service_name":"x"}': ["m0", "m1", "m5"],
    '{"app":"z","env":"5","service_name":"z"}': ["m2"],
    '{"app":"z","env":"y","service_name":"z"}': ["m3", "m6"],
    '{"app":"z","service_name":"z"}': ["m4"],
  });
});

Deno.test("es bulk: a document whose bad labels repeat the last one's is refused too, not stored in the stream before", () => {
  const long = "x".repeat(2049);
  const lines = [
    { create: {} },
    { app: "a", message: "1" },
    { create: {} },
    { app: long, message: "2" },
    { create: {} },
    { app: long, message: "3" },
  ];
  const header = { ...MAPPING, receivedNs: 42n };
  const body = new TextEncoder().encode(lines.map((l) => JSON.stringify(l)).join("\n"));
  // Both paths: the JSON.parse reference and the scanner (through its slots).
  for (const { payload, items } of [parseBulk(body, header), decode(lines)]) {
    assert.deepEqual(items.map((item) => item.create.status), [201, 400, 400]);
    assert.match(items[2].create.error!.reason, /label app is 2049 characters long/);
    assert.deepEqual(payload!.streams.map((s) => s.lines), [["1"]]);
  }
});
