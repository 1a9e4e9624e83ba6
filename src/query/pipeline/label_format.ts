/**
 * The `| label_format a=b, c="{{.x}}"` stage, as Loki's: `a=b` renames label
 * `b` to `a` (nothing when `b` is missing), `c="…"` sets `c` to a template
 * rendered with the labels as they are at the stage's first template (after
 * the renames before it; see `template.ts`). Either way the label it sets is
 * a parsed one, over a stream label or metadata of that name. A template
 * that fails sets `__error__="TemplateFormatErr"`.
 *
 * @module
 */

import type { LabelFormat } from "../ast.ts";
import { TEMPLATE_FORMAT_ERR } from "./line_format.ts";
import type { Stage } from "./mod.ts";
import { Template } from "./template.ts";
import { CostlyTestError } from "../re2.ts";

/**
 * The stage of `format`.
 *
 * @example
 * ```ts
 * import { labelFormatStage } from "./label_format.ts";
 * import { LabelsBuilder } from "./labels.ts";
 * import assert from "node:assert/strict";
 * const stage = labelFormatStage({
 *   kind: "label_format",
 *   formats: [{ name: "lvl", rename: "level" }, { name: "who", template: "{{.app | ToUpper}}" }],
 * });
 * const labels = new LabelsBuilder({ key: "{}", labels: { app: "web" } }, { level: "info" });
 * stage({ line: "", labels });
 * assert.deepEqual(labels.all(), { app: "web", lvl: "info", who: "WEB" });
 * ```
 */
export function labelFormatStage(format: LabelFormat): Stage {
  const formats = format.formats.map((f) =>
    "rename" in f ? f : { name: f.name, template: new Template(f.template) }
  );
  return (entry) => {
    const labels = entry.labels;
    let before: Record<string, string> | undefined;
    for (const f of formats) {
      if ("rename" in f) {
        labels.rename(f.rename, f.name);
        continue;
      }
      before ??= labels.all();
      const fields = f.template.usesLine ? { ...before, __line__: entry.line } : before;
      try {
        labels.setOver(f.name, f.template.render(fields));
      } catch (error) {
        // The line goes to a worker whole: its template is not at fault.
        if (error instanceof CostlyTestError) throw error;
        labels.setError(TEMPLATE_FORMAT_ERR, (error as Error).message);
      }
    }
    return true;
  };
}
