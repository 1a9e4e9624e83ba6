/**
 * A decoder for OTLP's `ExportLogsServiceRequest` in JSON (OTLP/HTTP's JSON
 * encoding: protobuf's JSON mapping with lowerCamelCase names, snake_case
 * accepted too; 64-bit integers as strings or numbers; `traceId` and `spanId`
 * in hex; `bytesValue` in base64; severity numbers as numbers or enum names).
 * Every field is checked for its type, so a malformed body is refused with
 * the path of the first bad field.
 *
 * @module
 */

import { Buffer } from "node:buffer";
import {
  emptyRecord,
  MAX_VALUE_DEPTH,
  type OtlpRecord,
  type OtlpValue,
  type OtlpVisitor,
} from "./otlp.ts";

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/** Field `camel` (or its snake_case name) of `o`. */
function field(o: Json, camel: string): unknown {
  if (Object.hasOwn(o, camel)) return o[camel];
  const snake = camel.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
  return Object.hasOwn(o, snake) ? o[snake] : undefined;
}

function object(v: unknown, path: string): Json {
  if (v === undefined || v === null) return {};
  if (!isObject(v)) throw new Error(`${path} must be an object`);
  return v;
}

function array(v: unknown, path: string): unknown[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw new Error(`${path} must be an array`);
  return v;
}

function string(v: unknown, path: string): string {
  if (v === undefined || v === null) return "";
  if (typeof v !== "string") throw new Error(`${path} must be a string`);
  return v;
}

/** A 64-bit integer sent as a string or a number. */
function integer(v: unknown, path: string, signed: boolean): bigint {
  if (v === undefined || v === null) return 0n;
  const text = typeof v === "number" && Number.isSafeInteger(v) ? String(v) : v;
  if (typeof text !== "string" || !(signed ? /^-?[0-9]{1,20}$/ : /^[0-9]{1,20}$/).test(text)) {
    throw new Error(`${path} must be an integer`);
  }
  const n = BigInt(text);
  const fits = signed ? BigInt.asIntN(64, n) === n : BigInt.asUintN(64, n) === n;
  if (!fits) throw new Error(`${path} is out of range`);
  return n;
}

function small(v: unknown, path: string): number {
  const n = integer(v, path, false);
  if (n > 0xffffffffn) throw new Error(`${path} is out of range`);
  return Number(n);
}

/** OpenTelemetry's severity numbers by their enum names. */
const SEVERITIES = [
  "UNSPECIFIED",
  ...["TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"].flatMap((s) =>
    ["", "2", "3", "4"].map((n) => s + n)
  ),
];

function severity(v: unknown, path: string): number {
  if (typeof v === "string" && v.startsWith("SEVERITY_NUMBER_")) {
    const n = SEVERITIES.indexOf(v.slice("SEVERITY_NUMBER_".length));
    if (n < 0) throw new Error(`${path} ${JSON.stringify(v)} is not a severity number`);
    return n;
  }
  return small(v, path);
}

function hexBytes(v: unknown, path: string): Uint8Array {
  const text = string(v, path);
  if (!/^([0-9a-fA-F]{2})*$/.test(text)) throw new Error(`${path} must be hex`);
  return new Uint8Array(Buffer.from(text, "hex"));
}

function base64Bytes(v: unknown, path: string): Uint8Array {
  const text = string(v, path);
  if (!/^[A-Za-z0-9+/_-]*={0,2}$/.test(text)) throw new Error(`${path} must be base64`);
  return new Uint8Array(Buffer.from(text, "base64"));
}

function value(v: unknown, path: string, depth: number): OtlpValue {
  if (depth > MAX_VALUE_DEPTH) {
    throw new Error(`${path}: values nest deeper than ${MAX_VALUE_DEPTH}`);
  }
  const o = object(v, path);
  if (Object.hasOwn(o, "stringValue") || Object.hasOwn(o, "string_value")) {
    return string(field(o, "stringValue"), `${path}.stringValue`);
  }
  const b = field(o, "boolValue");
  if (b !== undefined) {
    if (typeof b !== "boolean") throw new Error(`${path}.boolValue must be a boolean`);
    return b;
  }
  const i = field(o, "intValue");
  if (i !== undefined) return integer(i, `${path}.intValue`, true);
  const d = field(o, "doubleValue");
  if (d !== undefined) {
    if (typeof d === "number") return d;
    // Strings: the special values, and numbers as protobuf's JSON mapping allows.
    if (typeof d === "string" && /^(NaN|-?Infinity|-?[0-9.]+([eE][-+]?[0-9]+)?)$/.test(d)) {
      const n = Number(d);
      if (!Number.isNaN(n) || d === "NaN") return n;
    }
    throw new Error(`${path}.doubleValue must be a number`);
  }
  const a = field(o, "arrayValue");
  if (a !== undefined) {
    const values = array(
      field(object(a, `${path}.arrayValue`), "values"),
      `${path}.arrayValue.values`,
    );
    return values.map((x, n) => value(x, `${path}.arrayValue.values[${n}]`, depth + 1));
  }
  const kv = field(o, "kvlistValue");
  if (kv !== undefined) {
    const p = `${path}.kvlistValue.values`;
    return keyValues(field(object(kv, `${path}.kvlistValue`), "values"), p, depth + 1);
  }
  const bytes = field(o, "bytesValue");
  if (bytes !== undefined) return base64Bytes(bytes, `${path}.bytesValue`);
  return undefined;
}

function keyValues(
  v: unknown,
  path: string,
  depth: number,
  into = new Map<string, OtlpValue>(),
): Map<string, OtlpValue> {
  array(v, path).forEach((kv, n) => {
    const o = object(kv, `${path}[${n}]`);
    into.set(string(o.key, `${path}[${n}].key`), value(o.value, `${path}[${n}].value`, depth));
  });
  return into;
}

function record(v: unknown, path: string): OtlpRecord {
  const o = object(v, path);
  const rec = emptyRecord();
  rec.time = integer(field(o, "timeUnixNano"), `${path}.timeUnixNano`, false);
  rec.observedTime = integer(
    field(o, "observedTimeUnixNano"),
    `${path}.observedTimeUnixNano`,
    false,
  );
  rec.severityNumber = severity(field(o, "severityNumber") ?? 0, `${path}.severityNumber`);
  rec.severityText = string(field(o, "severityText"), `${path}.severityText`);
  rec.body = value(field(o, "body"), `${path}.body`, 0);
  keyValues(field(o, "attributes"), `${path}.attributes`, 0, rec.attributes);
  rec.droppedAttributesCount = small(
    field(o, "droppedAttributesCount"),
    `${path}.droppedAttributesCount`,
  );
  rec.flags = small(field(o, "flags"), `${path}.flags`);
  rec.traceId = hexBytes(field(o, "traceId"), `${path}.traceId`);
  rec.spanId = hexBytes(field(o, "spanId"), `${path}.spanId`);
  rec.eventName = string(field(o, "eventName"), `${path}.eventName`);
  return rec;
}

function scopeLogs(v: unknown, path: string, visitor: OtlpVisitor): void {
  const o = object(v, path);
  const scope = object(field(o, "scope"), `${path}.scope`);
  visitor.scope(
    string(scope.name, `${path}.scope.name`),
    string(scope.version, `${path}.scope.version`),
    keyValues(scope.attributes, `${path}.scope.attributes`, 0),
  );
  array(field(o, "logRecords"), `${path}.logRecords`).forEach((r, n) =>
    visitor.record(record(r, `${path}.logRecords[${n}]`))
  );
}

/**
 * Decodes an `ExportLogsServiceRequest` from its parsed JSON, reporting each
 * resource, scope and record to `visitor`.
 *
 * @throws {Error} naming the first field of the wrong type, as a path.
 *
 * @example
 * ```ts
 * import { decodeOtlpJson } from "./otlp_json.ts";
 * import assert from "node:assert/strict";
 * const seen: unknown[] = [];
 * const visitor = {
 *   resource: (attributes: Map<string, unknown>) => seen.push(attributes.get("service.name")),
 *   scope: (name: string) => seen.push(name),
 *   record: (r: { time: bigint; body: unknown }) => seen.push(r.time, r.body),
 * };
 * decodeOtlpJson({
 *   resourceLogs: [{
 *     resource: { attributes: [{ key: "service.name", value: { stringValue: "api" } }] },
 *     scopeLogs: [{ logRecords: [{ timeUnixNano: "5", body: { stringValue: "hi" } }] }],
 *   }],
 * }, visitor);
 * assert.deepEqual(seen, ["api", "", 5n, "hi"]);
 * assert.throws(() => decodeOtlpJson({ resourceLogs: 1 }, visitor), /resourceLogs must be an array/);
 * ```
 */
export function decodeOtlpJson(json: unknown, visitor: OtlpVisitor): void {
  const root = object(json, "request");
  array(field(root, "resourceLogs"), "resourceLogs").forEach((r, i) => {
    const path = `resourceLogs[${i}]`;
    const o = object(r, path);
    const resource = object(field(o, "resource"), `${path}.resource`);
    visitor.resource(keyValues(resource.attributes, `${path}.resource.attributes`, 0));
    array(field(o, "scopeLogs"), `${path}.scopeLogs`).forEach((s, n) =>
      scopeLogs(s, `${path}.scopeLogs[${n}]`, visitor)
    );
  });
}
