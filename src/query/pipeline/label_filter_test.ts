import assert from "node:assert/strict";
import { parseLogQL } from "../logql.ts";
import { LabelsBuilder } from "./labels.ts";
import { compilePipeline } from "./mod.ts";

function keeps(filter: string, labels: Record<string, string>, parsed?: string): boolean {
  const stream = { key: "{}", labels: {} };
  const stages = parseLogQL(`{a="b"} | logfmt --keep-empty ${filter}`).pipeline;
  const line = Object.entries(labels).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(" ");
  const out = compilePipeline(stages).forStream(stream).process(line);
  if (parsed !== undefined) assert.equal(out?.parsed?.__error__, parsed);
  return out !== undefined;
}

Deno.test("label filters: strings, numbers, durations, bytes", () => {
  assert.equal(keeps('| level="error"', { level: "error" }), true);
  assert.equal(keeps('| level!="error"', {}), true);
  assert.equal(keeps('| level=~"err.*"', { level: "xerror" }), false);
  assert.equal(keeps('| level!~"err.*"', { level: "xerror" }), true);
  assert.equal(keeps("| status >= 500", { status: "503" }), true);
  assert.equal(keeps("| status == 200", { status: "200.0" }), true);
  assert.equal(keeps("| status = 200", { status: "201" }), false);
  assert.equal(keeps("| status != 200", { status: "201" }), true);
  assert.equal(keeps("| took > 250ms", { took: "1.5s" }), true);
  assert.equal(keeps("| took > 250ms", { took: "100ms" }), false);
  assert.equal(keeps("| took <= 1h30m", { took: "90m" }), true);
  assert.equal(keeps("| size >= 1KB", { size: "1000" }), true);
  assert.equal(keeps("| size >= 1KiB", { size: "1000B" }), false);
  assert.equal(keeps("| size < 2MB", { size: "1.5 MB" }), true);
});

Deno.test("label filters: a missing label fails a comparison, an unparsable one errors and passes", () => {
  assert.equal(keeps("| status > 1", {}), false);
  assert.equal(keeps("| status > 1", { status: "abc" }, "LabelFilterErr"), true);
  assert.equal(keeps('| status > 1 | __error__=""', { status: "abc" }), false);
  // A line with an error passes every comparison, as in Loki.
  assert.equal(keeps("| status > 1 | took > 1s", { status: "abc", took: "1ms" }), true);
});

Deno.test("label filters: and binds tighter than or; commas and spaces are and; parentheses group", () => {
  const l = { a: "1", b: "2", c: "3" };
  assert.equal(keeps('| a="x" or b="2", c="3"', l), true);
  assert.equal(keeps('| (a="x" or b="2"), c="x"', l), false);
  assert.equal(keeps('| a="1" b="2" c="x"', l), false);
  assert.equal(keeps('| a="1" and b="2" and (c="x" or c="3")', l), true);
});

Deno.test("label filters see structured metadata like labels", () => {
  const stream = { key: '{"app":"web"}', labels: { app: "web" } };
  const run = compilePipeline(parseLogQL('{a="b"} | trace_id="t1" | app="web"').pipeline)
    .forStream(stream);
  assert.deepEqual(run.process("x", { trace_id: "t1" }), {
    line: "x",
    stream,
    metadata: { trace_id: "t1" },
  });
  assert.equal(run.process("x", { trace_id: "t2" }), undefined);
  assert.equal(run.process("x"), undefined);
  assert.ok(new LabelsBuilder(stream).get("app"));
});
