/**
 * A decoder for `push.proto`, written out by hand: the schema is three small
 * messages, and decoding straight into the JSON shape keeps one validator for
 * every format. Unknown fields are skipped, as protobuf requires.
 *
 * @module
 */

import { Reader } from "./protobuf_wire.ts";

function mapEntry(r: Reader, into: Record<string, string>): void {
  let key = "";
  let value = "";
  for (let tag = r.tag(); tag >= 0; tag = r.tag()) {
    const field = Math.floor(tag / 8);
    const wire = tag % 8;
    if (field === 1 && wire === 2) key = r.string();
    else if (field === 2 && wire === 2) value = r.string();
    else r.skip(wire);
  }
  into[key] = value;
}

function value(r: Reader): unknown[] {
  let ts = "";
  let line = "";
  let metadata: Record<string, string> | undefined;
  for (let tag = r.tag(); tag >= 0; tag = r.tag()) {
    const field = Math.floor(tag / 8);
    const wire = tag % 8;
    if (field === 1 && wire === 2) ts = r.string();
    else if (field === 2 && wire === 2) line = r.string();
    else if (field === 3 && wire === 2) mapEntry(r.sub(), metadata ??= {});
    else r.skip(wire);
  }
  return metadata ? [ts, line, metadata] : [ts, line];
}

function stream(r: Reader): { stream: Record<string, string>; values: unknown[][] } {
  const out = { stream: {} as Record<string, string>, values: [] as unknown[][] };
  for (let tag = r.tag(); tag >= 0; tag = r.tag()) {
    const field = Math.floor(tag / 8);
    const wire = tag % 8;
    if (field === 1 && wire === 2) mapEntry(r.sub(), out.stream);
    else if (field === 2 && wire === 2) out.values.push(value(r.sub()));
    else r.skip(wire);
  }
  return out;
}

/**
 * Decodes a `loge.PushRequest` into the JSON payload shape.
 *
 * @throws {Error} on malformed protobuf or invalid UTF-8.
 *
 * @example
 * ```ts
 * import { decodePushProtobuf } from "./protobuf.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual(decodePushProtobuf(new Uint8Array()), { streams: [] });
 * ```
 */
export function decodePushProtobuf(bytes: Uint8Array): { streams: unknown[] } {
  const r = new Reader(bytes);
  const streams: unknown[] = [];
  for (let tag = r.tag(); tag >= 0; tag = r.tag()) {
    const field = Math.floor(tag / 8);
    const wire = tag % 8;
    if (field === 1 && wire === 2) streams.push(stream(r.sub()));
    else r.skip(wire);
  }
  return { streams };
}
