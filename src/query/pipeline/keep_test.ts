import assert from "node:assert/strict";
import { parseLogQL } from "../logql.ts";
import { compilePipeline } from "./mod.ts";

Deno.test("keep removes every other label, and a named one where its matcher fails", () => {
  const stream = { key: '{"app":"web","pod":"p1"}', labels: { app: "web", pod: "p1" } };
  const run = compilePipeline(parseLogQL('{a="b"} | logfmt | keep app, t, s="200"').pipeline)
    .forStream(stream);
  assert.deepEqual(run.process("s=200 x=1", { t: "m", u: "n" }), {
    line: "s=200 x=1",
    stream: { key: '{"app":"web"}', labels: { app: "web" } },
    metadata: { t: "m" },
    parsed: { s: "200" },
  });
  assert.equal(run.process("s=500")!.parsed, undefined);
});
