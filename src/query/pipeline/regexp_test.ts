import assert from "node:assert/strict";
import { LabelsBuilder } from "./labels.ts";
import { regexpStage } from "./regexp.ts";

function parse(pattern: string, line: string) {
  const labels = new LabelsBuilder({ key: "{}", labels: {} });
  regexpStage({ kind: "regexp", pattern })({ line, labels });
  return labels.final(new Map()).parsed;
}

Deno.test("regexp sets the named groups of the first match, empty for groups that did not take part", () => {
  assert.deepEqual(parse("(?P<k>\\w+)=(?P<v>\\d+)(?P<unit>ms)?", "x a=1 b=2ms"), {
    k: "a",
    v: "1",
    unit: "",
  });
  assert.equal(parse("(?P<k>z+)", "no match"), undefined);
});

Deno.test("regexp runs in linear time on patterns that backtrack in V8", () => {
  assert.deepEqual(parse("(?P<a>(a+)+)$", "a".repeat(50_000) + "!"), undefined);
});
