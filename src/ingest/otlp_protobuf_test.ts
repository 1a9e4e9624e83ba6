import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { decodeOtlpProtobuf } from "./otlp_protobuf.ts";
import type { OtlpRecord, OtlpValue } from "./otlp.ts";

/** What the decoder reports, in order, records copied (the decoder reuses its object). */
function visit(buf: Uint8Array): unknown[] {
  const seen: unknown[] = [];
  decodeOtlpProtobuf(buf, {
    resource: (attributes) => seen.push(["resource", new Map(attributes)]),
    scope: (name, version, attributes) => seen.push(["scope", name, version, new Map(attributes)]),
    record: (r) => seen.push({ ...r, attributes: new Map(r.attributes) }),
  });
  return seen;
}

const records = (buf: Uint8Array) => visit(buf).filter((e) => !Array.isArray(e)) as OtlpRecord[];

/** A varint's bytes. */
function varint(n: number): number[] {
  const out: number[] = [];
  for (; n >= 0x80; n >>>= 7) out.push((n & 0x7f) | 0x80);
  return [...out, n];
}

/** A length-delimited field: tag, length, bytes. */
const field = (tag: number, bytes: number[]) => [tag, ...varint(bytes.length), ...bytes];
const text = (s: string) => [...new TextEncoder().encode(s)];

/** A request of one resource, one scope, one record with `record`'s fields. */
const request = (record: number[]) => new Uint8Array(field(0x0a, field(0x12, field(0x12, record))));

Deno.test("decodeOtlpProtobuf: every record field, values of every kind", () => {
  const kv = (key: string, value: number[]) =>
    field(0x32, [...field(0x0a, text(key)), ...field(0x12, value)]);
  const record = [
    0x09,
    1,
    0,
    0,
    0,
    0,
    0,
    0,
    0, // time 1
    0x59,
    2,
    0,
    0,
    0,
    0,
    0,
    0,
    0, // observed 2
    0x10,
    17, // severity_number
    ...field(0x1a, text("ERROR")),
    ...field(
      0x2a,
      field(0x32, field(0x0a, [...field(0x0a, text("k")), ...field(0x12, [0x10, 1])])),
    ),
    ...kv("neg", [0x18, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]),
    ...kv("d", [0x21, 0, 0, 0, 0, 0, 0, 0xf8, 0x3f]),
    ...kv(
      "arr",
      field(0x2a, [...field(0x0a, field(0x0a, text("a"))), ...field(0x0a, [0x3a, 1, 0xff])]),
    ),
    0x38,
    3, // dropped_attributes_count
    0x45,
    1,
    0,
    0,
    0, // flags
    ...field(0x4a, [0xab, 0xcd]),
    ...field(0x52, [0x01]),
    ...field(0x62, text("ev")),
  ];
  const [r] = records(request(record));
  assert.equal(r.time, 1n);
  assert.equal(r.observedTime, 2n);
  assert.equal(r.severityNumber, 17);
  assert.equal(r.severityText, "ERROR");
  assert.deepEqual(r.body, new Map([["k", true]]));
  assert.equal(r.attributes.get("neg"), -1n);
  assert.equal(r.attributes.get("d"), 1.5);
  assert.deepEqual(r.attributes.get("arr"), ["a", new Uint8Array([0xff])]);
  assert.equal(r.droppedAttributesCount, 3);
  assert.equal(r.flags, 1);
  assert.deepEqual(r.traceId, new Uint8Array([0xab, 0xcd]));
  assert.deepEqual(r.spanId, new Uint8Array([0x01]));
  assert.equal(r.eventName, "ev");
});

Deno.test("decodeOtlpProtobuf: malformed bytes are named, never read past the end", () => {
  assert.throws(
    () => visit(request([0x09, 1, 2, 3])),
    /fixed64 field runs past its message/,
  );
  assert.throws(
    () => visit(request([0x45, 1])),
    /fixed32 field runs past its message/,
  );
  assert.throws(() => visit(new Uint8Array([0x0a, 9, 0x12])), /runs past its message/);
  assert.throws(() => visit(request(field(0x1a, [0xff]))), /invalid UTF-8/);
  let deep: number[] = [];
  for (let i = 0; i < 40; i++) deep = field(0x2a, field(0x0a, deep));
  assert.throws(() => visit(request(field(0x2a, deep))), /values nest deeper than 32/);
});

Deno.test("decodeOtlpProtobuf: a resource and a scope come before their records, whatever the wire order", () => {
  const kv = (tag: number, key: string, v: string) =>
    field(tag, [...field(0x0a, text(key)), ...field(0x12, field(0x0a, text(v)))]);
  const body = (s: string) => field(0x2a, field(0x0a, text(s)));
  const withAttribute = [...body("one"), ...kv(0x32, "k", "v")];
  // ScopeLogs: two records, then the scope; ResourceLogs: the scope logs, then the resource.
  const scopeLogs = [
    ...field(0x12, withAttribute),
    ...field(0x12, body("two")),
    ...field(0x0a, [...field(0x0a, text("lib")), ...field(0x12, text("1.0"))]),
  ];
  const resourceLogs = [...field(0x12, scopeLogs), ...field(0x0a, kv(0x0a, "service.name", "api"))];
  const seen = visit(new Uint8Array(field(0x0a, resourceLogs)));
  const none = new Map<string, OtlpValue>();
  assert.deepEqual(
    seen.map((e) => Array.isArray(e) ? e : [(e as OtlpRecord).body, (e as OtlpRecord).attributes]),
    [
      ["resource", new Map([["service.name", "api"]])],
      ["scope", "lib", "1.0", none],
      ["one", new Map([["k", "v"]])],
      // The record object is reused: the first record's attribute must not reach the second.
      ["two", none],
    ],
  );
});

Deno.test("decodeOtlpProtobuf: a resource seen before is handed over again, holding nothing of the buffer", () => {
  const kv = (key: string, value: number[]) =>
    field(0x0a, [...field(0x0a, text(key)), ...field(0x12, value)]);
  const resource = [
    ...kv("service.name", field(0x0a, text("api"))),
    ...kv("blob", [0x3a, 2, 7, 8]),
  ];
  const records = field(0x12, field(0x12, field(0x2a, field(0x0a, text("line")))));
  const once = () => new Uint8Array(field(0x0a, [...field(0x0a, resource), ...records]));
  const resourceOf = (buf: Uint8Array) => {
    let seen: Map<string, OtlpValue> | undefined;
    decodeOtlpProtobuf(buf, { resource: (a) => seen = a, scope: () => {}, record: () => {} });
    return seen!;
  };
  const expected = new Map<string, OtlpValue>([
    ["service.name", "api"],
    ["blob", new Uint8Array([7, 8])],
  ]);
  const buf = once();
  const first = resourceOf(buf);
  buf.fill(0x0a); // the server reuses a body's buffer for the next body
  assert.deepEqual(first, expected);
  // A gunzipped body is a Buffer, whose slice() is a view.
  const other = [...kv("service.name", field(0x0a, text("gz"))), ...kv("blob", [0x3a, 1, 9])];
  const gunzipped = Buffer.from(field(0x0a, [...field(0x0a, other), ...records]));
  const fromBuffer = resourceOf(gunzipped);
  gunzipped.fill(0x0a);
  assert.deepEqual(fromBuffer.get("blob"), new Uint8Array([9]));
  assert.equal(resourceOf(once()), first);
  // A resource sent in two parts merges them, and leaves the one seen before as it was.
  const parts = [
    ...field(0x0a, resource),
    ...field(0x0a, kv("k", field(0x0a, text("v")))),
    ...records,
  ];
  assert.deepEqual(
    resourceOf(new Uint8Array(field(0x0a, parts))),
    new Map([...expected, ["k", "v"]]),
  );
  assert.deepEqual(resourceOf(once()), expected);
});
