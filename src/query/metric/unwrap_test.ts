import assert from "node:assert/strict";
import type { LabelPredicate } from "../ast.ts";
import { Unwrapper } from "./unwrap.ts";

const noError: LabelPredicate = {
  kind: "match",
  matcher: { name: "__error__", op: "=", value: "" },
};

Deno.test("a stage's failure before unwrap is still a failure to the filters after it", () => {
  const stream = { key: "{}", labels: {} };
  const took = new Unwrapper({ label: "took", conversion: "float", filters: [noError] });
  assert.equal(took.sample({ stream, parsed: { took: "5" } })?.value, 5);
  const failed = { took: "5", __error__: "JSONParserErr", __error_details__: "not JSON" };
  assert.equal(took.sample({ stream, parsed: failed }), undefined);
});
