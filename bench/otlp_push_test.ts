import assert from "node:assert/strict";
import protobuf from "protobufjs";
import { generateLogs } from "./generator/mod.ts";
import { encodeOtlpLogs, encodeOtlpLogsJson, otlpServerArgs } from "./otlp_push.ts";
import { buildPayload, createEncoder, type PushPayload } from "./push_client.ts";

const root = await protobuf.load(new URL("../testing/otlp_logs.proto", import.meta.url).pathname);
const Request = root.lookupType("otlp.ExportLogsServiceRequest");

interface Decoded {
  resourceLogs: {
    resource: { attributes: { key: string; value: { stringValue: string } }[] };
    scopeLogs: {
      logRecords: { timeUnixNano: string; body: { stringValue: string } }[];
    }[];
  }[];
}

const payloads: [string, PushPayload][] = [
  ["generated corpus", buildPayload(generateLogs(2000, { seed: 11 }))],
  ["edge cases", {
    streams: [
      {
        stream: { app: "web", env: 'q"uote' },
        values: [["0", ""], ["1795219200123456789", "ünïcödé ✓"], ["18446744073709551615", "max"]],
      },
      { stream: {}, values: [["42", "no labels"]] },
    ],
  }],
];

/** What protobufjs reads from a request of either encoding. */
const readers: [string, (body: Uint8Array) => protobuf.Message][] = [
  ["encodeOtlpLogs", (body) => Request.decode(body)],
  // OTLP's JSON is proto3's JSON mapping: protobufjs builds the message from it.
  ["encodeOtlpLogsJson", (body) => Request.fromObject(JSON.parse(new TextDecoder().decode(body)))],
];
const encoders: Record<string, (payload: PushPayload) => Uint8Array> = {
  encodeOtlpLogs,
  encodeOtlpLogsJson,
};

for (const [name, payload] of payloads) {
  for (const [encoder, read] of readers) {
    Deno.test(`${encoder}(): protobufjs reads the ${name} as OTLP's schema`, () => {
      const decoded = Request.toObject(read(encoders[encoder](payload)), {
        longs: String,
        defaults: true,
      }) as Decoded;
      assert.deepEqual(
        decoded.resourceLogs.map((r) => ({
          stream: Object.fromEntries(
            r.resource.attributes.map((a) => [a.key, a.value.stringValue]),
          ),
          values: r.scopeLogs.flatMap((s) =>
            s.logRecords.map((l) => [l.timeUnixNano, l.body.stringValue])
          ),
        })),
        payload.streams,
      );
    });
  }
}

Deno.test("the OTLP encoders reject a timestamp that is not decimal nanoseconds", () => {
  for (const encode of Object.values(encoders)) {
    assert.throws(
      () => encode({ streams: [{ stream: { a: "b" }, values: [["1e9", "x"]] }] }),
      /bad timestamp "1e9"/,
    );
  }
});

Deno.test("createEncoder(otlp-protobuf) posts protobuf to Loki's OTLP route", async () => {
  const encoder = await createEncoder("otlp-protobuf");
  assert.equal(encoder.contentType, "application/x-protobuf");
  assert.equal(encoder.path, "/otlp/v1/logs");
  assert.deepEqual(otlpServerArgs(), ["--otlp-stream-attributes", "app,env,level,host,service"]);
  const json = await createEncoder("otlp-json");
  assert.deepEqual([json.contentType, json.path], ["application/json", "/otlp/v1/logs"]);
});

Deno.test("createEncoder(loki-json) posts loge's JSON to Loki's push route", async () => {
  const encoder = await createEncoder("loki-json");
  assert.deepEqual([encoder.contentType, encoder.path], ["application/json", "/loki/api/v1/push"]);
  const payload = payloads[1][1];
  assert.deepEqual(JSON.parse(new TextDecoder().decode(encoder.encode(payload))), payload);
});
