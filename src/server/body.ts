/**
 * Reading request bodies: within a size limit, a deadline and a shared memory
 * budget, undoing `Content-Encoding`, and telling a client that went away from
 * a server fault.
 *
 * @module
 */

import { gunzipSync } from "node:zlib";
import { ClientAbortError, HttpError } from "./errors.ts";
import { ReceivedBody } from "../ingest/received_body.ts";

function tooLarge(limit: number): HttpError {
  return new HttpError(413, `request body exceeds the limit of ${limit} bytes (--max-body-size)`);
}

/**
 * Bytes of request bodies held in memory at once, across requests: bodies are
 * read before a push is admitted (so a slow sender holds no admission slot),
 * and this bounds what all of them hold together.
 *
 * @example
 * ```ts
 * import { BodyBudget } from "./body.ts";
 * import { HttpError } from "./errors.ts";
 * import assert from "node:assert/strict";
 * const budget = new BodyBudget(10);
 * const a = budget.open();
 * a.add(8);
 * assert.throws(
 *   () => budget.open().add(4),
 *   (e: unknown) => e instanceof HttpError && e.status === 503 && /server busy/.test(e.message),
 * );
 * a.release();
 * assert.equal(budget.inUse, 0);
 * ```
 */
export class BodyBudget {
  readonly #limit: number;
  #inUse = 0;

  /** A budget of `limit` bytes. */
  constructor(limit: number) {
    this.#limit = limit;
  }

  /** Bytes held now. */
  get inUse(): number {
    return this.#inUse;
  }

  /** A share of the budget for one request; release it when the request ends. */
  open(): { add(bytes: number): void; release(): void } {
    let held = 0;
    return {
      add: (bytes) => {
        if (this.#inUse + bytes > this.#limit) {
          throw new HttpError(
            503,
            `server busy: request bodies in memory would exceed ${this.#limit} bytes; retry shortly`,
            {},
            { "retry-after": "1" },
          );
        }
        this.#inUse += bytes;
        held += bytes;
      },
      release: () => {
        this.#inUse -= held;
        held = 0;
      },
    };
  }
}

/** Largest body of a read request (a query, a form): 1 MiB. */
export const MAX_READ_BODY = 1024 * 1024;

/** How {@linkcode readBody} bounds a body. */
export interface BodyLimits {
  /** Largest body in bytes, before and after gunzip (413 beyond). */
  maxBytes: number;
  /** Milliseconds the whole body may take to arrive (408 beyond); 0: no deadline. */
  timeoutMs?: number;
  /** The share of a shared budget that the body's bytes count against. */
  budget?: { add(bytes: number): void };
}

/**
 * Reads the body of `req` within `limits`, as {@linkcode receiveBody} does, in one buffer.
 *
 * @throws {HttpError} 400, 408, 413, 415 or 503 (budget exhausted).
 * @throws {ClientAbortError} when the client goes away mid-body.
 */
export async function readBody(req: Request, limits: BodyLimits): Promise<Uint8Array> {
  return (await receiveBody(req, limits)).bytes();
}

/**
 * Reads the body of `req` within `limits`, as the chunks it arrived in; gzip
 * is undone, any other content encoding is refused (415), and so is a
 * transfer coding other than chunked (400: it would be taken as the body's
 * own bytes).
 *
 * @throws {HttpError} 400, 408, 413, 415 or 503 (budget exhausted).
 * @throws {ClientAbortError} when the client goes away mid-body.
 */
export async function receiveBody(req: Request, limits: BodyLimits): Promise<ReceivedBody> {
  const { maxBytes, timeoutMs = 0, budget } = limits;
  const transfer = req.headers.get("transfer-encoding");
  if (transfer !== null) {
    const codings = transfer.split(",").map((c) => c.trim().toLowerCase()).filter((c) => c);
    const foreign = codings.filter((c) => c !== "chunked");
    if (foreign.length > 0) {
      throw new HttpError(
        400,
        `transfer coding "${foreign.join(", ")}" is not supported: send the body chunked or with ` +
          "Content-Length, and compress it with Content-Encoding: gzip",
      );
    }
  }
  const declared = Number(req.headers.get("content-length") ?? "0");
  if (declared > maxBytes) throw tooLarge(maxBytes);
  const chunks: Uint8Array[] = [];
  let size = 0;
  if (req.body) {
    const reader = req.body.getReader();
    let timedOut = false;
    const timer = timeoutMs > 0
      ? setTimeout(() => {
        timedOut = true;
        reader.cancel().catch(() => {});
      }, timeoutMs)
      : undefined;
    try {
      for (;;) {
        let chunk: ReadableStreamReadResult<Uint8Array>;
        try {
          chunk = await reader.read();
        } catch (error) {
          if (timedOut) break;
          throw new ClientAbortError(req, error);
        }
        if (timedOut) break;
        if (chunk.done) break;
        size += chunk.value.length;
        if (size > maxBytes) {
          await reader.cancel().catch(() => {});
          throw tooLarge(maxBytes);
        }
        budget?.add(chunk.value.length);
        chunks.push(chunk.value);
      }
    } finally {
      clearTimeout(timer);
    }
    if (timedOut) {
      throw new HttpError(
        408,
        `request body not received within ${timeoutMs} ms (--read-timeout)`,
        {},
        { connection: "close" },
      );
    }
  }
  const body = new ReceivedBody(chunks);
  const encoding = (req.headers.get("content-encoding") ?? "identity").trim().toLowerCase();
  if (encoding === "identity" || encoding === "") return body;
  if (encoding !== "gzip" && encoding !== "x-gzip") {
    throw new HttpError(415, `unsupported content encoding "${encoding}"; use gzip or none`);
  }
  let plain: Uint8Array;
  try {
    plain = gunzipSync(body.bytes(), { maxOutputLength: maxBytes });
  } catch (error) {
    if ((error as { code?: string }).code === "ERR_BUFFER_TOO_LARGE") throw tooLarge(maxBytes);
    throw new HttpError(400, `cannot decode gzip body: ${(error as Error).message}`);
  }
  budget?.add(plain.length);
  // A plain view, not the Buffer gunzip returns: a Buffer's slice() is a view, where decoders
  // expect a Uint8Array's copy.
  return new ReceivedBody([new Uint8Array(plain.buffer, plain.byteOffset, plain.length)]);
}
