import assert from "node:assert/strict";
import { LabelsBuilder } from "./labels.ts";
import { parsePattern, patternStage } from "./pattern.ts";

function parse(pattern: string, line: string) {
  const labels = new LabelsBuilder({ key: "{}", labels: {} });
  patternStage({ kind: "pattern", pattern })({ line, labels });
  return labels.final(new Map()).parsed;
}

Deno.test("pattern captures between literals, as Loki matches", () => {
  const p = '<ip> - - [<_>] "<method> <path> <_>" <status> <size>';
  assert.deepEqual(parse(p, '1.2.3.4 - - [10/Oct/2000] "GET /a HTTP/1.1" 200 512'), {
    ip: "1.2.3.4",
    method: "GET",
    path: "/a",
    status: "200",
    size: "512",
  });
  // A leading literal must start the line.
  assert.equal(parse("GET <path>", "POST /a"), undefined);
  // A literal not found: the capture before it takes the rest.
  assert.deepEqual(parse("<a> | <b>", "x y"), { a: "x y" });
  assert.equal(parse("<a>", ""), undefined);
});

Deno.test("parsePattern refuses patterns without a named capture, with consecutive or duplicate ones", () => {
  assert.throws(() => parsePattern("<_> x"), /at least one named capture/);
  assert.throws(() => parsePattern("<a><_>"), /consecutive captures/);
  assert.throws(() => parsePattern("<a> <a>"), /duplicate capture <a>/);
  assert.deepEqual(parsePattern("<a> <not a capture>"), [
    { capture: "a" },
    { literal: " <not a capture>" },
  ]);
});
