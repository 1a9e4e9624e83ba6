/**
 * WAL records of the formats whose mapping depends on more than the body
 * (OTLP, Elasticsearch bulk): one JSON header line with what the mapping
 * depends on (the flags in force, the arrival time), then the body as it
 * arrived, so that a replay maps it exactly as the push did whatever the
 * flags say by then. The record is kept as its parts, never joined
 * (`wal.ts` writes them one after the other).
 *
 * @module
 */

import { decodeUtf8 } from "../utf8.ts";

const encoder = new TextEncoder();

/**
 * `body` (one buffer, or the chunks it arrived in) behind the JSON line of
 * `header`: the record's parts.
 *
 * @example
 * ```ts
 * import { frameRecord, unframeRecord } from "./framed_record.ts";
 * import assert from "node:assert/strict";
 * const parts = frameRecord({ now: "7" }, [new Uint8Array([1]), new Uint8Array([2])]);
 * const record = new Uint8Array(parts.flatMap((part) => [...part]));
 * assert.deepEqual(unframeRecord(record, "test"), { header: { now: "7" }, body: new Uint8Array([1, 2]) });
 * ```
 */
export function frameRecord(
  header: object,
  body: Uint8Array | readonly Uint8Array[],
): Uint8Array[] {
  const line = encoder.encode(`${JSON.stringify(header)}\n`);
  return body instanceof Uint8Array ? [line, body] : [line, ...body];
}

/**
 * The header (parsed JSON, for the caller to check) and the body of a record
 * made by {@linkcode frameRecord}.
 *
 * @throws {Error} naming `what` when the record has no header line that is JSON.
 */
export function unframeRecord(
  record: Uint8Array,
  what: string,
): { header: unknown; body: Uint8Array } {
  const end = record.indexOf(0x0a);
  if (end < 0) throw new Error(`${what} record has no header line`);
  let header: unknown;
  try {
    header = JSON.parse(decodeUtf8(record.subarray(0, end)));
  } catch (error) {
    throw new Error(`${what} record header is not JSON: ${(error as Error).message}`);
  }
  return { header, body: record.subarray(end + 1) };
}
