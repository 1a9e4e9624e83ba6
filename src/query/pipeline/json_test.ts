import assert from "node:assert/strict";
import { jsonStage } from "./json.ts";
import { LabelsBuilder } from "./labels.ts";

function parse(line: string, fields?: { name: string; path: (string | number)[] }[]) {
  const labels = new LabelsBuilder({ key: '{"app":"web"}', labels: { app: "web" } });
  const entry = { line, labels };
  assert.equal(jsonStage(fields ? { kind: "json", fields } : { kind: "json" })(entry), true);
  return labels.final(new Map()).parsed;
}

Deno.test("json flattens nested objects with _, skips arrays and nulls, sanitises names", () => {
  assert.deepEqual(
    parse('{"a":{"b":{"c":"d"}},"arr":[1,2],"http.code":200,"2x":"y","n":null,"f":1.50,"t":false}'),
    { a_b_c: "d", http_code: "200", _2x: "y", f: "1.50", t: "false" },
  );
  assert.deepEqual(parse('{"app":"inner","big":12345678901234567890}'), {
    app_extracted: "inner",
    big: "12345678901234567890",
  });
});

Deno.test("json sets JSONParserErr on a line that is not an object", () => {
  for (const line of ["not json", "[1]", '"s"', '{"a":']) {
    const parsed = parse(line)!;
    assert.equal(parsed.__error__, "JSONParserErr", line);
    assert.ok(parsed.__error_details__);
  }
});

Deno.test("json with extractions: paths, indexes, quoted keys, objects as JSON, missing as empty", () => {
  const line = '{"a":{"b":"c","list":[{"x":1}]},"k y":"v","n":null}';
  assert.deepEqual(
    parse(line, [
      { name: "b", path: ["a", "b"] },
      { name: "x", path: ["a", "list", 0, "x"] },
      { name: "o", path: ["a", "list", 0] },
      { name: "ky", path: ["k y"] },
      { name: "none", path: ["a", "zzz"] },
      { name: "nul", path: ["n"] },
    ]),
    { b: "c", x: "1", o: '{"x":1}', ky: "v", none: "", nul: "" },
  );
});
