/**
 * `format_query`'s printer: a parsed LogQL log query written back in one
 * normal form (matchers as `name="value"` joined by `, `, one space around
 * each stage, strings double-quoted with escapes).
 *
 * @module
 */

import type { LogSelectorExpr, PipelineStage } from "../../query/ast.ts";
import { QueryError } from "../read_request.ts";

/** The fields of a line filter this printer writes; a stage with others is refused. */
const LINE_FILTER_FIELDS = new Set(["kind", "op", "value"]);

function printStage(stage: PipelineStage): string {
  const fields = Object.keys(stage);
  if (stage.kind === "line_filter" && fields.every((f) => LINE_FILTER_FIELDS.has(f))) {
    return `${stage.op} ${JSON.stringify(stage.value)}`;
  }
  // Printing a stage wrong would be worse than refusing it.
  throw new QueryError(
    `format_query cannot print this ${stage.kind} stage yet: ${JSON.stringify(stage)}`,
  );
}

/**
 * Writes `expr` back as LogQL.
 *
 * @example
 * ```ts
 * import { formatLogQL } from "./format_query.ts";
 * import { parseLogQL } from "../../query/logql.ts";
 * import assert from "node:assert/strict";
 * assert.equal(
 *   formatLogQL(parseLogQL('{ app = "web",level=~`err.*` }|="timeout"')),
 *   '{app="web", level=~"err.*"} |= "timeout"',
 * );
 * ```
 */
export function formatLogQL(expr: LogSelectorExpr): string {
  const selector = `{${
    expr.matchers.map((m) => `${m.name}${m.op}${JSON.stringify(m.value)}`).join(", ")
  }}`;
  return [selector, ...expr.pipeline.map(printStage)].join(" ");
}
