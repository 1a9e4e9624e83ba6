/**
 * Test helper: a {@linkcode LogQuery} from LogQL text, as the read endpoints
 * make one (no time bounds, limit 1000, newest first, unless overridden).
 *
 * @module
 */

import type { LogQuery } from "../src/query/engine.ts";
import { parseLogQL } from "../src/query/logql.ts";
import { splitPushdown } from "../src/query/pipeline/mod.ts";

/**
 * The log query of `text`, with `overrides`.
 *
 * @example
 * ```ts
 * import { logQuery } from "./log_query.ts";
 * import assert from "node:assert/strict";
 * const q = logQuery('{app="web"} |= "timeout" | json', { limit: 10 });
 * assert.equal(q.pushdown.length, 1);
 * assert.equal(q.pipeline.length, 1);
 * assert.equal(q.direction, "backward");
 * ```
 */
export function logQuery(text: string, overrides: Partial<LogQuery> = {}): LogQuery {
  const expr = parseLogQL(text);
  return {
    start: 0n,
    end: 0n,
    matchers: expr.matchers,
    ...splitPushdown(expr.pipeline),
    limit: 1000,
    direction: "backward",
    ...overrides,
  };
}
