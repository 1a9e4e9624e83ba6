import assert from "node:assert/strict";
import protobuf from "protobufjs";
import snappy from "snappyjs";
import { decodedSize, decodePush, PushFormat } from "./decode.ts";
import { ReceivedBody } from "./received_body.ts";
import { decodeLokiPush } from "./loki_protobuf.ts";
import { PushError } from "./payload.ts";

const root = await protobuf.load(
  new URL("../../testing/loki_push.proto", import.meta.url).pathname,
);
const PushRequest = root.lookupType("logproto.PushRequest");

/** `logproto.PushRequest` bytes, encoded by protobufjs from `object`. */
function encode(object: Record<string, unknown>): Uint8Array {
  return PushRequest.encode(PushRequest.fromObject(object)).finish();
}

const request = {
  streams: [
    {
      labels: '{app="web", env="prod", msg="a \\"quoted\\" \\u00e9"}',
      hash: 12345,
      entries: [
        {
          timestamp: { seconds: 1_700_000_000, nanos: 5 },
          line: "GET / 200",
          structuredMetadata: [{ name: "trace_id", value: "4bf92f35" }, {
            name: "user",
            value: "ünï",
          }],
          parsed: [{ name: "ignored", value: "x" }],
        },
        { timestamp: { seconds: 1_700_000_001 }, line: "no metadata" },
      ],
    },
    { labels: "{job=`cron`}", entries: [{ timestamp: { nanos: 7 }, line: "tick" }] },
  ],
  format: "loki",
};

Deno.test("Loki protobuf decodes what protobufjs encodes from Loki's push.proto", () => {
  assert.deepEqual(decodeLokiPush(encode(request)), {
    streams: [
      {
        key: '{"app":"web","env":"prod","msg":"a \\"quoted\\" é","service_name":"web"}',
        ts: [1700000000000000005n, 1700000001000000000n],
        lines: ["GET / 200", "no metadata"],
        metadata: ['{"trace_id":"4bf92f35","user":"ünï"}', undefined],
      },
      {
        key: '{"job":"cron","service_name":"cron"}',
        ts: [7n],
        lines: ["tick"],
        metadata: undefined,
      },
    ],
    lines: 3,
  });
});

Deno.test("Loki protobuf: metadata columns line up when only later entries carry metadata", () => {
  const p = decodeLokiPush(encode({
    streams: [{
      labels: '{a="b"}',
      entries: [
        { line: "1" },
        { line: "2", structuredMetadata: [{ name: "k", value: "v" }] },
        { line: "3" },
        { line: "4", structuredMetadata: [] },
      ],
    }],
  }));
  assert.deepEqual(p.streams[0].metadata, [undefined, '{"k":"v"}', undefined, undefined]);
  assert.deepEqual(p.streams[0].lines, ["1", "2", "3", "4"]);
});

Deno.test("a snappy Loki push validates as a payload, with service_name and detected_level derived", () => {
  const body = snappy.compress(encode(request));
  assert.equal(
    decodedSize(PushFormat.LokiProtobuf, new ReceivedBody([body])),
    encode(request).length,
  );
  const p = decodePush(PushFormat.LokiProtobuf, body);
  assert.equal(p.lines, 3);
  assert.equal(
    p.streams[0].key,
    '{"app":"web","env":"prod","msg":"a \\"quoted\\" é","service_name":"web"}',
  );
  assert.deepEqual(p.streams[0].ts, [1700000000000000005n, 1700000001000000000n]);
  assert.deepEqual(p.streams[0].metadata, [
    '{"trace_id":"4bf92f35","user":"ünï","detected_level":"unknown"}',
    '{"detected_level":"unknown"}',
  ]);
  assert.equal(p.streams[1].key, '{"job":"cron","service_name":"cron"}');
});

Deno.test("Loki JSON is loge's JSON with service_name derived; loge's own formats derive none", () => {
  const json = {
    streams: [
      { stream: { level: "info" }, values: [["1", "a", { k: "v" }]] },
      { stream: { service_name: "api", app: "web" }, values: [["2", "b"]] },
      { stream: { container: "db", job: "x" }, values: [["3", "c"]] },
    ],
  };
  const body = new TextEncoder().encode(JSON.stringify(json));
  const p = decodePush(PushFormat.LokiJson, body);
  assert.deepEqual(p.streams.map((s) => s.key), [
    '{"level":"info","service_name":"unknown_service"}',
    '{"app":"web","service_name":"api"}',
    '{"container":"db","job":"x","service_name":"db"}',
  ]);
  assert.deepEqual(p.streams[0].metadata, ['{"k":"v"}']);
  assert.equal(decodePush(PushFormat.Json, body).streams[0].key, '{"level":"info"}');
});

function rejects(body: Uint8Array, message: string, stream?: number, value?: number) {
  assert.throws(
    () => decodePush(PushFormat.LokiProtobuf, body),
    (e: unknown) => {
      assert.ok(e instanceof PushError);
      assert.equal(e.message, message);
      assert.equal(e.stream, stream);
      assert.equal(e.value, value);
      return true;
    },
  );
}

Deno.test("bad Loki pushes are refused naming the stream and entry", () => {
  const one = (labels: string, entry: Record<string, unknown> = { line: "x" }) =>
    snappy.compress(
      encode({
        streams: [{ labels: '{a="b"}', entries: [{ line: "ok" }] }, {
          labels,
          entries: [{ line: "ok" }, entry],
        }],
      }),
    );
  rejects(
    one('{app=~"w.*"}'),
    'stream 1: cannot parse labels "{app=~\\"w.*\\"}": cannot parse label set at 5: only "=" makes a label set, got "=~"',
    1,
  );
  rejects(
    one('{app="web"'),
    'stream 1: cannot parse labels "{app=\\"web\\"": cannot parse label set at 11: expected "," or "}"',
    1,
  );
  rejects(
    one('{a="1", a="2"}'),
    'stream 1: cannot parse labels "{a=\\"1\\", a=\\"2\\"}": cannot parse label set at 9: label a appears twice',
    1,
  );
  rejects(one("{}"), "stream 1: stream has no labels", 1);
  rejects(
    one('{a="b"}', { timestamp: { seconds: -1 } }),
    "stream 1, value 1: timestamp seconds must be within 0..9223372035, got 18446744073709552000",
    1,
    1,
  );
  rejects(
    one('{a="b"}', { timestamp: { seconds: 1, nanos: 1_000_000_000 } }),
    "stream 1, value 1: timestamp nanos must be within 0..999999999, got 1000000000",
    1,
    1,
  );
  // The second entry of stream 1, cut short: its line claims 100 bytes.
  const entry = [0x12, 100, 0x61];
  const stream = [
    0x0a,
    7,
    ...new TextEncoder().encode('{a="b"}'),
    0x12,
    0,
    0x12,
    entry.length,
    ...entry,
  ];
  const first = [...encode({ streams: [{ labels: '{a="b"}', entries: [{ line: "ok" }] }] })];
  rejects(
    snappy.compress(new Uint8Array([...first, 0x0a, stream.length, ...stream])),
    "stream 1, value 1: malformed protobuf: length-delimited field runs past its message",
    1,
    1,
  );
  rejects(
    new Uint8Array([0x05, 0x00, 0x61]),
    "cannot decode snappy protobuf body: snappy: block holds 1 bytes, not the declared 5",
  );
  rejects(
    snappy.compress(new Uint8Array([0x0a, 0x03, 0x0a, 0x01, 0xff])),
    "stream 0: malformed protobuf: invalid UTF-8 in the string field at byte 4",
    0,
  );
  assert.throws(
    () => decodedSize(PushFormat.LokiProtobuf, new ReceivedBody([new Uint8Array([0x80])])),
    /^PushError: cannot decode snappy protobuf body: snappy: truncated length header$/,
  );
});
