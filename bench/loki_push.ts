/**
 * The bench client's encoder of Loki's push wire format: a `logproto.PushRequest` written by
 * hand (no schema, no protobufjs), compressed as one raw snappy block (`snappyjs`), the body of
 * `POST /loki/api/v1/push` with `Content-Type: application/x-protobuf`.
 *
 * ```proto
 * message PushRequest   { repeated StreamAdapter streams = 1; }
 * message StreamAdapter { string labels = 1; repeated EntryAdapter entries = 2; }
 * message EntryAdapter  { google.protobuf.Timestamp timestamp = 1; string line = 2; }
 * // google.protobuf.Timestamp { int64 seconds = 1; int32 nanos = 2; }
 * ```
 *
 * Zero scalars and empty strings are left out, as proto3 encoders (Go's among them) do; labels
 * are written in selector form, `{app="web", env="prod"}`.
 *
 * @module
 */

import snappy from "snappyjs";
import type { PushPayload } from "./push_client.ts";
import { ProtobufWriter, varintLength } from "./protobuf_writer.ts";

const textEncoder = new TextEncoder();

/** `{app="web", env="prod"}`: a label set in selector form. */
export function labelSelector(labels: Readonly<Record<string, string>>): string {
  return `{${Object.entries(labels).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(", ")}}`;
}

const selectors = new WeakMap<object, Uint8Array>();

function selectorBytes(labels: Readonly<Record<string, string>>): Uint8Array {
  let bytes = selectors.get(labels);
  if (bytes === undefined) {
    bytes = textEncoder.encode(labelSelector(labels));
    selectors.set(labels, bytes);
  }
  return bytes;
}

/**
 * Encodes a push payload as a `logproto.PushRequest` (protobuf, not compressed).
 *
 * @example
 * ```ts
 * import { encodeLokiPushRequest } from "./loki_push.ts";
 * const bytes = encodeLokiPushRequest({
 *   streams: [{ stream: { app: "web" }, values: [["1000000002", "hi"]] }],
 * });
 * console.log(bytes.length); // 27
 * ```
 * @throws {RangeError} If a timestamp is not a decimal string of non-negative nanoseconds.
 */
export function encodeLokiPushRequest(payload: PushPayload): Uint8Array<ArrayBuffer> {
  const w = new ProtobufWriter();
  const entry = new ProtobufWriter();
  for (const s of payload.streams) {
    const labels = selectorBytes(s.stream);
    // Entries first, into their own buffer: the stream's length prefix needs their size.
    entry.pos = 0;
    for (const [ts, line] of s.values) {
      if (!/^\d+$/.test(ts)) {
        throw new RangeError(`Cannot encode Loki push: bad timestamp ${JSON.stringify(ts)}`);
      }
      const seconds = ts.length > 9 ? Number(ts.slice(0, -9)) : 0;
      const nanos = Number(ts.slice(-9));
      const tsLength = (seconds > 0 ? 1 + varintLength(seconds) : 0) +
        (nanos > 0 ? 1 + varintLength(nanos) : 0);
      const lineBytes = textEncoder.encode(line);
      const entryLength = 1 + varintLength(tsLength) + tsLength +
        (lineBytes.length > 0 ? 1 + varintLength(lineBytes.length) + lineBytes.length : 0);
      entry.varint((2 << 3) | 2); // StreamAdapter.entries
      entry.varint(entryLength);
      entry.varint((1 << 3) | 2); // EntryAdapter.timestamp
      entry.varint(tsLength);
      if (seconds > 0) {
        entry.varint(1 << 3); // Timestamp.seconds
        entry.varint(seconds);
      }
      if (nanos > 0) {
        entry.varint(2 << 3); // Timestamp.nanos
        entry.varint(nanos);
      }
      if (lineBytes.length > 0) entry.bytesField(2, lineBytes); // EntryAdapter.line
    }
    const streamLength = (labels.length > 0 ? 1 + varintLength(labels.length) + labels.length : 0) +
      entry.pos;
    w.varint((1 << 3) | 2); // PushRequest.streams
    w.varint(streamLength);
    if (labels.length > 0) w.bytesField(1, labels); // StreamAdapter.labels
    w.reserve(entry.pos);
    w.bytes.set(entry.bytes.subarray(0, entry.pos), w.pos);
    w.pos += entry.pos;
  }
  return w.finish();
}

/**
 * Encodes a push payload as Loki's clients send it: the `PushRequest` in one raw snappy block.
 *
 * @example
 * ```ts
 * import { encodeLokiPush } from "./loki_push.ts";
 * const body = encodeLokiPush({ streams: [{ stream: { app: "web" }, values: [["1", "hi"]] }] });
 * console.log(body.length > 0); // true
 * ```
 */
export function encodeLokiPush(payload: PushPayload): Uint8Array<ArrayBuffer> {
  return new Uint8Array(snappy.compress(encodeLokiPushRequest(payload)));
}
