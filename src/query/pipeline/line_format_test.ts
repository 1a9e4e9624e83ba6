import assert from "node:assert/strict";
import { LabelsBuilder } from "./labels.ts";
import { lineFormatStage } from "./line_format.ts";

Deno.test("line_format renders labels of every category and __line__", () => {
  const labels = new LabelsBuilder({ key: '{"app":"web"}', labels: { app: "web" } }, { t: "m" });
  labels.setParsed("status", "200");
  const entry = { line: "orig", labels };
  lineFormatStage({ kind: "line_format", template: "{{.app}} {{.t}} {{.status}} {{__line__}}" })(
    entry,
  );
  assert.equal(entry.line, "web m 200 orig");
});

Deno.test("line_format keeps the line with TemplateFormatErr when a function fails", () => {
  const labels = new LabelsBuilder({ key: "{}", labels: { n: "x" } });
  const entry = { line: "orig", labels };
  lineFormatStage({ kind: "line_format", template: "{{ .n | trunc .n }}" })(entry);
  assert.equal(entry.line, "orig");
  assert.equal(labels.errorLabel("__error__"), "TemplateFormatErr");
});
