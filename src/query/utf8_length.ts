/**
 * The UTF-8 length of text, as files and Loki's statistics count bytes.
 *
 * @module
 */

/**
 * UTF-8 bytes of `text`, without encoding it.
 *
 * @example
 * ```ts
 * import { utf8Length } from "./utf8_length.ts";
 * import assert from "node:assert/strict";
 * assert.equal(utf8Length("é€😀a"), 2 + 3 + 4 + 1);
 * ```
 */
export function utf8Length(text: string): number {
  let n = text.length;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) {
      n += 1;
      continue;
    }
    // Three bytes; a surrogate pair is four bytes in two code units, a lone surrogate U+FFFD.
    n += 2;
    if (c >= 0xd800 && c <= 0xdbff) {
      const d = text.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) i++;
    }
  }
  return n;
}
