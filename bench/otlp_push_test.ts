import assert from "node:assert/strict";
import protobuf from "protobufjs";
import { generateLogs } from "./generator/mod.ts";
import { encodeOtlpLogs, otlpServerArgs } from "./otlp_push.ts";
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

for (const [name, payload] of payloads) {
  Deno.test(`encodeOtlpLogs(): protobufjs reads the ${name} as OTLP's schema`, () => {
    const decoded = Request.toObject(Request.decode(encodeOtlpLogs(payload)), {
      longs: String,
      defaults: true,
    }) as Decoded;
    assert.deepEqual(
      decoded.resourceLogs.map((r) => ({
        stream: Object.fromEntries(r.resource.attributes.map((a) => [a.key, a.value.stringValue])),
        values: r.scopeLogs.flatMap((s) =>
          s.logRecords.map((l) => [l.timeUnixNano, l.body.stringValue])
        ),
      })),
      payload.streams,
    );
  });
}

Deno.test("encodeOtlpLogs() rejects a timestamp that is not decimal nanoseconds", () => {
  assert.throws(
    () => encodeOtlpLogs({ streams: [{ stream: { a: "b" }, values: [["1e9", "x"]] }] }),
    /bad timestamp "1e9"/,
  );
});

Deno.test("createEncoder(otlp-protobuf) posts protobuf to Loki's OTLP route", async () => {
  const encoder = await createEncoder("otlp-protobuf");
  assert.equal(encoder.contentType, "application/x-protobuf");
  assert.equal(encoder.path, "/otlp/v1/logs");
  assert.deepEqual(otlpServerArgs(), ["--otlp-stream-attributes", "app,env,level,host,service"]);
});
