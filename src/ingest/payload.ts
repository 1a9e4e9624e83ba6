/**
 * Validation of push payloads: every decoder (JSON, msgpack, protobuf) yields
 * the same plain shape, and one validator turns it into a {@linkcode PushPayload}
 * or names the first problem and where it is.
 *
 * @module
 */

/** One stream of a validated payload: parallel columns of its lines. */
export interface PushStream {
  /** Canonical label JSON (keys sorted): the stream's identity. */
  readonly key: string;
  readonly ts: bigint[];
  readonly lines: string[];
  /** Metadata JSON per line (`undefined` where a line has none), when any line has some. */
  readonly metadata?: (string | undefined)[];
}

/** A validated push payload. */
export interface PushPayload {
  readonly streams: PushStream[];
  /** Number of lines. */
  readonly lines: number;
}

/** A payload that cannot be stored; `stream` and `value` locate the problem. */
export class PushError extends Error {
  readonly stream?: number;
  readonly value?: number;

  /** Creates the error; the message is prefixed with the location. */
  constructor(reason: string, stream?: number, value?: number) {
    const where = stream === undefined
      ? ""
      : value === undefined
      ? `stream ${stream}: `
      : `stream ${stream}, value ${value}: `;
    super(where + reason);
    this.name = "PushError";
    this.stream = stream;
    this.value = value;
  }
}

const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const MAX_TS_DIGITS = "9223372036854775807";

/** Whether `t` is 1–19 decimal digits within int64 (a loop: this runs per line). */
function isTimestamp(t: string): boolean {
  if (t.length === 0 || t.length > 19) return false;
  for (let i = 0; i < t.length; i++) {
    const c = t.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  // Equal-length digit strings compare like their numbers.
  return t.length < 19 || t <= MAX_TS_DIGITS;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function describe(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "an array";
  if (typeof v === "string") return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v);
  return typeof v === "object" ? "an object" : `${typeof v} ${String(v)}`;
}

/**
 * Canonical keys of label sets seen lately, by their JSON as sent: the same
 * few hundred streams arrive in every payload, so most are validated once.
 */
const canonicalCache = new Map<string, string>();
const CANONICAL_CACHE_SIZE = 10_000;

function canonicalLabels(raw: Record<string, unknown>, stream: number): string {
  const sent = JSON.stringify(raw);
  let key = canonicalCache.get(sent);
  if (key === undefined) {
    key = validateLabels(raw, stream);
    if (canonicalCache.size >= CANONICAL_CACHE_SIZE) canonicalCache.clear();
    canonicalCache.set(sent, key);
  }
  return key;
}

function validateLabels(raw: Record<string, unknown>, stream: number): string {
  const labels: [string, string][] = [];
  for (const [name, value] of Object.entries(raw)) {
    if (!LABEL_NAME.test(name)) {
      throw new PushError(
        `label name ${JSON.stringify(name)} must match [a-zA-Z_][a-zA-Z0-9_]*`,
        stream,
      );
    }
    if (typeof value !== "string") {
      throw new PushError(`label ${name} must be a string, got ${describe(value)}`, stream);
    }
    // An empty value is the same as no label (as in Loki), so it is not stored.
    if (value !== "") labels.push([name, value]);
  }
  if (labels.length === 0) throw new PushError("stream has no labels", stream);
  labels.sort((a, b) => (a[0] < b[0] ? -1 : 1));
  return JSON.stringify(Object.fromEntries(labels));
}

function metadataJson(raw: unknown, stream: number, value: number): string | undefined {
  if (!isObject(raw)) {
    throw new PushError(
      `metadata must be an object of strings, got ${describe(raw)}`,
      stream,
      value,
    );
  }
  const keys = Object.keys(raw);
  for (const k of keys) {
    if (typeof raw[k] !== "string") {
      throw new PushError(`metadata ${k} must be a string, got ${describe(raw[k])}`, stream, value);
    }
  }
  return keys.length === 0 ? undefined : JSON.stringify(raw);
}

/**
 * Validates a decoded payload `{streams: [{stream: {...}, values: [[ts, line, metadata?]]}]}`.
 *
 * @throws {PushError} naming the first problem and its stream and value index.
 *
 * @example
 * ```ts
 * import { validatePush } from "./payload.ts";
 * const p = validatePush({ streams: [{ stream: { app: "web" }, values: [["1700000000000000000", "hi"]] }] });
 * console.log(p.streams[0].key, p.lines); // {"app":"web"} 1
 * ```
 */
export function validatePush(raw: unknown): PushPayload {
  if (!isObject(raw)) throw new PushError(`payload must be an object, got ${describe(raw)}`);
  const rawStreams = raw.streams;
  if (!Array.isArray(rawStreams) || rawStreams.length === 0) {
    throw new PushError("payload has no streams");
  }
  const streams: PushStream[] = [];
  let lines = 0;
  for (let s = 0; s < rawStreams.length; s++) {
    const entry = rawStreams[s];
    if (!isObject(entry)) {
      throw new PushError(`stream must be an object, got ${describe(entry)}`, s);
    }
    if (!isObject(entry.stream)) throw new PushError("stream has no labels", s);
    const key = canonicalLabels(entry.stream, s);
    const values = entry.values;
    if (!Array.isArray(values) || values.length === 0) {
      throw new PushError("stream has no values", s);
    }
    const ts: bigint[] = new Array(values.length);
    const texts: string[] = new Array(values.length);
    let metadata: (string | undefined)[] | undefined;
    for (let v = 0; v < values.length; v++) {
      const value = values[v];
      if (!Array.isArray(value) || value.length < 2 || value.length > 3) {
        throw new PushError(
          `value must be [timestamp, line] or [timestamp, line, metadata], got ${describe(value)}`,
          s,
          v,
        );
      }
      const [t, line] = value;
      if (typeof t !== "string" || !isTimestamp(t)) {
        throw new PushError(
          `timestamp must be an integer nanosecond string, got ${describe(t)}`,
          s,
          v,
        );
      }
      if (typeof line !== "string") {
        throw new PushError(`line must be a string, got ${describe(line)}`, s, v);
      }
      ts[v] = BigInt(t);
      texts[v] = line;
      if (value.length === 3) {
        const json = metadataJson(value[2], s, v);
        if (json !== undefined) (metadata ??= new Array(values.length).fill(undefined))[v] = json;
      }
    }
    streams.push({ key, ts, lines: texts, metadata });
    lines += values.length;
  }
  return { streams, lines };
}
