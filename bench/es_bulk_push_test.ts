import assert from "node:assert/strict";
import { encodeEsBulk, esBulkServerArgs, rfc3339Nanos } from "./es_bulk_push.ts";
import { generateLogs } from "./generator/mod.ts";
import { buildPayload, createEncoder } from "./push_client.ts";

/** Unix nanoseconds of an RFC 3339 time with nine fractional digits, read independently. */
function nanos(rfc3339: string): string {
  const match = /^(.{19})\.(\d{9})Z$/.exec(rfc3339);
  assert.ok(match, rfc3339);
  const ms = Date.parse(`${match[1]}Z`);
  return (BigInt(ms) * 1_000_000n + BigInt(match[2])).toString();
}

Deno.test("encodeEsBulk(): each line is a create action, then its document", () => {
  const payload = buildPayload(generateLogs(2000, { seed: 5 }));
  const text = new TextDecoder().decode(encodeEsBulk(payload));
  assert.ok(text.endsWith("\n"));
  const lines = text.slice(0, -1).split("\n").map((l) => JSON.parse(l));
  const expected = payload.streams.flatMap((s) =>
    s.values.map(([ts, line]) => ({ ...s.stream, ts, message: line }))
  );
  assert.equal(lines.length, 2 * expected.length);
  for (let i = 0; i < expected.length; i++) {
    assert.deepEqual(lines[2 * i], { create: { _index: "bench" } });
    const { "@timestamp": time, ...fields } = lines[2 * i + 1];
    assert.deepEqual({ ...fields, ts: nanos(time) }, expected[i]);
  }
});

Deno.test("encodeEsBulk(): a stream without labels still makes valid JSON", () => {
  const body = encodeEsBulk({ streams: [{ stream: {}, values: [["5", "x"]] }] });
  const doc = JSON.parse(new TextDecoder().decode(body).split("\n")[1]);
  assert.deepEqual(doc, { "@timestamp": "1970-01-01T00:00:00.000000005Z", message: "x" });
});

Deno.test("rfc3339Nanos() keeps every nanosecond and refuses what is not decimal", () => {
  assert.equal(rfc3339Nanos("0"), "1970-01-01T00:00:00.000000000Z");
  assert.equal(rfc3339Nanos("1795219200123456789"), "2026-11-21T00:00:00.123456789Z");
  assert.throws(() => rfc3339Nanos("-5"), /bad timestamp "-5"/);
});

Deno.test("createEncoder(es-bulk) posts NDJSON to /_bulk", async () => {
  const encoder = await createEncoder("es-bulk");
  assert.equal(encoder.contentType, "application/x-ndjson");
  assert.equal(encoder.path, "/_bulk");
  assert.deepEqual(esBulkServerArgs(), ["--es-stream-fields", "app,env,level,host,service"]);
});
