/**
 * The LogQL syntax tree: what `parseLogQL` in `logql.ts` produces
 * and the engine consumes. Types only.
 *
 * @module
 */

/** A label matcher operator: equality, inequality, regex match, regex non-match. */
export type LabelMatchOp = "=" | "!=" | "=~" | "!~";

/**
 * One stream-label matcher, e.g. `app="web"` or `level=~"err.*"`.
 * Regex values are stored as written; they are anchored when compiled.
 *
 * @example Usage
 * ```ts
 * import type { LabelMatcher } from "./ast.ts";
 * import { parseLogQL } from "./logql.ts";
 * import assert from "node:assert/strict";
 * const m: LabelMatcher = { name: "app", op: "=", value: "web" };
 * assert.deepEqual(parseLogQL('{app="web"}').matchers, [m]);
 * ```
 */
export interface LabelMatcher {
  /** The label name, matching `[a-zA-Z_][a-zA-Z0-9_]*`. */
  name: string;
  /** The operator. */
  op: LabelMatchOp;
  /** The literal value, or the regex source for `=~` and `!~`. */
  value: string;
}

/** A line filter operator: contains, does not contain, regex match, regex non-match. */
export type LineFilterOp = "|=" | "!=" | "|~" | "!~" | "|>" | "!>";

/**
 * A line filter pipeline stage, e.g. `|= "timeout"` or `|~ "(?i)error"`.
 * `|=`/`!=` are case-sensitive substring tests; `|~`/`!~` search the line
 * with an unanchored regex.
 *
 * @example Usage
 * ```ts
 * import type { LineFilter } from "./ast.ts";
 * import { parseLogQL } from "./logql.ts";
 * import assert from "node:assert/strict";
 * const f: LineFilter = { kind: "line_filter", op: "|=", value: "timeout" };
 * assert.deepEqual(parseLogQL('|= "timeout"').pipeline, [f]);
 * ```
 */
export interface LineFilter {
  /** Discriminant among pipeline stages. */
  kind: "line_filter";
  /** The operator. */
  op: LineFilterOp;
  /** The substring, or the regex source for `|~` and `!~`. */
  value: string;
  /**
   * More values joined with `or` (`|= "a" or "b"`): `|=` and `|~` keep a line
   * matching any value, `!=` and `!~` one matching none.
   */
  or?: string[];
}

/** `| json` or `| json name="path", …` (only the addressed values). */
export interface JsonParser {
  kind: "json";
  /** The extractions `name="a.b[0]"`; none: every field, flattened. */
  fields?: { name: string; path: (string | number)[] }[];
}

/** `| logfmt [--strict] [--keep-empty] [name="key", …]`. */
export interface LogfmtParser {
  kind: "logfmt";
  /** Stop at the first malformed pair with `__error__`. */
  strict: boolean;
  /** Keep standalone keys and empty values as `""`. */
  keepEmpty: boolean;
  /** The extractions `name="key"`; none: every pair. */
  fields?: { name: string; key: string }[];
}

/** `| unpack`: a JSON object of strings from Promtail's `pack`; `_entry` becomes the line. */
export interface UnpackParser {
  kind: "unpack";
}

/** `| regexp "(?P<name>re)…"`: the named groups of the first match. */
export interface RegexpParser {
  kind: "regexp";
  /** The RE2 pattern. */
  pattern: string;
}

/** `| pattern "<ip> - <_> <status>"`: captures between literals. */
export interface PatternParser {
  kind: "pattern";
  /** The pattern as written. */
  pattern: string;
}

/** A comparison operator of a numeric, duration or bytes label filter. */
export type CompareOp = "==" | "!=" | ">" | ">=" | "<" | "<=";

/** A label filter predicate tree: `and`, `or`, or a leaf comparison. */
export type LabelPredicate =
  | { kind: "and" | "or"; left: LabelPredicate; right: LabelPredicate }
  | { kind: "match"; matcher: LabelMatcher }
  | {
    kind: "compare";
    name: string;
    op: CompareOp;
    /** What the label value is parsed as. */
    type: "number" | "duration" | "bytes";
    /** The literal as a number (durations in seconds, bytes as a count). */
    value: number;
    /** The literal as written, for messages. */
    text: string;
  };

/** `| level="error" and status >= 500`. */
export interface LabelFilter {
  kind: "label_filter";
  predicate: LabelPredicate;
}

/** `| line_format "{{.a}}"`. */
export interface LineFormat {
  kind: "line_format";
  template: string;
}

/** `| label_format a=b, c="{{.x}}"`: renames and templates, applied at once. */
export interface LabelFormat {
  kind: "label_format";
  formats: ({ name: string; rename: string } | { name: string; template: string })[];
}

/** `| drop a, b="v"` or `| keep a, b=~"v.*"`: names, or matchers that must hold. */
export interface DropKeep {
  kind: "drop" | "keep";
  labels: { name: string; matcher?: LabelMatcher }[];
}

/** `| decolorize`: strips ANSI escape sequences from the line. */
export interface Decolorize {
  kind: "decolorize";
}

/**
 * One stage of a log pipeline, applied in order: line filters, parsers,
 * label filters, formatters, `drop`, `keep` and `decolorize`.
 *
 * @example Usage
 * ```ts
 * import type { PipelineStage } from "./ast.ts";
 * import { parseLogQL } from "./logql.ts";
 * import assert from "node:assert/strict";
 * const stages: PipelineStage[] = [{ kind: "line_filter", op: "!=", value: "debug" }];
 * assert.deepEqual(parseLogQL('{app="web"} != "debug"').pipeline, stages);
 * ```
 */
export type PipelineStage =
  | LineFilter
  | JsonParser
  | LogfmtParser
  | UnpackParser
  | RegexpParser
  | PatternParser
  | LabelFilter
  | LineFormat
  | LabelFormat
  | DropKeep
  | Decolorize;

/**
 * A log query: a stream selector plus a pipeline. Metric queries
 * (`rate(...)`, aggregations) will be a sibling expression kind wrapping it.
 *
 * @example Usage
 * ```ts
 * import type { LogSelectorExpr } from "./ast.ts";
 * import { parseLogQL } from "./logql.ts";
 * import assert from "node:assert/strict";
 * const everything: LogSelectorExpr = { kind: "log", matchers: [], pipeline: [] };
 * assert.deepEqual(parseLogQL(""), everything);
 * assert.deepEqual(parseLogQL("{}"), everything);
 * ```
 */
export interface LogSelectorExpr {
  /** Discriminant among query expressions. */
  kind: "log";
  /** Stream label matchers, all of which must hold (empty: every stream). */
  matchers: LabelMatcher[];
  /** Pipeline stages in query order. */
  pipeline: PipelineStage[];
}
