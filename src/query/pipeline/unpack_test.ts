import assert from "node:assert/strict";
import { LabelsBuilder } from "./labels.ts";
import { unpackStage } from "./unpack.ts";

Deno.test("unpack: string fields as labels, _entry as the line, JSONParserErr otherwise", () => {
  const labels = new LabelsBuilder({ key: '{"app":"web"}', labels: { app: "web" } });
  const entry = { line: '{"_entry":"hello","app":"x","n":1,"o":{"p":"q"}}', labels };
  unpackStage()(entry);
  assert.equal(entry.line, "hello");
  assert.deepEqual(labels.final(new Map()).parsed, { app_extracted: "x" });
  const bad = { line: "plain", labels: new LabelsBuilder({ key: "{}", labels: {} }) };
  unpackStage()(bad);
  assert.equal(bad.line, "plain");
  assert.equal(bad.labels.errorLabel("__error__"), "JSONParserErr");
});
