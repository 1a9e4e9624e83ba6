/**
 * `POST /loki/api/v1/push`, as Loki answers it: `application/x-protobuf`
 * (a snappy block holding a `logproto.PushRequest`) or `application/json`
 * (optionally gzipped), 204 on success. Reading, admission, validation, the
 * WAL and durability are those of `POST /api/v1/push`
 * ({@linkcode receivePush}); streams without `service_name` get one derived,
 * and lines of streams without a level label a `detected_level` (structured
 * metadata), as Loki's distributor does.
 *
 * @module
 */

import { LOKI_PUSH_MEDIA_TYPES, lokiFormatOf } from "../../ingest/decode.ts";
import type { IngestSink } from "../../ingest/ingester.ts";
import { HttpError } from "../errors.ts";
import { type PushLimits, receivePush } from "../push.ts";

/**
 * Handles a Loki push: 204 once durable (or accepted, when not durable), 503
 * when dropped under backpressure; 400/408/413/415 for bad input, with
 * nothing stored.
 */
export async function handleLokiPush(
  req: Request,
  ingester: IngestSink,
  limits: PushLimits,
): Promise<Response> {
  const contentType = req.headers.get("content-type");
  const format = lokiFormatOf(contentType);
  if (format === undefined) {
    throw new HttpError(
      415,
      `unsupported content type ${JSON.stringify(contentType ?? "")}; use one of ${
        LOKI_PUSH_MEDIA_TYPES.join(", ")
      }`,
    );
  }
  await receivePush(req, ingester, limits, format);
  return new Response(null, { status: 204 });
}
