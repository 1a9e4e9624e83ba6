/**
 * Elasticsearch bulk bodies (`POST /_bulk`): NDJSON pairs of an action line
 * (`index` or `create`) and a document line, mapped as VictoriaLogs maps them.
 * The message field becomes the line, the time field the timestamp (RFC 3339
 * or unix seconds, milliseconds, microseconds or nanoseconds; missing: the
 * time the request arrived), the stream fields the labels and every other
 * field, flattened with `_` for `.`, structured metadata. As on Loki's push,
 * a stream without `service_name` gets one derived from its labels
 * (`unknown_service` when it has none), and each line of a stream without a
 * level label a `detected_level`. Documents with equal labels form one
 * stream.
 *
 * The WAL keeps the body as it arrived behind one header line that holds the
 * mapping and the arrival time ({@linkcode frameEsBulk}), so replay decodes it
 * to the same payload whatever the flags are then.
 *
 * @module
 */

import { PushError, type PushPayload, validatePush } from "./payload.ts";
import { describeValue } from "../describe.ts";
import { MAX_TS, parseTime } from "../time.ts";
import { addServiceName, UNKNOWN_SERVICE } from "./service_name.ts";
import { addDetectedLevels } from "./detected_level.ts";

/** Which document fields become what. */
export interface EsBulkMapping {
  /** Fields (dotted paths) whose values become the stream labels. */
  readonly streamFields: readonly string[];
  /** Fields tried in order for the line; the first present wins. */
  readonly msgFields: readonly string[];
  /** The field holding the timestamp. */
  readonly timeField: string;
}

/** One item of the bulk answer, keyed by its action as Elasticsearch answers it. */
export type EsBulkItem = Record<string, {
  _index: string;
  status: number;
  result?: string;
  error?: { type: string; reason: string };
}>;

/** A decoded bulk body: the payload to store (none when no document was good) and the items. */
export interface EsBulk {
  readonly payload: PushPayload | undefined;
  readonly items: EsBulkItem[];
}

/** Most documents in one bulk request. */
export const MAX_BULK_DOCUMENTS = 100_000;

const encoder = new TextEncoder();
const utf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * The WAL record of a bulk body: a header line with the mapping and the
 * arrival time, then the body as it arrived.
 *
 * @example
 * ```ts
 * import { decodeEsBulk, frameEsBulk } from "./es_bulk.ts";
 * import assert from "node:assert/strict";
 * const mapping = { streamFields: ["app"], msgFields: ["message"], timeField: "@timestamp" };
 * const body = new TextEncoder().encode('{"index":{}}\n{"app":"web","message":"hi"}\n');
 * const { payload, items } = decodeEsBulk(frameEsBulk(mapping, 5n, body));
 * assert.equal(items[0].index.status, 201);
 * assert.deepEqual(payload!.streams[0].ts, [5n]);
 * ```
 */
export function frameEsBulk(
  mapping: EsBulkMapping,
  receivedNs: bigint,
  body: Uint8Array,
): Uint8Array {
  const header = encoder.encode(
    JSON.stringify({ ...mapping, receivedNs: receivedNs.toString() }) + "\n",
  );
  const framed = new Uint8Array(header.length + body.length);
  framed.set(header);
  framed.set(body, header.length);
  return framed;
}

/** A document that cannot be stored: answered in its item, the rest go on. */
class DocumentError extends Error {
  constructor(readonly type: string, reason: string) {
    super(reason);
  }
}

/** Label and metadata names: `.` and anything else a Loki name refuses become `_`. */
function nameOf(field: string): string {
  const name = field.replace(/[^a-zA-Z0-9_]/g, "_");
  return /^[0-9]/.test(name) ? `_${name}` : name;
}

/** Flattens `value` into `out` with dotted keys; arrays are kept as JSON, nulls dropped. */
function flatten(prefix: string, value: unknown, out: Map<string, unknown>): void {
  if (value === null || value === undefined) return;
  if (typeof value === "object" && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value)) flatten(prefix ? `${prefix}.${k}` : k, v, out);
  } else out.set(prefix, value);
}

function text(value: unknown): string {
  return typeof value === "string" ? value : JSON.stringify(value);
}

/**
 * A unix time in decimal: seconds, milliseconds, microseconds or nanoseconds,
 * told apart by the size of the integer part as VictoriaLogs does; exact in
 * bigint arithmetic.
 */
function unixNanos(decimal: string): bigint | undefined {
  const m = /^(\d{1,19})(?:\.(\d+))?$/.exec(decimal);
  if (!m) return undefined;
  const [, whole, fraction = ""] = m;
  const digits = whole.replace(/^0+(?=\d)/, "").length;
  const scale = digits <= 11 ? 9 : digits <= 14 ? 6 : digits <= 17 ? 3 : 0;
  return BigInt(whole + fraction.padEnd(scale, "0").slice(0, scale));
}

function timestampOf(value: unknown, field: string): bigint {
  const ns = typeof value === "number"
    ? unixNanos(String(value))
    : typeof value === "string"
    ? unixNanos(value) ?? parseTime(value)
    : undefined;
  if (ns === undefined || ns > MAX_TS) {
    throw new DocumentError(
      "mapper_parsing_exception",
      `field ${JSON.stringify(field)} is not an RFC 3339 time or a unix timestamp: ${
        describeValue(value)
      }`,
    );
  }
  return ns;
}

interface Stream {
  stream: Record<string, string>;
  values: [string, string, Record<string, string>][];
}

/** Maps one document to its labels and value, or throws a {@linkcode DocumentError}. */
function mapDocument(
  line: string,
  mapping: EsBulkMapping,
  receivedNs: bigint,
): { labels: Record<string, string>; value: [string, string, Record<string, string>] } {
  let doc: unknown;
  try {
    doc = JSON.parse(line);
  } catch (error) {
    throw new DocumentError(
      "mapper_parsing_exception",
      `document is not JSON: ${(error as Error).message}`,
    );
  }
  if (typeof doc !== "object" || doc === null || Array.isArray(doc)) {
    throw new DocumentError(
      "mapper_parsing_exception",
      `document must be a JSON object, got ${describeValue(doc)}`,
    );
  }
  const fields = new Map<string, unknown>();
  flatten("", doc, fields);
  const msgField = mapping.msgFields.find((f) => fields.has(f));
  if (msgField === undefined) {
    throw new DocumentError(
      "mapper_parsing_exception",
      `document has no message field (${mapping.msgFields.join(", ")}; --es-msg-field)`,
    );
  }
  const message = text(fields.get(msgField));
  fields.delete(msgField);
  const ts = fields.has(mapping.timeField)
    ? timestampOf(fields.get(mapping.timeField), mapping.timeField)
    : receivedNs;
  fields.delete(mapping.timeField);
  const labels: Record<string, string> = {};
  for (const f of mapping.streamFields) {
    if (!fields.has(f)) continue;
    const value = text(fields.get(f));
    fields.delete(f);
    // Loki drops labels with empty values: so does the mapping.
    if (value !== "") labels[nameOf(f)] = value;
  }
  if (Object.keys(labels).length === 0) labels.service_name = UNKNOWN_SERVICE;
  else addServiceName(labels);
  const metadata: Record<string, string> = {};
  for (const [k, v] of fields) metadata[nameOf(k)] = text(v);
  return { labels, value: [ts.toString(), message, metadata] };
}

/**
 * Decodes a framed bulk body ({@linkcode frameEsBulk}) into a payload and
 * the answer's items. A document that cannot be mapped (not a JSON object,
 * no message field, a bad time) is answered with a 400 in its item; the
 * other documents are stored.
 *
 * @throws {PushError} when the body is malformed: an action line that is not
 * JSON or names no known action, an action without its document line, or
 * more than {@linkcode MAX_BULK_DOCUMENTS} documents. Nothing is stored.
 *
 * @example
 * ```ts
 * import { decodeEsBulk, frameEsBulk } from "./es_bulk.ts";
 * import assert from "node:assert/strict";
 * const mapping = { streamFields: ["host.name"], msgFields: ["message"], timeField: "@timestamp" };
 * const body = new TextEncoder().encode([
 *   '{"create":{"_index":"logs"}}',
 *   '{"@timestamp":"2026-01-01T00:00:00Z","host":{"name":"h1"},"message":"up","pid":7}',
 *   '{"create":{}}',
 *   '{"host":{"name":"h1"}}',
 * ].join("\n"));
 * const { payload, items } = decodeEsBulk(frameEsBulk(mapping, 0n, body));
 * assert.equal(items[0].create.status, 201);
 * assert.equal(items[1].create.status, 400);
 * assert.equal(payload!.streams[0].key, '{"host_name":"h1","service_name":"unknown_service"}');
 * assert.deepEqual(payload!.streams[0].lines, ["up"]);
 * assert.deepEqual(payload!.streams[0].metadata, ['{"pid":"7","detected_level":"unknown"}']);
 * ```
 */
export function decodeEsBulk(framed: Uint8Array): EsBulk {
  let all: string;
  try {
    all = utf8.decode(framed);
  } catch (error) {
    throw new PushError(`cannot decode bulk body: ${(error as Error).message}`);
  }
  const lines = all.split("\n");
  const header = JSON.parse(lines[0]) as EsBulkMapping & { receivedNs: string };
  const receivedNs = BigInt(header.receivedNs);
  const streams = new Map<string, Stream>();
  const items: EsBulkItem[] = [];
  let lines_ = 0;
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i].trim();
    if (line === "") continue;
    let action: unknown;
    try {
      action = JSON.parse(line);
    } catch (error) {
      throw new PushError(
        `cannot decode bulk body: line ${i}: action is not JSON: ${(error as Error).message}`,
      );
    }
    const names = typeof action === "object" && action !== null && !Array.isArray(action)
      ? Object.keys(action)
      : [];
    const name = names[0];
    if (names.length !== 1 || !["index", "create", "delete", "update"].includes(name)) {
      throw new PushError(
        `cannot decode bulk body: line ${i}: expected an action {"index":…}, {"create":…}, {"delete":…} or {"update":…}, got ${
          line.length > 100 ? `${line.slice(0, 100)}…` : line
        }`,
      );
    }
    const meta = (action as Record<string, unknown>)[name];
    const index = typeof meta === "object" && meta !== null &&
        typeof (meta as Record<string, unknown>)._index === "string"
      ? (meta as Record<string, string>)._index
      : "";
    if (items.length === MAX_BULK_DOCUMENTS) {
      throw new PushError(
        `cannot decode bulk body: more than ${MAX_BULK_DOCUMENTS} actions in one request`,
      );
    }
    let docLine: string | undefined;
    if (name !== "delete") {
      do i++; while (i < lines.length && lines[i].trim() === "");
      if (i >= lines.length) {
        throw new PushError(
          `cannot decode bulk body: the ${name} action at the end has no document line`,
        );
      }
      docLine = lines[i];
    }
    if (name === "delete" || name === "update") {
      items.push({
        [name]: {
          _index: index,
          status: 400,
          error: {
            type: "illegal_argument_exception",
            reason: `loge stores logs: the ${name} action is not supported, only index and create`,
          },
        },
      });
      continue;
    }
    try {
      const { labels, value } = mapDocument(docLine!, header, receivedNs);
      const key = JSON.stringify(labels);
      let stream = streams.get(key);
      if (!stream) streams.set(key, stream = { stream: labels, values: [] });
      stream.values.push(value);
      lines_++;
      items.push({ [name]: { _index: index, status: 201, result: "created" } });
    } catch (error) {
      if (!(error instanceof DocumentError)) throw error;
      items.push({
        [name]: { _index: index, status: 400, error: { type: error.type, reason: error.message } },
      });
    }
  }
  if (items.length === 0) throw new PushError("cannot decode bulk body: no actions");
  const payload = lines_ === 0
    ? undefined
    : addDetectedLevels(validatePush({ streams: [...streams.values()] }));
  return { payload, items };
}
