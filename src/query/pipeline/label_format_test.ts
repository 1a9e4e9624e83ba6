import assert from "node:assert/strict";
import { LabelsBuilder } from "./labels.ts";
import { labelFormatStage } from "./label_format.ts";

Deno.test("label_format renames in the source's category and renders templates from the labels before", () => {
  const stream = { key: '{"app":"web","level":"info"}', labels: { app: "web", level: "info" } };
  const labels = new LabelsBuilder(stream);
  labels.setParsed("status", "200");
  labelFormatStage({
    kind: "label_format",
    formats: [
      { name: "severity", rename: "level" },
      { name: "code", rename: "status" },
      { name: "desc", template: "{{.level}}/{{.status}}" },
      { name: "gone", rename: "missing" },
    ],
  })({ line: "", labels });
  const final = labels.final(new Map());
  assert.deepEqual(final.stream.labels, { app: "web", severity: "info" });
  assert.deepEqual(final.parsed, { code: "200", desc: "info/200" });
});
