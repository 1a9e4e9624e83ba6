/**
 * A decoder for OTLP's `ExportLogsServiceRequest` in protobuf
 * (opentelemetry-proto `collector/logs/v1`, `logs/v1`, `common/v1`), written
 * out by hand as Loki's push decoder is:
 *
 * ```proto
 * message ExportLogsServiceRequest { repeated ResourceLogs resource_logs = 1; }
 * message ResourceLogs { Resource resource = 1; repeated ScopeLogs scope_logs = 2; }
 * message Resource     { repeated KeyValue attributes = 1; }
 * message ScopeLogs    { InstrumentationScope scope = 1; repeated LogRecord log_records = 2; }
 * message InstrumentationScope { string name = 1; string version = 2;
 *                                repeated KeyValue attributes = 3; }
 * message LogRecord { fixed64 time_unix_nano = 1; fixed64 observed_time_unix_nano = 11;
 *   SeverityNumber severity_number = 2; string severity_text = 3; AnyValue body = 5;
 *   repeated KeyValue attributes = 6; uint32 dropped_attributes_count = 7;
 *   fixed32 flags = 8; bytes trace_id = 9; bytes span_id = 10; string event_name = 12; }
 * message KeyValue { string key = 1; AnyValue value = 2; }
 * message AnyValue { oneof value { string string_value = 1; bool bool_value = 2;
 *   int64 int_value = 3; double double_value = 4; ArrayValue array_value = 5;
 *   KeyValueList kvlist_value = 6; bytes bytes_value = 7; } }
 * message ArrayValue { repeated AnyValue values = 1; }
 * message KeyValueList { repeated KeyValue values = 1; }
 * ```
 *
 * Other fields (schema URLs, dropped counts of resources) are skipped. Values
 * nest at most {@linkcode MAX_VALUE_DEPTH} deep.
 *
 * @module
 */

import {
  emptyRecord,
  MAX_VALUE_DEPTH,
  type OtlpRecord,
  type OtlpValue,
  type OtlpVisitor,
} from "./otlp.ts";
import { Buffer } from "node:buffer";
import { Reader } from "./protobuf_wire.ts";

/** A varint as a signed 64-bit integer (`int64`). */
function int64(r: Reader): bigint {
  let result = 0n;
  for (let shift = 0n; shift < 70n; shift += 7n) {
    if (r.pos >= r.end) throw new Error("truncated varint");
    const b = r.buf[r.pos++];
    result |= BigInt(b & 0x7f) << shift;
    if (b < 0x80) return BigInt.asIntN(64, result);
  }
  throw new Error("varint too long");
}

function value(r: Reader, depth: number): OtlpValue {
  if (depth > MAX_VALUE_DEPTH) throw new Error(`values nest deeper than ${MAX_VALUE_DEPTH}`);
  let v: OtlpValue;
  for (let tag = r.tag(); tag >= 0; tag = r.tag()) {
    if (tag === 0x0a) v = r.string();
    else if (tag === 0x10) v = r.varint() !== 0;
    else if (tag === 0x18) v = int64(r);
    else if (tag === 0x21) v = r.double();
    else if (tag === 0x2a) {
      const values: OtlpValue[] = [];
      const ar = r.sub();
      for (let t = ar.tag(); t >= 0; t = ar.tag()) {
        if (t === 0x0a) values.push(value(ar.sub(), depth + 1));
        else ar.skip(t & 7);
      }
      v = values;
    } else if (tag === 0x32) v = keyValues(r.sub(), 0x0a, depth + 1);
    // A copy, as the body's buffer is reused and resources are kept (and not `slice()`, a view on a
    // Buffer, which would keep the whole body).
    else if (tag === 0x3a) v = new Uint8Array(r.bytes());
    else r.skip(tag & 7);
  }
  return v;
}

/** The `KeyValue`s of field `field` (a tag) of a message, into a map. */
function keyValues(r: Reader, field: number, depth: number, into = new Map<string, OtlpValue>()) {
  for (let tag = r.tag(); tag >= 0; tag = r.tag()) {
    if (tag === field) keyValue(r.sub(), depth, into);
    else r.skip(tag & 7);
  }
  return into;
}

function keyValue(r: Reader, depth: number, into: Map<string, OtlpValue>): void {
  let key = "";
  let v: OtlpValue;
  for (let tag = r.tag(); tag >= 0; tag = r.tag()) {
    if (tag === 0x0a) key = r.string();
    else if (tag === 0x12) v = value(r.sub(), depth);
    else r.skip(tag & 7);
  }
  into.set(key, v);
}

/** A `LogRecord` into `rec`, which is reset first. */
function record(r: Reader, rec: OtlpRecord): OtlpRecord {
  emptyRecord(rec);
  for (let tag = r.tag(); tag >= 0; tag = r.tag()) {
    if (tag === 0x09) rec.time = r.fixed64();
    else if (tag === 0x59) rec.observedTime = r.fixed64();
    else if (tag === 0x10) rec.severityNumber = r.varint();
    else if (tag === 0x1a) rec.severityText = r.string();
    else if (tag === 0x2a) {
      const outer = r.enter();
      rec.body = value(r, 0);
      r.leave(outer);
    } else if (tag === 0x32) {
      const outer = r.enter();
      keyValue(r, 0, rec.attributes);
      r.leave(outer);
    } else if (tag === 0x38) rec.droppedAttributesCount = r.varint();
    else if (tag === 0x45) rec.flags = r.fixed32();
    else if (tag === 0x4a) rec.traceId = r.bytes();
    else if (tag === 0x52) rec.spanId = r.bytes();
    else if (tag === 0x62) rec.eventName = r.string();
    else r.skip(tag & 7);
  }
  return rec;
}

const NO_ATTRIBUTES: Map<string, OtlpValue> = new Map();

/**
 * A `ScopeLogs`: its scope (wherever it is on the wire) is reported before
 * its records.
 */
function scopeLogs(r: Reader, visitor: OtlpVisitor, rec: OtlpRecord): void {
  const start = r.pos;
  let name = "";
  let version = "";
  let attributes = NO_ATTRIBUTES;
  for (let tag = r.tag(); tag >= 0; tag = r.tag()) {
    if (tag !== 0x0a) {
      r.skip(tag & 7);
      continue;
    }
    const scope = r.sub();
    for (let t = scope.tag(); t >= 0; t = scope.tag()) {
      if (t === 0x0a) name = scope.string();
      else if (t === 0x12) version = scope.string();
      else if (t === 0x1a) {
        if (attributes === NO_ATTRIBUTES) attributes = new Map();
        keyValue(scope.sub(), 0, attributes);
      } else scope.skip(t & 7);
    }
  }
  visitor.scope(name, version, attributes);
  r.pos = start;
  for (let tag = r.tag(); tag >= 0; tag = r.tag()) {
    if (tag === 0x12) {
      const outer = r.enter();
      visitor.record(record(r, rec));
      r.leave(outer);
    } else r.skip(tag & 7);
  }
}

/**
 * Resources decoded lately, by their bytes: a sender repeats the same few in
 * every request. Bounded in bytes, as a client chooses what it sends: a
 * resource over {@linkcode MAX_CACHED_RESOURCE} bytes is decoded every time.
 * Their values hold no view of a body (bytes values are copies).
 */
const resources = new Map<string, Map<string, OtlpValue>>();
let cachedBytes = 0;
const MAX_CACHED_RESOURCE = 2048;
/** Decoded, a resource takes 5–20 times its bytes: this bounds the cache to a few MiB. */
const MAX_CACHED_BYTES = 256 * 1024;

/** The attributes of the `Resource` in `r`, from {@linkcode resources} when its bytes are known. */
function resourceAttributes(r: Reader): Map<string, OtlpValue> {
  const bytes = r.buf.subarray(r.pos, r.end);
  if (bytes.length > MAX_CACHED_RESOURCE) return keyValues(r, 0x0a, 0);
  const key = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("latin1");
  let attributes = resources.get(key);
  if (attributes === undefined) {
    attributes = keyValues(r, 0x0a, 0);
    if (cachedBytes + bytes.length > MAX_CACHED_BYTES) {
      resources.clear();
      cachedBytes = 0;
    }
    resources.set(key, attributes);
    cachedBytes += bytes.length;
  }
  return attributes;
}

/** A `ResourceLogs`: its resource is reported before its scopes. */
function resourceLogs(r: Reader, visitor: OtlpVisitor, rec: OtlpRecord): void {
  const start = r.pos;
  let attributes: Map<string, OtlpValue> | undefined;
  for (let tag = r.tag(); tag >= 0; tag = r.tag()) {
    if (tag !== 0x0a) r.skip(tag & 7);
    else if (attributes === undefined) attributes = resourceAttributes(r.sub());
    else {
      // A resource sent in parts (their fields merge): decoded afresh, not cached.
      attributes = new Map(attributes);
      keyValues(r.sub(), 0x0a, 0, attributes);
    }
  }
  visitor.resource(attributes ?? new Map());
  r.pos = start;
  for (let tag = r.tag(); tag >= 0; tag = r.tag()) {
    if (tag === 0x12) scopeLogs(r.sub(), visitor, rec);
    else r.skip(tag & 7);
  }
}

/**
 * Decodes an `ExportLogsServiceRequest`, reporting each resource, scope and
 * record to `visitor` (one record object, reused).
 *
 * @throws {Error} naming what is malformed: a field past its message, bad
 * UTF-8 in a string, values nested too deep.
 *
 * @example
 * ```ts
 * import { decodeOtlpProtobuf } from "./otlp_protobuf.ts";
 * import assert from "node:assert/strict";
 * const text = (s: string) => [s.length, ...new TextEncoder().encode(s)];
 * const body = [0x0a, ...text("hi")]; // AnyValue string_value
 * const record = [0x09, 5, 0, 0, 0, 0, 0, 0, 0, 0x2a, body.length, ...body];
 * const scope = [0x12, record.length, ...record];
 * const resource = [0x12, scope.length, ...scope];
 * const seen: unknown[] = [];
 * decodeOtlpProtobuf(new Uint8Array([0x0a, resource.length, ...resource]), {
 *   resource: (attributes) => seen.push(attributes.size),
 *   scope: (name) => seen.push(name),
 *   record: (r) => seen.push(r.time, r.body),
 * });
 * assert.deepEqual(seen, [0, "", 5n, "hi"]);
 * ```
 */
export function decodeOtlpProtobuf(buf: Uint8Array, visitor: OtlpVisitor): void {
  const rec = emptyRecord();
  const r = new Reader(buf);
  for (let tag = r.tag(); tag >= 0; tag = r.tag()) {
    if (tag === 0x0a) resourceLogs(r.sub(), visitor, rec);
    else r.skip(tag & 7);
  }
}
