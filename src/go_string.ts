/**
 * Go string literals, as LogQL queries and Loki's label strings write them:
 * double-quoted, with Go's escapes (`\n`, `\"`, `\x41`, `\101`, `\u00e9`,
 * `\U0001F600`; byte escapes must make valid UTF-8). One decoder serves the
 * LogQL parser and the label-set parser of Loki pushes.
 *
 * @module
 */

import { decodeUtf8 } from "./utf8.ts";

const SIMPLE_ESCAPES: Readonly<Record<string, string>> = {
  a: "\x07",
  b: "\b",
  f: "\f",
  n: "\n",
  r: "\r",
  t: "\t",
  v: "\v",
  "\\": "\\",
  '"': '"',
};

/** A malformed string literal; `index` is the 0-based offset of the problem in the source. */
export class GoStringError extends Error {
  /** 0-based offset of the problem. */
  readonly index: number;
  /** What is wrong. */
  readonly reason: string;

  /** Creates the error. */
  constructor(index: number, reason: string) {
    super(`invalid string at ${index + 1}: ${reason}`);
    this.name = "GoStringError";
    this.index = index;
    this.reason = reason;
  }
}

/**
 * Quotes text for an error message, showing control characters as JSON escapes.
 *
 * @example
 * ```ts
 * import { quoteText } from "./go_string.ts";
 * import assert from "node:assert/strict";
 * assert.equal(quoteText("a\tb"), '"a\\tb"');
 * ```
 */
export function quoteText(text: string): string {
  // deno-lint-ignore no-control-regex
  return `"${text.replace(/[\x00-\x1f\x7f]/g, (c) => JSON.stringify(c).slice(1, -1))}"`;
}

/**
 * Decodes the double-quoted literal whose opening quote is at `open` in `src`.
 *
 * @example
 * ```ts
 * import { GoStringError, unquoteGo } from "./go_string.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual(unquoteGo(`x="caf\\u00e9 \\x41"`, 2), { value: "café A", end: 18 });
 * assert.throws(() => unquoteGo('"\\q"', 0), GoStringError);
 * ```
 *
 * @returns the value and the offset just after the closing quote.
 * @throws {GoStringError} naming the first problem and where it is.
 */
export function unquoteGo(src: string, open: number): { value: string; end: number } {
  const fail = (index: number, reason: string): never => {
    throw new GoStringError(index, reason);
  };
  let i = open + 1;
  let out = "";
  let bytes: number[] = [];
  let bytesStart = 0;
  const flushBytes = () => {
    if (bytes.length === 0) return;
    try {
      out += decodeUtf8(new Uint8Array(bytes));
    } catch {
      fail(
        bytesStart,
        `invalid UTF-8 in byte escapes ${quoteText(src.slice(bytesStart, i))}`,
      );
    }
    bytes = [];
  };
  for (;;) {
    if (i >= src.length) {
      fail(open, 'unterminated string: expected closing "');
    }
    const c = src[i];
    if (c === '"') {
      flushBytes();
      return { value: out, end: i + 1 };
    }
    if (c === "\n") {
      fail(i, 'newline in string: expected closing " (use \\n or a backtick string)');
    }
    if (c !== "\\") {
      flushBytes();
      out += c;
      i++;
      continue;
    }
    const esc = i;
    const e = src[i + 1];
    if (e === undefined) fail(open, 'unterminated string: expected closing "');
    if (e in SIMPLE_ESCAPES) {
      flushBytes();
      out += SIMPLE_ESCAPES[e];
      i += 2;
    } else if (e === "x" || e === "u" || e === "U" || (e >= "0" && e <= "7")) {
      const octal = e !== "x" && e !== "u" && e !== "U";
      const n = octal ? 3 : e === "x" ? 2 : e === "u" ? 4 : 8;
      const digitsStart = octal ? i + 1 : i + 2;
      const digit = octal ? /[0-7]/ : /[0-9A-Fa-f]/;
      let end = digitsStart;
      while (end < digitsStart + n && end < src.length && digit.test(src[end])) end++;
      if (end < digitsStart + n) {
        const bad = src[end] === undefined || src[end] === '"' ? "" : src[end];
        fail(
          esc,
          `invalid escape sequence ${quoteText(src.slice(esc, end) + bad)}: expected ${n} ${
            octal ? "octal" : "hex"
          } digits`,
        );
      }
      const text = src.slice(esc, end);
      const value = parseInt(src.slice(digitsStart, end), octal ? 8 : 16);
      i = end;
      if (e === "u" || e === "U") {
        if (value >= 0xd800 && value <= 0xdfff) {
          fail(esc, `invalid escape sequence ${quoteText(text)}: surrogate half`);
        }
        if (value > 0x10ffff) {
          fail(esc, `invalid escape sequence ${quoteText(text)}: code point above U+10FFFF`);
        }
        flushBytes();
        out += String.fromCodePoint(value);
      } else {
        if (value > 255) {
          fail(esc, `invalid escape sequence ${quoteText(text)}: octal value above \\377`);
        }
        if (bytes.length === 0) bytesStart = esc;
        bytes.push(value);
      }
    } else {
      const text = "\\" + String.fromCodePoint(e.codePointAt(0)!);
      fail(
        esc,
        `unknown escape sequence ${quoteText(text)} (write "\\\\${
          text.slice(1)
        }" for a literal backslash, or use a backtick string)`,
      );
    }
  }
}
