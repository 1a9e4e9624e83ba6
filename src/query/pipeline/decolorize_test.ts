import assert from "node:assert/strict";
import { decolorizeStage } from "./decolorize.ts";
import { LabelsBuilder } from "./labels.ts";

Deno.test("decolorize strips colours, cursor moves and OSC sequences, and nothing else", () => {
  const run = (line: string) => {
    const entry = { line, labels: new LabelsBuilder({ key: "{}", labels: {} }) };
    decolorizeStage()(entry);
    return entry.line;
  };
  assert.equal(run("\x1b[1;31mERROR\x1b[0m x"), "ERROR x");
  assert.equal(run("\x1b[2K\x1b[1Gdone"), "done");
  assert.equal(run("\x1b]0;title\x07text"), "text");
  assert.equal(run("plain [31m text"), "plain [31m text");
  // Linear on hostile input.
  assert.equal(run("\x1b[" + "1;".repeat(100_000)).length, 200_002);
});
