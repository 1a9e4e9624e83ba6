/**
 * The `| keep a, b="v"` stage: removes every label (of any category) but
 * those named, and a named one with a matcher only where it holds. A
 * failure's `__error__` and `__error_details__` stay, as in Loki.
 *
 * @module
 */

import type { DropKeep } from "../ast.ts";
import { compileLabelMatchers } from "../matchers.ts";
import { isErrorLabel } from "./labels.ts";
import type { Stage } from "./mod.ts";

/**
 * The stage of `keep`.
 *
 * @example
 * ```ts
 * import { keepStage } from "./keep.ts";
 * import { LabelsBuilder } from "./labels.ts";
 * import assert from "node:assert/strict";
 * const stage = keepStage({
 *   kind: "keep",
 *   labels: [{ name: "app" }, { name: "level", matcher: { name: "level", op: "=", value: "error" } }],
 * });
 * const labels = new LabelsBuilder({ key: "{}", labels: { app: "w", pod: "p", level: "info" } });
 * stage({ line: "", labels });
 * assert.deepEqual(labels.all(), { app: "w" });
 * ```
 */
export function keepStage(keep: DropKeep): Stage {
  const tests = new Map<string, ((labels: Record<string, string>) => boolean)[]>();
  for (const { name, matcher } of keep.labels) {
    const list = tests.get(name) ?? [];
    if (matcher) list.push(compileLabelMatchers([matcher]));
    tests.set(name, list);
  }
  return (entry) => {
    const labels = entry.labels;
    for (const name of labels.names()) {
      if (isErrorLabel(name)) continue;
      const list = tests.get(name);
      if (!list) {
        labels.delete(name);
        continue;
      }
      const value = labels.get(name)!;
      if (list.length > 0 && !list.some((test) => test({ [name]: value }))) labels.delete(name);
    }
    return true;
  };
}
