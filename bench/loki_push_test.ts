import assert from "node:assert/strict";
import protobuf from "protobufjs";
import { decodePush, PushFormat } from "../src/ingest/decode.ts";
import { decodeSnappy } from "../src/ingest/snappy.ts";
import { generateLogs } from "./generator/mod.ts";
import { encodeLokiPush, encodeLokiPushRequest, labelSelector } from "./loki_push.ts";
import { buildPayload, createEncoder, type PushPayload } from "./push_client.ts";

const root = await protobuf.load(new URL("../testing/loki_push.proto", import.meta.url).pathname);
const PushRequest = root.lookupType("logproto.PushRequest");

const generated = buildPayload(generateLogs(3000, { seed: 7 }));

const edges: PushPayload = {
  streams: [
    {
      stream: { app: "web", env: "prod" },
      values: [
        ["0", ""],
        ["1", "one nanosecond"],
        ["1000000000", "one second"],
        ["1795219200123456789", 'quotes " and \\ and ünïcödé ✓'],
        ["9223372035999999999", "x".repeat(300)],
      ],
    },
    { stream: { app: 'we"ird', path: "a\\b" }, values: [["42", "second stream"]] },
  ],
};

for (const [name, payload] of [["generated corpus", generated], ["edge cases", edges]] as const) {
  Deno.test(`encodeLokiPush(): loge reads back the ${name} as it reads Loki's JSON`, () => {
    const json = new TextEncoder().encode(JSON.stringify(payload));
    assert.deepEqual(
      decodePush(PushFormat.LokiProtobuf, encodeLokiPush(payload)),
      decodePush(PushFormat.LokiJson, json),
    );
  });

  Deno.test(`encodeLokiPushRequest(): protobufjs reads the ${name} as Loki's schema`, () => {
    const object = PushRequest.toObject(PushRequest.decode(encodeLokiPushRequest(payload)), {
      longs: String,
      defaults: true,
    }) as {
      streams: {
        labels: string;
        entries: { timestamp: { seconds: string; nanos: number }; line: string }[];
      }[];
    };
    assert.deepEqual(
      object.streams.map((s) => ({
        labels: s.labels,
        values: s.entries.map((e) => [
          (BigInt(e.timestamp.seconds) * 1_000_000_000n + BigInt(e.timestamp.nanos)).toString(),
          e.line,
        ]),
      })),
      payload.streams.map((s) => ({ labels: labelSelector(s.stream), values: s.values })),
    );
  });
}

Deno.test("encodeLokiPushRequest() writes the bytes protobufjs writes for Loki's schema", () => {
  const payload = buildPayload(generateLogs(200, { seed: 3 }));
  const expected = PushRequest.encode(PushRequest.fromObject({
    streams: payload.streams.map((s) => ({
      labels: labelSelector(s.stream),
      entries: s.values.map(([ts, line]) => ({
        timestamp: { seconds: ts.slice(0, -9), nanos: Number(ts.slice(-9)) },
        line,
      })),
    })),
  })).finish();
  assert.deepEqual(encodeLokiPushRequest(payload), new Uint8Array(expected));
});

Deno.test("encodeLokiPushRequest() rejects a timestamp that is not decimal nanoseconds", () => {
  assert.throws(
    () => encodeLokiPushRequest({ streams: [{ stream: { a: "b" }, values: [["-1", "x"]] }] }),
    /bad timestamp "-1"/,
  );
});

Deno.test("createEncoder(loki-protobuf) posts snappy protobuf to Loki's push route", async () => {
  const encoder = await createEncoder("loki-protobuf");
  assert.equal(encoder.contentType, "application/x-protobuf");
  assert.equal(encoder.path, "/loki/api/v1/push");
  const body = encoder.encode(edges);
  assert.deepEqual(decodeSnappy(body), encodeLokiPushRequest(edges));
});
