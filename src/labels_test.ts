import assert from "node:assert/strict";
import { isValidLabelName } from "./labels.ts";

Deno.test("isValidLabelName() accepts [a-zA-Z_][a-zA-Z0-9_]*", () => {
  for (const name of ["a", "_", "app", "A_1", "__name__"]) {
    assert.equal(isValidLabelName(name), true);
  }
  for (const name of ["", "1a", "a-b", "a.b", "é", "a b"]) {
    assert.equal(isValidLabelName(name), false, name);
  }
});
