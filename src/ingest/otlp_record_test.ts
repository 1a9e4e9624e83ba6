import assert from "node:assert/strict";
import { decodeOtlp, frameOtlp, unframeOtlp } from "./otlp_record.ts";

const encode = (text: string) => new TextEncoder().encode(text);
const header = { streamAttributes: ["service.name"], now: 1n };

Deno.test("decodeOtlp: 64-bit integers sent as JSON numbers keep every digit", () => {
  const body = encode(
    '{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"timeUnixNano":1700000000000000001,' +
      '"body":{"intValue":9007199254740993},"attributes":[{"key":"big","value":{"doubleValue":"1e300"}}]}]}]}]}',
  );
  const { payload } = decodeOtlp(true, body, header);
  assert.deepEqual(payload.streams[0].ts, [1700000000000000001n]);
  assert.deepEqual(payload.streams[0].lines, ["9007199254740993"]);
  assert.deepEqual(JSON.parse(payload.streams[0].metadata![0]!), { big: "1e+300" });
});

Deno.test("decodeOtlp: a double as Go writes it, bytes as base64, values nested too deep refused", () => {
  const record = (body: string) =>
    encode(
      `{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"timeUnixNano":"5","body":${body}}]}]}]}`,
    );
  const line = (body: string) => decodeOtlp(true, record(body), header).payload.streams[0].lines[0];
  assert.equal(line('{"doubleValue":1234567.5}'), "1234567.5");
  assert.equal(line('{"doubleValue":0.000001}'), "0.000001");
  assert.equal(line('{"doubleValue":1e-7}'), "1e-7");
  assert.equal(line('{"doubleValue":"-Infinity"}'), "-Infinity");
  assert.equal(line('{"bytesValue":"aGk="}'), "aGk=");
  assert.equal(
    line('{"arrayValue":{"values":[{"bytesValue":"aGk="},{"boolValue":false}]}}'),
    '["aGk=",false]',
  );
  const deep = '{"arrayValue":{"values":['.repeat(40) + "{}" + "]}}".repeat(40);
  assert.throws(() => decodeOtlp(true, record(deep), header), /values nest deeper than 32/);
});

Deno.test("unframeOtlp: a record without a valid header line is refused", () => {
  assert.throws(() => unframeOtlp(encode("{}")), /no header line/);
  assert.throws(
    () => unframeOtlp(encode('{"now":"x","streamAttributes":[]}\n')),
    /header is malformed/,
  );
  const [line, framed] = frameOtlp(encode("a\nb"), header);
  const { body } = unframeOtlp(new Uint8Array([...line, ...framed]));
  assert.equal(new TextDecoder().decode(body), "a\nb");
});
