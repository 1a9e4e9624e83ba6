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
export type LineFilterOp = "|=" | "!=" | "|~" | "!~";

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
}

/**
 * One stage of a log pipeline, applied in order. Only line filters exist
 * today; parser stages (`| json`, `| logfmt`), label filters and
 * `line_format` will join this union with their own `kind`.
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
export type PipelineStage = LineFilter;

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
