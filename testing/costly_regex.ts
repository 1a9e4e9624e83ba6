/**
 * A regex that is costly to test, and lines to test it on, for the tests of
 * what a costly query or live tail may hold: {@linkcode COSTLY_PATTERN} runs
 * on `re2js` (a match is 3,000 characters: too many ways for V8), which
 * keeps up to 3,003 threads alive at each letter of a run of letters, so a
 * few thousand {@linkcode letters} take tenths of a second.
 *
 * @module
 */

/** 3,000 letters and a "9": matched by `/[a-z]{3000}9/` in JS, the tests' oracle. */
export const COSTLY_PATTERN = "[a-z]{1000}[a-z]{1000}[a-z]{1000}9";

/**
 * `n` lowercase letters, varied by `seed`, with no run of one letter.
 *
 * @example
 * ```ts
 * import { letters } from "./costly_regex.ts";
 * import assert from "node:assert/strict";
 * assert.match(letters(50, 3), /^[a-z]{50}$/);
 * assert.notEqual(letters(50, 3), letters(50, 4));
 * ```
 */
export function letters(n: number, seed = 0): string {
  return Array.from({ length: n }, (_, i) => String.fromCharCode(97 + (i * 7919 + seed) % 26))
    .join("");
}
