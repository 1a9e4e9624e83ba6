/**
 * JSON answers: nanosecond times (bigints) are written as exact integers,
 * which `JSON.stringify` alone would refuse.
 *
 * @module
 */

import { encodeUtf8 } from "../utf8.ts";

const { rawJSON } = JSON as unknown as { rawJSON(text: string): unknown };

/**
 * Serializes `value` as JSON, writing bigints as exact integers.
 *
 * @example
 * ```ts
 * import { stringify } from "./respond.ts";
 * import assert from "node:assert/strict";
 * assert.equal(stringify({ t: 1700000000000000001n }), '{"t":1700000000000000001}');
 * ```
 */
export function stringify(value: unknown): string {
  return JSON.stringify(value, (_key, v) => (typeof v === "bigint" ? rawJSON(v.toString()) : v));
}

/**
 * A JSON response; bigints are written as exact integers.
 *
 * @example
 * ```ts
 * import { json } from "./respond.ts";
 * import assert from "node:assert/strict";
 * const res = json({ status: "success" }, 200);
 * assert.equal(res.headers.get("content-type"), "application/json");
 * ```
 */
export function json(body: unknown, status = 200, headers: HeadersInit = {}): Response {
  const text = stringify(body);
  return new Response(text.length > SENT_WHOLE ? utf8Pieces(text) : text, {
    status,
    headers: { "content-type": "application/json", ...headers },
  });
}

const isHighSurrogate = (unit: number) => unit >= 0xd800 && unit <= 0xdbff;
const isLowSurrogate = (unit: number) => unit >= 0xdc00 && unit <= 0xdfff;

/** The longest text (UTF-16 code units) a response encodes whole. */
const SENT_WHOLE = 1024 * 1024;
/** Code units encoded at a time when a text is longer. */
const PIECE = 256 * 1024;

/**
 * `text` as UTF-8, a piece at a time as the connection takes it: a response
 * of a 64 MiB answer would otherwise hold its whole UTF-8 copy beside the
 * text (`--max-response-size`).
 *
 * @example
 * ```ts
 * import { utf8Pieces } from "./respond.ts";
 * import assert from "node:assert/strict";
 * const text = "é".repeat(300_000) + "😀".repeat(200_000) + "\ud800";
 * assert.equal(await new Response(utf8Pieces(text)).text(), text.slice(0, -1) + "\ufffd");
 * ```
 */
export function utf8Pieces(text: string): ReadableStream<Uint8Array> {
  let at = 0;
  return new ReadableStream({
    pull(controller) {
      let end = Math.min(at + PIECE, text.length);
      // A surrogate pair stays in one piece: each half alone would encode as U+FFFD.
      if (isHighSurrogate(text.charCodeAt(end - 1)) && isLowSurrogate(text.charCodeAt(end))) end++;
      controller.enqueue(encodeUtf8(text.slice(at, end)));
      at = end;
      if (at === text.length) controller.close();
    },
  }, { highWaterMark: 0 });
}
