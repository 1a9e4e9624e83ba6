import assert from "node:assert/strict";
import { formatLogQL, quoteGo } from "./format.ts";
import { parseLogQL } from "./logql.ts";

/** Queries covering every construct `parseLogQL` accepts, in many spellings. */
const ROUND_TRIP = [
  "",
  "{}",
  '|= "x"',
  '{app="web"}',
  '{ app = "web",level=~`err.*`, env!="dev", host!~"a|b" }',
  '{app="web"} |= "timeout" != "debug" |~ "(?i)error" !~ `^\\d+$`',
  '{app="web"} |= "a" or "b" or `c"d` != "x" or "y" |~ "a.*" or "b+"',
  '{app="web"} |= "tab\\there \\"quoted\\" back\\\\slash \\x1b[0m \\u00e9\\u00a0 \\U0001F600"',
  '{app="web"} |= "nul\\x00 bell\\a del\\x7f ls\\u2028 bom\\ufeff"',
  '{app="web"} # a comment\n |= "x"',
  '{app="web"} | json',
  '{app="web"} | json a, b="c.d", e="f[0]", g=`["h i"].j[2]`, k="[\\"l.m\\"]"',
  '{app="web"} | json x="0", y=`a["0"]`',
  '{app="web"} | logfmt',
  '{app="web"} | logfmt --strict',
  '{app="web"} | logfmt --keep-empty',
  '{app="web"} | logfmt --keep-empty --strict',
  '{app="web"} | logfmt --strict host, lvl="level", m=`msg`',
  '{app="web"} | logfmt a="b" | a="x"',
  '{app="web"} | unpack | decolorize',
  '{app="web"} | regexp `(?P<ip>\\S+) (?P<status>\\d+)`',
  '{app="web"} | pattern "<ip> - <_> \\"<method> <path>\\" <status>"',
  '{app="web"} | logfmt | level="error"',
  '{app="web"} | logfmt | level!="info" | msg=~"time.*" | msg!~`"x"`',
  '{app="web"} | logfmt | status >= 500 and status < 600',
  '{app="web"} | logfmt | status = 200 or status == 204, status != 0',
  '{app="web"} | logfmt | a="1" b="2" (c="3" or d="4")',
  '{app="web"} | logfmt | (a > 1 or b < 2) and (c >= 3 or (d <= 4 and e != 5))',
  '{app="web"} | logfmt | x > -1.5 | y == 0.000001 | z < 100000000000000000000000',
  '{app="web"} | logfmt | latency > 250ms | dur <= 1h30m | d >= -1.5s | e != 0',
  '{app="web"} | logfmt | size > 1KB | size < 1.5KiB | s >= 10GB | t == 5mb',
  '{app="web"} | line_format "{{.level}}: {{.msg}}"',
  '{app="web"} | line_format `{{ .a }} "quoted"`',
  '{app="web"} | label_format a=b, c="{{.x}}-{{.y}}", d=`{{.e}}`',
  '{app="web"} | drop a, b="v", c=~"v.*", d!="w", e!~"x"',
  '{app="web"} | keep a, b="v"',
  '{app="web"} |= "x" | json | line_format "{{.msg}}" |= "y" | label_format a=b | drop c | keep a',
];

for (const q of ROUND_TRIP) {
  Deno.test(`formatLogQL() round-trips ${JSON.stringify(q)}`, () => {
    const expr = parseLogQL(q);
    const text = formatLogQL(expr);
    assert.deepEqual(parseLogQL(text), expr, text);
    // The normal form is a fixed point.
    assert.equal(formatLogQL(parseLogQL(text)), text);
  });
}

/** Strings from Loki's `Test_logSelectorExpr_String` (pkg/logql/syntax/ast_test.go), printed unchanged. */
const LOKI_FIXED_POINTS = [
  '{foo="bar"}',
  '{foo="bar", bar!="baz"}',
  '{foo="bar", bar!="baz"} != "bip" !~ ".+bop"',
  '{foo="bar", bar!="baz"} |= ""',
  '{foo="bar", bar!="baz"} |~ "" |= "" |~ ".*"',
  '{foo="bar"} |= "baz" |~ "blip" != "flip" !~ "flap" | logfmt',
  '{foo="bar"} |= "baz" |~ "blip" != "flip" !~ "flap" | logfmt --strict',
  '{foo="bar"} |= "baz" |~ "blip" != "flip" !~ "flap" | logfmt --strict --keep-empty',
  '{foo="bar"} |= "baz" |~ "blip" != "flip" !~ "flap" | unpack | foo>5',
  '{foo="bar"} |= "baz" |~ "blip" != "flip" !~ "flap" | pattern "<foo> bar <buzz>" | foo>5',
  '{foo="bar"} |= "baz" |~ "blip" != "flip" !~ "flap" | logfmt | b>=10GB',
  '{foo="bar"} |= "baz" |~ "blip" != "flip" !~ "flap" | regexp "(?P<foo>foo|bar)"',
  '{foo="bar"} |= "baz" |~ "blip" != "flip" !~ "flap" | regexp "(?P<foo>foo|bar)" | ( ( foo<5.01 , bar>20ms ) or foo="bar" ) | line_format "blip{{.boop}}bap" | label_format foo=bar,bar="blip{{.blop}}"',
  '{foo="bar"} | logfmt | counter>-1 | counter>=-1 | counter<-1 | counter<=-1 | counter!=-1 | counter==-1',
];

Deno.test("formatLogQL() prints Loki's own String() test queries unchanged", () => {
  for (const q of LOKI_FIXED_POINTS) assert.equal(formatLogQL(parseLogQL(q)), q);
});

Deno.test("formatLogQL() writes Loki's normal form for other spellings", () => {
  const cases: [string, string][] = [
    // Loki's TestFilterReordering input, stages in query order.
    [
      '{container_name="app"} |= "06497595" | unpack != "message" | json | line_format "new log: {{.foo}}"',
      '{container_name="app"} |= "06497595" | unpack != "message" | json | line_format "new log: {{.foo}}"',
    ],
    // Loki's Test_logSelectorExpr_String line 168 query (json extractions).
    [
      '{app="foo"} | json response_status="response.status.code", first_param="request.params[0]"',
      '{app="foo"} | json response_status="response.status.code",first_param="request.params[0]"',
    ],
    ['{app="foo"} | json a', '{app="foo"} | json a="a"'],
    ['{app="foo"} | json a=`["b c"]`', '{app="foo"} | json a="[\\"b c\\"]"'],
    ['{a="b"} |~ `\\d+` or "x"', '{a="b"} |~ "\\\\d+" or "x"'],
    ['{a="b"} | x = 1.50 | y=-0 | z > 0.0000001', '{a="b"} | x==1.5 | y==-0 | z>0.0000001'],
    ['{a="b"} | x > 1h30m | y < 1.5KiB', '{a="b"} | x>1h30m | y<1.5KiB'],
    ['{a="b"} | x="1", y="2" z="3"', '{a="b"} | ( ( x="1" , y="2" ) , z="3" )'],
    ['{a="b"} | x="1" or y="2" and z="3"', '{a="b"} | ( x="1" or ( y="2" , z="3" ) )'],
    ['{a="b"} | drop x, y=~`v.*`', '{a="b"} | drop x,y=~"v.*"'],
    ['{a="b"} | keep x , y', '{a="b"} | keep x,y'],
    ['{a="b"} | label_format x = y , z = `{{.w}}`', '{a="b"} | label_format x=y,z="{{.w}}"'],
    ['{a="b"} | logfmt --keep-empty --strict', '{a="b"} | logfmt --strict --keep-empty'],
  ];
  for (const [q, want] of cases) assert.equal(formatLogQL(parseLogQL(q)), want, q);
});

Deno.test("formatLogQL() keeps only the number's value, not its spelling", () => {
  const expr = parseLogQL('{a="b"} | x > 1.50');
  const again = parseLogQL(formatLogQL(expr));
  const value = (e: typeof expr) =>
    e.pipeline[0].kind === "label_filter" && e.pipeline[0].predicate;
  assert.deepEqual(value(again), { ...value(expr) as object, text: "1.5" });
});

Deno.test("quoteGo() escapes as Go's strconv.Quote", () => {
  assert.equal(quoteGo(""), '""');
  assert.equal(quoteGo('a"b\\c'), '"a\\"b\\\\c"');
  assert.equal(quoteGo("\x07\b\f\n\r\t\v"), '"\\a\\b\\f\\n\\r\\t\\v"');
  assert.equal(quoteGo("\x00\x1f\x7f"), '"\\x00\\x1f\\x7f"');
  assert.equal(quoteGo("\u0085\u00a0\u2028\ufeff"), '"\\u0085\\u00a0\\u2028\\ufeff"');
  assert.equal(quoteGo("\u{e0001}"), '"\\U000e0001"');
  assert.equal(quoteGo("héllo 世界 😀 `'"), '"héllo 世界 😀 `\'"');
});
