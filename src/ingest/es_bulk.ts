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

import {
  canonicalLabels,
  PushError,
  type PushPayload,
  type PushStream,
  wellFormed,
} from "./payload.ts";
import { describeValue } from "../describe.ts";
import { MAX_TS, parseTime, parseUnixTime } from "../time.ts";
import { addServiceName, UNKNOWN_SERVICE } from "./service_name.ts";
import { addDetectedLevels } from "./detected_level.ts";
import { frameRecord, unframeRecord } from "./framed_record.ts";
import { decodeUtf8 } from "../utf8.ts";
import { BodyScan, IN_CAP, Stop } from "./bulk_scan.ts";
import { ReceivedBody } from "./received_body.ts";

/** Which document fields become what. */
export interface EsBulkMapping {
  /** Fields (dotted paths) whose values become the stream labels. */
  readonly streamFields: readonly string[];
  /** Fields tried in order for the line; the first present wins. */
  readonly msgFields: readonly string[];
  /** The field holding the timestamp. */
  readonly timeField: string;
}

/**
 * One item of the bulk answer, keyed by its action as Elasticsearch answers
 * it. A stored document's item is only its status, as VictoriaLogs answers:
 * shippers read `status` and `error` alone, and the answer's size is part of
 * every bulk request's cost.
 */
export type EsBulkItem = Record<string, {
  _index?: string;
  status: number;
  error?: { type: string; reason: string };
}>;

/** A decoded bulk body: the payload to store (none when no document was good) and the items. */
export interface EsBulk {
  readonly payload: PushPayload | undefined;
  readonly items: EsBulkItem[];
}

/** Most documents in one bulk request. */
export const MAX_BULK_DOCUMENTS = 100_000;

/** What a bulk body's mapping depends on: the mapping in force and the arrival time. */
export interface EsBulkHeader extends EsBulkMapping {
  /** Arrival time, in nanoseconds: the time of documents without one. */
  readonly receivedNs: bigint;
}

/**
 * The WAL record of a bulk body, as its parts: a header line with the
 * mapping and the arrival time, then the body as it arrived (one buffer, or
 * its chunks).
 *
 * @example
 * ```ts
 * import { frameEsBulk, unframeEsBulk } from "./es_bulk.ts";
 * import assert from "node:assert/strict";
 * const header = { streamFields: ["app"], msgFields: ["message"], timeField: "@timestamp", receivedNs: 5n };
 * const [line, body] = frameEsBulk(new Uint8Array([0x7b, 0x7d]), header);
 * assert.deepEqual(unframeEsBulk(new Uint8Array([...line, ...body])), { header, body });
 * ```
 */
export function frameEsBulk(
  body: Uint8Array | readonly Uint8Array[],
  header: EsBulkHeader,
): Uint8Array[] {
  const { streamFields, msgFields, timeField, receivedNs } = header;
  return frameRecord(
    { streamFields, msgFields, timeField, receivedNs: String(receivedNs) },
    body,
  );
}

const isStrings = (v: unknown): v is string[] =>
  Array.isArray(v) && v.every((s) => typeof s === "string");

/**
 * The header and body of a record made by {@linkcode frameEsBulk}.
 *
 * @throws {Error} when the record has no valid header line.
 */
export function unframeEsBulk(record: Uint8Array): { header: EsBulkHeader; body: Uint8Array } {
  const { header, body } = unframeRecord(record, "bulk");
  const raw = header as Record<string, unknown> | null;
  if (
    !isStrings(raw?.streamFields) || !isStrings(raw.msgFields) ||
    typeof raw.timeField !== "string" || typeof raw.receivedNs !== "string" ||
    !/^[0-9]{1,19}$/.test(raw.receivedNs)
  ) {
    throw new Error("bulk record header is malformed");
  }
  return {
    header: {
      streamFields: raw.streamFields,
      msgFields: raw.msgFields,
      timeField: raw.timeField,
      receivedNs: BigInt(raw.receivedNs),
    },
    body,
  };
}

/** A document that cannot be stored: answered in its item, the rest go on. */
class DocumentError extends Error {
  constructor(readonly type: string, reason: string) {
    super(reason);
  }
}

/** Names by field, for labels and metadata; fields repeat from document to document. */
const names = new Map<string, string>();
/** Entries {@linkcode names} holds before it starts over. */
const NAME_CACHE_SIZE = 4096;

/** Label and metadata names: `.` and anything else a Loki name refuses become `_`. */
function nameOf(field: string): string {
  let name = names.get(field);
  if (name === undefined) {
    name = field.replace(/[^a-zA-Z0-9_]/g, "_");
    if (/^[0-9]/.test(name)) name = `_${name}`;
    if (names.size >= NAME_CACHE_SIZE) names.clear();
    names.set(field, name);
  }
  return name;
}

type Doc = Record<string, unknown>;

const isObject = (v: unknown): v is Doc => typeof v === "object" && v !== null && !Array.isArray(v);

/** Whether no field of `doc` holds an object: then its fields are its keys. */
function isFlat(doc: Doc): boolean {
  for (const k in doc) if (isObject(doc[k])) return false;
  return true;
}

/** `doc` with nested objects flattened to dotted keys; arrays are kept whole. */
function flatten(doc: Doc, prefix = "", out: Doc = {}): Doc {
  for (const k in doc) {
    const v = doc[k];
    if (isObject(v)) flatten(v, `${prefix}${k}.`, out);
    else out[`${prefix}${k}`] = v;
  }
  return out;
}

/** A field's value, `undefined` when it is missing or null (as if absent). */
function present(fields: Doc, name: string): unknown {
  const v = Object.hasOwn(fields, name) ? fields[name] : undefined;
  return v === null ? undefined : v;
}

function text(value: unknown): string {
  return wellFormed(typeof value === "string" ? value : JSON.stringify(value));
}

function timestampOf(value: unknown, field: string): bigint {
  const ns = typeof value === "number" ? parseUnixTime(String(value)) : typeof value === "string"
    // RFC 3339 first (a year then `-`): the time shippers send.
    ? (value.charCodeAt(4) === 0x2d ? parseTime(value) : parseUnixTime(value) ?? parseTime(value))
    : undefined;
  if (ns === undefined || ns < 0n || ns > MAX_TS) {
    throw new DocumentError(
      "mapper_parsing_exception",
      `field ${JSON.stringify(field)} is not an RFC 3339 time or a unix timestamp: ${
        describeValue(value)
      }`,
    );
  }
  return ns;
}

/** The columns of one stream being built. */
interface StreamColumns {
  ts: bigint[];
  lines: string[];
  metadata: (string | undefined)[];
  /** Whether any line has metadata. */
  described: boolean;
}

/** Maps the documents of one body into stream columns. */
class DocumentMapper {
  readonly streams = new Map<string, StreamColumns>();
  lines = 0;
  readonly #mapping: EsBulkMapping;
  readonly #streamFields: Set<string>;
  readonly #receivedNs: bigint;
  /** Streams by the values of their stream fields, for {@linkcode DocumentMapper.#streamOf}. */
  readonly #byValues = new Map<string, StreamColumns>();
  /** The stream field values of the last document looked up, and its stream. */
  readonly #lastValues: (string | undefined)[] = [];
  /** A scanned document's stream field values, reused from document to document. */
  readonly #values: unknown[];
  #lastStream: StreamColumns | undefined;
  /** The stream of each of the scanner's slots in this body, and the slots' generation. */
  readonly #slots: (StreamColumns | undefined)[] = [];
  #slotsGeneration = -1;

  constructor(header: EsBulkHeader) {
    this.#mapping = header;
    this.#streamFields = new Set(header.streamFields);
    this.#receivedNs = header.receivedNs;
    this.#values = new Array(header.streamFields.length);
  }

  /**
   * The stream of a document's stream field values (`undefined`: missing).
   * Documents of one body mostly share a few label sets, and follow others of
   * their source: a document whose values are the last one's is in its
   * stream; others are looked up by their string values, each set labelled,
   * named and checked once.
   */
  #streamOf(values: readonly unknown[], item: number): StreamColumns {
    const last = this.#lastValues;
    let same = this.#lastStream !== undefined;
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      if (v !== undefined && typeof v !== "string") {
        this.#lastStream = undefined; // `last` holds part of this document's values
        return this.#labelled(values, item);
      }
      if (same && v !== last[i]) same = false;
      last[i] = v;
    }
    if (same) return this.#lastStream!;
    // `last` holds this document's values now: none of it is the last stream's, and labels that
    // throw leave it without one, so the next document with them throws too.
    this.#lastStream = undefined;
    let key = "";
    for (const v of last) key += v === undefined ? "-" : `${v.length}:${v}`;
    let stream = this.#byValues.get(key);
    if (stream === undefined) this.#byValues.set(key, stream = this.#labelled(values, item));
    return this.#lastStream = stream;
  }

  /** The stream of a document's labels, checked. */
  #labelled(values: readonly unknown[], item: number): StreamColumns {
    return this.#columns(this.#labelKey(values, item));
  }

  /** The canonical labels of a document's stream field values, or throws a {@linkcode DocumentError}. */
  #labelKey(values: readonly unknown[], item: number): string {
    const labels: Record<string, string> = {};
    let labelled = false;
    this.#mapping.streamFields.forEach((f, i) => {
      const v = values[i];
      if (v === undefined || v === "") return; // Loki drops labels with empty values
      labels[nameOf(f)] = text(v);
      labelled = true;
    });
    if (labelled) addServiceName(labels);
    else labels.service_name = UNKNOWN_SERVICE;
    try {
      return canonicalLabels(labels, item);
    } catch (error) {
      throw new DocumentError(
        "mapper_parsing_exception",
        (error as PushError).message.replace(/^stream \d+: /, ""),
      );
    }
  }

  #columns(key: string): StreamColumns {
    let stream = this.streams.get(key);
    if (stream === undefined) {
      this.streams.set(key, stream = { ts: [], lines: [], metadata: [], described: false });
    }
    return stream;
  }

  /**
   * The stream of scanned document `j`. Documents of one slot share it, and
   * the slot's labels (or why they cannot be stored) are kept from body to
   * body with the scanner.
   */
  #scannedStream(scan: BodyScan, j: number, item: number): StreamColumns {
    const slot = scan.slot(j);
    if (slot < 0) return this.#streamOf(this.#scannedValues(scan, j), item);
    if (scan.generation !== this.#slotsGeneration) {
      this.#slots.length = 0; // the slots started afresh within the body
      this.#slotsGeneration = scan.generation;
    }
    let stream = this.#slots[slot];
    if (stream !== undefined) return stream;
    let key = scan.slotKey(slot) as string | DocumentError | undefined;
    if (key === undefined) {
      try {
        key = this.#labelKey(this.#scannedValues(scan, j), item);
      } catch (error) {
        if (!(error instanceof DocumentError)) throw error;
        key = error;
      }
      scan.labelSlot(slot, key);
    }
    if (key instanceof DocumentError) throw key;
    return this.#slots[slot] = stream = this.#columns(key);
  }

  /** Scanned document `j`'s stream field values, in a buffer reused from document to document. */
  #scannedValues(scan: BodyScan, j: number): unknown[] {
    const values = this.#values;
    for (let i = 0; i < values.length; i++) values[i] = scan.value(j, scan.streamIds[i]);
    return values;
  }

  #store(stream: StreamColumns, ts: bigint, line: string, metadata: string | undefined): void {
    stream.ts.push(ts);
    stream.lines.push(line);
    stream.metadata.push(metadata);
    stream.described ||= metadata !== undefined;
    this.lines++;
  }

  /** Stores one document's line, or throws a {@linkcode DocumentError}. */
  add(line: string, item: number): void {
    let doc: unknown;
    try {
      doc = JSON.parse(line);
    } catch (error) {
      throw new DocumentError(
        "mapper_parsing_exception",
        `document is not JSON: ${(error as Error).message}`,
      );
    }
    if (!isObject(doc)) {
      throw new DocumentError(
        "mapper_parsing_exception",
        `document must be a JSON object, got ${describeValue(doc)}`,
      );
    }
    const fields = isFlat(doc) ? doc : flatten(doc);
    const { msgFields, timeField } = this.#mapping;
    let msgField: string | undefined;
    for (const f of msgFields) {
      if (present(fields, f) !== undefined) {
        msgField = f;
        break;
      }
    }
    if (msgField === undefined) throw this.#noMessage();
    const time = present(fields, timeField);
    const ts = time === undefined ? this.#receivedNs : timestampOf(time, timeField);
    const stream = this.#streamOf(this.#mapping.streamFields.map((f) => present(fields, f)), item);
    let metadata: Record<string, string> | undefined;
    for (const k in fields) {
      if (k === msgField || k === timeField || this.#streamFields.has(k)) continue;
      const v = fields[k];
      if (v !== null && v !== undefined) (metadata ??= {})[nameOf(k)] = text(v);
    }
    this.#store(stream, ts, text(fields[msgField]), metadata && JSON.stringify(metadata));
  }

  /**
   * Stores document `j` of `scan`'s chunk as {@linkcode DocumentMapper.add}
   * stores it parsed, or throws the same {@linkcode DocumentError}.
   */
  addScanned(scan: BodyScan, j: number, item: number): void {
    const msgId = scan.msgId(j);
    if (msgId < 0) throw this.#noMessage();
    let ts = scan.time(j);
    if (ts === undefined) {
      const time = scan.value(j, scan.timeId);
      ts = time === undefined ? this.#receivedNs : timestampOf(time, this.#mapping.timeField);
    }
    const stream = this.#scannedStream(scan, j, item);
    this.#store(stream, ts, text(scan.value(j, msgId)), scan.metadata(j));
  }

  #noMessage(): DocumentError {
    return new DocumentError(
      "mapper_parsing_exception",
      `document has no message field (${this.#mapping.msgFields.join(", ")}; --es-msg-field)`,
    );
  }

  /** The payload of the stored documents, each line with its `detected_level`. */
  payload(): PushPayload | undefined {
    if (this.lines === 0) return undefined;
    const streams: PushStream[] = [];
    for (const [key, s] of this.streams) {
      streams.push({
        key,
        ts: s.ts,
        lines: s.lines,
        metadata: s.described ? s.metadata : undefined,
      });
    }
    return addDetectedLevels({ streams, lines: this.lines });
  }
}

/** The actions a bulk body may hold. */
const ACTIONS = new Set(["index", "create", "delete", "update"]);

/** A parsed action line. */
interface Action {
  readonly name: string;
  readonly index: string;
}

/** Actions by line: shippers send the same few action lines again and again. */
const actions = new Map<string, Action>();
/** Entries {@linkcode actions} holds before it starts over. */
const ACTION_CACHE_SIZE = 1024;

/** The action of line `n`, or throws a {@linkcode PushError} that names it. */
function actionOf(line: string, n: number): Action {
  const cached = actions.get(line);
  if (cached !== undefined) return cached;
  let raw: unknown;
  try {
    raw = JSON.parse(line);
  } catch (error) {
    throw new PushError(
      `cannot decode bulk body: line ${n}: action is not JSON: ${(error as Error).message}`,
    );
  }
  const keys = isObject(raw) ? Object.keys(raw) : [];
  if (keys.length !== 1 || !ACTIONS.has(keys[0])) {
    throw new PushError(
      `cannot decode bulk body: line ${n}: expected an action {"index":…}, {"create":…}, {"delete":…} or {"update":…}, got ${
        line.length > 100 ? `${line.slice(0, 100)}…` : line
      }`,
    );
  }
  const meta = (raw as Doc)[keys[0]];
  const index = isObject(meta) && typeof meta._index === "string" ? meta._index : "";
  const action = { name: keys[0], index };
  if (actions.size >= ACTION_CACHE_SIZE) actions.clear();
  actions.set(line, action);
  return action;
}

/** Whether a line holds only white space (what `trim` removes). */
function isBlank(line: string): boolean {
  return line.trim() === "";
}

/** The action of line `n`, `undefined` when it is blank; throws a {@linkcode PushError} for a bad one. */
function lineAction(line: string, n: number): Action | undefined {
  // Shippers send action lines without blanks around them: no trim to look them up.
  const action = actions.get(line);
  if (action !== undefined || isBlank(line)) return action;
  return actionOf(line.trim(), n);
}

/** The item of a stored document, by its action: one object, so the answer writes runs of it at once. */
const CREATED = {
  index: { index: { status: 201 } },
  create: { create: { status: 201 } },
} as const satisfies Record<string, EsBulkItem>;

/** The items of a bulk answer, in the order of the actions. */
class BulkItems {
  readonly items: EsBulkItem[] = [];

  /**
   * Stores a document of `action` with `store`, and answers it: created, or
   * the reason of the {@linkcode DocumentError} that `store` throws.
   */
  store(action: Action, store: (item: number) => void): void {
    const { name, index } = action;
    try {
      store(this.items.length);
      this.items.push(CREATED[name as "index" | "create"]);
    } catch (error) {
      if (!(error instanceof DocumentError)) throw error;
      this.items.push({
        [name]: { _index: index, status: 400, error: { type: error.type, reason: error.message } },
      });
    }
  }

  /** Answers an action that stores nothing (delete, update). */
  unsupported({ name, index }: Action): void {
    this.items.push({
      [name]: {
        _index: index,
        status: 400,
        error: {
          type: "illegal_argument_exception",
          reason: `loge stores logs: the ${name} action is not supported, only index and create`,
        },
      },
    });
  }
}

function tooManyActions(): PushError {
  return new PushError(
    `cannot decode bulk body: more than ${MAX_BULK_DOCUMENTS} actions in one request`,
  );
}

function noDocument(name: string): PushError {
  return new PushError(
    `cannot decode bulk body: the ${name} action at the end has no document line`,
  );
}

function validUtf8(bytes: Uint8Array): string {
  try {
    return decodeUtf8(bytes);
  } catch (error) {
    throw new PushError(`cannot decode bulk body: ${(error as Error).message}`);
  }
}

/** The answer of an empty body, or the payload and items. */
function finish(mapper: DocumentMapper, answer: BulkItems): EsBulk {
  if (answer.items.length === 0) throw new PushError("cannot decode bulk body: no actions");
  return { payload: mapper.payload(), items: answer.items };
}

/**
 * Decodes a bulk body line by line with `JSON.parse`: the reference the
 * scanner's path ({@linkcode scanBulk}) answers as, and the path of bodies
 * it leaves.
 */
export function parseBulk(body: Uint8Array, header: EsBulkHeader): EsBulk {
  const lines = validUtf8(body).split("\n");
  const mapper = new DocumentMapper(header);
  const answer = new BulkItems();
  for (let i = 0; i < lines.length; i++) {
    const action = lineAction(lines[i], i + 1);
    if (action === undefined) continue;
    const { name } = action;
    if (answer.items.length === MAX_BULK_DOCUMENTS) throw tooManyActions();
    let docLine: string | undefined;
    if (name !== "delete") {
      do i++; while (i < lines.length && isBlank(lines[i]));
      if (i >= lines.length) throw noDocument(name);
      docLine = lines[i];
    }
    if (name === "delete" || name === "update") answer.unsupported(action);
    else answer.store(action, (item) => mapper.add(docLine!, item));
  }
  return finish(mapper, answer);
}

/** Scanners by mapping: a server has one, whose slots last from body to body. */
const scanners = new Map<string, BodyScan>();
/** Entries {@linkcode scanners} holds before it starts over. */
const SCANNER_CACHE_SIZE = 16;

function scannerOf(mapping: EsBulkMapping): BodyScan {
  const { msgFields, timeField, streamFields } = mapping;
  const key = JSON.stringify([msgFields, timeField, streamFields]);
  let scan = scanners.get(key);
  if (scan === undefined) {
    if (scanners.size >= SCANNER_CACHE_SIZE) scanners.clear();
    scanners.set(key, scan = new BodyScan({ msgFields, timeField, streamFields }));
  }
  return scan;
}

/**
 * Decodes a bulk body with the scanner, as {@linkcode parseBulk} does;
 * `undefined` when the scanner leaves the body to it.
 */
export function scanBulk(body: ReceivedBody, header: EsBulkHeader): EsBulk | undefined {
  const scan = scannerOf(header);
  if (!scan.usable) return undefined;
  const mapper = new DocumentMapper(header);
  const answer = new BulkItems();
  /** The actions met so far, by the scanner's id, and their ids. */
  const known: Action[] = [];
  const ids = new Map<Action, number>();
  // Invalid UTF-8 anywhere refuses the whole body before any line is read: a
  // body of one chunk is checked when the scanner finds a byte past ASCII in it.
  if (body.size > IN_CAP) validUtf8(body.bytes()); // joined once: the scanner loads from it too
  let from = 0;
  let line = 1;
  while (from < body.size) {
    const ascii = scan.load(body, from, line, MAX_BULK_DOCUMENTS - answer.items.length);
    if (ascii === undefined) return undefined; // a line longer than a chunk
    if (!ascii && body.size <= IN_CAP) validUtf8(scan.chunk());
    let stop: Stop;
    while ((stop = scan.scan()) === Stop.AskAction) {
      const action = lineAction(decodeUtf8(scan.askedLine()), scan.lineNo);
      if (action === undefined) {
        scan.skipLine();
        continue;
      }
      let id = ids.get(action);
      if (id === undefined) ids.set(action, id = known.push(action) - 1);
      const { name } = action;
      scan.setAction(id, name !== "delete", name === "index" || name === "create");
    }
    if (stop === Stop.Abort) return undefined;
    if (stop === Stop.Limit) throw tooManyActions();
    if (stop === Stop.NoDocument) throw noDocument(known[scan.actionId].name);
    for (let j = 0; j < scan.records; j++) {
      const action = known[scan.action(j)];
      if (!scan.stores(j)) answer.unsupported(action);
      else if (scan.declined(j)) {
        const text = decodeUtf8(scan.document(j));
        answer.store(action, (item) => mapper.add(text, item));
      } else answer.store(action, (item) => mapper.addScanned(scan, j, item));
    }
    if (scan.next === from && scan.records === 0) return undefined; // no progress: a pair larger than a chunk
    from = scan.next;
    line = scan.lineNo;
  }
  return finish(mapper, answer);
}

/**
 * Decodes a bulk body into a payload and the answer's items, mapped as
 * `header` says. A document that cannot be mapped (not a JSON object, no
 * message field, a bad time, labels that cannot be stored) is answered with a
 * 400 in its item; the other documents are stored.
 *
 * @throws {PushError} when the body is malformed: not UTF-8, an action line
 * that is not JSON or names no known action, an action without its document
 * line, or more than {@linkcode MAX_BULK_DOCUMENTS} documents. Nothing is
 * stored.
 *
 * @example
 * ```ts
 * import { decodeEsBulk } from "./es_bulk.ts";
 * import assert from "node:assert/strict";
 * const header = { streamFields: ["host.name"], msgFields: ["message"], timeField: "@timestamp", receivedNs: 0n };
 * const body = new TextEncoder().encode([
 *   '{"create":{"_index":"logs"}}',
 *   '{"@timestamp":"2026-01-01T00:00:00Z","host":{"name":"h1"},"message":"up","pid":7}',
 *   '{"create":{}}',
 *   '{"host":{"name":"h1"}}',
 * ].join("\n"));
 * const { payload, items } = decodeEsBulk(body, header);
 * assert.equal(items[0].create.status, 201);
 * assert.equal(items[1].create.status, 400);
 * assert.equal(payload!.streams[0].key, '{"host_name":"h1","service_name":"unknown_service"}');
 * assert.deepEqual(payload!.streams[0].lines, ["up"]);
 * assert.deepEqual(payload!.streams[0].metadata, ['{"pid":"7","detected_level":"unknown"}']);
 * ```
 */
export function decodeEsBulk(body: Uint8Array | ReceivedBody, header: EsBulkHeader): EsBulk {
  const received = body instanceof ReceivedBody ? body : new ReceivedBody([body]);
  return scanBulk(received, header) ?? parseBulk(received.transient(), header);
}
