/**
 * The parser of LogQL metric queries (Loki's `pkg/logql/syntax/syntax.y`),
 * beside the log-query parser of `../logql.ts`, which reads the log
 * selections inside range aggregations:
 *
 * ```text
 * expr        = primary { binary_op modifier primary }      (precedence below)
 * primary     = "(" expr ")" | number | ("+" | "-") number | "vector" "(" number ")"
 *             | range_op "(" [ number "," ] log_range ")" [ grouping ]
 *             | vector_op [ grouping ] "(" [ number "," ] expr ")" [ grouping ]
 *             | "label_replace" "(" expr "," string "," string "," string "," string ")"
 * log_range   = selection [ unwrap ] range [ offset ]
 *             | selector range [ offset ] [ pipeline ] [ unwrap ]
 *             | "(" selection [ unwrap ] ")" range [ offset ] | "(" log_range ")"
 * unwrap      = "|" "unwrap" ( label | ( "bytes" | "duration" | "duration_seconds" ) "(" label ")" )
 *               { "|" label_filter }
 * range       = "[" prometheus_duration "]";   offset = "offset" [ "-" ] duration
 * grouping    = ( "by" | "without" ) "(" [ label { "," label } ] ")"
 * modifier    = [ "bool" ] [ ( "on" | "ignoring" ) "(" labels ")"
 *               [ ( "group_left" | "group_right" ) [ "(" labels ")" ] ] ]
 * ```
 *
 * Binary operators, loosest first: `or`; `and` `unless`; `==` `!=` `>` `>=`
 * `<` `<=`; `+` `-`; `*` `/` `%`; `^` (right-associative). Keywords and
 * function names are case-insensitive. As in Loki, an operation on two
 * numbers is reduced to a number while parsing, and the rules of Loki's
 * `newRangeAggregationExpr` and `mustNewVectorAggregationExpr` hold (which
 * functions take `unwrap`, a parameter or a grouping). Errors are
 * {@linkcode LogQLParseError}s with the position in the query.
 *
 * @module
 */

import type { LabelPredicate, LogSelectorExpr } from "../ast.ts";
import {
  checkQueryLength,
  LogQLParseError,
  MAX_QUERY_OPERATORS,
  parseEmbeddedLog,
  parseLogQL,
  withinStack,
} from "../logql.ts";
import { parseDuration as parseGoDuration } from "../pipeline/label_filter.ts";
import { abbreviatePattern, compileRegex, InvalidRegexError } from "../re2.ts";
import { GoStringError, quoteText, unquoteGo } from "../../go_string.ts";
import { isValidLabelName, LABEL_NAME_RULE } from "../../labels.ts";
import { parsePromDuration } from "../../time.ts";
import type {
  BinaryOp,
  Grouping,
  MetricExpr,
  RangeAggregation,
  RangeOp,
  Unwrap,
  VectorMatching,
  VectorOp,
} from "./ast.ts";
import { applyOp, isSetOp } from "./operators.ts";

const RANGE_OPS: readonly RangeOp[] = [
  "count_over_time",
  "rate",
  "bytes_over_time",
  "bytes_rate",
  "absent_over_time",
  "sum_over_time",
  "avg_over_time",
  "min_over_time",
  "max_over_time",
  "first_over_time",
  "last_over_time",
  "stddev_over_time",
  "stdvar_over_time",
  "quantile_over_time",
  "rate_counter",
];
const VECTOR_OPS: readonly VectorOp[] = [
  "sum",
  "avg",
  "min",
  "max",
  "count",
  "stddev",
  "stdvar",
  "topk",
  "bottomk",
  "sort",
  "sort_desc",
];
/** Range aggregations that need `| unwrap`; the others refuse it (absent_over_time and rate take both). */
const UNWRAP_OPS = new Set<RangeOp>([
  "sum_over_time",
  "avg_over_time",
  "min_over_time",
  "max_over_time",
  "first_over_time",
  "last_over_time",
  "stddev_over_time",
  "stdvar_over_time",
  "quantile_over_time",
  "rate_counter",
]);
/** Range aggregations that may be grouped (Loki's `RangeAggregationExpr.validate`). */
const GROUPED_RANGE_OPS = new Set<RangeOp>([
  "avg_over_time",
  "stddev_over_time",
  "stdvar_over_time",
  "quantile_over_time",
  "max_over_time",
  "min_over_time",
  "first_over_time",
  "last_over_time",
]);

/** Binary operators by precedence (higher binds tighter). */
const PRECEDENCE: Readonly<Record<BinaryOp, number>> = {
  or: 1,
  and: 2,
  unless: 2,
  "==": 3,
  "!=": 3,
  ">": 3,
  ">=": 3,
  "<": 3,
  "<=": 3,
  "+": 4,
  "-": 4,
  "*": 5,
  "/": 5,
  "%": 5,
  "^": 6,
};
const SYMBOL_OPS = ["==", "!=", ">=", "<=", ">", "<", "+", "-", "*", "/", "%", "^"] as const;

const NUMBER = /^(?:0[xX][0-9a-fA-F]+|(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)/;
const WORD = /^[A-Za-z_][A-Za-z0-9_]*/;

const EXPECTED_METRIC =
  "metric expression (a range aggregation such as rate({…}[5m]), an aggregation such as sum(…), a number or vector(…))";

/**
 * Whether `input` is a metric query rather than a log query: it starts
 * (after spaces and comments) with neither a selector, nor a line filter,
 * nor parentheses around a selector, nor nothing at all.
 *
 * @example
 * ```ts
 * import { isMetricQuery } from "./parse.ts";
 * import assert from "node:assert/strict";
 * assert.equal(isMetricQuery('sum(rate({app="web"}[5m]))'), true);
 * assert.equal(isMetricQuery("vector(1)+vector(1)"), true);
 * assert.equal(isMetricQuery('{app="web"} |= "x"'), false);
 * assert.equal(isMetricQuery('({app="web"})'), false);
 * ```
 */
export function isMetricQuery(input: string): boolean {
  const c = input[skipSpace(input, skipParens(input, 0))];
  return c !== undefined && c !== "{" && c !== "|" && c !== "!";
}

/**
 * Parses a LogQL query, log or metric: a log query (`{…} | …`, also
 * inside parentheses) gives a {@linkcode LogSelectorExpr}, anything else a
 * {@linkcode MetricExpr}.
 *
 * @example
 * ```ts
 * import { parseQuery } from "./parse.ts";
 * import assert from "node:assert/strict";
 * assert.equal(parseQuery('{app="web"}').kind, "log");
 * assert.equal(parseQuery('count_over_time({app="web"}[1m])').kind, "range_aggregation");
 * ```
 *
 * @throws {LogQLParseError} If the query is malformed.
 */
export function parseQuery(input: string): LogSelectorExpr | MetricExpr {
  if (isMetricQuery(input)) return parseMetricQuery(input);
  const open = skipParens(input, 0);
  if (open === skipSpace(input, 0)) return parseLogQL(input);
  // ({…} | …): the selection, then as many ")" as there were "(".
  const log = parseEmbeddedLog(input, open, true);
  let at = log.end;
  for (let depth = input.slice(0, open).split("(").length - 1; depth > 0; depth--) {
    at = skipSpace(input, at);
    if (input[at] !== ")") fail(at, `expected ")"${found(input, at)}`);
    at++;
  }
  at = skipSpace(input, at);
  if (at < input.length) fail(at, `expected end of query${found(input, at)}`);
  return { kind: "log", matchers: log.matchers, pipeline: log.pipeline };
}

/**
 * Parses a LogQL metric query.
 *
 * @example
 * ```ts
 * import { parseMetricQuery } from "./parse.ts";
 * import assert from "node:assert/strict";
 * const expr = parseMetricQuery('sum by (level) (count_over_time({app="web"} |= "x" [1m]))');
 * assert.equal(expr.kind, "vector_aggregation");
 * assert.deepEqual(expr.kind === "vector_aggregation" && expr.grouping, {
 *   without: false,
 *   labels: ["level"],
 * });
 * assert.throws(() => parseMetricQuery("sum(1"), /cannot parse query at 6: expected "\)"/);
 * ```
 *
 * @throws {LogQLParseError} If the query is malformed or not a metric query.
 */
export function parseMetricQuery(input: string): MetricExpr {
  return withinStack(() => new MetricParser(input).parse());
}

/** Skips whitespace and `#` comments from `at`; returns the next offset. */
function skipSpace(src: string, at: number): number {
  while (at < src.length) {
    const c = src[at];
    if (c === " " || c === "\t" || c === "\n" || c === "\r") at++;
    else if (c === "#") {
      const nl = src.indexOf("\n", at);
      at = nl < 0 ? src.length : nl + 1;
    } else break;
  }
  return at;
}

/** Skips spaces and opening parentheses from `at`. */
function skipParens(src: string, at: number): number {
  for (at = skipSpace(src, at); src[at] === "("; at = skipSpace(src, at + 1));
  return at;
}

/** `, found <token>` for messages, or nothing at the end of the input. */
function found(src: string, at: number): string {
  if (at >= src.length) return "";
  const word = WORD.exec(src.slice(at))?.[0];
  const token = word ?? NUMBER.exec(src.slice(at))?.[0] ??
    String.fromCodePoint(src.codePointAt(at)!);
  return `, found ${quoteText(token)}`;
}

function fail(at: number, reason: string, options?: ErrorOptions): never {
  throw new LogQLParseError(at + 1, reason, options);
}

/** Precedence climbing over a cursor (`#pos` is 0-based). */
class MetricParser {
  readonly #src: string;
  #pos = 0;

  constructor(src: string) {
    checkQueryLength(src);
    this.#src = src;
  }

  parse(): MetricExpr {
    const expr = this.#expr(1);
    this.#skip();
    if (this.#pos < this.#src.length) this.#expected("binary operator or end of query");
    return expr;
  }

  /** Binary operators so far: a chain is evaluated as deep as it is long. */
  #operators = 0;

  /** expr = primary { op modifier expr } with operators of precedence ≥ `min`. */
  #expr(min: number): MetricExpr {
    let left = this.#primary();
    for (;;) {
      this.#skip();
      const at = this.#pos;
      const op = this.#peekOp();
      if (!op || PRECEDENCE[op.op] < min) return left;
      if (++this.#operators > MAX_QUERY_OPERATORS) {
        fail(at, `more than ${MAX_QUERY_OPERATORS} operators in one query`);
      }
      this.#pos += op.length;
      const matching = this.#modifier();
      const prec = PRECEDENCE[op.op];
      const right = this.#expr(op.op === "^" ? prec : prec + 1);
      left = binary(op.op, matching, left, right, at);
    }
  }

  /** The binary operator at the cursor, if any. */
  #peekOp(): { op: BinaryOp; length: number } | undefined {
    const rest = this.#src.slice(this.#pos, this.#pos + 8);
    const word = WORD.exec(rest)?.[0].toLowerCase();
    if (word === "and" || word === "or" || word === "unless") {
      return { op: word, length: word.length };
    }
    const symbol = SYMBOL_OPS.find((s) => rest.startsWith(s));
    return symbol ? { op: symbol, length: symbol.length } : undefined;
  }

  /** [ "bool" ] [ ( "on" | "ignoring" ) "(" labels ")" [ group_left | group_right [ "(" labels ")" ] ] ] */
  #modifier(): { bool: boolean; matching: VectorMatching } {
    const bool = this.#keyword("bool");
    const on = this.#keyword("on") ? true : this.#keyword("ignoring") ? false : undefined;
    if (on === undefined) {
      return { bool, matching: { on: false, labels: [], card: "one-to-one", include: [] } };
    }
    const labels = this.#labelList();
    const card = this.#keyword("group_left")
      ? "many-to-one"
      : this.#keyword("group_right")
      ? "one-to-many"
      : "one-to-one";
    this.#skip();
    const include = card !== "one-to-one" && this.#src[this.#pos] === "(" ? this.#labelList() : [];
    return { bool, matching: { on, labels, card, include } };
  }

  /** Consumes keyword `word` (any case, as a whole word) if it is next. */
  #keyword(word: string): boolean {
    this.#skip();
    const m = WORD.exec(this.#src.slice(this.#pos, this.#pos + word.length + 1));
    if (!m || m[0].toLowerCase() !== word) return false;
    this.#pos += word.length;
    return true;
  }

  #primary(): MetricExpr {
    this.#skip();
    const at = this.#pos;
    const c = this.#src[at];
    if (c === "(") {
      this.#pos++;
      if (this.#src[skipParens(this.#src, this.#pos)] === "{") {
        this.#fail(at, logNotAllowed());
      }
      const inner = this.#expr(1);
      this.#expect(")");
      return inner;
    }
    if (c === "{") this.#fail(at, logNotAllowed());
    if (c === "+" || c === "-" || (c !== undefined && /[0-9.]/.test(c))) {
      return { kind: "number", value: this.#number() };
    }
    const word = WORD.exec(this.#src.slice(at))?.[0];
    if (word === undefined) this.#expected(EXPECTED_METRIC);
    const name = word.toLowerCase();
    const next = this.#src[skipSpace(this.#src, at + word.length)];
    const lowerNext = this.#src.slice(skipSpace(this.#src, at + word.length)).toLowerCase();
    const called = next === "(" || /^(?:by|without)\b/.test(lowerNext);
    if (!called) this.#expected(EXPECTED_METRIC);
    this.#pos = at + word.length;
    if ((RANGE_OPS as readonly string[]).includes(name)) {
      return this.#rangeAggregation(name as RangeOp, at);
    }
    if ((VECTOR_OPS as readonly string[]).includes(name)) {
      return this.#vectorAggregation(name as VectorOp, at);
    }
    if (name === "vector") {
      this.#expect("(");
      const value = this.#number(false);
      this.#expect(")");
      return { kind: "vector", value };
    }
    if (name === "label_replace") return this.#labelReplace();
    if (name === "approx_topk" || name === "count_min_sketch" || name === "quantile_sketch") {
      this.#fail(at, `unsupported function ${quoteText(name)}: loge does not support it yet`);
    }
    this.#fail(at, `unknown function ${quoteText(word)}`);
  }

  /** A number, with an optional sign when `signed`. */
  #number(signed = true): number {
    this.#skip();
    const at = this.#pos;
    let sign = 1;
    if (signed && (this.#src[at] === "+" || this.#src[at] === "-")) {
      sign = this.#src[at] === "-" ? -1 : 1;
      this.#pos++;
    }
    const m = NUMBER.exec(this.#src.slice(this.#pos));
    if (!m) this.#expected("number");
    this.#pos += m[0].length;
    if (IDENT_CHAR.test(this.#src[this.#pos] ?? "")) {
      this.#fail(at, `invalid number ${quoteText(this.#src.slice(at, this.#wordEnd()))}`);
    }
    return sign * Number(m[0]);
  }

  #wordEnd(): number {
    let end = this.#pos;
    while (end < this.#src.length && IDENT_CHAR.test(this.#src[end])) end++;
    return end;
  }

  /** range_op "(" [ number "," ] log_range ")" [ grouping ] */
  #rangeAggregation(op: RangeOp, at: number): RangeAggregation {
    this.#expect("(");
    const param = this.#parameter();
    const range = this.#logRange();
    this.#expect(")");
    const grouping = this.#grouping();
    if (param !== undefined && op !== "quantile_over_time") {
      this.#fail(at, `${op} takes no parameter, got ${param}`);
    }
    if (param === undefined && op === "quantile_over_time") {
      this.#fail(
        at,
        "quantile_over_time needs a parameter: quantile_over_time(0.99, {…} | unwrap x [5m])",
      );
    }
    if (grouping && !GROUPED_RANGE_OPS.has(op)) {
      this.#fail(at, `grouping not allowed for ${op} aggregation`);
    }
    if (range.unwrap && !UNWRAP_OPS.has(op) && op !== "rate" && op !== "absent_over_time") {
      this.#fail(at, `invalid aggregation ${op} with unwrap`);
    }
    if (!range.unwrap && UNWRAP_OPS.has(op)) {
      this.#fail(
        at,
        `invalid aggregation ${op} without unwrap: add | unwrap <label> before the range`,
      );
    }
    return {
      kind: "range_aggregation",
      op,
      ...(param !== undefined ? { param } : {}),
      ...range,
      ...(grouping ? { grouping } : {}),
    };
  }

  /** A leading `number ,` of an aggregation, if there is one. */
  #parameter(): number | undefined {
    this.#skip();
    const save = this.#pos;
    if (!NUMBER.test(this.#src.slice(save)) && !/^[+-][0-9.]/.test(this.#src.slice(save))) {
      return undefined;
    }
    const value = this.#number();
    this.#skip();
    if (this.#src[this.#pos] === ",") {
      this.#pos++;
      return value;
    }
    this.#pos = save;
    return undefined;
  }

  /** The log range of a range aggregation (see the module's grammar). */
  #logRange(): Omit<RangeAggregation, "kind" | "op" | "param" | "grouping"> {
    this.#skip();
    if (this.#src[this.#pos] === "(") {
      this.#pos++;
      const inner = this.#selection();
      this.#expect(")");
      if (inner.range !== undefined) return { ...inner, range: inner.range };
      const range = this.#range();
      return { ...inner, range, offset: this.#offset() };
    }
    const sel = this.#selection();
    if (sel.range === undefined) this.#expected('range such as [5m] ("[")');
    return { ...sel, range: sel.range };
  }

  /**
   * selection [ unwrap ] [ range [ offset ] ] — or selector range [ offset ]
   * pipeline [ unwrap ] — or a parenthesized log range.
   */
  #selection(): Omit<RangeAggregation, "kind" | "op" | "param" | "grouping" | "range"> & {
    range?: bigint;
  } {
    this.#skip();
    if (this.#src[this.#pos] === "(") {
      const inner = this.#logRange();
      return inner;
    }
    const log = this.#embedded(true);
    let { matchers, pipeline } = log;
    let unwrap = this.#unwrap();
    this.#skip();
    if (this.#src[this.#pos] !== "[") {
      return { matchers, pipeline, ...unwrapOf(unwrap), offset: 0n };
    }
    const range = this.#range();
    const offset = this.#offset();
    if (pipeline.length === 0 && !unwrap) {
      pipeline = this.#embedded(false).pipeline;
      unwrap = this.#unwrap();
    }
    matchers = log.matchers;
    return { matchers, pipeline, ...unwrapOf(unwrap), range, offset };
  }

  #embedded(selector: boolean) {
    const log = parseEmbeddedLog(this.#src, this.#pos, selector);
    this.#pos = log.end;
    return log;
  }

  /** "|" "unwrap" ( label | conversion "(" label ")" ) { "|" label_filter } */
  #unwrap(): Unwrap | undefined {
    this.#skip();
    const m = /^\|\s*unwrap(?![A-Za-z0-9_])/.exec(this.#src.slice(this.#pos));
    if (!m) return undefined;
    this.#pos += m[0].length;
    this.#skip();
    const at = this.#pos;
    const word = WORD.exec(this.#src.slice(at))?.[0];
    if (word === undefined) this.#expected("label name to unwrap");
    this.#pos += word.length;
    let conversion: Unwrap["conversion"] = "float";
    let label = word;
    const conv = word.toLowerCase();
    this.#skip();
    if (
      (conv === "bytes" || conv === "duration" || conv === "duration_seconds") &&
      this.#src[this.#pos] === "("
    ) {
      conversion = conv === "bytes" ? "bytes" : "duration";
      this.#pos++;
      label = this.#labelName();
      this.#expect(")");
    } else if (!isValidLabelName(word)) {
      this.#fail(at, `invalid label name ${quoteText(word)}: ${LABEL_NAME_RULE}`);
    }
    const filters: LabelPredicate[] = [];
    this.#skip();
    const stagesAt = this.#pos;
    for (const stage of this.#embedded(false).pipeline) {
      if (stage.kind !== "label_filter") {
        this.#fail(
          stagesAt,
          `only label filters may follow "| unwrap ${word}", found "${stage.kind}"`,
        );
      }
      filters.push(stage.predicate);
    }
    return { label, conversion, filters };
  }

  /** "[" prometheus_duration "]" */
  #range(): bigint {
    this.#skip();
    const at = this.#pos;
    if (this.#src[at] !== "[") this.#expected('range such as [5m] ("[")');
    const close = this.#src.indexOf("]", at);
    if (close < 0) this.#fail(at, "missing closing ']' in range");
    const text = this.#src.slice(at + 1, close);
    const range = parsePromDuration(text);
    if (range === undefined) {
      this.#fail(
        at + 1,
        `invalid range ${quoteText(text)}: expected a duration such as 30s, 5m or 1h`,
      );
    }
    this.#pos = close + 1;
    return range;
  }

  /** [ "offset" duration ] in nanoseconds (Prometheus or Go syntax, may be negative). */
  #offset(): bigint {
    if (!this.#keyword("offset")) return 0n;
    this.#skip();
    const at = this.#pos;
    const text = /^-?[0-9.a-zA-Zµμ]+/.exec(this.#src.slice(at))?.[0] ?? "";
    const negative = text.startsWith("-");
    const body = negative ? text.slice(1) : text;
    let ns = parsePromDuration(body);
    if (ns === undefined) {
      const seconds = parseGoDuration(body);
      if (seconds !== undefined) ns = BigInt(Math.round(seconds * 1e9));
    }
    if (ns === undefined) {
      this.#fail(at, `invalid offset ${quoteText(text)}: expected a duration such as 5m or 1h`);
    }
    this.#pos = at + text.length;
    return negative ? -ns : ns;
  }

  /** vector_op [ grouping ] "(" [ number "," ] expr ")" [ grouping ] */
  #vectorAggregation(op: VectorOp, at: number): MetricExpr {
    const before = this.#grouping();
    this.#expect("(");
    const param = this.#parameter();
    const exprAt = skipSpace(this.#src, this.#pos);
    const expr = this.#expr(1);
    this.#expect(")");
    const after = this.#grouping();
    if (before && after) this.#fail(at, `${op} has two groupings: keep one`);
    if (op === "topk" || op === "bottomk") {
      if (param === undefined) this.#fail(at, `${op} needs a parameter: ${op}(5, …)`);
      if (!Number.isInteger(param) || param <= 0) {
        this.#fail(at, `${op} needs an integer parameter greater than 0, got ${param}`);
      }
    } else if (param !== undefined) {
      this.#fail(at, `${op} takes no parameter, got ${param}`);
    }
    if (expr.kind === "number") {
      this.#fail(exprAt, `${op} needs a vector, found the number ${expr.value}`);
    }
    return {
      kind: "vector_aggregation",
      op,
      ...(param !== undefined ? { param } : {}),
      grouping: before ?? after ?? { without: false, labels: [] },
      expr,
    };
  }

  /** "label_replace" "(" expr "," dst "," replacement "," src "," regex ")" */
  #labelReplace(): MetricExpr {
    this.#expect("(");
    const exprAt = skipSpace(this.#src, this.#pos);
    const expr = this.#expr(1);
    if (expr.kind === "number") {
      this.#fail(exprAt, `label_replace needs a vector, found the number ${expr.value}`);
    }
    const [dst, replacement, src, regex] = [0, 1, 2, 3].map(() => {
      this.#expect(",");
      return this.#string();
    });
    this.#expect(")");
    if (!isValidLabelName(dst.value)) {
      this.#fail(dst.at, `invalid label name ${quoteText(dst.value)}: ${LABEL_NAME_RULE}`);
    }
    try {
      compileRegex(regex.value, { anchored: true });
    } catch (e) {
      if (!(e instanceof InvalidRegexError)) throw e;
      this.#fail(
        regex.at,
        `invalid regex ${quoteText(abbreviatePattern(regex.value))} in label_replace: ${e.detail}`,
        { cause: e },
      );
    }
    return {
      kind: "label_replace",
      expr,
      dst: dst.value,
      replacement: replacement.value,
      src: src.value,
      regex: regex.value,
    };
  }

  /** A double-quoted (Go escapes) or backtick string. */
  #string(): { value: string; at: number } {
    this.#skip();
    const at = this.#pos;
    if (this.#src[at] === "`") {
      const end = this.#src.indexOf("`", at + 1);
      if (end < 0) this.#fail(at, "unterminated raw string: expected closing backtick");
      this.#pos = end + 1;
      return { value: this.#src.slice(at + 1, end), at };
    }
    if (this.#src[at] !== '"') this.#expected('quoted string ("..." or `...`)');
    try {
      const { value, end } = unquoteGo(this.#src, at);
      this.#pos = end;
      return { value, at };
    } catch (error) {
      if (error instanceof GoStringError) this.#fail(error.index, error.reason);
      throw error;
    }
  }

  /** [ ( "by" | "without" ) "(" [ label { "," label } ] ")" ] */
  #grouping(): Grouping | undefined {
    const without = this.#keyword("without");
    if (!without && !this.#keyword("by")) return undefined;
    return { without, labels: this.#labelList() };
  }

  /** "(" [ label { "," label } ] ")" */
  #labelList(): string[] {
    this.#expect("(");
    const labels: string[] = [];
    this.#skip();
    if (this.#src[this.#pos] === ")") {
      this.#pos++;
      return labels;
    }
    for (;;) {
      labels.push(this.#labelName());
      this.#skip();
      if (this.#src[this.#pos] === ")") {
        this.#pos++;
        return labels;
      }
      this.#expect(",");
    }
  }

  #labelName(): string {
    this.#skip();
    const at = this.#pos;
    const word = WORD.exec(this.#src.slice(at))?.[0];
    if (word === undefined) this.#expected("label name");
    this.#pos += word.length;
    return word;
  }

  #expect(token: string): void {
    this.#skip();
    if (this.#src[this.#pos] !== token) this.#expected(quoteText(token));
    this.#pos++;
  }

  #skip(): void {
    this.#pos = skipSpace(this.#src, this.#pos);
  }

  #expected(what: string): never {
    this.#fail(this.#pos, `expected ${what}${found(this.#src, this.#pos)}`);
  }

  #fail(at: number, reason: string, options?: ErrorOptions): never {
    fail(at, reason, options);
  }
}

const IDENT_CHAR = /[A-Za-z0-9_]/;

function logNotAllowed(): string {
  return "a log query cannot be used here: aggregate it over a range, such as count_over_time({…}[1m])";
}

function unwrapOf(unwrap: Unwrap | undefined): { unwrap?: Unwrap } {
  return unwrap ? { unwrap } : {};
}

/**
 * A binary operation, reduced to a number when both sides are numbers
 * (Loki's `mustNewBinOpExpr`); set operators refuse numbers.
 */
function binary(
  op: BinaryOp,
  { bool, matching }: { bool: boolean; matching: VectorMatching },
  left: MetricExpr,
  right: MetricExpr,
  at: number,
): MetricExpr {
  if (isSetOp(op)) {
    for (const [side, leg] of [["left", left], ["right", right]] as const) {
      if (leg.kind === "number") {
        fail(
          at,
          `unexpected number ${leg.value} for the ${side} side of set operator ${quoteText(op)}: ` +
            "and, or and unless combine vectors",
        );
      }
    }
  }
  if (left.kind === "number" && right.kind === "number" && !isSetOp(op)) {
    return { kind: "number", value: applyOp(op, left.value, right.value) };
  }
  return { kind: "binary", op, bool, matching, left, right };
}
