/**
 * A small hand-written recursive-descent parser for LogQL log queries:
 *
 * ```text
 * query       = [ selector ] { stage }                (empty input: match everything)
 * selector    = "{" [ matcher { "," matcher } ] "}"    (no trailing comma, as in Loki)
 * matcher     = label_name ( "=" | "!=" | "=~" | "!~" ) string
 * label_name  = [a-zA-Z_][a-zA-Z0-9_]*
 * stage       = line_filter | "|" ( parser | formatter | label_filter )
 * line_filter = ( "|=" | "!=" | "|~" | "!~" | "|>" | "!>" ) string { "or" string }
 * parser      = "json" [ label_name [ "=" string ] { "," … } ]   (string: a path a.b[0]["c d"])
 *             | "logfmt" { "--strict" | "--keep-empty" } [ label_name [ "=" string ] { "," … } ]
 *             | "regexp" string | "pattern" string | "unpack"
 * formatter   = "line_format" string
 *             | "label_format" label_name "=" ( label_name | string ) { "," … }
 *             | ( "drop" | "keep" ) label_name [ matcher_op string ] { "," … }
 *             | "decolorize"
 * label_filter= or_expr;  or_expr = and_expr { "or" and_expr }
 * and_expr    = primary { ( "and" | "," | nothing ) primary }
 * primary     = "(" or_expr ")" | label_name ( "=" | "!=" | "=~" | "!~" ) string
 *             | label_name ( "==" | "=" | "!=" | ">" | ">=" | "<" | "<=" ) literal
 * literal     = number | duration (250ms, 1h30m) | bytes (1KB, 1.5KiB)
 * string      = '"' Go-escaped text '"' | "`" raw text "`"
 * ```
 *
 * `and` binds tighter than `or`, as in Loki. Templates (`line_format`,
 * `label_format`) are checked here against the subset `pipeline/template.ts`
 * supports, regexes against RE2, patterns against Loki's rules. Valid LogQL
 * that loge does not support yet is refused with a message naming it: `|
 * distinct`, `ip(...)` filters, and template actions beyond the subset;
 * `| unwrap` belongs to metric queries.
 *
 * Whitespace and `#` line comments (as in Loki) are allowed between tokens.
 * The parser reads characters through a cursor with one small scanning
 * method per token kind. Metric queries (`metric/parse.ts`) read the log
 * selection inside a range aggregation with {@linkcode parseEmbeddedLog}.
 *
 * Regular expressions are validated while parsing (see {@linkcode compileRegex}
 * in `re2.ts` for the engines, the RE2 → JavaScript translation and the
 * length limit).
 *
 * @module
 */

import type {
  CompareOp,
  DropKeep,
  JsonParser,
  LabelFormat,
  LabelMatcher,
  LabelMatchOp,
  LabelPredicate,
  LineFilter,
  LineFilterOp,
  LogfmtParser,
  LogSelectorExpr,
  PipelineStage,
} from "./ast.ts";
import { parseBytes, parseDuration } from "./pipeline/label_filter.ts";
import { linePatternTest, parsePattern, PatternError } from "./pipeline/pattern.ts";
import { namedGroups } from "./pipeline/regexp.ts";
import { Template, TemplateError } from "./pipeline/template.ts";
import { isValidLabelName, LABEL_NAME_RULE } from "../labels.ts";
import { GoStringError, quoteText, unquoteGo } from "../go_string.ts";
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
 * The most binary operators (`+`, `and`, `or`, …) one query may hold: each
 * nests its evaluation one level deeper, and thousands would overflow the
 * stack; none Grafana writes comes near.
 */
export const MAX_QUERY_OPERATORS = 1000;

/**
 * Parses a LogQL log query: a selector and a pipeline.
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
  return withinStack(() => new Parser(input).parseQuery());
}

/**
 * Runs a parse of a query: one nested past what the stack holds (thousands
 * of parentheses fit in the length limit) is malformed, not a server fault.
 *
 * @example
 * ```ts
 * import { parseLogQL } from "./logql.ts";
 * import assert from "node:assert/strict";
 * const deep = `{a="b"} | ${"(".repeat(50_000)}x="1"${")".repeat(50_000)}`;
 * assert.throws(() => parseLogQL(deep), /cannot parse query at 0: the query nests too deeply/);
 * ```
 */
export function withinStack<T>(parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    if (error instanceof RangeError && /call stack/.test(error.message)) {
      throw new LogQLParseError(0, "the query nests too deeply", { cause: error });
    }
    throw error;
  }
}

/** A log selection inside a metric query, and the 0-based offset where it ends. */
export interface EmbeddedLog {
  matchers: LabelMatcher[];
  pipeline: PipelineStage[];
  end: number;
}

/**
 * Parses the log selection inside a metric query (`rate({app="web"} |=
 * "x" [5m])`) from the 0-based offset `start` of `input`: a selector (when
 * `selector`, else the pipeline alone, as after a range) and the pipeline
 * stages that follow. It stops before anything that is not a stage (`[`,
 * `)`, …) and before `| unwrap`; positions in errors are those of `input`.
 *
 * @example
 * ```ts
 * import { parseEmbeddedLog } from "./logql.ts";
 * import assert from "node:assert/strict";
 * const text = 'rate({app="web"} |= "x" [5m])';
 * const log = parseEmbeddedLog(text, 5, true);
 * assert.deepEqual(log.matchers, [{ name: "app", op: "=", value: "web" }]);
 * assert.equal(log.pipeline.length, 1);
 * assert.equal(text[log.end], "[");
 * ```
 *
 * @throws {LogQLParseError} If the selection is malformed.
 */
export function parseEmbeddedLog(input: string, start: number, selector: boolean): EmbeddedLog {
  return withinStack(() => new Parser(input, true).parseEmbedded(start, selector));
}

const LABEL_OPS: readonly LabelMatchOp[] = ["=", "!=", "=~", "!~"];
const LINE_FILTER_OPS: readonly LineFilterOp[] = ["|=", "!=", "|~", "!~", "|>", "!>"];
const LABEL_OPS_LIST = '"=", "!=", "=~" or "!~"';
const LABEL_FILTER_OPS = ["=", "!=", "=~", "!~", "==", ">", ">=", "<", "<="] as const;
const LABEL_FILTER_OPS_LIST = '"=", "!=", "=~", "!~", "==", ">", ">=", "<" or "<="';
const LINE_FILTER_LIST = '"|=", "!=", "|~", "!~", "|>" or "!>"';
const LINE_FILTER_TEXT = `line filter (${LINE_FILTER_LIST})`;

const IDENT_PART = /[A-Za-z0-9_]/;
/** Characters that make up operator tokens. */
const OP_CHAR = /[=!~|<>]/;
/** Characters that end a would-be label name (for the "invalid label name" error). */
const NAME_END = /[\s{}()[\]=!~<>|,"`#]/;

/** Longest query text, in UTF-16 code units: Grafana's longest queries are a few kilobytes. */
export const MAX_QUERY_LENGTH = 128 * 1024;

/**
 * Refuses a query text longer than {@linkcode MAX_QUERY_LENGTH} before it is
 * parsed.
 *
 * @throws {LogQLParseError} at position 1 when `src` is too long.
 */
export function checkQueryLength(src: string): void {
  if (src.length > MAX_QUERY_LENGTH) {
    throw new LogQLParseError(
      1,
      `query is ${src.length} characters long, over the limit of ${MAX_QUERY_LENGTH}`,
    );
  }
}

/** Recursive-descent parser over a character cursor (`#pos` is 0-based). */
class Parser {
  readonly #src: string;
  #pos = 0;
  /** Inside a metric query: the pipeline ends before anything that is not a stage, or `| unwrap`. */
  readonly #embedded: boolean;

  constructor(src: string, embedded = false) {
    checkQueryLength(src);
    this.#src = src;
    this.#embedded = embedded;
  }

  /** The selector (when `selector`) and pipeline from `start`, and where they end. */
  parseEmbedded(start: number, selector: boolean): EmbeddedLog {
    this.#pos = start;
    this.#skipSpace();
    let matchers: LabelMatcher[] = [];
    if (selector) {
      if (this.#peek() !== "{") this.#expected('stream selector "{"');
      matchers = this.#parseSelector();
    }
    const pipeline = this.#parsePipeline(true);
    return { matchers, pipeline, end: this.#pos };
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
      this.#fail(start, `invalid label name ${quoteText(word)}: ${LABEL_NAME_RULE}`);
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
      this.#fail(start, `unknown operator ${quoteText(run)}, expected ${list}`);
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
      if (this.#embedded && (run === "" || this.#atUnwrap(run))) return stages;
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
        const stage = this.#parseStage(start);
        if (stage) {
          stages.push(stage);
          continue;
        }
        this.#pos = start;
      }
      if (!(LINE_FILTER_OPS as readonly string[]).includes(run)) {
        this.#fail(
          start,
          `unknown line filter operator ${quoteText(run)}, expected ${LINE_FILTER_LIST}`,
        );
      }
      this.#pos += run.length;
      stages.push(this.#parseLineFilter(run as LineFilterOp));
    }
  }

  /** The values of a line filter after its operator: string { "or" string }. */
  #parseLineFilter(op: LineFilterOp): LineFilter {
    const values: string[] = [];
    for (;;) {
      this.#skipSpace();
      if (this.#src.startsWith("ip(", this.#pos)) {
        this.#fail(this.#pos, 'unsupported line filter "ip(...)"');
      }
      const { value, start } = this.#parseString();
      if (op === "|~" || op === "!~") this.#checkRegex(value, start, false);
      if (op === "|>" || op === "!>") this.#checkLinePattern(value, start);
      values.push(value);
      const save = this.#pos;
      this.#skipSpace();
      if (this.#scanWord() === "or") {
        const after = this.#pos + 2;
        this.#pos = after;
        this.#skipSpace();
        const c = this.#peek();
        if (c === '"' || c === "`" || this.#src.startsWith("ip(", this.#pos)) continue;
      }
      this.#pos = save;
      break;
    }
    const [value, ...or] = values;
    return or.length > 0
      ? { kind: "line_filter", op, value, or }
      : { kind: "line_filter", op, value };
  }

  /**
   * A stage after "|" (the cursor after it and spaces), or `undefined` when
   * no word or "(" follows.
   */
  #parseStage(start: number): PipelineStage | undefined {
    if (this.#peek() === "(") return { kind: "label_filter", predicate: this.#parseOr() };
    const wordStart = this.#pos;
    const word = this.#scanWord();
    if (word === "") return undefined;
    const unsupported = (what: string): never =>
      this.#fail(start, `unsupported pipeline stage "| ${word}": ${what}`);
    const next = this.#src[wordStart + word.length];
    // `ip(` is the filter loge refuses; a label may be named `ip` (`| ip="…"`).
    const keyword = word === "ip"
      ? /^\s*\(/.test(this.#src.slice(wordStart + 2))
      : next === undefined || !/[=!~<>]/.test(next);
    switch (keyword ? word : "") {
      case "json":
        this.#pos += word.length;
        return this.#parseJson();
      case "logfmt":
        this.#pos += word.length;
        return this.#parseLogfmt();
      case "unpack":
      case "decolorize":
        this.#pos += word.length;
        return { kind: word as "unpack" | "decolorize" };
      case "regexp": {
        this.#pos += word.length;
        const { value, start: at } = this.#parseString();
        this.#checkRegex(value, at, false);
        let names: string[];
        try {
          names = namedGroups(value);
        } catch (e) {
          this.#fail(
            at,
            `invalid regex ${quoteText(abbreviatePattern(value))}: ${(e as Error).message}`,
          );
        }
        if (names.length === 0) {
          this.#fail(at, "regexp needs at least one named group (?P<name>...)");
        }
        for (const name of names) {
          if (!isValidLabelName(name)) {
            this.#fail(at, `invalid label name ${quoteText(name)} in regexp: ${LABEL_NAME_RULE}`);
          }
        }
        return { kind: "regexp", pattern: value };
      }
      case "pattern": {
        this.#pos += word.length;
        const { value, start: at } = this.#parseString();
        try {
          parsePattern(value);
        } catch (e) {
          if (!(e instanceof PatternError)) throw e;
          this.#fail(at, `invalid pattern ${quoteText(value)}: ${e.message}`);
        }
        return { kind: "pattern", pattern: value };
      }
      case "line_format": {
        this.#pos += word.length;
        const { value, start: at } = this.#parseString();
        this.#checkTemplate(value, at);
        return { kind: "line_format", template: value };
      }
      case "label_format":
        this.#pos += word.length;
        return this.#parseLabelFormat();
      case "drop":
      case "keep":
        this.#pos += word.length;
        return { kind: word as "drop" | "keep", labels: this.#parseLabelList() };
      case "unwrap":
        return unsupported(
          "unwrap belongs to a range aggregation, such as sum_over_time({…} | unwrap x [1m])",
        );
      case "distinct":
        return unsupported("not supported yet");
      case "ip":
        return this.#fail(wordStart, 'unsupported label filter "ip(...)"');
      default:
        this.#pos = wordStart;
        return { kind: "label_filter", predicate: this.#parseOr() };
    }
  }

  /**
   * A parser's label extractions `name [ "=" string ] { "," … }` (none when
   * no name follows), each string read by `read` (`undefined`: refused).
   */
  #parseExtractions<T>(
    what: string,
    read: (text: string) => T | undefined,
  ): { name: string; value: T }[] {
    const out: { name: string; value: T }[] = [];
    for (;;) {
      this.#skipSpace();
      if (!/[A-Za-z_]/.test(this.#peek() ?? "")) break;
      const name = this.#parseLabelName("label name");
      this.#skipSpace();
      let value: T | undefined;
      if (this.#peek() === "=") {
        this.#pos++;
        const string = this.#parseString();
        value = read(string.value);
        if (value === undefined) {
          this.#fail(string.start, `invalid ${what} ${quoteText(string.value)}`);
        }
      } else value = read(name)!;
      out.push({ name, value });
      this.#skipSpace();
      if (this.#peek() !== ",") break;
      this.#pos++;
    }
    return out;
  }

  /** json [ extraction { "," extraction } ], extraction = name [ "=" string ] */
  #parseJson(): JsonParser {
    const fields = this.#parseExtractions("JSON path", parseJsonPath)
      .map(({ name, value }) => ({ name, path: value }));
    return fields.length > 0 ? { kind: "json", fields } : { kind: "json" };
  }

  /** logfmt { "--strict" | "--keep-empty" } [ extraction { "," extraction } ] */
  #parseLogfmt(): LogfmtParser {
    const stage: LogfmtParser = { kind: "logfmt", strict: false, keepEmpty: false };
    for (;;) {
      this.#skipSpace();
      if (this.#src.startsWith("--strict", this.#pos)) {
        stage.strict = true;
        this.#pos += 8;
      } else if (this.#src.startsWith("--keep-empty", this.#pos)) {
        stage.keepEmpty = true;
        this.#pos += 12;
      } else if (this.#peek() === "-") {
        this.#fail(this.#pos, 'unknown logfmt flag: expected "--strict" or "--keep-empty"');
      } else break;
    }
    // A key a logfmt pair can have: no space, `=` or `"`.
    const fields = this.#parseExtractions(
      "logfmt key",
      (key) => /^[^\s="]+$/.test(key) ? key : undefined,
    )
      .map(({ name, value }) => ({ name, key: value }));
    if (fields.length > 0) stage.fields = fields;
    return stage;
  }

  /** label_format name "=" ( name | string ) { "," … } */
  #parseLabelFormat(): LabelFormat {
    const formats: LabelFormat["formats"] = [];
    const seen = new Set<string>();
    do {
      this.#skipSpace();
      const at = this.#pos;
      const name = this.#parseLabelName("label name");
      if (seen.has(name)) {
        this.#fail(at, `label_format sets ${quoteText(name)} more than once`);
      }
      // A failure is not a label (Loki: "__error__ cannot be formatted").
      if (name === "__error__") this.#fail(at, "label_format cannot set __error__");
      seen.add(name);
      this.#skipSpace();
      if (this.#peek() !== "=" || /[=~]/.test(this.#src[this.#pos + 1] ?? "")) {
        this.#expected('"="');
      }
      this.#pos++;
      this.#skipSpace();
      const c = this.#peek();
      if (c === '"' || c === "`") {
        const { value, start } = this.#parseString();
        this.#checkTemplate(value, start);
        formats.push({ name, template: value });
      } else {
        formats.push({ name, rename: this.#parseLabelName("label name or quoted template") });
      }
      this.#skipSpace();
    } while (this.#peek() === "," && ++this.#pos);
    return { kind: "label_format", formats };
  }

  /** drop/keep: label { "," label }, label = name [ op string ] */
  #parseLabelList(): DropKeep["labels"] {
    const labels: DropKeep["labels"] = [];
    do {
      const name = this.#parseLabelName("label name");
      this.#skipSpace();
      const run = this.#scanOperatorRun();
      if (run !== "" && !run.startsWith("|")) {
        const matcher = this.#parseMatcherAfterName(name);
        labels.push({ name, matcher });
      } else labels.push({ name });
      this.#skipSpace();
    } while (this.#peek() === "," && ++this.#pos);
    return labels;
  }

  #parseMatcherAfterName(name: string, given?: LabelMatchOp): LabelMatcher {
    const op = given ?? this.#parseOperator(LABEL_OPS, LABEL_OPS_LIST);
    const { value, start } = this.#parseString();
    if (op === "=~" || op === "!~") this.#checkRegex(value, start, true);
    return { name, op, value };
  }

  #operators = 0;

  /** Counts a label filter's `and` or `or` at `at`: a chain is evaluated as deep as it is long. */
  #countOperator(at: number): void {
    if (++this.#operators > MAX_QUERY_OPERATORS) {
      this.#fail(at, `more than ${MAX_QUERY_OPERATORS} operators in one query`);
    }
  }

  /** or_expr = and_expr { "or" and_expr } */
  #parseOr(): LabelPredicate {
    let left = this.#parseAnd();
    for (;;) {
      this.#skipSpace();
      const save = this.#pos;
      if (this.#scanWord() !== "or") return left;
      this.#pos = save + 2;
      this.#countOperator(save);
      left = { kind: "or", left, right: this.#parseAnd() };
    }
  }

  /** and_expr = primary { ( "and" | "," | nothing ) primary } */
  #parseAnd(): LabelPredicate {
    let left = this.#parsePrimary();
    for (;;) {
      this.#skipSpace();
      const save = this.#pos;
      const word = this.#scanWord();
      if (word === "and") this.#pos = save + 3;
      else if (this.#peek() === ",") this.#pos++;
      else if (word === "or" || (word === "" && this.#peek() !== "(")) return left;
      this.#countOperator(save);
      left = { kind: "and", left, right: this.#parsePrimary() };
    }
  }

  /** primary = "(" or_expr ")" | name op value */
  #parsePrimary(): LabelPredicate {
    this.#skipSpace();
    if (this.#peek() === "(") {
      this.#pos++;
      const inner = this.#parseOr();
      this.#skipSpace();
      if (this.#peek() !== ")") this.#expected('")"');
      this.#pos++;
      return inner;
    }
    const nameAt = this.#pos;
    const name = this.#parseLabelName("label filter (label name)");
    this.#skipSpace();
    if (name === "ip" && this.#peek() === "(") {
      this.#fail(nameAt, 'unsupported label filter "ip(...)"');
    }
    const opAt = this.#pos;
    const op = this.#parseOperator(LABEL_FILTER_OPS, LABEL_FILTER_OPS_LIST);
    this.#skipSpace();
    if (this.#src.startsWith("ip(", this.#pos)) {
      this.#fail(this.#pos, 'unsupported label filter "ip(...)"');
    }
    const c = this.#peek();
    if (c === '"' || c === "`") {
      if (op !== "=" && op !== "!=" && op !== "=~" && op !== "!~") {
        this.#fail(
          opAt,
          `operator ${
            quoteText(op)
          } compares numbers, durations or bytes: expected one, found string`,
        );
      }
      return { kind: "match", matcher: this.#parseMatcherAfterName(name, op) };
    }
    if (op === "=~" || op === "!~") this.#expected('quoted string ("..." or `...`)');
    const at = this.#pos;
    const m = /^-?[0-9]+(?:\.[0-9]+)?(?:[A-Za-zµμ]+[0-9.]*)*/.exec(this.#src.slice(at));
    if (!m) {
      this.#expected("quoted string, number, duration or bytes");
    }
    const text = m[0];
    this.#pos = at + text.length;
    const literal = parseLiteral(text);
    if (!literal) this.#fail(at, `invalid number, duration or bytes literal ${quoteText(text)}`);
    return {
      kind: "compare",
      name,
      op: op === "=" ? "==" : op as CompareOp,
      type: literal.type,
      value: literal.value,
      text,
    };
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
    try {
      const { value, end } = unquoteGo(this.#src, this.#pos);
      this.#pos = end;
      return value;
    } catch (error) {
      if (error instanceof GoStringError) this.#fail(error.index, error.reason);
      throw error;
    }
  }

  #checkTemplate(template: string, start: number): void {
    try {
      new Template(template);
    } catch (e) {
      if (!(e instanceof TemplateError)) throw e;
      this.#fail(start, `invalid template ${quoteText(abbreviatePattern(template))}: ${e.message}`);
    }
  }

  #checkLinePattern(pattern: string, start: number): void {
    try {
      linePatternTest(pattern);
    } catch (e) {
      if (!(e instanceof PatternError)) throw e;
      this.#fail(start, `invalid pattern ${quoteText(abbreviatePattern(pattern))}: ${e.message}`);
    }
  }

  #checkRegex(pattern: string, start: number, anchored: boolean): void {
    try {
      compileRegex(pattern, { anchored });
    } catch (e) {
      if (!(e instanceof InvalidRegexError)) throw e;
      this.#fail(start, `invalid regex ${quoteText(abbreviatePattern(pattern))}: ${e.detail}`, {
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

  /** Whether `| unwrap` is at the cursor, `run` being the operator run there. */
  #atUnwrap(run: string): boolean {
    if (run !== "|") return false;
    const m = /^\|\s*unwrap(?![A-Za-z0-9_])/.exec(this.#src.slice(this.#pos, this.#pos + 64));
    return m !== null;
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
    if (IDENT_PART.test(c)) return quoteText(this.#scanWord());
    const run = this.#scanOperatorRun();
    if (run !== "") return quoteText(run);
    return quoteText(String.fromCodePoint(this.#src.codePointAt(this.#pos)!));
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

/**
 * A comparison literal: a number, a Go duration (in seconds) or a byte size.
 */
function parseLiteral(
  text: string,
): { type: "number" | "duration" | "bytes"; value: number } | undefined {
  if (/^-?[0-9]+(?:\.[0-9]+)?$/.test(text)) return { type: "number", value: Number(text) };
  const duration = parseDuration(text) ?? parsePrometheusDuration(text);
  if (duration !== undefined) return { type: "duration", value: duration };
  if (text.startsWith("-")) return undefined;
  const bytes = parseBytes(text);
  if (bytes !== undefined && /[A-Za-z]$/.test(text)) return { type: "bytes", value: bytes };
  return undefined;
}

const PROMETHEUS_UNITS = { y: 31_536_000, w: 604_800, d: 86_400, h: 3600, m: 60, s: 1, ms: 1e-3 };

/**
 * A Prometheus duration (`5d`, `1w`, `1y2d`: whole numbers, units from years
 * down to milliseconds, each once and in that order) in seconds, as Loki's
 * lexer reads a literal Go's durations lack; `undefined` if it is not one.
 */
function parsePrometheusDuration(text: string): number | undefined {
  const m = /^(?:(\d+)y)?(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?$/
    .exec(text);
  if (!m || text === "") return undefined;
  return Object.values(PROMETHEUS_UNITS).reduce(
    (sum, unit, i) => sum + Number(m[i + 1] ?? 0) * unit,
    0,
  );
}

/**
 * A `| json` extraction path: `a.b`, `a[0]`, `["a b"]`, `a.b[1].c`;
 * `undefined` when malformed.
 */
function parseJsonPath(text: string): (string | number)[] | undefined {
  const path: (string | number)[] = [];
  let i = 0;
  let expectName = true;
  while (i < text.length) {
    const c = text[i];
    if (c === "[") {
      const m = /^\[(?:([0-9]+)|"((?:[^"\\]|\\.)*)"|'([^']*)')\]/.exec(text.slice(i));
      if (!m) return undefined;
      path.push(
        m[1] !== undefined ? Number(m[1]) : m[2] !== undefined ? JSON.parse(`"${m[2]}"`) : m[3],
      );
      i += m[0].length;
      expectName = false;
    } else if (c === ".") {
      if (expectName) return undefined;
      i++;
      expectName = true;
      if (i >= text.length) return undefined;
    } else {
      if (!expectName) return undefined;
      const m = /^[^.[\]]+/.exec(text.slice(i))!;
      path.push(m[0]);
      i += m[0].length;
      expectName = false;
    }
  }
  return path.length > 0 ? path : undefined;
}
