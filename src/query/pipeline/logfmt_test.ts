import assert from "node:assert/strict";
import { LabelsBuilder } from "./labels.ts";
import { logfmtStage } from "./logfmt.ts";

function parse(line: string, strict = false, keepEmpty = false) {
  const labels = new LabelsBuilder({ key: '{"app":"web"}', labels: { app: "web" } });
  logfmtStage({ kind: "logfmt", strict, keepEmpty })({ line, labels });
  return labels.final(new Map()).parsed;
}

Deno.test("logfmt decodes bare and quoted values, sanitises names, suffixes stream names", () => {
  assert.deepEqual(parse('a=1 b="two words" c="q\\"\\n" app=x http.code=200 d=é'), {
    a: "1",
    b: "two words",
    c: 'q"\n',
    app_extracted: "x",
    http_code: "200",
    d: "é",
  });
});

Deno.test("logfmt skips standalone keys and empty values unless --keep-empty", () => {
  assert.deepEqual(parse("a=1 flag b="), { a: "1" });
  assert.deepEqual(parse("a=1 flag b=", false, true), { a: "1", flag: "", b: "" });
});

Deno.test("logfmt skips malformed pairs; --strict stops with LogfmtParserErr", () => {
  assert.deepEqual(parse('a=1 =x b"c=2 d=3 v=x=y w="q"z=4 e="open'), {
    a: "1",
    d: "3",
    w: "q",
    z: "4",
  });
  const strict = parse("a=1 =x d=3", true)!;
  assert.equal(strict.a, "1");
  assert.equal(strict.d, undefined);
  assert.equal(strict.__error__, "LogfmtParserErr");
  assert.match(strict.__error_details__, /unexpected '='/);
});
