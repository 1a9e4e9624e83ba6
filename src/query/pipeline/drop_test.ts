import assert from "node:assert/strict";
import { parseLogQL } from "../logql.ts";
import { compilePipeline } from "./mod.ts";

Deno.test("drop removes labels of any category, by name or where a matcher holds", () => {
  const stream = { key: '{"app":"web","pod":"p1"}', labels: { app: "web", pod: "p1" } };
  const stages = parseLogQL('{a="b"} | json | drop pod, t, __error__, __error_details__, s=~"2.."')
    .pipeline;
  const run = compilePipeline(stages).forStream(stream);
  assert.deepEqual(run.process('{"s":"200","x":"1"}', { t: "m" }), {
    line: '{"s":"200","x":"1"}',
    stream: { key: '{"app":"web"}', labels: { app: "web" } },
    parsed: { x: "1" },
  });
  assert.deepEqual(run.process("oops")?.parsed, undefined);
  assert.deepEqual(run.process('{"s":"500"}')?.parsed, { s: "500" });
});
