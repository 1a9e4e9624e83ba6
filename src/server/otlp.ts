/**
 * `POST /otlp/v1/logs` (Loki's path) and `POST /v1/logs` (the OTLP/HTTP
 * default), as an OTLP receiver answers them: an `ExportLogsServiceRequest` in
 * protobuf (`application/x-protobuf`) or JSON (`application/json`), gzip
 * accepted; 200 with an `ExportLogsServiceResponse` in the request's encoding,
 * its `partial_success` counting the records that were rejected; 400 for a
 * body that does not decode, with nothing stored. Reading, admission, the WAL
 * and durability are those of every push ({@linkcode receivePush}); the
 * mapping is `src/ingest/otlp.ts`.
 *
 * @module
 */

import { PushFormat } from "../ingest/decode.ts";
import { addDetectedLevels } from "../ingest/detected_level.ts";
import type { IngestSink } from "../ingest/ingester.ts";
import { decodeOtlp, frameOtlp } from "../ingest/otlp_record.ts";
import { HttpError } from "./errors.ts";
import { type PushLimits, receivePush } from "./push.ts";

const MEDIA_TYPES: Record<string, PushFormat> = {
  "application/x-protobuf": PushFormat.OtlpProtobuf,
  "application/protobuf": PushFormat.OtlpProtobuf,
  "application/json": PushFormat.OtlpJson,
};

const encoder = new TextEncoder();

/** A varint's bytes. */
function varint(n: number): number[] {
  const out: number[] = [];
  for (; n >= 0x80; n = Math.floor(n / 128)) out.push((n % 128) | 0x80);
  out.push(n);
  return out;
}

/**
 * The `ExportLogsServiceResponse` in protobuf: empty when nothing was
 * rejected, else `partial_success` (field 1) with `rejected_log_records`
 * (field 1) and `error_message` (field 2).
 *
 * @example
 * ```ts
 * import { otlpProtobufResponse } from "./otlp.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual(otlpProtobufResponse(0, ""), new Uint8Array(0));
 * assert.deepEqual(otlpProtobufResponse(2, "x"), new Uint8Array([0x0a, 5, 0x08, 2, 0x12, 1, 0x78]));
 * ```
 */
export function otlpProtobufResponse(
  rejected: number,
  reason: string,
): Uint8Array<ArrayBuffer> {
  if (rejected === 0) return new Uint8Array(0);
  const message = encoder.encode(reason);
  const partial = [0x08, ...varint(rejected), 0x12, ...varint(message.length), ...message];
  return new Uint8Array([0x0a, ...varint(partial.length), ...partial]);
}

/**
 * Handles an OTLP logs export, mapping resources with `streamAttributes`.
 *
 * @throws {HttpError} 415 for another content type; 400/408/413/503 as every push.
 * @throws {PushError} for a body that does not decode (400).
 */
export async function handleOtlpLogs(
  req: Request,
  ingester: IngestSink,
  limits: PushLimits,
  streamAttributes: readonly string[],
): Promise<Response> {
  const contentType = req.headers.get("content-type");
  const format = MEDIA_TYPES[(contentType ?? "").split(";")[0].trim().toLowerCase()];
  if (format === undefined) {
    throw new HttpError(
      415,
      `unsupported content type ${JSON.stringify(contentType ?? "")}; use one of ${
        Object.keys(MEDIA_TYPES).join(", ")
      }`,
    );
  }
  const json = format === PushFormat.OtlpJson;
  let rejected = 0;
  let reason = "";
  await receivePush(req, ingester, limits, format, (received) => {
    const header = { streamAttributes, now: BigInt(Date.now()) * 1_000_000n };
    const mapped = decodeOtlp(json, received.transient(), header);
    rejected = mapped.rejected;
    reason = mapped.reason;
    return {
      payload: mapped.payload.lines > 0 ? addDetectedLevels(mapped.payload) : undefined,
      record: frameOtlp(received.parts, header),
    };
  });
  if (json) {
    const answer = rejected === 0
      ? {}
      : { partialSuccess: { rejectedLogRecords: String(rejected), errorMessage: reason } };
    return new Response(JSON.stringify(answer), {
      headers: { "content-type": "application/json" },
    });
  }
  return new Response(otlpProtobufResponse(rejected, reason), {
    headers: { "content-type": "application/x-protobuf" },
  });
}
