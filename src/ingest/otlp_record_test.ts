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

Deno.test("decodeOtlp: the same resource maps to the labels each list of stream attributes gives", () => {
  const body = encode(
    '{"resourceLogs":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"api"}},' +
      '{"key":"host.name","value":{"stringValue":"h1"}}]},' +
      '"scopeLogs":[{"logRecords":[{"timeUnixNano":"5","body":{"stringValue":"hi"}}]}]}]}',
  );
  const proto = new Uint8Array([
    0x0a,
    ...lengthOf([
      0x0a,
      ...lengthOf([
        ...keyValue("service.name", "api"),
        ...keyValue("host.name", "h1"),
      ]),
      0x12,
      ...lengthOf([0x12, ...lengthOf([0x09, 5, 0, 0, 0, 0, 0, 0, 0])]),
    ]),
  ]);
  for (const json of [true, false]) {
    for (let round = 0; round < 2; round++) {
      const mapped = (streamAttributes: string[]) =>
        decodeOtlp(json, json ? body : proto, { streamAttributes, now: 1n }).payload.streams[0];
      const byService = mapped(["service.name"]);
      assert.equal(byService.key, '{"service_name":"api"}');
      assert.deepEqual(JSON.parse(byService.metadata![0]!), { host_name: "h1" });
      const byHost = mapped(["service.name", "host.name"]);
      assert.equal(byHost.key, '{"host_name":"h1","service_name":"api"}');
      assert.equal(byHost.metadata, undefined);
    }
  }
});

/** A length-delimited field's length and bytes (lengths under 128). */
function lengthOf(bytes: number[]): number[] {
  return [bytes.length, ...bytes];
}

/** A `KeyValue` with a string value, as a `Resource`'s attributes field. */
function keyValue(key: string, value: string): number[] {
  const k = [...encode(key)];
  const v = [0x0a, ...lengthOf([...encode(value)])];
  return [0x0a, ...lengthOf([0x0a, ...lengthOf(k), 0x12, ...lengthOf(v)])];
}
