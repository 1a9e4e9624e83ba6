/**
 * Strict UTF-8 decoding: text for valid bytes, an error for anything else,
 * as `new TextDecoder("utf-8", { fatal: true })` gives, but at the speed of
 * the replacing decoder. Deno's fatal decoder is several times slower than its
 * replacing one (0.17 against 0.02 ms for 300 KB of ASCII, 270 against
 * 100 ns for a 40-byte string), and push bodies are decoded by it.
 *
 * @module
 */

const replacing = new TextDecoder();
const fatal = new TextDecoder("utf-8", { fatal: true });

/**
 * The text of the UTF-8 `bytes` (a leading byte order mark dropped). The
 * replacing decoder decodes; only when its text holds U+FFFD, which it puts
 * for invalid bytes but valid bytes may spell too, does the fatal decoder
 * decide.
 *
 * @example
 * ```ts
 * import { decodeUtf8 } from "./utf8.ts";
 * import assert from "node:assert/strict";
 * assert.equal(decodeUtf8(new Uint8Array([0x68, 0xc3, 0xa9])), "hé");
 * assert.equal(decodeUtf8(new Uint8Array([0xef, 0xbf, 0xbd])), "\ufffd");
 * assert.throws(() => decodeUtf8(new Uint8Array([0x68, 0xc3])), TypeError);
 * ```
 * @throws {TypeError} when `bytes` are not valid UTF-8.
 */
export function decodeUtf8(bytes: Uint8Array): string {
  const text = replacing.decode(bytes);
  return text.includes("\ufffd") ? fatal.decode(bytes) : text;
}
