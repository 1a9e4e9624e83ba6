/**
 * JSON answers: nanosecond times (bigints) are written as exact integers,
 * which `JSON.stringify` alone would refuse.
 *
 * @module
 */

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
  return new Response(stringify(body), {
    status,
    headers: { "content-type": "application/json", ...headers },
  });
}
