import assert from "node:assert/strict";
import { type LabelMatcher, type LineFilter, parseLogQL } from "./logql.ts";
import { RE2JS } from "re2js";
import {
  abbreviatePattern,
  compileLabelMatchers,
  compileLineFilters,
  compileRegex,
  InvalidRegexError,
  isValidLabelName,
  LabelMatcherError,
  MAX_REGEX_LENGTH,
  requiredLineTerms,
  validateLabelMatcher,
  validateLabelMatchers,
} from "./matchers.ts";

function labels(query: string): (l: Record<string, string>) => boolean {
  return compileLabelMatchers(parseLogQL(query).matchers);
}

function lines(query: string): (line: string) => boolean {
  const f = compileLineFilters(parseLogQL(query).pipeline);
  assert.ok(f, "expected a line predicate");
  return f;
}

function lf(op: LineFilter["op"], value: string): LineFilter {
  return { kind: "line_filter", op, value };
}

Deno.test("compileLabelMatchers() applies = and !=", () => {
  const eq = labels('{app="web"}');
  assert.equal(eq({ app: "web" }), true);
  assert.equal(eq({ app: "web2" }), false);
  assert.equal(eq({ app: "Web" }), false);
  const ne = labels('{app!="web"}');
  assert.equal(ne({ app: "web" }), false);
  assert.equal(ne({ app: "api" }), true);
  assert.equal(ne({}), true);
});

Deno.test("compileLabelMatchers() anchors =~ and !~ like Loki", () => {
  const re = labels('{level=~"err.*"}');
  assert.equal(re({ level: "error" }), true);
  assert.equal(re({ level: "err" }), true);
  assert.equal(re({ level: "xerror" }), false);
  const alt = labels('{level=~"warn|error"}');
  assert.equal(alt({ level: "warn" }), true);
  assert.equal(alt({ level: "error" }), true);
  assert.equal(alt({ level: "warning" }), false, "alternation is anchored as a whole");
  const nre = labels('{level!~"debug|info"}');
  assert.equal(nre({ level: "info" }), false);
  assert.equal(nre({ level: "information" }), true);
  assert.equal(nre({}), true);
});

Deno.test("compileLabelMatchers() treats a missing label as the empty string", () => {
  const absent = labels('{env=""}');
  assert.equal(absent({ app: "web" }), true);
  assert.equal(absent({ env: "" }), true);
  assert.equal(absent({ env: "prod" }), false);
  const present = labels('{env!=""}');
  assert.equal(present({ app: "web" }), false);
  assert.equal(present({ env: "prod" }), true);
  assert.equal(labels('{env=~".*"}')({}), true);
  assert.equal(labels('{env=~".+"}')({}), false);
  assert.equal(labels('{env!~".+"}')({}), true);
});

Deno.test("compileLabelMatchers() ignores Object.prototype properties", () => {
  assert.equal(labels('{constructor=""}')({}), true);
  assert.equal(labels('{toString!=""}')({}), false);
  assert.equal(labels('{__proto__=""}')({}), true);
  assert.equal(labels('{constructor="x"}')({ constructor: "x" }), true);
});

Deno.test("compileLabelMatchers() requires every matcher, and none matches all", () => {
  const both = labels('{app="web", level=~"err.*", env!="dev"}');
  assert.equal(both({ app: "web", level: "error", env: "prod" }), true);
  assert.equal(both({ app: "web", level: "error", env: "dev" }), false);
  assert.equal(both({ app: "api", level: "error" }), false);
  assert.equal(compileLabelMatchers([])({}), true);
  assert.equal(labels("{}")({ anything: "x" }), true);
});

Deno.test("compileLabelMatchers() throws InvalidRegexError for unvalidated input", () => {
  assert.throws(
    () => compileLabelMatchers([{ name: "a", op: "=~", value: "a(" }]),
    (e: unknown) =>
      e instanceof InvalidRegexError && e.message === 'Invalid regex "a(": Unterminated group' &&
      e.pattern === "a(" && e.detail === "Unterminated group",
  );
  assert.throws(
    () => compileLabelMatchers([{ name: "a", op: "~" as LabelMatcher["op"], value: "" }]),
    { name: "TypeError", message: 'Cannot compile label matcher: unknown operator "~"' },
  );
});

Deno.test("compileLineFilters() returns undefined without filters", () => {
  assert.equal(compileLineFilters([]), undefined);
  assert.equal(compileLineFilters(parseLogQL('{app="web"}').pipeline), undefined);
});

Deno.test("compileLineFilters() |= and != are case-sensitive substring tests", () => {
  const has = lines('|= "Timeout"');
  assert.equal(has("db Timeout after 5s"), true);
  assert.equal(has("Timeout"), true);
  assert.equal(has("db timeout after 5s"), false);
  assert.equal(has("TIMEOUT"), false);
  const hasNot = lines('!= "debug"');
  assert.equal(hasNot("level=info"), true);
  assert.equal(hasNot("level=debug"), false);
  assert.equal(hasNot("level=DEBUG"), true);
  // Short terms and the empty term are fine.
  assert.equal(lines('|= "a"')("cat"), true);
  assert.equal(lines('|= "ab"')("cat"), false);
  assert.equal(lines('|= ""')("anything"), true);
  assert.equal(lines('!= ""')("anything"), false);
});

Deno.test("compileLineFilters() |~ and !~ search unanchored", () => {
  const re = lines('|~ "err(or)?"');
  assert.equal(re("an error occurred"), true);
  assert.equal(re("xerr"), true);
  assert.equal(re("ERROR"), false);
  const nre = lines('!~ "^GET /health"');
  assert.equal(nre("GET /health 200"), false);
  assert.equal(nre("POST /health 200"), true);
  assert.equal(lines('|~ "^a.*z$"')("abcz"), true);
  assert.equal(lines('|~ "^a.*z$"')("xabcz"), false);
});

Deno.test("compileLineFilters() supports a leading (?i) flag", () => {
  const re = lines('|~ "(?i)timeout"');
  assert.equal(re("TIMEOUT"), true);
  assert.equal(re("Read Timeout"), true);
  assert.equal(re("time out"), false);
  assert.equal(lines('!~ "(?i)debug"')("DEBUG x"), false);
  assert.equal(labels('{level=~"(?i)err.*"}')({ level: "ERROR" }), true);
  assert.equal(labels('{level=~"(?i)err.*"}')({ level: "xERROR" }), false);
  assert.equal(lines('|~ "(?i)straße"')("STRASSE"), false, "simple case folding only");
  assert.equal(lines('|~ "(?i)é"')("É"), true);
});

Deno.test("compileLineFilters() requires every filter, in order", () => {
  const f = lines('|= "GET" != "/health" |~ "status=5\\\\d\\\\d" !~ "(?i)retry"');
  assert.equal(f("GET /api status=503"), true);
  assert.equal(f("GET /health status=503"), false);
  assert.equal(f("GET /api status=200"), false);
  assert.equal(f("GET /api status=503 Retrying"), false);
  assert.equal(f("POST /api status=503"), false);
});

Deno.test("compileLineFilters() throws for an unknown operator", () => {
  assert.throws(() => compileLineFilters([lf("|>" as LineFilter["op"], "x")]), {
    name: "TypeError",
    message: 'Cannot compile line filter: unknown operator "|>"',
  });
});

Deno.test("requiredLineTerms() returns the |= values", () => {
  const { pipeline } = parseLogQL('|= "GET" != "health" |~ "x+" |= "api" !~ "y" |= "GET" |= ""');
  assert.deepEqual(requiredLineTerms(pipeline), ["GET", "api"]);
  assert.deepEqual(requiredLineTerms([]), []);
  assert.deepEqual(requiredLineTerms([lf("!=", "a"), lf("|~", "b")]), []);
});

Deno.test("compileRegex() translates RE2 syntax for the u flag", () => {
  const cases: [string, string, boolean][] = [
    [String.raw`a\-b`, "a-b", true],
    [String.raw`[a\-z]`, "-", true],
    [String.raw`[a\-z]`, "b", false],
    [String.raw`\_\:\"\'\<\>\@\#\%\=\,\~\!\&\;`, `_:"'<>@#%=,~!&;`, true],
    [String.raw`a\.b`, "a.b", true],
    [String.raw`a\.b`, "axb", false],
    [`{"level":"error"`, `{"level":"error"`, true],
    ["a{2}", "aa", true],
    ["a{2}", "a{2}", false],
    ["a{1,}b", "aaab", true],
    ["a{,2}", "a{,2}", true],
    ["x}", "x}", true],
    ["x]", "x]", true],
    ["[]a]+", "]a]", true],
    ["[^]a]", "b", true],
    ["[^]a]", "]", false],
    ["[[:alpha:]]+[[:digit:]]", "abc1", true],
    ["[[:upper:][:space:]]+", "A B", true],
    ["[[:upper:]]", "a", false],
    [String.raw`\pL+`, "été", true],
    [String.raw`\PL`, "é", false],
    [String.raw`\p{Greek}+`, "αβγ", true],
    [String.raw`\p{Lu}`, "É", true],
    [String.raw`\x{1F600}`, "😀", true],
    [String.raw`\x41`, "A", true],
    [String.raw`(?P<word>\w+)`, "hi", true],
    [String.raw`\Qa.b*c\E+`, "a.b*cc", true],
    [String.raw`\Qa.b\E`, "axb", false],
    [String.raw`\Q[x]`, "[x]", true],
    [String.raw`\Aab\z`, "ab", true],
    [String.raw`\Aab\z`, "ab\n", false],
    ["a.c", "a\nc", false],
    ["a.c", "a\rc", true],
    ["(?s)a.c", "a\nc", true],
    ["^.$", "😀", true],
    ["(?m)^b$", "a\nb\nc", false], // the anchors hold the whole text
    ["(?m)^b$\n^c", "a\nb\nc", false],
    ["(?m)a$\n^b[^z]*", "a\nb\nc", true],
    ["(?is)A.C", "a\nc", true],
    ["(?i:a)b", "Ab", true],
    ["(?i:a)b", "AB", false],
  ];
  for (const [pattern, input, want] of cases) {
    assert.equal(
      RE2JS.compile(pattern).testExact(input),
      want,
      `RE2 itself: ${pattern} on ${JSON.stringify(input)}`,
    );
    assert.equal(
      compileRegex(pattern, { anchored: true }).test(input),
      want,
      `${pattern} on ${JSON.stringify(input)}`,
    );
  }
});

Deno.test("compileRegex() matches patterns that make backtracking engines explode", () => {
  // Each would take a backtracking engine longer than the age of the universe.
  const as = "a".repeat(5_000);
  const digits = "1".repeat(5_000);
  // [pattern, text, found anywhere, matches the whole text]
  const cases: [string, string, boolean, boolean][] = [
    ["(a+)+$", as + "!", false, false],
    ["(a|a)*b", as, false, false],
    ["(a|aa)+$", as + "!", false, false],
    ["(?:a?){30}a{30}", "a".repeat(30), true, true],
    ["(a*)*b", as, false, false],
    [String.raw`\d*\d*\d*\d*\d*\d*x`, digits, false, false],
    ["(x+x+)+y", "x".repeat(5_000), false, false],
    ["(.*a){12}", as + "b", true, false],
  ];
  for (const [pattern, text, found, whole] of cases) {
    assert.equal(compileRegex(pattern).test(text), found, pattern);
    assert.equal(compileRegex(pattern, { anchored: true }).test(text), whole, pattern);
  }
  // Matches are found by both engines, on the right side of the limit.
  assert.equal(compileRegex("(a|b){8}c").test("ab".repeat(4) + "c"), true);
  assert.equal(compileRegex("(a|b){9}c").test("ab".repeat(4) + "ac"), true);
  assert.equal(compileRegex("x?".repeat(8) + "y").test("xxy"), true);
  assert.equal(compileRegex("x?".repeat(9) + "y").test("xxy"), true);
});

Deno.test("compileRegex() rejects what RE2 rejects", () => {
  const cases: [string, string][] = [
    [String.raw`(a)\1`, "invalid escape sequence `\\1`"],
    ["(?=a)", "invalid or unsupported Perl syntax `(?=`"],
    ["(?!a)b", "invalid or unsupported Perl syntax `(?!`"],
    ["(?<=a)b", "invalid named capture `(?<=a)b`"],
    ["(?<!a)b", "invalid named capture `(?<!a)b`"],
    ["a{1001}", "invalid repeat count `{1001}`"],
    ["(".repeat(1_001) + "a" + ")".repeat(1_001), "expression nests too deeply"],
  ];
  for (const [pattern, detail] of cases) {
    assert.throws(
      () => compileRegex(pattern),
      (e: unknown) => e instanceof InvalidRegexError && e.detail === detail,
      pattern,
    );
  }
});

Deno.test("compileRegex() refuses long patterns and quotes at most 100 characters", () => {
  const long = "a".repeat(MAX_REGEX_LENGTH + 1);
  assert.throws(
    () => compileRegex(long),
    (e: unknown) =>
      e instanceof InvalidRegexError && e.pattern === long &&
      e.message ===
        `Invalid regex "${"a".repeat(100)}…": pattern of ${
          MAX_REGEX_LENGTH + 1
        } characters is longer than the limit of ${MAX_REGEX_LENGTH}`,
  );
  assert.equal(compileRegex("a".repeat(MAX_REGEX_LENGTH)).test("a".repeat(MAX_REGEX_LENGTH)), true);
  // RE2 quotes the bad part, here all but the first character.
  const lookbehinds = "(?<=a)".repeat(40);
  assert.throws(
    () => compileRegex("b" + lookbehinds),
    (e: unknown) =>
      e instanceof InvalidRegexError &&
      e.message ===
        `Invalid regex "b${lookbehinds.slice(0, 99)}…": invalid named capture \`${
          lookbehinds.slice(0, 100)
        }…\``,
  );
  assert.throws(
    () => validateLabelMatcher({ name: "a", value: "b".repeat(300) + "(", type: "=~" }, 0),
    {
      name: "LabelMatcherError",
      message: `Invalid matcher at index 0: invalid regex "${
        "b".repeat(100)
      }…": Unterminated group`,
    },
  );
});

Deno.test("abbreviatePattern() keeps surrogate pairs whole", () => {
  assert.equal(abbreviatePattern("x".repeat(100)), "x".repeat(100));
  assert.equal(abbreviatePattern("x".repeat(98) + "😀"), "x".repeat(98) + "😀");
  assert.equal(abbreviatePattern("x".repeat(98) + "😀y"), "x".repeat(98) + "😀…");
  assert.equal(abbreviatePattern("x".repeat(99) + "😀"), "x".repeat(99) + "…");
});

Deno.test("compileRegex() anchors only when asked", () => {
  assert.equal(compileRegex("b").test("abc"), true);
  assert.equal(compileRegex("b", { anchored: true }).test("abc"), false);
  assert.equal(compileRegex("a|b", { anchored: true }).test("ab"), false);
  for (const pattern of ["x", "x+"]) { // one per engine
    const re = compileRegex(pattern);
    assert.equal(re.test("x"), true, `${pattern}: test() must be stateless`);
    assert.equal(re.test("x"), true, `${pattern}: test() must be stateless`);
  }
});

Deno.test("compileRegex() reports invalid patterns with the user's pattern", () => {
  const cases: [string, string][] = [
    ["a(", "Unterminated group"],
    ["(?U)a", 'unsupported flag "U" in "(?U)" (supported: i, m, s)'],
    ["a\\", "trailing backslash"],
    ["\\x{41", 'missing "}" after "\\x{"'],
    ["\\p{Greek", 'missing "}" after "\\p{"'],
    ["\\p{NoSuchScript}", "Invalid property name"],
    ["a(?i)b", "Invalid group"],
    ["+", "Nothing to repeat"],
  ];
  for (const [pattern, detail] of cases) {
    assert.throws(
      () => compileRegex(pattern),
      (e: unknown) =>
        e instanceof InvalidRegexError && e.detail === detail &&
        e.message === `Invalid regex "${pattern}": ${detail}`,
      pattern,
    );
  }
});

Deno.test("isValidLabelName() accepts [a-zA-Z_][a-zA-Z0-9_]*", () => {
  for (const name of ["a", "_", "app", "A_1", "__name__"]) {
    assert.equal(isValidLabelName(name), true);
  }
  for (const name of ["", "1a", "a-b", "a.b", "é", "a b"]) {
    assert.equal(isValidLabelName(name), false, name);
  }
});

Deno.test("validateLabelMatcher() converts API matchers", () => {
  for (const type of ["=", "!=", "=~", "!~"]) {
    assert.deepEqual(validateLabelMatcher({ name: "app", value: "w.*", type }, 0), {
      name: "app",
      op: type,
      value: "w.*",
    });
  }
  assert.deepEqual(
    validateLabelMatcher({ name: "app", value: "(", type: "=", extra: 1 }, 0),
    { name: "app", op: "=", value: "(" },
  );
});

Deno.test("validateLabelMatcher() names the matcher index in every error", () => {
  const cases: [unknown, string][] = [
    [null, 'expected an object {"name", "value", "type"}, got null'],
    ["app=web", 'expected an object {"name", "value", "type"}, got "app=web"'],
    [[1], 'expected an object {"name", "value", "type"}, got an array'],
    [{ value: "web", type: "=" }, '"name" must be a string, got nothing'],
    [{ name: 5, value: "web", type: "=" }, '"name" must be a string, got number 5'],
    [
      { name: "app-name", value: "web", type: "=" },
      'invalid label name "app-name": must match [a-zA-Z_][a-zA-Z0-9_]*',
    ],
    [{ name: "app", type: "=" }, '"value" must be a string, got nothing'],
    [{ name: "app", value: null, type: "=" }, '"value" must be a string, got null'],
    [
      { name: "app", value: "web", type: "==" },
      '"type" must be one of "=", "!=", "=~", "!~", got "=="',
    ],
    [
      { name: "app", value: "web" },
      '"type" must be one of "=", "!=", "=~", "!~", got nothing',
    ],
    [{ name: "app", value: "a(", type: "=~" }, 'invalid regex "a(": Unterminated group'],
    [{ name: "app", value: "[", type: "!~" }, 'invalid regex "[": Unterminated character class'],
  ];
  for (const [input, reason] of cases) {
    assert.throws(
      () => validateLabelMatcher(input, 3),
      (e: unknown) =>
        e instanceof LabelMatcherError && e.index === 3 &&
        e.name === "LabelMatcherError" && e.message === `Invalid matcher at index 3: ${reason}`,
      reason,
    );
  }
});

Deno.test("validateLabelMatchers() validates an array, reporting the failing index", () => {
  assert.deepEqual(validateLabelMatchers(undefined), []);
  assert.deepEqual(validateLabelMatchers([]), []);
  assert.deepEqual(
    validateLabelMatchers([{ name: "a", value: "1", type: "=" }, {
      name: "b",
      value: "2",
      type: "!=",
    }]),
    [{ name: "a", op: "=", value: "1" }, { name: "b", op: "!=", value: "2" }],
  );
  assert.throws(
    () =>
      validateLabelMatchers([{ name: "a", value: "1", type: "=" }, {
        name: "b",
        value: "(",
        type: "=~",
      }]),
    {
      name: "LabelMatcherError",
      message: 'Invalid matcher at index 1: invalid regex "(": Unterminated group',
    },
  );
  assert.throws(() => validateLabelMatchers({ name: "a" }), {
    name: "TypeError",
    message: "Invalid matchers: expected an array, got an object",
  });
});

Deno.test("the required-literal prefilter never changes an answer", () => {
  const patterns = [
    "err.*timeout",
    "colou?r.+done",
    String.raw`latency=\d+ms`,
    "ab+c.*x",
    "a{0}b.*c",
    "a{2,}b.*",
    String.raw`\.json$.*`,
    "x(a|b)+y.*z",
    "[a-c]+foo.*bar",
    "😀?x.*y",
    "caf\u00e9.*",
    String.raw`\d+\-\d+.*end`,
    "(?s)start.*stop",
    "^begin.*",
  ];
  const lines = [
    "err: read timeout",
    "colour is done",
    "color done",
    "colr done",
    "latency=35ms",
    "abbbc then x",
    "ac x",
    "b c",
    "aab ok",
    "file.json",
    "xay z",
    "xz",
    "cbfoo and bar",
    "x and y",
    "😀x then y",
    "café au lait",
    "12-34 the end",
    "start\nstop",
    "begin here",
    "",
  ];
  for (const pattern of patterns) {
    const re2 = RE2JS.compile(pattern);
    const ours = compileRegex(pattern);
    for (const line of lines) {
      assert.equal(ours.test(line), re2.test(line), `${pattern} on ${JSON.stringify(line)}`);
    }
  }
});
