/**
 * A decoder for Loki's push protobuf (loki `pkg/push/push.proto`, package
 * `logproto`), written out by hand as loge's own is:
 *
 * ```proto
 * message PushRequest      { repeated StreamAdapter streams = 1; }
 * message StreamAdapter    { string labels = 1; repeated EntryAdapter entries = 2; }
 * message EntryAdapter     { google.protobuf.Timestamp timestamp = 1; string line = 2;
 *                            repeated LabelPairAdapter structuredMetadata = 3; }
 * message LabelPairAdapter { string name = 1; string value = 2; }
 * // google.protobuf.Timestamp { int64 seconds = 1; int32 nanos = 2; }
 * ```
 *
 * It decodes straight into a validated {@linkcode PushPayload}, the columns
 * the head takes, instead of the JSON shape that `validatePush` checks value
 * by value: protobuf already types every field, and strict UTF-8
 * cannot hold a lone surrogate, so what is left to check is the label set
 * (once per distinct label string) and the timestamp's range. Streams without
 * `service_name` get one derived, as Loki's distributor does. Other fields
 * (`hash`, `parsed`, `format`) are skipped. The bytes here are the protobuf
 * itself: the snappy block around it is undone by the caller.
 *
 * @module
 */

import { parseLabelSet } from "../labels.ts";
import {
  LabelKeyCache,
  labelSetKey,
  PushError,
  type PushPayload,
  type PushStream,
} from "./payload.ts";
import { Reader } from "./protobuf_wire.ts";
import { addServiceName } from "./service_name.ts";

/** Largest `seconds` whose nanoseconds fit in a signed 64-bit integer. */
const MAX_SECONDS = 9_223_372_035;
const NS_PER_SECOND = 1_000_000_000n;

/** Canonical keys by the label string as sent: shippers send the same few strings. */
const keys = new LabelKeyCache(4 * 1024 * 1024);

function streamKey(labels: string, stream: number): string {
  let key = keys.get(labels);
  if (key === undefined) {
    let parsed: Record<string, string>;
    try {
      parsed = parseLabelSet(labels);
    } catch (error) {
      throw new PushError(
        `cannot parse labels ${JSON.stringify(labels)}: ${(error as Error).message}`,
        stream,
      );
    }
    key = labelSetKey(addServiceName(parsed), stream);
    keys.set(labels, key);
  }
  return key;
}

/** Decodes entries into the columns of one stream. */
class StreamColumns {
  readonly ts: bigint[] = [];
  readonly lines: string[] = [];
  metadata?: (string | undefined)[];
  /** The last `seconds` seen and its nanoseconds: entries of one second share it. */
  #seconds = -1;
  #secondsNs = 0n;

  entry(r: Reader): void {
    let ts = 0n;
    let line = "";
    let metadata: Record<string, string> | undefined;
    for (let tag = r.tag(); tag >= 0; tag = r.tag()) {
      if (tag === 0x0a) ts = this.#timestamp(r.sub());
      else if (tag === 0x12) line = r.string();
      else if (tag === 0x1a) pair(r.sub(), metadata ??= {});
      else r.skip(tag & 7);
    }
    const row = this.ts.length;
    this.ts.push(ts);
    this.lines.push(line);
    if (metadata !== undefined && Object.keys(metadata).length > 0) {
      (this.metadata ??= new Array(row).fill(undefined))[row] = JSON.stringify(metadata);
    } else if (this.metadata !== undefined) this.metadata.push(undefined);
  }

  #timestamp(r: Reader): bigint {
    let seconds = 0;
    let nanos = 0;
    for (let tag = r.tag(); tag >= 0; tag = r.tag()) {
      if (tag === 0x08) seconds = r.varint();
      else if (tag === 0x10) nanos = r.varint();
      else r.skip(tag & 7);
    }
    // Negative values arrive as 64-bit two's complement: far above both bounds.
    if (seconds > MAX_SECONDS) {
      throw new RangeError(`timestamp seconds must be within 0..${MAX_SECONDS}, got ${seconds}`);
    }
    if (nanos > 999_999_999) {
      throw new RangeError(`timestamp nanos must be within 0..999999999, got ${nanos}`);
    }
    if (seconds !== this.#seconds) {
      this.#seconds = seconds;
      this.#secondsNs = BigInt(seconds) * NS_PER_SECOND;
    }
    return this.#secondsNs + BigInt(nanos);
  }
}

function pair(r: Reader, into: Record<string, string>): void {
  let name = "";
  let value = "";
  for (let tag = r.tag(); tag >= 0; tag = r.tag()) {
    if (tag === 0x0a) name = r.string();
    else if (tag === 0x12) value = r.string();
    else r.skip(tag & 7);
  }
  into[name] = value;
}

/**
 * Decodes and validates a `logproto.PushRequest`, as `validatePush` validates
 * the other formats.
 *
 * @throws {PushError} naming the stream and entry of malformed bytes, a bad
 * timestamp or a label string that is not a valid set of `=` matchers.
 *
 * @example
 * ```ts
 * import { decodeLokiPush } from "./loki_protobuf.ts";
 * import assert from "node:assert/strict";
 * const text = (s: string) => [s.length, ...new TextEncoder().encode(s)];
 * const ts = [0x0a, 4, 0x08, 0x01, 0x10, 0x02]; // 1 s + 2 ns
 * const entry = [...ts, 0x12, ...text("hi")];
 * const stream = [0x0a, ...text('{app="web"}'), 0x12, entry.length, ...entry];
 * const payload = decodeLokiPush(new Uint8Array([0x0a, stream.length, ...stream]));
 * assert.equal(payload.lines, 1);
 * assert.equal(payload.streams[0].key, '{"app":"web","service_name":"web"}');
 * assert.deepEqual(payload.streams[0].ts, [1000000002n]);
 * assert.deepEqual(payload.streams[0].lines, ["hi"]);
 * ```
 */
export function decodeLokiPush(bytes: Uint8Array): PushPayload {
  const streams: PushStream[] = [];
  let lines = 0;
  let s: number | undefined;
  let e: number | undefined;
  try {
    const r = new Reader(bytes);
    for (let tag = r.tag(); tag >= 0; tag = r.tag()) {
      if (tag !== 0x0a) {
        r.skip(tag & 7);
        continue;
      }
      s = streams.length;
      const sr = r.sub();
      let labels = "";
      const columns = new StreamColumns();
      for (let tag = sr.tag(); tag >= 0; tag = sr.tag()) {
        if (tag === 0x0a) labels = sr.string();
        else if (tag === 0x12) {
          e = columns.ts.length;
          columns.entry(sr.sub());
          e = undefined;
        } else sr.skip(tag & 7);
      }
      const key = streamKey(labels, s);
      if (columns.ts.length === 0) throw new PushError("stream has no values", s);
      streams.push({ key, ts: columns.ts, lines: columns.lines, metadata: columns.metadata });
      lines += columns.ts.length;
      s = undefined;
    }
  } catch (error) {
    if (error instanceof PushError) throw error;
    // Timestamps out of range are RangeErrors; anything else is a wire fault.
    const reason = (error as Error).message;
    throw new PushError(
      error instanceof RangeError ? reason : `malformed protobuf: ${reason}`,
      s,
      e,
    );
  }
  if (streams.length === 0) throw new PushError("payload has no streams");
  return { streams, lines };
}
