/**
 * The `| drop a, b="v"` stage: removes labels (of any category) by name, or
 * only where a matcher holds for their value. `__error__` and
 * `__error_details__` name the line's failure: dropping one forgets it, as in Loki.
 *
 * @module
 */

import type { DropKeep } from "../ast.ts";
import { compileLabelMatchers } from "../matchers.ts";
import { isErrorLabel } from "./labels.ts";
import type { Stage } from "./mod.ts";

/**
 * The stage of `drop`.
 *
 * @example
 * ```ts
 * import { dropStage } from "./drop.ts";
 * import { LabelsBuilder } from "./labels.ts";
 * import assert from "node:assert/strict";
 * const stage = dropStage({
 *   kind: "drop",
 *   labels: [{ name: "pod" }, { name: "level", matcher: { name: "level", op: "=", value: "info" } }],
 * });
 * const labels = new LabelsBuilder({ key: "{}", labels: { app: "w", pod: "p", level: "info" } });
 * stage({ line: "", labels });
 * assert.deepEqual(labels.all(), { app: "w" });
 * ```
 */
export function dropStage(drop: DropKeep): Stage {
  const tests = drop.labels.map(({ name, matcher }) => ({
    name,
    test: matcher ? compileLabelMatchers([matcher]) : undefined,
  }));
  return (entry) => {
    const labels = entry.labels;
    for (const { name, test } of tests) {
      if (isErrorLabel(name)) {
        if (!test || test({ [name]: labels.errorLabel(name) })) labels.clearErrorLabel(name);
        continue;
      }
      const value = labels.get(name);
      if (value === undefined) continue;
      if (!test || test({ [name]: value })) labels.delete(name);
    }
    return true;
  };
}
