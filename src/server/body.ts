/**
 * Reading request bodies within a size limit, and undoing `Content-Encoding`.
 *
 * @module
 */

import { gunzipSync } from "node:zlib";
import { HttpError } from "./errors.ts";

function tooLarge(limit: number): HttpError {
  return new HttpError(413, `request body exceeds the limit of ${limit} bytes (--max-body-size)`);
}

/**
 * Reads the body of `req`, refusing more than `limit` bytes (413) before or
 * after decompression; gzip is undone, any other encoding is refused (415).
 */
export async function readBody(req: Request, limit: number): Promise<Uint8Array> {
  const declared = Number(req.headers.get("content-length") ?? "0");
  if (declared > limit) throw tooLarge(limit);
  const chunks: Uint8Array[] = [];
  let size = 0;
  if (req.body) {
    const reader = req.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.length;
      if (size > limit) {
        await reader.cancel();
        throw tooLarge(limit);
      }
      chunks.push(value);
    }
  }
  const body = chunks.length === 1 ? chunks[0] : new Uint8Array(size);
  if (chunks.length !== 1) {
    let at = 0;
    for (const c of chunks) {
      body.set(c, at);
      at += c.length;
    }
  }
  const encoding = (req.headers.get("content-encoding") ?? "identity").trim().toLowerCase();
  if (encoding === "identity" || encoding === "") return body;
  if (encoding !== "gzip" && encoding !== "x-gzip") {
    throw new HttpError(415, `unsupported content encoding "${encoding}"; use gzip or none`);
  }
  try {
    return gunzipSync(body, { maxOutputLength: limit });
  } catch (error) {
    if ((error as { code?: string }).code === "ERR_BUFFER_TOO_LARGE") throw tooLarge(limit);
    throw new HttpError(400, `cannot decode gzip body: ${(error as Error).message}`);
  }
}
