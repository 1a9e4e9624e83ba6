/**
 * The `query` text of Loki's read API: LogQL parsed with Loki's syntax-error
 * wording (`parse error at line L, col C: …`, which Grafana and Logs
 * Drilldown recognise), and the stream selectors that the discovery and
 * index endpoints take. Every error is a {@linkcode QueryError} (400).
 *
 * @module
 */

import type { LabelMatcher, LogSelectorExpr } from "../../query/ast.ts";
import { LogQLParseError, parseLogQL } from "../../query/logql.ts";
import type { MetricExpr } from "../../query/metric/ast.ts";
import { parseMetricQuery } from "../../query/metric/parse.ts";
import { QueryError } from "../read_request.ts";

/**
 * Parses LogQL; a syntax error reads as Loki's do, with loge's reason.
 *
 * @example
 * ```ts
 * import { parseQuery } from "./query_text.ts";
 * import assert from "node:assert/strict";
 * assert.equal(parseQuery('{app="web"} |= "x"').pipeline.length, 1);
 * assert.throws(() => parseQuery('{app="web"'), /^QueryError: parse error at line 1, col 11: /);
 * ```
 */
export function parseQuery(text: string): LogSelectorExpr {
  return withLokiErrors(text, parseLogQL);
}

/**
 * Parses a LogQL metric query; a syntax error reads as Loki's do.
 *
 * @example
 * ```ts
 * import { parseMetricText } from "./query_text.ts";
 * import assert from "node:assert/strict";
 * assert.equal(parseMetricText("vector(1)+vector(1)").kind, "binary");
 * assert.throws(() => parseMetricText("sum(1"), /^QueryError: parse error at line 1, col 6: /);
 * ```
 */
export function parseMetricText(text: string): MetricExpr {
  return withLokiErrors(text, parseMetricQuery);
}

/** Runs `parse` on `text`, its {@linkcode LogQLParseError} as a {@linkcode QueryError} in Loki's words. */
function withLokiErrors<T>(text: string, parse: (text: string) => T): T {
  try {
    return parse(text);
  } catch (error) {
    if (!(error instanceof LogQLParseError)) throw error;
    const before = text.slice(0, error.position - 1);
    const line = before.split("\n").length;
    const col = before.length - before.lastIndexOf("\n");
    throw new QueryError(
      `parse error at line ${line}, col ${col}: ${error.reason}`,
      error.position,
      { cause: error },
    );
  }
}

/**
 * Parses a stream selector (no pipeline), as the discovery endpoints take it;
 * `name` is the parameter, for the message.
 *
 * @example
 * ```ts
 * import { selectorMatchers } from "./query_text.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual(selectorMatchers('{app="web"}', "query"), [{ name: "app", op: "=", value: "web" }]);
 * assert.throws(() => selectorMatchers('{app="web"} |= "x"', "match[]"), /match\[\] must be a stream selector/);
 * ```
 */
export function selectorMatchers(text: string, name: string): LabelMatcher[] {
  const { matchers, pipeline: stages } = parseQuery(text);
  if (stages.length > 0) {
    throw new QueryError(
      `${name} must be a stream selector such as {app="web"}, without a pipeline`,
    );
  }
  return matchers;
}

/**
 * Matchers of an optional `query` selector; absent, empty or `{}`: every stream.
 *
 * @example
 * ```ts
 * import { optionalSelector } from "./query_text.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual(optionalSelector(new URLSearchParams({ query: "" })), []);
 * assert.equal(optionalSelector(new URLSearchParams({ query: '{app="web"}' })).length, 1);
 * ```
 */
export function optionalSelector(params: URLSearchParams): LabelMatcher[] {
  const text = params.get("query")?.trim();
  return text ? selectorMatchers(text, "query") : [];
}
