/**
 * The one place where errors become HTTP responses. Domain errors carry no
 * HTTP status: a table maps each error class to its status, the details its
 * body adds and its headers, and a flavour per API writes the body (loge's
 * JSON `{"status":"error","error":"…", …details}` today; Loki's plain text
 * joins it with the Loki API). Anything not in the table is a bug: 500, and
 * its stack goes to the log.
 *
 * @module
 */

import { log } from "../log.ts";
import { PushError } from "../ingest/payload.ts";
import { ShuttingDownError } from "../ingest/ingester.ts";
import { IngestDisabledError } from "../ingest/no_ingest.ts";
import { QueryError } from "./read_request.ts";
import { QueryTimeoutError } from "../query/deadline.ts";
import { MetricQueryError } from "../query/metric/series.ts";
import { QueryRangeError } from "../query/range_limit.ts";
import { StorageError } from "../storage/storage_error.ts";
import { TailLimitError } from "../tail/hub.ts";
import { json } from "./respond.ts";

/** An error of the HTTP layer itself (auth, routing, bodies), with its status. */
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

/** What an error class answers. */
interface ErrorAnswer {
  status: number;
  details?: Record<string, unknown>;
  headers?: Record<string, string>;
}

// deno-lint-ignore no-explicit-any
type ErrorClass<E extends Error> = abstract new (...args: any[]) => E;

function entry<E extends Error>(
  kind: ErrorClass<E>,
  answer: (error: E) => ErrorAnswer,
): [ErrorClass<Error>, (error: Error) => ErrorAnswer] {
  return [kind, answer as (error: Error) => ErrorAnswer];
}

/** Error classes and their answers, most specific first. */
const ERROR_TABLE = [
  entry(HttpError, (e) => ({ status: e.status, details: e.details, headers: e.headers })),
  entry(PushError, (e) => ({ status: 400, details: { stream: e.stream, value: e.value } })),
  entry(QueryError, (e) => ({ status: 400, details: { position: e.position } })),
  entry(QueryTimeoutError, () => ({ status: 504 })),
  // The query's fault (a pipeline error in a series, too many series).
  entry(MetricQueryError, () => ({ status: 400 })),
  entry(QueryRangeError, () => ({ status: 400 })),
  entry(ShuttingDownError, () => ({ status: 503, headers: { "retry-after": "1" } })),
  entry(TailLimitError, () => ({ status: 429, headers: { "retry-after": "5" } })),
  entry(IngestDisabledError, () => ({ status: 503 })),
  // 507 while the disk is full (freeing space ends it); 503 for other faults.
  entry(StorageError, (e) => ({ status: e.full ? 507 : 503, headers: { "retry-after": "5" } })),
  entry(ClientAbortError, (e) => {
    // Common and harmless (a shipper restarting): one line, no stack.
    log(e.message);
    return { status: 400 };
  }),
];

/** How an API writes an error body. */
export type ErrorFlavor = (message: string, answer: ErrorAnswer) => Response;

/** loge's own API: `{"status":"error","error":"…", …details}`. */
export const logeFlavor: ErrorFlavor = (message, { status, details, headers }) =>
  json({ status: "error", error: message, ...details }, status, headers);

/**
 * Loki's API: the message and a newline as `text/plain`, as Loki's
 * `http.Error` writes it (loki `pkg/util/server/error.go` `WriteError`).
 *
 * @example
 * ```ts
 * import { errorResponse, HttpError, lokiFlavor } from "./errors.ts";
 * import assert from "node:assert/strict";
 * const res = errorResponse(new HttpError(404, "no route for /x"), lokiFlavor);
 * assert.equal(res.headers.get("content-type"), "text/plain; charset=utf-8");
 * assert.equal(await res.text(), "no route for /x\n");
 * ```
 */
export const lokiFlavor: ErrorFlavor = (message, { status, headers }) =>
  new Response(`${message}\n`, {
    status,
    headers: { "content-type": "text/plain; charset=utf-8", ...headers },
  });

/**
 * Maps a thrown error to its response in `flavor`.
 *
 * @example
 * ```ts
 * import { errorResponse, HttpError } from "./errors.ts";
 * import assert from "node:assert/strict";
 * const res = errorResponse(new HttpError(404, "no route for /x"));
 * assert.equal(res.status, 404);
 * assert.deepEqual(await res.json(), { status: "error", error: "no route for /x" });
 * ```
 */
export function errorResponse(error: unknown, flavor: ErrorFlavor = logeFlavor): Response {
  for (const [kind, answer] of ERROR_TABLE) {
    if (error instanceof kind) return flavor(error.message, answer(error));
  }
  log(`internal error: ${(error as Error)?.stack ?? error}`);
  return flavor(`internal error: ${(error as Error)?.message ?? error}`, { status: 500 });
}
