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
 * It decodes straight into the JSON payload shape (labels parsed from their
 * selector form, timestamps as nanosecond strings, structured metadata as the
 * metadata object), so one validator serves every format. Other fields
 * (`hash`, `parsed`, `format`) are skipped. The bytes here are the protobuf
 * itself: the snappy block around it is undone by the caller.
 *
 * @module
 */

import { parseLabelSet } from "../labels.ts";
import { PushError } from "./payload.ts";
import { Reader } from "./protobuf_wire.ts";

/** Largest `seconds` whose nanoseconds fit in a signed 64-bit integer. */
const MAX_SECONDS = 9_223_372_035;

function timestamp(r: Reader): string {
  let seconds = 0;
  let nanos = 0;
  for (let tag = r.tag(); tag >= 0; tag = r.tag()) {
    const field = Math.floor(tag / 8);
    const wire = tag % 8;
    if (field === 1 && wire === 0) seconds = r.varint();
    else if (field === 2 && wire === 0) nanos = r.varint();
    else r.skip(wire);
  }
  // Negative values arrive as 64-bit two's complement: far above both bounds.
  if (seconds > MAX_SECONDS) {
    throw new RangeError(`timestamp seconds must be within 0..${MAX_SECONDS}, got ${seconds}`);
  }
  if (nanos > 999_999_999) {
    throw new RangeError(`timestamp nanos must be within 0..999999999, got ${nanos}`);
  }
  return seconds === 0 ? String(nanos) : seconds + String(nanos).padStart(9, "0");
}

function pair(r: Reader, into: Record<string, string>): void {
  let name = "";
  let value = "";
  for (let tag = r.tag(); tag >= 0; tag = r.tag()) {
    const field = Math.floor(tag / 8);
    const wire = tag % 8;
    if (field === 1 && wire === 2) name = r.string();
    else if (field === 2 && wire === 2) value = r.string();
    else r.skip(wire);
  }
  into[name] = value;
}

function entry(r: Reader): unknown[] {
  let ts = "0";
  let line = "";
  let metadata: Record<string, string> | undefined;
  for (let tag = r.tag(); tag >= 0; tag = r.tag()) {
    const field = Math.floor(tag / 8);
    const wire = tag % 8;
    if (field === 1 && wire === 2) ts = timestamp(r.sub());
    else if (field === 2 && wire === 2) line = r.string();
    else if (field === 3 && wire === 2) pair(r.sub(), metadata ??= {});
    else r.skip(wire);
  }
  return metadata ? [ts, line, metadata] : [ts, line];
}

/**
 * Decodes a `logproto.PushRequest` into the JSON payload shape.
 *
 * @throws {PushError} naming the stream and entry of malformed bytes, a bad
 * timestamp or a label string that is not a set of `=` matchers.
 *
 * @example
 * ```ts
 * import { decodeLokiPushProtobuf } from "./loki_protobuf.ts";
 * import assert from "node:assert/strict";
 * const text = (s: string) => [s.length, ...new TextEncoder().encode(s)];
 * const ts = [0x0a, 4, 0x08, 0x01, 0x10, 0x02]; // 1 s + 2 ns
 * const entry = [...ts, 0x12, ...text("hi")];
 * const stream = [0x0a, ...text('{app="web"}'), 0x12, entry.length, ...entry];
 * const body = new Uint8Array([0x0a, stream.length, ...stream]);
 * assert.deepEqual(decodeLokiPushProtobuf(body), {
 *   streams: [{ stream: { app: "web" }, values: [["1000000002", "hi"]] }],
 * });
 * ```
 */
export function decodeLokiPushProtobuf(
  bytes: Uint8Array,
): { streams: { stream: Record<string, string>; values: unknown[][] }[] } {
  const streams: { stream: Record<string, string>; values: unknown[][] }[] = [];
  let s: number | undefined;
  let e: number | undefined;
  try {
    const r = new Reader(bytes);
    for (let tag = r.tag(); tag >= 0; tag = r.tag()) {
      const field = Math.floor(tag / 8);
      const wire = tag % 8;
      if (field !== 1 || wire !== 2) {
        r.skip(wire);
        continue;
      }
      s = streams.length;
      const sr = r.sub();
      let labels = "";
      const values: unknown[][] = [];
      for (let tag = sr.tag(); tag >= 0; tag = sr.tag()) {
        const f = Math.floor(tag / 8);
        const w = tag % 8;
        if (f === 1 && w === 2) labels = sr.string();
        else if (f === 2 && w === 2) {
          e = values.length;
          values.push(entry(sr.sub()));
          e = undefined;
        } else sr.skip(w);
      }
      let stream: Record<string, string>;
      try {
        stream = parseLabelSet(labels);
      } catch (error) {
        throw new PushError(
          `cannot parse labels ${JSON.stringify(labels)}: ${(error as Error).message}`,
          s,
        );
      }
      streams.push({ stream, values });
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
  return { streams };
}
