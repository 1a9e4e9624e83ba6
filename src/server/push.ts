/**
 * `POST /api/v1/push`: decode, validate, log, acknowledge.
 *
 * @module
 */

import { decodePush, formatOf, PUSH_MEDIA_TYPES } from "../ingest/decode.ts";
import type { Ingester } from "../ingest/ingester.ts";
import { readBody } from "./body.ts";
import { HttpError } from "./errors.ts";

/**
 * Handles a push: 200 once durable, 202 when not durable, 503 when dropped
 * under backpressure; 400/413/415 for bad input, with nothing stored.
 */
export async function handlePush(
  req: Request,
  ingester: Ingester,
  maxBodyBytes: number,
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
  if (!(await ingester.admit())) {
    await req.body?.cancel();
    throw new HttpError(
      503,
      "payload dropped: the flush pipeline is saturated (--drop-on-backpressure)",
      { dropped: true },
    );
  }
  try {
    const body = await readBody(req, maxBodyBytes);
    const outcome = await ingester.push(decodePush(format, body), format, body);
    return new Response(null, { status: outcome === "stored" ? 200 : 202 });
  } finally {
    ingester.release();
  }
}
