/**
 * OpenTelemetry logs (an OTLP `ExportLogsServiceRequest`) mapped to a push
 * payload as Loki 3 maps them by default (loki `pkg/loghttp/push/otlp.go`,
 * `otlplabels`):
 *
 * - the resource attributes named in {@linkcode OTLP_STREAM_ATTRIBUTES}
 *   become stream labels, their names with every character that a label name
 *   cannot hold turned into `_` (`service.name` → `service_name`); a resource
 *   without `service.name` gets a `service_name` discovered from its labels
 *   as for Loki pushes, else `unknown_service`;
 * - the other resource attributes, the scope's attributes, name and version
 *   (`scope_name`, `scope_version`) and the record's attributes become
 *   structured metadata, maps flattened with `_` between the keys;
 * - `severity_number` and `severity_text`, `trace_id` and `span_id` (hex),
 *   `observed_timestamp` (when the record has a time of its own too),
 *   `flags`, `dropped_attributes_count` and `event_name` become structured
 *   metadata; `detected_level` is then derived from them as for every Loki
 *   push;
 * - the body becomes the line: a string as it is, other values as Loki's
 *   `AsString` writes them (maps and arrays as JSON with sorted keys);
 * - `time_unix_nano` is the timestamp, else `observed_time_unix_nano`, else
 *   the time of decoding.
 *
 * A record's own metadata wins over its scope's, which wins over its
 * resource's, where names collide. A record whose time cannot be stored,
 * or a resource whose labels are invalid, is rejected and counted; the others
 * are stored.
 *
 * @module
 */

import { Buffer } from "node:buffer";
import { canonicalLabels, type PushError, type PushPayload, type PushStream } from "./payload.ts";
import { addServiceName, UNKNOWN_SERVICE } from "./service_name.ts";

/** An OTLP `AnyValue`: `bigint` for `int_value`, `number` for `double_value`. */
export type OtlpValue =
  | string
  | boolean
  | bigint
  | number
  | Uint8Array
  | OtlpValue[]
  | Map<string, OtlpValue>
  | undefined;

/** One `LogRecord`, as decoded from protobuf or JSON. */
export interface OtlpRecord {
  time: bigint;
  observedTime: bigint;
  severityNumber: number;
  severityText: string;
  body: OtlpValue;
  attributes: Map<string, OtlpValue>;
  droppedAttributesCount: number;
  flags: number;
  traceId: Uint8Array;
  spanId: Uint8Array;
  eventName: string;
}

/**
 * What a decoder reports as it walks a request, in order: each resource, then
 * each of its scopes, then each of the scope's records. A decoder may reuse
 * the record object it passes: a visitor copies what it keeps.
 */
export interface OtlpVisitor {
  /**
   * A `ResourceLogs` starts; its attributes, a map the visitor must not
   * change: a decoder may hand the same map over again.
   */
  resource(attributes: Map<string, OtlpValue>): void;
  /** A `ScopeLogs` of the current resource starts. */
  scope(name: string, version: string, attributes: Map<string, OtlpValue>): void;
  /** A record of the current scope. */
  record(record: OtlpRecord): void;
}

const NO_BYTES = new Uint8Array(0);

/**
 * A record with every field at its default, for decoders to fill; given
 * `reuse`, that record is reset instead (its attributes map emptied).
 */
export function emptyRecord(reuse?: OtlpRecord): OtlpRecord {
  if (reuse === undefined) {
    return {
      time: 0n,
      observedTime: 0n,
      severityNumber: 0,
      severityText: "",
      body: undefined,
      attributes: new Map(),
      droppedAttributesCount: 0,
      flags: 0,
      traceId: NO_BYTES,
      spanId: NO_BYTES,
      eventName: "",
    };
  }
  reuse.time = reuse.observedTime = 0n;
  reuse.severityNumber = reuse.droppedAttributesCount = reuse.flags = 0;
  reuse.severityText = reuse.eventName = "";
  reuse.body = undefined;
  if (reuse.attributes.size > 0) reuse.attributes.clear();
  reuse.traceId = reuse.spanId = NO_BYTES;
  return reuse;
}

/** Deepest nesting of `AnyValue`s a decoder follows. */
export const MAX_VALUE_DEPTH = 32;

/**
 * Loki's default `default_resource_attributes_as_index_labels`: the resource
 * attributes that become stream labels.
 */
export const OTLP_STREAM_ATTRIBUTES: readonly string[] = [
  "service.name",
  "service.namespace",
  "service.instance.id",
  "deployment.environment",
  "deployment.environment.name",
  "cloud.region",
  "cloud.availability_zone",
  "k8s.cluster.name",
  "k8s.namespace.name",
  "k8s.pod.name",
  "k8s.container.name",
  "container.name",
  "k8s.replicaset.name",
  "k8s.deployment.name",
  "k8s.statefulset.name",
  "k8s.daemonset.name",
  "k8s.cronjob.name",
  "k8s.job.name",
];

/** The outcome of mapping a request: what is stored and what was rejected. */
export interface OtlpPayload {
  /** The records that are stored, as a push payload (no streams when none). */
  payload: PushPayload;
  /** How many records were rejected. */
  rejected: number;
  /** Why the first rejected record was, or `""`. */
  reason: string;
}

/**
 * An attribute name as a label name: characters other than ASCII letters,
 * digits and `_` become `_`; a leading digit gets `key_` before it.
 *
 * @example
 * ```ts
 * import { otlpLabelName } from "./otlp.ts";
 * import assert from "node:assert/strict";
 * assert.equal(otlpLabelName("service.name"), "service_name");
 * assert.equal(otlpLabelName("http.status-code"), "http_status_code");
 * assert.equal(otlpLabelName("1st"), "key_1st");
 * ```
 */
export function otlpLabelName(name: string): string {
  const clean = name.replace(/[^A-Za-z0-9_]/g, "_");
  return /^[0-9]/.test(clean) ? `key_${clean}` : clean;
}

/** A double as pdata's `AsString` writes it: as JavaScript does, but `-0` and `Infinity` kept. */
function goFloat(f: number): string {
  if (Object.is(f, -0)) return "-0";
  return Number.isFinite(f)
    ? String(f)
    : Number.isNaN(f)
    ? "NaN"
    : f > 0
    ? "Infinity"
    : "-Infinity";
}

/** A string as Go's `encoding/json` writes it without HTML escaping (U+2028 and U+2029 escaped). */
function goJsonString(s: string): string {
  return JSON.stringify(s).replace(
    /[\u2028\u2029]/g,
    (c) => c === "\u2028" ? "\\u2028" : "\\u2029",
  );
}

/** A value as JSON, as Loki writes a map or array body (keys sorted, bytes base64). */
function goJson(v: OtlpValue): string {
  if (v === undefined) return "null";
  if (typeof v === "string") return goJsonString(v);
  if (typeof v === "boolean" || typeof v === "bigint") return String(v);
  if (typeof v === "number") return Number.isFinite(v) ? JSON.stringify(v) : "null";
  if (v instanceof Uint8Array) return `"${encodeBase64(v)}"`;
  if (Array.isArray(v)) return `[${v.map(goJson).join(",")}]`;
  const keys = [...v.keys()].sort();
  return `{${keys.map((k) => `${goJsonString(k)}:${goJson(v.get(k))}`).join(",")}}`;
}

/**
 * A value as text, as pdata's `Value.AsString` writes it: strings as they
 * are, maps and arrays as JSON (keys sorted), bytes as base64.
 *
 * @example
 * ```ts
 * import { type OtlpValue, otlpValueString } from "./otlp.ts";
 * import assert from "node:assert/strict";
 * assert.equal(otlpValueString("hi"), "hi");
 * assert.equal(otlpValueString(42n), "42");
 * assert.equal(otlpValueString(1.5), "1.5");
 * const map = new Map<string, OtlpValue>([["b", 1n], ["a", "x<"]]);
 * assert.equal(otlpValueString(map), '{"a":"x<","b":1}');
 * assert.equal(otlpValueString(undefined), "");
 * ```
 */
export function otlpValueString(v: OtlpValue): string {
  if (v === undefined) return "";
  if (typeof v === "string") return v;
  if (typeof v === "boolean" || typeof v === "bigint") return String(v);
  if (typeof v === "number") return goFloat(v);
  if (v instanceof Uint8Array) return encodeBase64(v);
  return goJson(v);
}

/** Adds `name` = `value` to `into` as labels: maps flattened, names cleaned. */
function flatten(name: string, value: OtlpValue, into: Map<string, string>): void {
  const key = otlpLabelName(name);
  if (value instanceof Map) {
    for (const [k, v] of value) flatten(`${key}_${k}`, v, into);
  } else if (!into.has(key)) into.set(key, otlpValueString(value));
}

const encodeBase64 = (bytes: Uint8Array) =>
  Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64");

const hex = (bytes: Uint8Array) =>
  Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");

/** Largest time that a stored timestamp holds. */
const MAX_NS = 2n ** 63n - 1n;

const nonZero = (bytes: Uint8Array) => bytes.some((b) => b !== 0);

/** Whether a record carries structured metadata of its own. */
function hasOwnMetadata(r: OtlpRecord): boolean {
  return r.attributes.size > 0 || (r.time !== 0n && r.observedTime !== 0n) ||
    r.severityNumber !== 0 || r.severityText !== "" || r.droppedAttributesCount !== 0 ||
    r.flags !== 0 || nonZero(r.traceId) || nonZero(r.spanId) || r.eventName !== "";
}

/** The structured metadata that a record carries itself, in Loki's order. */
function recordMetadata(r: OtlpRecord, into: Map<string, string>): void {
  for (const [k, v] of r.attributes) flatten(k, v, into);
  const own = (name: string, value: string) => {
    if (!into.has(name)) into.set(name, value);
  };
  if (r.time !== 0n && r.observedTime !== 0n) own("observed_timestamp", String(r.observedTime));
  if (r.severityNumber !== 0) own("severity_number", String(r.severityNumber));
  if (r.severityText !== "") own("severity_text", r.severityText);
  if (r.droppedAttributesCount !== 0) {
    own("dropped_attributes_count", String(r.droppedAttributesCount));
  }
  if (r.flags !== 0) own("flags", String(r.flags));
  if (nonZero(r.traceId)) own("trace_id", hex(r.traceId));
  if (nonZero(r.spanId)) own("span_id", hex(r.spanId));
  if (r.eventName !== "") own("event_name", r.eventName);
}

/** The columns of one stream being built. */
interface StreamColumns {
  ts: bigint[];
  lines: string[];
  metadata: (string | undefined)[];
  /** Whether any line has metadata. */
  described: boolean;
}

const metadataJson = (m: Map<string, string>) =>
  m.size === 0 ? undefined : JSON.stringify(Object.fromEntries(m));

/** What a resource's attributes map to, under one set of stream attributes. */
interface MappedResource {
  /** The stream attributes it was mapped under. */
  indexed: ReadonlySet<string>;
  /** The stream's canonical labels; `undefined` when they cannot be stored. */
  key: string | undefined;
  /** Why the labels cannot be stored. */
  refusal: string;
  /** The other attributes, as the structured metadata of its records. */
  metadata: Map<string, string>;
  metadataJson: string | undefined;
}

function mapResource(
  attributes: Map<string, OtlpValue>,
  indexed: ReadonlySet<string>,
): MappedResource {
  const labels: Record<string, string> = {};
  const metadata = new Map<string, string>();
  for (const [k, v] of attributes) {
    if (indexed.has(k)) {
      const flat = new Map<string, string>();
      flatten(k, v, flat);
      for (const [name, value] of flat) labels[name] = value;
    } else flatten(k, v, metadata);
  }
  addServiceName(labels);
  if (labels.service_name === undefined || labels.service_name === "") {
    labels.service_name = UNKNOWN_SERVICE;
  }
  let key: string | undefined;
  let refusal = "";
  try {
    key = canonicalLabels(labels, 0);
  } catch (error) {
    refusal = (error as PushError).message.replace(/^stream \d+: /, "");
  }
  return { indexed, key, refusal, metadata, metadataJson: metadataJson(metadata) };
}

/**
 * Resources mapped lately, by their attribute map: a decoder that meets the
 * same resource bytes again hands over the same map (the protobuf decoder
 * does), so its labels are not worked out again for every request.
 */
const mappedResources = new WeakMap<Map<string, OtlpValue>, MappedResource>();

/** The set of each list of stream attributes, made once per list (the server's is one). */
const indexedSets = new WeakMap<readonly string[], ReadonlySet<string>>();

/**
 * Maps what a decoder visits to a payload, `streamAttributes` naming the
 * resource attributes that become labels. Records of one label set form one
 * stream; `now` is the time of records that carry none. Lines without
 * metadata carry none (no `{}`).
 *
 * @example
 * ```ts
 * import { emptyRecord, OtlpMapper, OTLP_STREAM_ATTRIBUTES } from "./otlp.ts";
 * import assert from "node:assert/strict";
 * const mapper = new OtlpMapper(OTLP_STREAM_ATTRIBUTES, 0n);
 * mapper.resource(new Map([["service.name", "api"], ["host.name", "h1"]]));
 * mapper.scope("lib", "", new Map());
 * mapper.record({ ...emptyRecord(), time: 5n, body: "hello", severityText: "WARN" });
 * const { payload, rejected } = mapper.finish();
 * assert.equal(rejected, 0);
 * assert.equal(payload.streams[0].key, '{"service_name":"api"}');
 * assert.deepEqual(payload.streams[0].lines, ["hello"]);
 * assert.deepEqual(
 *   JSON.parse(payload.streams[0].metadata![0]!),
 *   { severity_text: "WARN", scope_name: "lib", host_name: "h1" },
 * );
 * ```
 */
export class OtlpMapper implements OtlpVisitor {
  readonly #indexed: ReadonlySet<string>;
  readonly #now: bigint;
  readonly #streams = new Map<string, StreamColumns>();
  #resources = 0;
  #lines = 0;
  #rejected = 0;
  #reason = "";
  /** The current resource's stream; `undefined` when its labels were refused. */
  #stream: StreamColumns | undefined;
  #resourceMetadata = new Map<string, string>();
  /** The current scope's metadata, then its resource's: what its records inherit. */
  #inherited = new Map<string, string>();
  #inheritedJson: string | undefined;

  /** A mapper of resources whose `streamAttributes` become labels. */
  constructor(streamAttributes: readonly string[], now: bigint) {
    let indexed = indexedSets.get(streamAttributes);
    if (indexed === undefined) {
      indexedSets.set(streamAttributes, indexed = new Set(streamAttributes));
    }
    this.#indexed = indexed;
    this.#now = now;
  }

  #reject(why: string): void {
    this.#rejected++;
    this.#reason ||= why;
  }

  /** A resource starts: its labels and the metadata its records inherit. */
  resource(attributes: Map<string, OtlpValue>): void {
    const i = this.#resources++;
    let mapped = mappedResources.get(attributes);
    if (mapped?.indexed !== this.#indexed) {
      mapped = mapResource(attributes, this.#indexed);
      mappedResources.set(attributes, mapped);
    }
    this.#stream = undefined;
    this.#inherited = this.#resourceMetadata = mapped.metadata;
    this.#inheritedJson = mapped.metadataJson;
    if (mapped.key === undefined) {
      this.#reason ||= `resource ${i}: ${mapped.refusal}`;
      return;
    }
    let stream = this.#streams.get(mapped.key);
    if (stream === undefined) {
      this.#streams.set(mapped.key, stream = { ts: [], lines: [], metadata: [], described: false });
    }
    this.#stream = stream;
  }

  /** A scope of the current resource starts. */
  scope(name: string, version: string, attributes: Map<string, OtlpValue>): void {
    const inherited = new Map<string, string>();
    for (const [k, v] of attributes) flatten(k, v, inherited);
    if (name !== "") inherited.set("scope_name", name);
    if (version !== "") inherited.set("scope_version", version);
    for (const [k, v] of this.#resourceMetadata) if (!inherited.has(k)) inherited.set(k, v);
    this.#inherited = inherited;
    this.#inheritedJson = metadataJson(inherited);
  }

  /** A record of the current scope: stored, or counted as rejected. */
  record(record: OtlpRecord): void {
    const stream = this.#stream;
    if (stream === undefined) {
      this.#rejected++; // its resource's labels were refused, and named
      return;
    }
    const ts = record.time !== 0n
      ? record.time
      : record.observedTime !== 0n
      ? record.observedTime
      : this.#now;
    if (ts > MAX_NS) {
      this.#reject(
        `resource ${this.#resources - 1}: time ${ts} is past the largest time that can be stored`,
      );
      return;
    }
    let metadata = this.#inheritedJson;
    if (hasOwnMetadata(record)) {
      const own = new Map<string, string>();
      recordMetadata(record, own);
      for (const [k, v] of this.#inherited) if (!own.has(k)) own.set(k, v);
      metadata = metadataJson(own);
    }
    stream.ts.push(ts);
    stream.lines.push(otlpValueString(record.body));
    stream.metadata.push(metadata);
    if (metadata !== undefined) stream.described = true;
    this.#lines++;
  }

  /** The payload of every stored record, and what was rejected. */
  finish(): OtlpPayload {
    const out: PushStream[] = [];
    for (const [key, s] of this.#streams) {
      if (s.ts.length === 0) continue;
      out.push({ key, ts: s.ts, lines: s.lines, metadata: s.described ? s.metadata : undefined });
    }
    return {
      payload: { streams: out, lines: this.#lines },
      rejected: this.#rejected,
      reason: this.#reason,
    };
  }
}
