/**
 * The one place where errors become HTTP responses: every handler throws, and
 * {@linkcode errorResponse} picks the status and a JSON reason.
 *
 * @module
 */

import { PushError } from "../ingest/payload.ts";
import { ShuttingDownError } from "../ingest/ingester.ts";

/** An error with an HTTP status, thrown by handlers. */
export class HttpError extends Error {
  readonly status: number;
  readonly details: Record<string, unknown>;

  /** Creates the error; `details` are merged into the JSON body. */
  constructor(status: number, message: string, details: Record<string, unknown> = {}) {
    super(message);
    this.name = "HttpError";
    this.status = status;
    this.details = details;
  }
}

/**
 * A JSON response.
 *
 * @example
 * ```ts
 * import { json } from "./errors.ts";
 * const res = json({ status: "success" }, 200);
 * console.log(res.headers.get("content-type")); // application/json
 * ```
 */
export function json(body: unknown, status = 200, headers: HeadersInit = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json", ...headers },
  });
}

/** Maps a thrown error to its response: `{"status":"error","error":"…", …details}`. */
export function errorResponse(error: unknown): Response {
  if (error instanceof HttpError) {
    return json({ status: "error", error: error.message, ...error.details }, error.status);
  }
  if (error instanceof PushError) {
    return json(
      { status: "error", error: error.message, stream: error.stream, value: error.value },
      400,
    );
  }
  if (error instanceof ShuttingDownError) {
    return json({ status: "error", error: error.message }, 503, { "retry-after": "1" });
  }
  // Errors a client can cause carry a `status` (e.g. query errors); the rest are ours.
  const status = (error as { status?: unknown })?.status;
  if (typeof status === "number" && status >= 400 && status < 500) {
    return json({ status: "error", error: (error as Error).message }, status);
  }
  console.error("loge: internal error:", error);
  return json(
    { status: "error", error: `internal error: ${(error as Error)?.message ?? error}` },
    500,
  );
}
