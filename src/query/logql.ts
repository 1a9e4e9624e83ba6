/**
 * A small hand-written recursive-descent parser for the LogQL log selector:
 *
 * ```text
 * query      = [ selector ] { line_filter }          (empty input: match everything)
 * selector   = "{" [ matcher { "," matcher } ] "}"    (no trailing comma, as in Loki)
 * matcher    = label_name ( "=" | "!=" | "=~" | "!~" ) string
 * label_name = [a-zA-Z_][a-zA-Z0-9_]*
 * line_filter= ( "|=" | "!=" | "|~" | "!~" ) string
 * string     = '"' Go-escaped text '"' | "`" raw text "`"
 * ```
 *
 * Whitespace and `#` line comments (as in Loki) are allowed between tokens.
 * The parser reads characters through a cursor with one small scanning
 * method per token kind, so more productions (parser stages such as
 * `| json`, label filters, `line_format`, range vectors `[5m]`, metric
 * queries like `rate(...)` or `sum by (x) (...)`) can be added beside them.
 *
 * Regular expressions are validated while parsing (see {@linkcode compileRegex}
 * in `re2.ts` for the engines, the RE2 → JavaScript translation and the
 * length limit).
 *
 * @module
 */

import type {
  LabelMatcher,
  LabelMatchOp,
  LineFilterOp,
  LogSelectorExpr,
  PipelineStage,
} from "./ast.ts";
import { isValidLabelName, LABEL_NAME_RULE } from "../labels.ts";
import { abbreviatePattern, compileRegex, InvalidRegexError } from "./re2.ts";

/**
 * Thrown by {@linkcode parseLogQL} for any malformed query, including an
 * invalid regex (then `cause` is the {@linkcode InvalidRegexError}).
 * The message reads `cannot parse query at <position>: <reason>`.
 *
 * @example Usage
 * ```ts
 * import { LogQLParseError, parseLogQL } from "./logql.ts";
 * import assert from "node:assert/strict";
 * assert.throws(() => parseLogQL('{app="web"'), (e: unknown) =>
 *   e instanceof LogQLParseError && e.position === 11 &&
 *   e.message === 'cannot parse query at 11: expected "," or "}"');
 * ```
 */
export class LogQLParseError extends Error {
  /**
   * 1-based offset of the offending character, counted in UTF-16 code units
   * (JavaScript string index + 1); `input.length + 1` when the input ended
   * where a token was expected.
   */
  readonly position: number;
  /** The message without the `cannot parse query at N: ` prefix. */
  readonly reason: string;

  /**
   * Creates the error.
   *
   * @param position 1-based offset of the problem.
   * @param reason What was expected or what was wrong.
   * @param options Standard error options, e.g. a `cause`.
   */
  constructor(position: number, reason: string, options?: ErrorOptions) {
    super(`cannot parse query at ${position}: ${reason}`, options);
    this.name = "LogQLParseError";
    this.position = position;
    this.reason = reason;
  }
}

/**
 * Parses a LogQL log selector with optional line filters.
 *
 * The empty (or whitespace-only) query and `{}` match every stream.
 * Braces may be omitted when only line filters are given.
 *
 * @example Usage
 * ```ts
 * import { parseLogQL } from "./logql.ts";
 * import assert from "node:assert/strict";
 * const expr = parseLogQL('{app="web", level=~"err.*"} |= "timeout"');
 * assert.deepEqual(expr.matchers, [
 *   { name: "app", op: "=", value: "web" },
 *   { name: "level", op: "=~", value: "err.*" },
 * ]);
 * assert.deepEqual(expr.pipeline, [{ kind: "line_filter", op: "|=", value: "timeout" }]);
 * ```
 *
 * @param input The query text.
 * @returns The parsed expression.
 * @throws {LogQLParseError} If the query is malformed or a regex is invalid.
 */
export function parseLogQL(input: string): LogSelectorExpr {
  return new Parser(input).parseQuery();
}

const LABEL_OPS: readonly LabelMatchOp[] = ["=", "!=", "=~", "!~"];
const LINE_FILTER_OPS: readonly LineFilterOp[] = ["|=", "!=", "|~", "!~"];
const LABEL_OPS_LIST = '"=", "!=", "=~" or "!~"';
const LINE_FILTER_LIST = '"|=", "!=", "|~" or "!~"';
const LINE_FILTER_TEXT = `line filter (${LINE_FILTER_LIST})`;

const IDENT_PART = /[A-Za-z0-9_]/;
/** Characters that make up operator tokens. */
const OP_CHAR = /[=!~|<>]/;
/** Characters that end a would-be label name (for the "invalid label name" error). */
const NAME_END = /[\s{}()[\]=!~<>|,"`#]/;

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

const UTF8 = new TextDecoder("utf-8", { fatal: true });

/** Recursive-descent parser over a character cursor (`#pos` is 0-based). */
class Parser {
  readonly #src: string;
  #pos = 0;

  constructor(src: string) {
    this.#src = src;
  }

  /** query = [ selector ] { line_filter } */
  parseQuery(): LogSelectorExpr {
    this.#skipSpace();
    let matchers: LabelMatcher[] = [];
    const hasSelector = this.#peek() === "{";
    if (hasSelector) matchers = this.#parseSelector();
    const pipeline = this.#parsePipeline(hasSelector);
    return { kind: "log", matchers, pipeline };
  }

  /** selector = "{" [ matcher { "," matcher } ] "}" */
  #parseSelector(): LabelMatcher[] {
    this.#pos++; // "{"
    const matchers: LabelMatcher[] = [];
    this.#skipSpace();
    if (this.#peek() === "}") {
      this.#pos++;
      return matchers;
    }
    matchers.push(this.#parseMatcher('label name or "}"'));
    for (;;) {
      this.#skipSpace();
      const c = this.#peek();
      if (c === "}") {
        this.#pos++;
        return matchers;
      }
      if (c !== ",") this.#expected('"," or "}"');
      this.#pos++;
      matchers.push(this.#parseMatcher("label name"));
    }
  }

  /** matcher = label_name op string */
  #parseMatcher(expectedName: string): LabelMatcher {
    const name = this.#parseLabelName(expectedName);
    const op = this.#parseOperator(LABEL_OPS, LABEL_OPS_LIST);
    const { value, start } = this.#parseString();
    if (op === "=~" || op === "!~") this.#checkRegex(value, start, true);
    return { name, op, value };
  }

  #parseLabelName(expected: string): string {
    this.#skipSpace();
    const start = this.#pos;
    let end = start;
    while (end < this.#src.length && !NAME_END.test(this.#src[end])) end++;
    if (end === start) this.#expected(expected);
    const word = this.#src.slice(start, end);
    if (!isValidLabelName(word)) {
      this.#fail(start, `invalid label name ${quote(word)}: ${LABEL_NAME_RULE}`);
    }
    this.#pos = end;
    return word;
  }

  /** Reads a maximal run of operator characters and checks it against `ops`. */
  #parseOperator<T extends string>(ops: readonly T[], list: string): T {
    this.#skipSpace();
    const start = this.#pos;
    const run = this.#scanOperatorRun();
    if (run === "") this.#expected(`operator ${list}`);
    if (!(ops as readonly string[]).includes(run)) {
      this.#fail(start, `unknown operator ${quote(run)}, expected ${list}`);
    }
    this.#pos += run.length;
    return run as T;
  }

  /** pipeline = { line_filter } */
  #parsePipeline(hasSelector: boolean): PipelineStage[] {
    const stages: PipelineStage[] = [];
    for (;;) {
      this.#skipSpace();
      if (this.#pos >= this.#src.length) return stages;
      const start = this.#pos;
      const run = this.#scanOperatorRun();
      if (run === "") {
        this.#expected(
          stages.length > 0 || hasSelector
            ? `${LINE_FILTER_TEXT} or end of query`
            : `"{" or ${LINE_FILTER_TEXT}`,
        );
      }
      if (run === "|") {
        this.#pos++;
        this.#skipSpace();
        const word = this.#scanWord();
        if (word !== "") {
          this.#fail(
            start,
            `unsupported pipeline stage "| ${word}": only line filters ("|=", "!=", "|~", "!~") are supported`,
          );
        }
        this.#pos = start;
      }
      if (!(LINE_FILTER_OPS as readonly string[]).includes(run)) {
        this.#fail(
          start,
          `unknown line filter operator ${quote(run)}, expected ${LINE_FILTER_LIST}`,
        );
      }
      this.#pos += run.length;
      const op = run as LineFilterOp;
      const { value, start: valueStart } = this.#parseString();
      if (op === "|~" || op === "!~") this.#checkRegex(value, valueStart, false);
      stages.push({ kind: "line_filter", op, value });
    }
  }

  /** string = '"' escaped '"' | "`" raw "`"; returns the value and its 0-based start. */
  #parseString(): { value: string; start: number } {
    this.#skipSpace();
    const start = this.#pos;
    const c = this.#peek();
    if (c === "`") {
      const end = this.#src.indexOf("`", start + 1);
      if (end < 0) this.#fail(start, "unterminated raw string: expected closing backtick");
      this.#pos = end + 1;
      return { value: this.#src.slice(start + 1, end), start };
    }
    if (c !== '"') this.#expected('quoted string ("..." or `...`)');
    return { value: this.#parseQuoted(), start };
  }

  /** Decodes a double-quoted string with Go escapes; `#pos` is on the opening quote. */
  #parseQuoted(): string {
    const src = this.#src;
    const open = this.#pos;
    let i = open + 1;
    let out = "";
    let bytes: number[] = [];
    let bytesStart = 0;
    const flushBytes = () => {
      if (bytes.length === 0) return;
      try {
        out += UTF8.decode(new Uint8Array(bytes));
      } catch {
        this.#fail(
          bytesStart,
          `invalid UTF-8 in byte escapes ${quote(src.slice(bytesStart, i))}`,
        );
      }
      bytes = [];
    };
    for (;;) {
      if (i >= src.length) {
        this.#fail(open, 'unterminated string: expected closing "');
      }
      const c = src[i];
      if (c === '"') {
        flushBytes();
        this.#pos = i + 1;
        return out;
      }
      if (c === "\n") {
        this.#fail(i, 'newline in string: expected closing " (use \\n or a backtick string)');
      }
      if (c !== "\\") {
        flushBytes();
        out += c;
        i++;
        continue;
      }
      const esc = i;
      const e = src[i + 1];
      if (e === undefined) this.#fail(open, 'unterminated string: expected closing "');
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
          this.#fail(
            esc,
            `invalid escape sequence ${quote(src.slice(esc, end) + bad)}: expected ${n} ${
              octal ? "octal" : "hex"
            } digits`,
          );
        }
        const text = src.slice(esc, end);
        const value = parseInt(src.slice(digitsStart, end), octal ? 8 : 16);
        i = end;
        if (e === "u" || e === "U") {
          if (value >= 0xd800 && value <= 0xdfff) {
            this.#fail(esc, `invalid escape sequence ${quote(text)}: surrogate half`);
          }
          if (value > 0x10ffff) {
            this.#fail(esc, `invalid escape sequence ${quote(text)}: code point above U+10FFFF`);
          }
          flushBytes();
          out += String.fromCodePoint(value);
        } else {
          if (value > 255) {
            this.#fail(esc, `invalid escape sequence ${quote(text)}: octal value above \\377`);
          }
          if (bytes.length === 0) bytesStart = esc;
          bytes.push(value);
        }
      } else {
        const text = "\\" + String.fromCodePoint(e.codePointAt(0)!);
        this.#fail(
          esc,
          `unknown escape sequence ${quote(text)} (write "\\\\${
            text.slice(1)
          }" for a literal backslash, or use a backtick string)`,
        );
      }
    }
  }

  #checkRegex(pattern: string, start: number, anchored: boolean): void {
    try {
      compileRegex(pattern, { anchored });
    } catch (e) {
      if (!(e instanceof InvalidRegexError)) throw e;
      this.#fail(start, `invalid regex ${quote(abbreviatePattern(pattern))}: ${e.detail}`, {
        cause: e,
      });
    }
  }

  /** Skips whitespace and `#` comments (to the end of the line). */
  #skipSpace(): void {
    const src = this.#src;
    while (this.#pos < src.length) {
      const c = src[this.#pos];
      if (c === " " || c === "\t" || c === "\n" || c === "\r") {
        this.#pos++;
      } else if (c === "#") {
        const nl = src.indexOf("\n", this.#pos);
        this.#pos = nl < 0 ? src.length : nl + 1;
      } else {
        return;
      }
    }
  }

  #peek(): string | undefined {
    return this.#src[this.#pos];
  }

  #scanOperatorRun(): string {
    let end = this.#pos;
    while (end < this.#src.length && OP_CHAR.test(this.#src[end])) end++;
    return this.#src.slice(this.#pos, end);
  }

  #scanWord(): string {
    let end = this.#pos;
    while (end < this.#src.length && IDENT_PART.test(this.#src[end])) end++;
    return this.#src.slice(this.#pos, end);
  }

  /** Describes the token at the cursor for "found ..." in error messages. */
  #describeFound(): string {
    const c = this.#src[this.#pos];
    if (c === '"' || c === "`") return "string";
    if (IDENT_PART.test(c)) return quote(this.#scanWord());
    const run = this.#scanOperatorRun();
    if (run !== "") return quote(run);
    return quote(String.fromCodePoint(this.#src.codePointAt(this.#pos)!));
  }

  /** Fails at the cursor with `expected <what>[, found <token>]`. */
  #expected(what: string): never {
    if (this.#pos >= this.#src.length) this.#fail(this.#pos, `expected ${what}`);
    this.#fail(this.#pos, `expected ${what}, found ${this.#describeFound()}`);
  }

  #fail(index: number, reason: string, options?: ErrorOptions): never {
    throw new LogQLParseError(index + 1, reason, options);
  }
}

/** Quotes text for an error message, showing control characters as JSON escapes. */
function quote(text: string): string {
  // deno-lint-ignore no-control-regex
  return `"${text.replace(/[\x00-\x1f\x7f]/g, (c) => JSON.stringify(c).slice(1, -1))}"`;
}
