/**
 * `POST /api/v1/push`: read, decode, validate, log, acknowledge; and
 * {@linkcode receivePush}, the part every push route shares (Loki's too).
 *
 * The body is read before the push is admitted: a slow sender holds memory
 * (bounded by the shared {@linkcode BodyBudget} and `--read-timeout`), never
 * one of the few admission slots that every push needs.
 *
 * @module
 */

import {
  decodedSize,
  decodePush,
  formatOf,
  PUSH_MEDIA_TYPES,
  type PushFormat,
} from "../ingest/decode.ts";
import type { IngestSink, PushOutcome } from "../ingest/ingester.ts";
import type { PushPayload } from "../ingest/payload.ts";
import type { RecordBody } from "../ingest/wal.ts";
import type { ReceivedBody } from "../ingest/received_body.ts";
import { checkPushLimits, type PayloadLimits } from "../ingest/push_limits.ts";
import { type BodyBudget, receiveBody } from "./body.ts";
import { HttpError } from "./errors.ts";

/** How push bodies are bounded. */
export interface PushLimits {
  maxBodyBytes: number;
  readTimeoutMs: number;
  budget: BodyBudget;
  /** What a decoded push is held to. */
  payload: PayloadLimits;
}

/**
 * Handles a push: 200 once durable, 202 when not durable, 503 when dropped
 * under backpressure; 400/408/413/415 for bad input, with nothing stored.
 */
export async function handlePush(
  req: Request,
  ingester: IngestSink,
  limits: PushLimits,
): Promise<Response> {
  const contentType = req.headers.get("content-type");
  const format = formatOf(contentType);
  if (format === undefined) {
    throw new HttpError(
      415,
      `unsupported content type ${JSON.stringify(contentType ?? "")}; use one of ${
        PUSH_MEDIA_TYPES.join(", ")
      }`,
    );
  }
  const outcome = await receivePush(req, ingester, limits, format);
  return new Response(null, { status: outcome === "stored" ? 200 : 202 });
}

/**
 * Reads a push body of `format` within `limits` (its decoded size too),
 * waits for admission, then decodes, validates and hands it to `ingester`,
 * which logs the body as it arrived (its chunks). A `decode` of its own turns
 * the body into the payload and the record the WAL keeps (none to store:
 * `undefined`).
 *
 * @throws {HttpError} 400, 408, 413, 415 or 503 from reading or admission.
 * @throws {PushError} when the body does not decode or is invalid: nothing is stored.
 */
export async function receivePush(
  req: Request,
  ingester: IngestSink,
  limits: PushLimits,
  format: PushFormat,
  decode: (body: ReceivedBody) => { payload?: PushPayload; record: RecordBody } = (body) => ({
    payload: decodePush(format, body.transient()),
    record: body.parts,
  }),
): Promise<PushOutcome | undefined> {
  const share = limits.budget.open();
  try {
    const body = await receiveBody(req, {
      maxBytes: limits.maxBodyBytes,
      timeoutMs: limits.readTimeoutMs,
      budget: share,
    });
    const size = decodedSize(format, body);
    if (size > limits.maxBodyBytes) {
      throw new HttpError(
        413,
        `request body decodes to ${size} bytes, over the limit of ${limits.maxBodyBytes} (--max-body-size)`,
      );
    }
    if (!(await ingester.admit())) {
      throw new HttpError(
        503,
        "payload dropped: the flush pipeline is saturated (--drop-on-backpressure)",
        { dropped: true },
      );
    }
    try {
      const { payload, record } = decode(body);
      if (payload === undefined) return undefined;
      checkPushLimits(payload, limits.payload);
      return await ingester.push(payload, format, record);
    } finally {
      ingester.release();
    }
  } finally {
    share.release();
  }
}
