/**
 * The line filter stage (`|= != |~ !~`) when it runs in the pipeline, after
 * a stage that is not a line filter; leading line filters are pushed down to
 * the scan instead (see `splitPushdown`).
 *
 * @module
 */

import type { LineFilter } from "../ast.ts";
import { compileLineFilters } from "../matchers.ts";
import type { Stage } from "./mod.ts";

/**
 * The stage of `filter`: keeps the lines it holds for.
 *
 * @example
 * ```ts
 * import { lineFilterStage } from "./line_filter.ts";
 * import { LabelsBuilder } from "./labels.ts";
 * import assert from "node:assert/strict";
 * const keep = lineFilterStage({ kind: "line_filter", op: "|~", value: "5\\d\\d" });
 * const labels = new LabelsBuilder({ key: "{}", labels: {} });
 * assert.equal(keep({ line: "status 502", labels }), true);
 * assert.equal(keep({ line: "status 200", labels }), false);
 * ```
 */
export function lineFilterStage(filter: LineFilter): Stage {
  const { test } = compileLineFilters([filter])!;
  return (entry) => test(entry.line);
}
