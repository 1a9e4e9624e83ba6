/**
 * The `| line_format "{{.status}} {{.path}}"` stage: the line becomes the
 * template rendered with the line's labels (and `__line__`, the line
 * before). See `template.ts` for the supported template subset. A template
 * that fails keeps the line with `__error__="TemplateFormatErr"`.
 *
 * @module
 */

import type { LineFormat } from "../ast.ts";
import type { Stage } from "./mod.ts";
import { Template } from "./template.ts";
import { CostlyTestError } from "../re2.ts";

/** The `__error__` value of a template that fails on a line. */
export const TEMPLATE_FORMAT_ERR = "TemplateFormatErr";

/**
 * The stage of `format`.
 *
 * @example
 * ```ts
 * import { lineFormatStage } from "./line_format.ts";
 * import { LabelsBuilder } from "./labels.ts";
 * import assert from "node:assert/strict";
 * const stage = lineFormatStage({ kind: "line_format", template: "{{.app}}: {{__line__}}" });
 * const entry = { line: "hi", labels: new LabelsBuilder({ key: "{}", labels: { app: "web" } }) };
 * stage(entry);
 * assert.equal(entry.line, "web: hi");
 * ```
 */
export function lineFormatStage(format: LineFormat): Stage {
  const template = new Template(format.template);
  return (entry) => {
    const fields = entry.labels.all();
    if (template.usesLine) fields.__line__ = entry.line;
    try {
      entry.line = template.render(fields);
    } catch (error) {
      // The line goes to a worker whole: its template is not at fault.
      if (error instanceof CostlyTestError) throw error;
      entry.labels.setError(TEMPLATE_FORMAT_ERR, (error as Error).message);
    }
    return true;
  };
}
