import assert from "node:assert/strict";
import { isValidLabelName, parseLabelSet } from "./labels.ts";

Deno.test("isValidLabelName() accepts [a-zA-Z_][a-zA-Z0-9_]*", () => {
  for (const name of ["a", "_", "app", "A_1", "__name__"]) {
    assert.equal(isValidLabelName(name), true);
  }
  for (const name of ["", "1a", "a-b", "a.b", "é", "a b"]) {
    assert.equal(isValidLabelName(name), false, name);
  }
});

Deno.test("parseLabelSet reads the label strings shippers send", () => {
  // promtail (Prometheus LabelSet.String()), winston-loki (no spaces), hand-written (trailing comma)
  assert.deepEqual(parseLabelSet('{app="api", env="prod"}'), { app: "api", env: "prod" });
  assert.deepEqual(parseLabelSet('{level="info",job="x"}'), { level: "info", job: "x" });
  assert.deepEqual(parseLabelSet(' { a = "1" ,\n b="" , } '), { a: "1", b: "" });
  assert.deepEqual(parseLabelSet("{}"), {});
  assert.deepEqual(
    parseLabelSet('{m="tab\\there \\\\ \\U0001F600 \\u00e9"}'),
    { m: "tab\there \\ 😀 é" },
  );
});

Deno.test("parseLabelSet names the position and the problem", () => {
  const cases: [string, string][] = [
    ["", 'at 1: expected "{"'],
    ['app="x"', 'at 1: expected "{"'],
    ['{app="x"', 'at 9: expected "," or "}"'],
    ['{app="x"} trailing', 'at 11: unexpected text after "}"'],
    ['{="x"}', "at 2: expected a label name"],
    ['{1app="x"}', 'at 2: label name "1app" must match [a-zA-Z_][a-zA-Z0-9_]*'],
    ['{app!="x"}', 'at 5: only "=" makes a label set, got "!="'],
    ['{app "x"}', 'at 6: expected "="'],
    ["{app=x}", 'at 6: expected a quoted value ("..." or `...`)'],
    ['{app="x}', 'at 6: unterminated string: expected closing "'],
    ["{app=`x}", "at 6: unterminated raw string: expected closing backtick"],
    [
      '{app="\\q"}',
      'at 7: unknown escape sequence "\\q" (write "\\\\q" for a literal backslash, or use a backtick string)',
    ],
    ['{app="\\ud83d"}', 'at 7: invalid escape sequence "\\ud83d": surrogate half'],
    ['{app="\\xff"}', 'at 7: invalid UTF-8 in byte escapes "\\xff"'],
    ['{a="1",a="2"}', "at 8: label a appears twice"],
  ];
  for (const [text, reason] of cases) {
    assert.throws(() => parseLabelSet(text), { message: `cannot parse label set ${reason}` }, text);
  }
});
