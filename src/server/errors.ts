/**
 * The one place where errors become HTTP responses: every handler throws, and
 * {@linkcode errorResponse} picks the status and a JSON reason.
 *
 * @module
 */

import { log } from "../log.ts";
import { PushError } from "../ingest/payload.ts";
import { ShuttingDownError } from "../ingest/ingester.ts";
import { QueryError } from "./read_request.ts";
import { StorageError } from "../storage/storage_error.ts";

/** An error with an HTTP status, thrown by handlers. */
export class HttpError extends Error {
  readonly status: number;
  readonly details: Record<string, unknown>;
  readonly headers: Record<string, string>;

  /** Creates the error; `details` are merged into the JSON body. */
  constructor(
    status: number,
    message: string,
    details: Record<string, unknown> = {},
    headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = "HttpError";
    this.status = status;
    this.details = details;
    this.headers = headers;
  }
}

/** The client went away while its request was being read: nobody is left to answer. */
export class ClientAbortError extends Error {
  /** Creates the error for `req`, whose body read failed with `cause`. */
  constructor(req: Request, cause: unknown) {
    super(`client went away while sending ${req.method} ${new URL(req.url).pathname}`, { cause });
    this.name = "ClientAbortError";
  }
}

const { rawJSON } = JSON as unknown as { rawJSON(text: string): unknown };

/**
 * Serializes `value` as JSON, writing bigints (nanosecond times) as exact
 * integers.
 */
function stringify(value: unknown): string {
  return JSON.stringify(value, (_key, v) => (typeof v === "bigint" ? rawJSON(v.toString()) : v));
}

/**
 * A JSON response; bigints are written as exact integers.
 *
 * @example
 * ```ts
 * import { json } from "./errors.ts";
 * const res = json({ status: "success" }, 200);
 * console.log(res.headers.get("content-type")); // application/json
 * ```
 */
export function json(body: unknown, status = 200, headers: HeadersInit = {}): Response {
  return new Response(stringify(body), {
    status,
    headers: { "content-type": "application/json", ...headers },
  });
}

/** Maps a thrown error to its response: `{"status":"error","error":"…", …details}`. */
export function errorResponse(error: unknown): Response {
  if (error instanceof HttpError) {
    return json(
      { status: "error", error: error.message, ...error.details },
      error.status,
      error.headers,
    );
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
  if (error instanceof StorageError) {
    // 507 while the disk is full (freeing space ends it); 503 for other faults.
    return json({ status: "error", error: error.message }, error.full ? 507 : 503, {
      "retry-after": "5",
    });
  }
  if (error instanceof ClientAbortError) {
    // Common and harmless (a shipper restarting): one line, no stack.
    log(`${error.message}`);
    return json({ status: "error", error: error.message }, 400);
  }
  if (error instanceof QueryError) {
    return json({ status: "error", error: error.message, position: error.position }, 400);
  }
  log(`internal error: ${(error as Error)?.stack ?? error}`);
  return json(
    { status: "error", error: `internal error: ${(error as Error)?.message ?? error}` },
    500,
  );
}
