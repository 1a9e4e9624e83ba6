import assert from "node:assert/strict";
import type { LabelMatcher, LabelMatchOp, LineFilter } from "./ast.ts";
import { LogQLParseError, parseLogQL } from "./logql.ts";
import { InvalidRegexError } from "./re2.ts";
import { parseQuery } from "./metric/parse.ts";

function lf(op: LineFilter["op"], value: string): LineFilter {
  return { kind: "line_filter", op, value };
}

function parseError(input: string): LogQLParseError {
  try {
    parseLogQL(input);
  } catch (e) {
    if (e instanceof LogQLParseError) return e;
    throw e;
  }
  throw new Error(`Expected ${JSON.stringify(input)} to fail`);
}

/** Asserts the exact message and that `position` agrees with it. */
function assertParseError(input: string, message: string): void {
  const e = parseError(input);
  assert.equal(e.message, message, `for input ${JSON.stringify(input)}`);
  assert.equal(e.name, "LogQLParseError");
  assert.equal(`cannot parse query at ${e.position}: ${e.reason}`, message);
}

Deno.test("parseLogQL() parses every label operator", () => {
  const expr = parseLogQL('{a="1", b!="2", c=~"3.*", d!~"4|5"}');
  const want: LabelMatcher[] = [
    { name: "a", op: "=", value: "1" },
    { name: "b", op: "!=", value: "2" },
    { name: "c", op: "=~", value: "3.*" },
    { name: "d", op: "!~", value: "4|5" },
  ];
  assert.deepEqual(expr, { kind: "log", matchers: want, pipeline: [] });
});

Deno.test("parseLogQL() parses every line filter operator in order", () => {
  const expr = parseLogQL('{app="web"} |= "a" != "b" |~ "c+" !~ "d?"');
  assert.deepEqual(expr.pipeline, [lf("|=", "a"), lf("!=", "b"), lf("|~", "c+"), lf("!~", "d?")]);
});

Deno.test("parseLogQL() accepts the spec examples", () => {
  assert.deepEqual(parseLogQL('{app="web", level=~"err.*"} |= "timeout"'), {
    kind: "log",
    matchers: [{ name: "app", op: "=", value: "web" }, {
      name: "level",
      op: "=~",
      value: "err.*",
    }],
    pipeline: [lf("|=", "timeout")],
  });
  assert.deepEqual(parseLogQL('{level=~"err.*"} |= "connection refused"').pipeline, [
    lf("|=", "connection refused"),
  ]);
});

Deno.test("parseLogQL() matches everything for empty input, blanks and {}", () => {
  const everything = { kind: "log", matchers: [], pipeline: [] };
  assert.deepEqual(parseLogQL(""), everything);
  assert.deepEqual(parseLogQL("  \n\t "), everything);
  assert.deepEqual(parseLogQL("{}"), everything);
  assert.deepEqual(parseLogQL(" { \n } "), everything);
});

Deno.test("parseLogQL() accepts line filters without braces or with {}", () => {
  assert.deepEqual(parseLogQL('|= "panic"'), {
    kind: "log",
    matchers: [],
    pipeline: [lf("|=", "panic")],
  });
  assert.deepEqual(parseLogQL('!~"x" |="y"').pipeline, [lf("!~", "x"), lf("|=", "y")]);
  assert.deepEqual(parseLogQL('{} |= "panic"').pipeline, [lf("|=", "panic")]);
  assert.deepEqual(parseLogQL('{}|="panic"').pipeline, [lf("|=", "panic")]);
});

Deno.test("parseLogQL() allows whitespace anywhere between tokens", () => {
  const want = parseLogQL('{app="web",env!="dev"}|="x"!~"y"');
  for (
    const input of [
      ' { app = "web" , env != "dev" } |= "x" !~ "y" ',
      '\n{\n\tapp\t=\t"web",\r\n env!=  "dev"\n}\n|=\n"x"\n!~\n"y"\n',
    ]
  ) {
    assert.deepEqual(parseLogQL(input), want, JSON.stringify(input));
  }
});

Deno.test("parseLogQL() skips # comments like Loki", () => {
  assert.deepEqual(
    parseLogQL('# all web errors\n{app="web"} # the app\n|= "error" # keyword'),
    {
      kind: "log",
      matchers: [{ name: "app", op: "=", value: "web" }],
      pipeline: [lf("|=", "error")],
    },
  );
  assert.deepEqual(parseLogQL('{app="#web"} |= `#`').pipeline, [lf("|=", "#")]);
});

Deno.test("parseLogQL() accepts label names of every allowed shape", () => {
  const expr = parseLogQL('{_="1", a_B9="2", __name__="3", Z="4"}');
  assert.deepEqual(expr.matchers.map((m) => m.name), ["_", "a_B9", "__name__", "Z"]);
});

Deno.test("parseLogQL() decodes Go escapes in double-quoted strings", () => {
  const cases: [string, string][] = [
    [String.raw`"a\"b"`, 'a"b'],
    [String.raw`"a\\b"`, "a\\b"],
    [String.raw`"\n\t\r"`, "\n\t\r"],
    [String.raw`"\a\b\f\v"`, "\x07\b\f\v"],
    [String.raw`"\u00e9\u4e16"`, "é世"],
    [String.raw`"\U0001F600"`, "😀"],
    [String.raw`"\x41\101"`, "AA"],
    [String.raw`"\xc3\xa9t\303\251"`, "été"],
    [String.raw`"'single'"`, "'single'"],
    [`"é世😀"`, "é世😀"],
    [`""`, ""],
  ];
  for (const [literal, want] of cases) {
    assert.equal(parseLogQL(`{a=${literal}}`).matchers[0].value, want, literal);
    assert.deepEqual(parseLogQL(`|= ${literal}`).pipeline, [lf("|=", want)], literal);
  }
});

Deno.test("parseLogQL() keeps backtick strings raw", () => {
  assert.deepEqual(parseLogQL('{a=`x\\.y\\n"z"`}').matchers[0].value, 'x\\.y\\n"z"');
  assert.deepEqual(parseLogQL("|~ `\\d+\\.\\d+`").pipeline, [lf("|~", "\\d+\\.\\d+")]);
  assert.deepEqual(parseLogQL("|= `multi\nline`").pipeline, [lf("|=", "multi\nline")]);
  assert.deepEqual(parseLogQL("|= ``").pipeline, [lf("|=", "")]);
});

Deno.test("parseLogQL() keeps regex sources as written", () => {
  const expr = parseLogQL(String.raw`{a=~"err\\..*"} |~ "(?i)time\\s*out"`);
  assert.equal(expr.matchers[0].value, String.raw`err\..*`);
  assert.deepEqual(expr.pipeline, [lf("|~", String.raw`(?i)time\s*out`)]);
});

Deno.test("parseLogQL() reports a missing , or } one past the end", () => {
  assertParseError('{app="web"', 'cannot parse query at 11: expected "," or "}"');
  assertParseError('{app="web"   ', 'cannot parse query at 14: expected "," or "}"');
  assertParseError(
    '{app="web" env="x"}',
    'cannot parse query at 12: expected "," or "}", found "env"',
  );
  assertParseError(
    '{app="web"; env="x"}',
    'cannot parse query at 11: expected "," or "}", found ";"',
  );
});

Deno.test("parseLogQL() rejects a trailing comma like Loki", () => {
  assertParseError('{app="web",}', 'cannot parse query at 12: expected label name, found "}"');
  assertParseError('{app="web", }', 'cannot parse query at 13: expected label name, found "}"');
  assertParseError('{app="web",', "cannot parse query at 12: expected label name");
});

Deno.test("parseLogQL() reports missing and invalid label names", () => {
  assertParseError("{", 'cannot parse query at 2: expected label name or "}"');
  assertParseError('{="x"}', 'cannot parse query at 2: expected label name or "}", found "="');
  assertParseError("{,}", 'cannot parse query at 2: expected label name or "}", found ","');
  assertParseError(
    '{1app="x"}',
    'cannot parse query at 2: invalid label name "1app": must match [a-zA-Z_][a-zA-Z0-9_]*',
  );
  assertParseError(
    '{a="b", app-name="x"}',
    'cannot parse query at 9: invalid label name "app-name": must match [a-zA-Z_][a-zA-Z0-9_]*',
  );
  assertParseError(
    '{service.name="x"}',
    'cannot parse query at 2: invalid label name "service.name": must match [a-zA-Z_][a-zA-Z0-9_]*',
  );
  assertParseError(
    '{nämé="x"}',
    'cannot parse query at 2: invalid label name "nämé": must match [a-zA-Z_][a-zA-Z0-9_]*',
  );
});

Deno.test("parseLogQL() reports missing and unknown label operators", () => {
  assertParseError(
    '{app "x"}',
    'cannot parse query at 6: expected operator "=", "!=", "=~" or "!~", found string',
  );
  assertParseError("{app", 'cannot parse query at 5: expected operator "=", "!=", "=~" or "!~"');
  assertParseError(
    "{app}",
    'cannot parse query at 5: expected operator "=", "!=", "=~" or "!~", found "}"',
  );
  for (const op of ["==", "~=", "=!", "<", ">=", "=~~", "|="]) {
    assertParseError(
      `{app${op}"x"}`,
      `cannot parse query at 5: unknown operator "${op}", expected "=", "!=", "=~" or "!~"`,
    );
  }
});

Deno.test("parseLogQL() reports missing string values", () => {
  assertParseError(
    "{app=web}",
    'cannot parse query at 6: expected quoted string ("..." or `...`), found "web"',
  );
  assertParseError(
    "{app='web'}",
    `cannot parse query at 6: expected quoted string ("..." or \`...\`), found "'"`,
  );
  assertParseError("{app=", 'cannot parse query at 6: expected quoted string ("..." or `...`)');
  assertParseError(
    '|= "a" |=',
    'cannot parse query at 10: expected quoted string ("..." or `...`)',
  );
  assertParseError(
    "|= panic",
    'cannot parse query at 4: expected quoted string ("..." or `...`), found "panic"',
  );
});

Deno.test("parseLogQL() reports unterminated strings at their opening quote", () => {
  assertParseError(
    '{app="web}',
    'cannot parse query at 6: unterminated string: expected closing "',
  );
  assertParseError('|= "abc\\', 'cannot parse query at 4: unterminated string: expected closing "');
  assertParseError(
    '|= "abc\\"',
    'cannot parse query at 4: unterminated string: expected closing "',
  );
  assertParseError(
    "{app=`web}",
    "cannot parse query at 6: unterminated raw string: expected closing backtick",
  );
  assertParseError(
    '|= "a\nb"',
    'cannot parse query at 6: newline in string: expected closing " (use \\n or a backtick string)',
  );
});

Deno.test("parseLogQL() reports invalid escapes at the backslash", () => {
  assertParseError(
    String.raw`|= "a\.b"`,
    String
      .raw`cannot parse query at 6: unknown escape sequence "\." (write "\\." for a literal backslash, or use a backtick string)`,
  );
  assertParseError(
    String.raw`{a="\'"}`,
    String
      .raw`cannot parse query at 5: unknown escape sequence "\'" (write "\\'" for a literal backslash, or use a backtick string)`,
  );
  assertParseError(
    String.raw`|= "\u12G4"`,
    String.raw`cannot parse query at 5: invalid escape sequence "\u12G": expected 4 hex digits`,
  );
  assertParseError(
    String.raw`|= "\u12"`,
    String.raw`cannot parse query at 5: invalid escape sequence "\u12": expected 4 hex digits`,
  );
  assertParseError(
    String.raw`|= "\U0001F60"`,
    String.raw`cannot parse query at 5: invalid escape sequence "\U0001F60": expected 8 hex digits`,
  );
  assertParseError(
    String.raw`|= "\xZ1"`,
    String.raw`cannot parse query at 5: invalid escape sequence "\xZ": expected 2 hex digits`,
  );
  assertParseError(
    String.raw`|= "\12"`,
    String.raw`cannot parse query at 5: invalid escape sequence "\12": expected 3 octal digits`,
  );
  assertParseError(
    String.raw`|= "\400"`,
    String.raw`cannot parse query at 5: invalid escape sequence "\400": octal value above \377`,
  );
  assertParseError(
    String.raw`|= "\uD800"`,
    String.raw`cannot parse query at 5: invalid escape sequence "\uD800": surrogate half`,
  );
  assertParseError(
    String.raw`|= "\U00110000"`,
    String
      .raw`cannot parse query at 5: invalid escape sequence "\U00110000": code point above U+10FFFF`,
  );
  assertParseError(
    String.raw`|= "ok\xff\xfe!"`,
    String.raw`cannot parse query at 7: invalid UTF-8 in byte escapes "\xff\xfe"`,
  );
});

Deno.test("parseLogQL() reports what may follow the selector", () => {
  const filters = 'line filter ("|=", "!=", "|~", "!~", "|>" or "!>")';
  assertParseError(
    '{app="web"} error',
    `cannot parse query at 13: expected ${filters} or end of query, found "error"`,
  );
  assertParseError(
    '{app="web"}{env="x"}',
    `cannot parse query at 12: expected ${filters} or end of query, found "{"`,
  );
  assertParseError(
    '{app="web"} |= "x" "y"',
    `cannot parse query at 20: expected ${filters} or end of query, found string`,
  );
  assertParseError(
    '|= "x" }',
    `cannot parse query at 8: expected ${filters} or end of query, found "}"`,
  );
  assertParseError(
    'app="web"',
    `cannot parse query at 1: expected "{" or ${filters}, found "app"`,
  );
  assertParseError('"web"', `cannot parse query at 1: expected "{" or ${filters}, found string`);
  assertParseError("}", `cannot parse query at 1: expected "{" or ${filters}, found "}"`);
});

Deno.test("parseLogQL() reads pattern line filters and refuses bad patterns", () => {
  assert.deepEqual(
    parseLogQL('{app="web"} |> "<_> GET <_>" or "<_> PUT <_>" !> `<_> 200`').pipeline,
    [
      { kind: "line_filter", op: "|>", value: "<_> GET <_>", or: ["<_> PUT <_>"] },
      { kind: "line_filter", op: "!>", value: "<_> 200" },
    ],
  );
  assertParseError(
    '{app="web"} |> "<ip> <_>"',
    'cannot parse query at 16: invalid pattern "<ip> <_>": named captures are not allowed in line filter patterns: found <ip>',
  );
  assertParseError(
    '{app="web"} !> "<_><_>"',
    'cannot parse query at 16: invalid pattern "<_><_>": consecutive captures <_><_> are not allowed',
  );
});

Deno.test("parseLogQL() reports unknown line filter operators and pipeline stages", () => {
  const list = '"|=", "!=", "|~", "!~", "|>" or "!>"';
  for (const op of ["||", "|=~", "=", "~", "!", "|>>"]) {
    assertParseError(
      `{app="web"} ${op} "x"`,
      `cannot parse query at 13: unknown line filter operator "${op}", expected ${list}`,
    );
  }
  assertParseError(
    '{app="web"} |',
    `cannot parse query at 13: unknown line filter operator "|", expected ${list}`,
  );
  assertParseError(
    '{app="web"} | unwrap latency',
    'cannot parse query at 13: unsupported pipeline stage "| unwrap": unwrap belongs to a range aggregation, such as sum_over_time({…} | unwrap x [1m])',
  );
  assertParseError(
    '{app="web"} |= "x" |logfmt host=""',
    'cannot parse query at 33: invalid logfmt key ""',
  );
});

Deno.test("parseLogQL() reports invalid regexes at the string, with the engine's reason", () => {
  const e = parseError('{app=~"a("}');
  assert.equal(e.message, 'cannot parse query at 7: invalid regex "a(": Unterminated group');
  assert.equal(e.position, 7);
  assert.ok(e.cause instanceof InvalidRegexError);
  assertParseError(
    '{app!~"[a"}',
    'cannot parse query at 7: invalid regex "[a": Unterminated character class',
  );
  assertParseError('|~ "a)"', "cannot parse query at 4: invalid regex \"a)\": Unmatched ')'");
  assertParseError(
    '{a="b"} != "(" !~ "*x"',
    'cannot parse query at 19: invalid regex "*x": Nothing to repeat',
  );
  // RE2 constructs V8 cannot express run on re2js: (?U), a flag group amid the pattern.
  assert.deepEqual(parseLogQL("|~ `(?U)a+` |~ `a(?i)b`").pipeline, [
    lf("|~", "(?U)a+"),
    lf("|~", "a(?i)b"),
  ]);
  // Equality operators take the value literally: no regex check.
  assert.deepEqual(parseLogQL('{a="("} |= "(" != "["').pipeline, [lf("|=", "("), lf("!=", "[")]);
});

Deno.test("parseLogQL() counts positions in UTF-16 code units", () => {
  assertParseError(
    '|= "é😀" x',
    'cannot parse query at 10: expected line filter ("|=", "!=", "|~", "!~", "|>" or "!>") or end of query, found "x"',
  );
});

Deno.test("LogQLParseError carries position and reason", () => {
  const e = new LogQLParseError(3, "expected x");
  assert.ok(e instanceof Error);
  assert.equal(e.name, "LogQLParseError");
  assert.equal(e.position, 3);
  assert.equal(e.reason, "expected x");
  assert.equal(e.message, "cannot parse query at 3: expected x");
});

Deno.test("parseLogQL() parses log pipelines: parsers, label filters, formatters, drop, keep", () => {
  const p = (q: string) => parseLogQL(`{app="web"} ${q}`).pipeline;
  assert.deepEqual(p('|= "a" or `b` or "c" != "d"'), [
    { kind: "line_filter", op: "|=", value: "a", or: ["b", "c"] },
    lf("!=", "d"),
  ]);
  assert.deepEqual(p("| json | logfmt --keep-empty --strict | unpack | decolorize"), [
    { kind: "json" },
    { kind: "logfmt", strict: true, keepEmpty: true },
    { kind: "unpack" },
    { kind: "decolorize" },
  ]);
  assert.deepEqual(p('| logfmt --strict host, lvl="level"'), [{
    kind: "logfmt",
    strict: true,
    keepEmpty: false,
    fields: [{ name: "host", key: "host" }, { name: "lvl", key: "level" }],
  }]);
  assert.deepEqual(p('| json a="b.c", d="e[0]", f, g=`["h i"][2]`'), [{
    kind: "json",
    fields: [
      { name: "a", path: ["b", "c"] },
      { name: "d", path: ["e", 0] },
      { name: "f", path: ["f"] },
      { name: "g", path: ["h i", 2] },
    ],
  }]);
  assert.deepEqual(p('| regexp "(?P<ip>\\\\S+)" | pattern `<ip> <_>`'), [
    { kind: "regexp", pattern: "(?P<ip>\\S+)" },
    { kind: "pattern", pattern: "<ip> <_>" },
  ]);
  const m = (name: string, op: LabelMatchOp, value: string) => ({
    kind: "match" as const,
    matcher: { name, op, value },
  });
  assert.deepEqual(p('| a="1" or b!~"2", c=~"3" and d!="4" e="5"'), [{
    kind: "label_filter",
    predicate: {
      kind: "or",
      left: m("a", "=", "1"),
      right: {
        kind: "and",
        left: {
          kind: "and",
          left: { kind: "and", left: m("b", "!~", "2"), right: m("c", "=~", "3") },
          right: m("d", "!=", "4"),
        },
        right: m("e", "=", "5"),
      },
    },
  }]);
  // Prometheus durations too, as Loki's lexer reads them; a label may be named ip.
  const compare = (text: string) => {
    const [stage] = p(`| age > ${text}`);
    return stage.kind === "label_filter" && stage.predicate.kind === "compare"
      ? [stage.predicate.type, stage.predicate.value]
      : undefined;
  };
  assert.deepEqual(compare("5d"), ["duration", 5 * 86_400]);
  assert.deepEqual(compare("1y2w3d4h5m6s7ms"), [
    "duration",
    365 * 86_400 + 14 * 86_400 + 3 * 86_400 + 4 * 3600 + 5 * 60 + 6 + 0.007,
  ]);
  assert.deepEqual(compare("1h30m"), ["duration", 5400]);
  assert.deepEqual(p('| ip="2.3.4.5" | ip > 5'), [
    { kind: "label_filter", predicate: m("ip", "=", "2.3.4.5") },
    {
      kind: "label_filter",
      predicate: { kind: "compare", name: "ip", op: ">", type: "number", value: 5, text: "5" },
    },
  ]);
  assert.deepEqual(p("| took > 250ms | size >= 1KiB | n == -1.5 | s = 200"), [
    {
      kind: "label_filter",
      predicate: {
        kind: "compare",
        name: "took",
        op: ">",
        type: "duration",
        value: 0.25,
        text: "250ms",
      },
    },
    {
      kind: "label_filter",
      predicate: {
        kind: "compare",
        name: "size",
        op: ">=",
        type: "bytes",
        value: 1024,
        text: "1KiB",
      },
    },
    {
      kind: "label_filter",
      predicate: {
        kind: "compare",
        name: "n",
        op: "==",
        type: "number",
        value: -1.5,
        text: "-1.5",
      },
    },
    {
      kind: "label_filter",
      predicate: { kind: "compare", name: "s", op: "==", type: "number", value: 200, text: "200" },
    },
  ]);
  assert.deepEqual(p('| (a="1" or b="2") c="3"')[0], {
    kind: "label_filter",
    predicate: {
      kind: "and",
      left: { kind: "or", left: m("a", "=", "1"), right: m("b", "=", "2") },
      right: m("c", "=", "3"),
    },
  });
  assert.deepEqual(
    p('| line_format "{{.a | ToUpper}}" | label_format x=y, z="{{.w}}" | drop a, b="c" | keep d'),
    [
      { kind: "line_format", template: "{{.a | ToUpper}}" },
      {
        kind: "label_format",
        formats: [{ name: "x", rename: "y" }, { name: "z", template: "{{.w}}" }],
      },
      {
        kind: "drop",
        labels: [{ name: "a" }, { name: "b", matcher: { name: "b", op: "=", value: "c" } }],
      },
      { kind: "keep", labels: [{ name: "d" }] },
    ],
  );
  assert.deepEqual(p('| json | __error__="" |= "x"').at(-1), lf("|=", "x"));
});

Deno.test("parseLogQL() refuses unsupported and invalid pipeline constructs, naming them", () => {
  for (
    const [q, message] of [
      [
        "| unwrap latency",
        'at 13: unsupported pipeline stage "| unwrap": unwrap belongs to a range aggregation, such as sum_over_time({…} | unwrap x [1m])',
      ],
      ["| distinct a", 'at 13: unsupported pipeline stage "| distinct": not supported yet'],
      ['| ip("10.0.0.0/8")', 'at 15: unsupported label filter "ip(...)"'],
      ['| addr = ip("10.0.0.0/8")', 'at 22: unsupported label filter "ip(...)"'],
      ['|= ip("10.0.0.0/8")', 'at 16: unsupported line filter "ip(...)"'],
      ['| logfmt host=""', 'at 27: invalid logfmt key ""'],
      ["| label_format __error__=x", "at 28: label_format cannot set __error__"],
      ["| logfmt --bogus", 'at 22: unknown logfmt flag: expected "--strict" or "--keep-empty"'],
      ['| regexp "(a)"', "at 22: regexp needs at least one named group (?P<name>...)"],
      ['| regexp "(?P<a>"', 'at 22: invalid regex "(?P<a>": Unterminated group'],
      [
        '| pattern "<a><b>"',
        'at 23: invalid pattern "<a><b>": consecutive captures <a><b> are not allowed',
      ],
      [
        '| line_format "{{ range .a }}{{ end }}"',
        'at 27: invalid template "{{ range .a }}{{ end }}": unsupported template action "range"',
      ],
      ['| label_format a=b, a="x"', 'at 33: label_format sets "a" more than once'],
      ["| json a=1", 'at 22: expected quoted string ("..." or `...`), found "1"'],
      ['| json a="b..c"', 'at 22: invalid JSON path "b..c"'],
      ["| user=alice", 'at 20: expected quoted string, number, duration or bytes, found "alice"'],
      ["| status > 5xx", 'at 24: invalid number, duration or bytes literal "5xx"'],
      [
        '| status > "5"',
        'at 22: operator ">" compares numbers, durations or bytes: expected one, found string',
      ],
      ["| status =~ 5", 'at 25: expected quoted string ("..." or `...`), found "5"'],
      ['| (a="1"', 'at 21: expected ")"'],
      ['| a="1" and', "at 24: expected label filter (label name)"],
    ]
  ) {
    assertParseError(`{app="web"} ${q}`, `cannot parse query ${message}`);
  }
});

Deno.test("parseLogQL: a query over 128 KiB characters is refused before it is parsed", () => {
  const long = `{app="a"}${' |= "x"'.repeat(19 * 1024)}`;
  assert.throws(
    () => parseLogQL(long),
    (e: unknown) =>
      e instanceof LogQLParseError && e.position === 1 &&
      e.reason === `query is ${long.length} characters long, over the limit of 131072`,
  );
  assert.throws(() => parseQuery(`sum(rate(${long}[1m]))`), /over the limit of 131072/);
  assert.equal(parseLogQL(`{app="a"}${' |= "x"'.repeat(18 * 1024)}`).pipeline.length, 18 * 1024);
});
