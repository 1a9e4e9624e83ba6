/**
 * OTLP logs as the WAL keeps them: the body as it arrived (after gzip)
 * behind one JSON header line with what its mapping depends on beside the
 * bytes (the stream attributes in force and the arrival time, the time of
 * records that carry none), so that a replay maps the records exactly as the
 * push did, whatever `--otlp-stream-attributes` says by then.
 *
 * @module
 */

import { OtlpMapper, type OtlpPayload } from "./otlp.ts";
import { decodeOtlpJson } from "./otlp_json.ts";
import { decodeOtlpProtobuf } from "./otlp_protobuf.ts";
import { PushError } from "./payload.ts";
import { frameRecord, unframeRecord } from "./framed_record.ts";
import { decodeUtf8 } from "../utf8.ts";

/** What an OTLP body's mapping depends on. */
export interface OtlpHeader {
  /** Resource attributes that become stream labels. */
  streamAttributes: readonly string[];
  /** Arrival time, in nanoseconds: the time of records without one. */
  now: bigint;
}

/**
 * `body` (one buffer or its chunks) behind its header line: the record the WAL
 * keeps, as its parts.
 *
 * @example
 * ```ts
 * import { frameOtlp, unframeOtlp } from "./otlp_record.ts";
 * import assert from "node:assert/strict";
 * const [line, body] = frameOtlp(new Uint8Array([1, 2]), { streamAttributes: ["service.name"], now: 7n });
 * const unframed = unframeOtlp(new Uint8Array([...line, ...body]));
 * assert.deepEqual(unframed.header, { streamAttributes: ["service.name"], now: 7n });
 * assert.deepEqual(unframed.body, new Uint8Array([1, 2]));
 * ```
 */
export function frameOtlp(
  body: Uint8Array | readonly Uint8Array[],
  header: OtlpHeader,
): Uint8Array[] {
  return frameRecord({ streamAttributes: header.streamAttributes, now: String(header.now) }, body);
}

/**
 * The header and body of a record made by {@linkcode frameOtlp}.
 *
 * @throws {Error} when the record has no valid header line.
 */
export function unframeOtlp(record: Uint8Array): { header: OtlpHeader; body: Uint8Array } {
  const { header, body } = unframeRecord(record, "OTLP");
  const raw = header as { streamAttributes?: unknown; now?: unknown } | null;
  if (
    !Array.isArray(raw?.streamAttributes) ||
    !raw.streamAttributes.every((a: unknown) => typeof a === "string") ||
    typeof raw.now !== "string" || !/^[0-9]{1,19}$/.test(raw.now)
  ) {
    throw new Error("OTLP record header is malformed");
  }
  return { header: { streamAttributes: raw.streamAttributes, now: BigInt(raw.now) }, body };
}

/**
 * Integers past 2^53 as their source text, so 64-bit fields sent as JSON
 * numbers (protobuf's JSON mapping allows both) keep every digit.
 */
function exactIntegers(_key: string, value: unknown, context?: { source?: string }): unknown {
  return typeof value === "number" && Number.isInteger(value) && !Number.isSafeInteger(value)
    ? context?.source ?? value
    : value;
}

/** A JSON value that may be an integer past 2^53. */
const BIG_NUMBER = /[:,[]\s*-?[0-9]{16}/;

/** `text` parsed, through {@linkcode exactIntegers} only when it may hold a large number. */
function parseJson(text: string): unknown {
  return BIG_NUMBER.test(text)
    ? JSON.parse(text, exactIntegers as (key: string, value: unknown) => unknown)
    : JSON.parse(text);
}

/**
 * Decodes and maps an OTLP body (`json`: its JSON encoding, else protobuf).
 *
 * @throws {PushError} when the body does not decode: nothing is stored.
 *
 * @example
 * ```ts
 * import { decodeOtlp } from "./otlp_record.ts";
 * import assert from "node:assert/strict";
 * const body = new TextEncoder().encode(JSON.stringify({
 *   resourceLogs: [{ scopeLogs: [{ logRecords: [{ body: { stringValue: "hi" } }] }] }],
 * }));
 * const { payload } = decodeOtlp(true, body, { streamAttributes: [], now: 9n });
 * assert.equal(payload.streams[0].key, '{"service_name":"unknown_service"}');
 * assert.deepEqual(payload.streams[0].ts, [9n]);
 * assert.throws(() => decodeOtlp(true, new Uint8Array([0x7b]), { streamAttributes: [], now: 0n }), /cannot decode OTLP JSON body/);
 * ```
 */
export function decodeOtlp(json: boolean, body: Uint8Array, header: OtlpHeader): OtlpPayload {
  const mapper = new OtlpMapper(header.streamAttributes, header.now);
  try {
    if (json) decodeOtlpJson(parseJson(decodeUtf8(body)), mapper);
    else decodeOtlpProtobuf(body, mapper);
  } catch (error) {
    throw new PushError(
      `cannot decode OTLP ${json ? "JSON" : "protobuf"} body: ${(error as Error).message}`,
    );
  }
  return mapper.finish();
}
