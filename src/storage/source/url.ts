/**
 * Byte sources over a URL that serves byte ranges, such as a presigned S3
 * URL of a cold segment handed out by a search plan: every read is one GET
 * with an explicit `Range: bytes=a-b` (never a suffix range, which some S3
 * servers mishandle), answered `206` with exactly the bytes asked for. The
 * URL may carry a signature, so it never appears in names or messages.
 *
 * @module
 */

import { type ByteSource, SourceUnavailableError } from "./byte_source.ts";

/** Deadline of one read, retries and body transfer included. */
const READ_DEADLINE_MS = 60_000;
/** Tries of a read that fails with a network error or a 5xx/429 answer. */
const MAX_ATTEMPTS = 3;
/** Wait before the second try; doubled before each later one. */
const RETRY_DELAY_MS = 100;

/** Settings of {@linkcode openUrlSource}. */
export interface UrlSourceOptions {
  /** Deadline of one read in milliseconds, retries included (default 60 s). */
  readonly deadlineMs?: number;
  /** Tries of a read failing with a network error or a 5xx/429 answer (default 3). */
  readonly attempts?: number;
}

/** A failed try: whether another may succeed. */
class TryError extends Error {
  constructor(message: string, readonly retry: boolean) {
    super(message);
  }
}

/**
 * A byte source of `size` bytes read from `url` by range requests. `name`
 * stands for it in messages (the URL is not shown: it may hold a
 * signature). A read that cannot be done (network, HTTP status, a server that
 * ignores `Range`, a short body, the deadline) fails with
 * {@linkcode SourceUnavailableError}, which a query turns into a warning.
 *
 * @example
 * ```ts
 * import { openUrlSource } from "./url.ts";
 * import assert from "node:assert/strict";
 * const bytes = new TextEncoder().encode("LOGE....rest");
 * const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (req) => {
 *   const [, a, b] = /^bytes=(\d+)-(\d+)$/.exec(req.headers.get("range") ?? "")!;
 *   return new Response(bytes.slice(Number(a), Number(b) + 1), { status: 206 });
 * });
 * const source = openUrlSource(`http://127.0.0.1:${server.addr.port}/x`, 12, "segment x");
 * assert.equal(new TextDecoder().decode(await source.read(8, 4)), "rest");
 * await assert.rejects(source.read(10, 4), RangeError); // past the end
 * await server.shutdown();
 * ```
 */
export function openUrlSource(
  url: string,
  size: number,
  name: string,
  options: UrlSourceOptions = {},
): ByteSource {
  const deadlineMs = options.deadlineMs ?? READ_DEADLINE_MS;
  const attempts = options.attempts ?? MAX_ATTEMPTS;
  const once = async (range: string, length: number, signal: AbortSignal) => {
    let res: Response;
    try {
      res = await fetch(url, {
        // Ranges are of the stored bytes: no compressed representation.
        headers: { range, "accept-encoding": "identity" },
        signal,
      });
    } catch (error) {
      throw new TryError((error as Error).message, !signal.aborted);
    }
    if (res.status !== 206) {
      const text = res.status === 200 ? "" : (await res.text().catch(() => "")).slice(0, 200);
      if (res.status === 200) await res.body?.cancel();
      throw new TryError(
        res.status === 200
          ? "the server ignored the Range header (HTTP 200)"
          : `HTTP ${res.status} ${res.statusText}${text ? `: ${text}` : ""}` +
            (res.status === 403 ? " (a presigned URL may have expired)" : ""),
        res.status >= 500 || res.status === 429,
      );
    }
    let body: Uint8Array;
    try {
      body = await res.bytes();
    } catch (error) {
      throw new TryError((error as Error).message, !signal.aborted);
    }
    if (body.length !== length) {
      throw new TryError(`received ${body.length} bytes, expected ${length}`, false);
    }
    return body;
  };
  return {
    name,
    size,
    async read(offset, length) {
      if (
        !Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 ||
        length < 0 || offset + length > size
      ) {
        throw new RangeError(`read of ${length} bytes at ${offset} is outside ${size} bytes`);
      }
      if (length === 0) return new Uint8Array(0);
      const range = `bytes=${offset}-${offset + length - 1}`;
      const deadline = new AbortController();
      const timer = setTimeout(() => deadline.abort(), deadlineMs);
      const { signal } = deadline;
      try {
        for (let attempt = 1;; attempt++) {
          try {
            return await once(range, length, signal);
          } catch (error) {
            const retry = error instanceof TryError && error.retry;
            if (signal.aborted || !retry || attempt >= attempts) {
              const why = signal.aborted
                ? `not done within ${deadlineMs / 1000} s`
                : (error as Error).message;
              throw new SourceUnavailableError(
                `cannot read ${name} (${range}): ${why}` +
                  (attempt > 1 ? ` (after ${attempt} tries)` : ""),
                { cause: error },
              );
            }
            await new Promise((r) => setTimeout(r, RETRY_DELAY_MS * 2 ** (attempt - 1)));
          }
        }
      } finally {
        clearTimeout(timer);
      }
    },
    close: () => Promise.resolve(),
  };
}
