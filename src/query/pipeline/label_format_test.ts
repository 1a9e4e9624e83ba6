import assert from "node:assert/strict";
import { LabelsBuilder } from "./labels.ts";
import { labelFormatStage } from "./label_format.ts";

Deno.test("label_format as Loki's: parsed labels, templates see the labels at the first template", () => {
  const stream = { key: '{"app":"web","level":"info"}', labels: { app: "web", level: "info" } };
  const labels = new LabelsBuilder(stream, { trace_id: "t1" });
  labels.setParsed("status", "200");
  labelFormatStage({
    kind: "label_format",
    formats: [
      { name: "severity", rename: "level" },
      { name: "code", rename: "status" },
      // Renamed away before this first template: .level and .status are "".
      { name: "desc", template: "{{.severity}}:{{.level}}/{{.code}}{{.status}}" },
      { name: "gone", rename: "missing" },
      // The labels are read once per stage: desc is not among them yet.
      { name: "again", template: "[{{.desc}}]" },
      { name: "trace_id", template: "{{.trace_id}}!" }, // over the metadata
      { name: "app", template: "{{.app | ToUpper}}" }, // over the stream label
    ],
  })({ line: "", labels });
  const final = labels.final(new Map());
  assert.deepEqual(final.stream.labels, {});
  assert.equal(final.metadata, undefined);
  assert.deepEqual(final.parsed, {
    code: "200",
    severity: "info",
    desc: "info:/200",
    again: "[]",
    trace_id: "t1!",
    app: "WEB",
  });
});
