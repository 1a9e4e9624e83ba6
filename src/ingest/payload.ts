/**
 * Validation of push payloads: every decoder (JSON, msgpack, protobuf) yields
 * the same plain shape, and one validator turns it into a {@linkcode PushPayload}
 * or names the first problem and where it is.
 *
 * @module
 */

import { isValidLabelName, LABEL_NAME_RULE } from "../labels.ts";
import { isNanoseconds } from "../time.ts";
import { describeValue } from "../describe.ts";

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

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Longest label name, in characters (Loki's default). */
export const MAX_LABEL_NAME_LENGTH = 1024;
/** Longest label value, in characters (Loki's default). */
export const MAX_LABEL_VALUE_LENGTH = 2048;

/**
 * Canonical keys of valid label sets seen lately, by their JSON as sent: the
 * same few hundred streams arrive in every payload, so most are validated
 * once. Bounded by the characters it holds, not by entries, so large label
 * sets cannot grow it past its bound; it starts over when full.
 *
 * @example
 * ```ts
 * import { LabelKeyCache } from "./payload.ts";
 * import assert from "node:assert/strict";
 * const cache = new LabelKeyCache(10);
 * cache.set("abc", "abc");
 * assert.equal(cache.get("abc"), "abc");
 * cache.set("0123456789", "0123456789");
 * assert.equal(cache.get("abc"), undefined);
 * assert.ok(cache.size <= 10);
 * ```
 */
export class LabelKeyCache {
  readonly #max: number;
  #keys = new Map<string, string>();
  #size = 0;

  /** A cache of at most `max` characters of keys and values together. */
  constructor(max: number) {
    this.#max = max;
  }

  /** Characters held. */
  get size(): number {
    return this.#size;
  }

  /** The canonical key cached for `sent`. */
  get(sent: string): string | undefined {
    return this.#keys.get(sent);
  }

  /** Caches `key` for `sent`, starting over when the bound would be passed. */
  set(sent: string, key: string): void {
    const size = sent.length + key.length;
    if (this.#size + size > this.#max) {
      this.#keys = new Map();
      this.#size = 0;
      if (size > this.#max) return;
    }
    this.#keys.set(sent, key);
    this.#size += size;
  }
}

const canonicalCache = new LabelKeyCache(4 * 1024 * 1024);

/**
 * {@linkcode labelSetKey}, from a cache of the label sets seen lately.
 *
 * @throws {PushError} as {@linkcode labelSetKey}.
 *
 * @example
 * ```ts
 * import { canonicalLabels } from "./payload.ts";
 * import assert from "node:assert/strict";
 * assert.equal(canonicalLabels({ env: "prod", app: "web" }, 0), '{"app":"web","env":"prod"}');
 * ```
 */
export function canonicalLabels(raw: Record<string, unknown>, stream: number): string {
  const sent = JSON.stringify(raw);
  let key = canonicalCache.get(sent);
  if (key === undefined) {
    key = labelSetKey(raw, stream);
    canonicalCache.set(sent, key);
  }
  return key;
}

/**
 * The canonical key of a stream's label set (JSON, names sorted, empty values
 * left out), after checking every name and value.
 *
 * @throws {PushError} naming the stream, for a bad name or value or no labels at all.
 *
 * @example
 * ```ts
 * import { labelSetKey } from "./payload.ts";
 * import assert from "node:assert/strict";
 * assert.equal(labelSetKey({ env: "prod", app: "web", zone: "" }, 0), '{"app":"web","env":"prod"}');
 * assert.throws(() => labelSetKey({ "1a": "x" }, 3), /^PushError: stream 3: label name "1a"/);
 * ```
 */
export function labelSetKey(raw: Record<string, unknown>, stream: number): string {
  const labels: [string, string][] = [];
  for (const [name, value] of Object.entries(raw)) {
    if (name.length > MAX_LABEL_NAME_LENGTH) {
      throw new PushError(
        `label name ${describeValue(name)} is longer than ${MAX_LABEL_NAME_LENGTH} characters`,
        stream,
      );
    }
    if (!isValidLabelName(name)) {
      throw new PushError(
        `label name ${JSON.stringify(name)} ${LABEL_NAME_RULE}`,
        stream,
      );
    }
    if (typeof value !== "string") {
      throw new PushError(`label ${name} must be a string, got ${describeValue(value)}`, stream);
    }
    if (value.length > MAX_LABEL_VALUE_LENGTH) {
      throw new PushError(
        `label ${name} is ${value.length} characters long, over the limit of ${MAX_LABEL_VALUE_LENGTH}`,
        stream,
      );
    }
    // An empty value is the same as no label (as in Loki), so it is not stored.
    if (value !== "") labels.push([name, wellFormed(value)]);
  }
  if (labels.length === 0) throw new PushError("stream has no labels", stream);
  labels.sort((a, b) => (a[0] < b[0] ? -1 : 1));
  return JSON.stringify(Object.fromEntries(labels));
}

/**
 * `text` with every lone surrogate (which JSON's `\ud83d` escapes can make,
 * and UTF-8 cannot hold) replaced by U+FFFD, as Go's JSON decoder does in
 * Loki: a line then reads the same before and after it is written to disk.
 *
 * @example
 * ```ts
 * import { wellFormed } from "./payload.ts";
 * import assert from "node:assert/strict";
 * assert.equal(wellFormed("a\ud83db"), "a\ufffdb");
 * ```
 */
export function wellFormed(text: string): string {
  return text.isWellFormed() ? text : text.toWellFormed();
}

function metadataJson(raw: unknown, stream: number, value: number): string | undefined {
  if (!isObject(raw)) {
    throw new PushError(
      `metadata must be an object of strings, got ${describeValue(raw)}`,
      stream,
      value,
    );
  }
  const keys = Object.keys(raw);
  let clean = true;
  for (const k of keys) {
    const v = raw[k];
    if (typeof v !== "string") {
      throw new PushError(`metadata ${k} must be a string, got ${describeValue(v)}`, stream, value);
    }
    clean &&= k.isWellFormed() && v.isWellFormed();
  }
  if (keys.length === 0) return undefined;
  return JSON.stringify(
    clean
      ? raw
      : Object.fromEntries(keys.map((k) => [wellFormed(k), wellFormed(raw[k] as string)])),
  );
}

/**
 * Validates a decoded payload `{streams: [{stream: {...}, values: [[ts, line, metadata?]]}]}`.
 *
 * @throws {PushError} naming the first problem and its stream and value index.
 *
 * @example
 * ```ts
 * import { validatePush } from "./payload.ts";
 * import assert from "node:assert/strict";
 * const p = validatePush({ streams: [{ stream: { app: "web" }, values: [["1700000000000000000", "hi"]] }] });
 * assert.equal(p.streams[0].key, '{"app":"web"}');
 * assert.equal(p.lines, 1);
 * ```
 */
export function validatePush(raw: unknown): PushPayload {
  if (!isObject(raw)) throw new PushError(`payload must be an object, got ${describeValue(raw)}`);
  const rawStreams = raw.streams;
  if (!Array.isArray(rawStreams) || rawStreams.length === 0) {
    throw new PushError("payload has no streams");
  }
  const streams: PushStream[] = [];
  let lines = 0;
  for (let s = 0; s < rawStreams.length; s++) {
    const entry = rawStreams[s];
    if (!isObject(entry)) {
      throw new PushError(`stream must be an object, got ${describeValue(entry)}`, s);
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
          `value must be [timestamp, line] or [timestamp, line, metadata], got ${
            describeValue(value)
          }`,
          s,
          v,
        );
      }
      const [t, line] = value;
      if (typeof t !== "string" || !isNanoseconds(t)) {
        throw new PushError(
          `timestamp must be an integer nanosecond string, got ${describeValue(t)}`,
          s,
          v,
        );
      }
      if (typeof line !== "string") {
        throw new PushError(`line must be a string, got ${describeValue(line)}`, s, v);
      }
      ts[v] = BigInt(t);
      texts[v] = wellFormed(line);
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
