/**
 * Fields detected in a sample of lines, as Loki's `detected_fields` and
 * `detected_field/<name>/values` find them (loki
 * `pkg/querier/queryrange/detected_fields.go`): the structured metadata of
 * each line, and what parsers find in it — the labels the query's own
 * parsers added, and those `| json` finds in the line (`| logfmt` when it is
 * not a JSON object), named as those parsers name them (a stream label's
 * name gets `_extracted`). `__error__` and `__error_details__` are not fields.
 *
 * Each field has a type, the narrowest of `int`, `float`, `boolean`,
 * `duration` and `bytes` that every value it took parses as (else
 * `string`), its number of distinct values, the parser that found it
 * (`null` for structured metadata) and, for JSON, the keys that lead to it.
 * Loki takes the type of the last value it saw; loge's type holds for all.
 *
 * @module
 */

import { ERROR_DETAILS_LABEL, ERROR_LABEL, LabelsBuilder } from "./pipeline/labels.ts";
import { flattenJson, parseJsonObject } from "./pipeline/json.ts";
import { logfmtStage } from "./pipeline/logfmt.ts";
import { parseBytes, parseDuration, parseNumber } from "./pipeline/label_filter.ts";
import type { LogEntry } from "./top_entries.ts";

/** A field's type, in Loki's words (loki `pkg/logproto/extensions.go`). */
export type FieldType = "int" | "float" | "boolean" | "duration" | "bytes" | "string";

/** One detected field. */
export interface DetectedField {
  readonly label: string;
  readonly type: FieldType;
  /** Distinct values in the lines looked at. */
  readonly cardinality: number;
  /** `["json"]` or `["logfmt"]` for parsed fields, `null` for structured metadata. */
  readonly parsers: string[] | null;
  /** For a field `| json` found: the keys that lead to it in the line. */
  readonly jsonPath?: string[];
}

const INT = /^[+-]?\d+$/;
const BOOLEAN = new Set([
  "1",
  "t",
  "T",
  "TRUE",
  "true",
  "True",
  "0",
  "f",
  "F",
  "FALSE",
  "false",
  "False",
]);

/** The tests of each type but string, narrowest first (Go's parsers, as Loki's `determineType`). */
const TYPES: [FieldType, (value: string) => boolean][] = [
  // strconv.ParseInt(v, 10, 64)
  ["int", (v) => INT.test(v) && BigInt(v) >= -(2n ** 63n) && BigInt(v) < 2n ** 63n],
  ["float", (v) => parseNumber(v) !== undefined],
  ["boolean", (v) => BOOLEAN.has(v)],
  ["duration", (v) => parseDuration(v) !== undefined],
  ["bytes", (v) => parseBytes(v) !== undefined],
];

/**
 * The narrowest type every one of `values` parses as.
 *
 * @example
 * ```ts
 * import { typeOf } from "./detected_fields.ts";
 * import assert from "node:assert/strict";
 * assert.equal(typeOf(["200", "404"]), "int");
 * assert.equal(typeOf(["1", "2.5"]), "float");
 * assert.equal(typeOf(["0", "250ms"]), "duration");
 * assert.equal(typeOf(["10KB", "3 MiB"]), "bytes");
 * assert.equal(typeOf(["GET", "200"]), "string");
 * ```
 */
export function typeOf(values: Iterable<string>): FieldType {
  const list = [...values];
  return TYPES.find(([, test]) => list.every(test))?.[0] ?? "string";
}

/** What one line holds: its metadata, and its parsed fields with the parser and JSON paths. */
interface LineFields {
  readonly metadata: Readonly<Record<string, string>>;
  readonly parsed: Record<string, string>;
  /** The parser that read the line: `json` for a JSON object, else `logfmt`. */
  readonly parser: "json" | "logfmt";
  readonly jsonPaths: Map<string, string[]>;
}

const logfmt = logfmtStage({ kind: "logfmt", strict: false, keepEmpty: false });
const NOT_FIELDS = new Set([ERROR_LABEL, ERROR_DETAILS_LABEL]);

/** The fields of `entry`: its metadata, and the query's parsed labels with what json or logfmt find. */
function fieldsOf(entry: LogEntry): LineFields {
  const labels = new LabelsBuilder(entry.stream);
  const jsonPaths = new Map<string, string[]>();
  let parser: LineFields["parser"] = "json";
  const obj = parseJsonObject(entry.line, labels);
  if (obj) {
    flattenJson(obj, (name, value, path) => {
      labels.setParsed(name, value);
      const field = labels.parsedName(name);
      // The first key of a name gives its value, and so its path.
      if (!jsonPaths.has(field)) jsonPaths.set(field, path);
    });
  } else {
    labels.clearErrorLabel(ERROR_LABEL);
    labels.clearErrorLabel(ERROR_DETAILS_LABEL);
    parser = "logfmt";
    logfmt({ line: entry.line, labels });
  }
  const parsed: Record<string, string> = {};
  for (const [name, value] of Object.entries(entry.parsed ?? {})) {
    if (!NOT_FIELDS.has(name)) parsed[name] = value;
  }
  for (const [name, value] of Object.entries(labels.final(new Map()).parsed ?? {})) {
    if (!NOT_FIELDS.has(name)) parsed[name] = value;
  }
  return { metadata: entry.metadata ?? {}, parsed, parser, jsonPaths };
}

/** A field being gathered. */
interface Gathered {
  readonly values: Set<string>;
  parsers: string[] | null;
  jsonPath?: string[];
}

/**
 * The fields of `entries`, at most `limit` (the first seen), by name.
 *
 * @example
 * ```ts
 * import { detectFields } from "./detected_fields.ts";
 * import assert from "node:assert/strict";
 * const stream = { key: '{"app":"web"}', labels: { app: "web" } };
 * const fields = detectFields([
 *   { ts: 2n, line: '{"status":200,"req":{"ms":1.5}}', stream, metadata: { trace_id: "a1" } },
 *   { ts: 1n, line: '{"status":503,"req":{"ms":20}}', stream, metadata: { trace_id: "b2" } },
 * ], 1000);
 * assert.deepEqual(fields, [
 *   { label: "req_ms", type: "float", cardinality: 2, parsers: ["json"], jsonPath: ["req", "ms"] },
 *   { label: "status", type: "int", cardinality: 2, parsers: ["json"], jsonPath: ["status"] },
 *   { label: "trace_id", type: "string", cardinality: 2, parsers: null },
 * ]);
 * ```
 */
export function detectFields(entries: readonly LogEntry[], limit: number): DetectedField[] {
  const fields = new Map<string, Gathered>();
  const gather = (name: string, parsers: string[] | null): Gathered | undefined => {
    let field = fields.get(name);
    if (!field && fields.size < limit) fields.set(name, field = { values: new Set(), parsers });
    return field;
  };
  for (const entry of entries) {
    const line = fieldsOf(entry);
    for (const [name, value] of Object.entries(line.metadata)) {
      gather(name, null)?.values.add(value);
    }
    for (const [name, value] of Object.entries(line.parsed)) {
      const field = gather(name, [line.parser]);
      if (!field) continue;
      field.values.add(value);
      if (!field.parsers?.includes(line.parser)) {
        field.parsers = [...field.parsers ?? [], line.parser];
      }
      if (line.parser === "json") field.jsonPath = line.jsonPaths.get(name);
    }
  }
  return [...fields].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([label, f]) => ({
    label,
    type: typeOf(f.values),
    cardinality: f.values.size,
    parsers: f.parsers,
    ...(f.jsonPath ? { jsonPath: f.jsonPath } : {}),
  }));
}

const SI_UNITS = ["B", "kB", "MB", "GB", "TB", "PB", "EB"];
/** Units after which Loki rewrites a byte size (loki `allowedBytesUnits`). */
const BYTE_SUFFIXES =
  /(?:b|kib|kb|mib|mb|gib|gb|tib|tb|pib|pb|eib|eb|ki|k|mi|m|gi|g|ti|t|pi|p|ei|e)$/;

/** go-humanize's `Bytes` (SI units, one decimal under 10), its first space removed, as Loki writes sizes. */
function humanBytes(bytes: number): string {
  const n = Math.floor(bytes);
  if (n < 10) return `${n}B`;
  let e = 0;
  while (e < SI_UNITS.length - 1 && n >= 1000 ** (e + 1)) e++;
  const value = Math.floor((n / 1000 ** e) * 10 + 0.5) / 10;
  return `${value < 10 ? value.toFixed(1) : value.toFixed(0)}${SI_UNITS[e]}`;
}

/**
 * The distinct values of field `name` in `entries` (from metadata and from
 * parsers), sorted, at most `limit`. A parsed byte size with a unit is
 * rewritten in SI units (`2KiB` → `2.0kB`), as Loki writes it so that it can
 * go into a query as it is.
 *
 * @example
 * ```ts
 * import { fieldValues } from "./detected_fields.ts";
 * import assert from "node:assert/strict";
 * const stream = { key: '{"app":"web"}', labels: { app: "web" } };
 * const entries = [
 *   { ts: 3n, line: "level=warn size=2KiB", stream },
 *   { ts: 2n, line: "level=info size=512", stream },
 *   { ts: 1n, line: "no fields", stream, metadata: { level: "debug" } },
 * ];
 * assert.deepEqual(fieldValues(entries, "level", 10), ["debug", "info", "warn"]);
 * assert.deepEqual(fieldValues(entries, "size", 10), ["2.0kB", "512"]);
 * ```
 */
export function fieldValues(entries: readonly LogEntry[], name: string, limit: number): string[] {
  const values = new Set<string>();
  for (const entry of entries) {
    if (values.size >= limit) break;
    const line = fieldsOf(entry);
    if (Object.hasOwn(line.metadata, name)) values.add(line.metadata[name]);
    if (!Object.hasOwn(line.parsed, name)) continue;
    const value = line.parsed[name];
    const bytes = parseBytes(value);
    values.add(
      bytes !== undefined && BYTE_SUFFIXES.test(value.toLowerCase()) ? humanBytes(bytes) : value,
    );
  }
  return [...values].sort().slice(0, limit);
}
