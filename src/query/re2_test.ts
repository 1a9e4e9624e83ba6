import assert from "node:assert/strict";
import { RE2JS } from "re2js";
import { QueryTimeoutError, withDeadline } from "./deadline.ts";
import {
  abbreviatePattern,
  boundTests,
  compileRegex,
  CostlyTestError,
  InvalidRegexError,
  MAX_BACKTRACKING_STEPS,
  MAX_REGEX_LENGTH,
  requiredLiteral,
} from "./re2.ts";

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
  // Matches are found by both engines, on either side of the limit (8 ways of 256 characters).
  const v8 = (pattern: string) => compileRegex(pattern).engine === "v8";
  assert.equal(v8("(a|b){3}" + "c".repeat(253)), true);
  assert.equal(v8("(a|b){3}" + "c".repeat(254)), false);
  assert.equal(compileRegex("(a|b){3}" + "c".repeat(253)).test("aba" + "c".repeat(253)), true);
  assert.equal(compileRegex("(a|b){3}" + "c".repeat(254)).test("bab" + "c".repeat(254)), true);
  // What users write stays on V8: an address is 81 ways of 15 characters.
  assert.equal(v8(String.raw`\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}`), true);
  assert.equal(compileRegex("x?".repeat(8) + "y").test("xxy"), true);
  assert.equal(compileRegex("x?".repeat(9) + "y").test("xxy"), true);
});

Deno.test("compileRegex() bounds what a pattern may cost a character", async () => {
  const v8 = (pattern: string) => compileRegex(pattern).engine === "v8";
  // Ways through the pattern times the longest match: V8 takes that many steps a start.
  const counted = (n: number) => `[a-z]{1000}${"x".repeat(n - 1000)}`;
  assert.equal(v8(counted(MAX_BACKTRACKING_STEPS)), true);
  assert.equal(v8(counted(MAX_BACKTRACKING_STEPS + 1)), false);
  assert.equal(v8("(?:a|b)(?:c|d)" + "e".repeat(MAX_BACKTRACKING_STEPS / 4 - 2)), true);
  assert.equal(v8("(?:a|b)(?:c|d)" + "e".repeat(MAX_BACKTRACKING_STEPS / 4 - 1)), false);
  // 100 alternatives of 1001 characters: 100,100 steps from each start on V8.
  const alternatives = Array.from({ length: 100 }, (_, i) => `[a-z]{1000}${i % 10}`).join("|");
  assert.equal(v8(`(?:${alternatives})`), false);
  assert.equal(compileRegex(`(?:${alternatives})`).test("a".repeat(2000)), false);
  assert.equal(compileRegex(`(?:${alternatives})`).test("a".repeat(1000) + "7"), true);
  // On re2js, a query past its deadline stops at the next line it tests.
  await assert.rejects(
    withDeadline(1, async () => {
      const regex = compileRegex(`(?:${alternatives})`);
      await new Promise((r) => setTimeout(r, 5));
      regex.test("a".repeat(1000));
    }),
    QueryTimeoutError,
  );
  assert.equal(compileRegex("[a-z]{1000}1").test("a".repeat(1000) + "1"), true);
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
        `invalid regex "${"a".repeat(100)}…": pattern of ${
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
        `invalid regex "b${lookbehinds.slice(0, 99)}…": invalid named capture \`${
          lookbehinds.slice(0, 100)
        }…\``,
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
  // RE2 decides; where V8's translation refuses too, its reason is given.
  const cases: [string, string][] = [
    ["a(", "Unterminated group"],
    ["a\\", "trailing backslash"],
    ["\\x{41", 'missing "}" after "\\x{"'],
    ["\\p{Greek", 'missing "}" after "\\p{"'],
    ["\\p{NoSuchScript}", "Invalid property name"],
    ["+", "Nothing to repeat"],
    ["(?=x)", "invalid or unsupported Perl syntax `(?=`"], // V8 has lookahead, RE2 not
  ];
  for (const [pattern, detail] of cases) {
    assert.throws(
      () => compileRegex(pattern),
      (e: unknown) =>
        e instanceof InvalidRegexError && e.detail === detail &&
        e.message === `invalid regex "${pattern}": ${detail}`,
      pattern,
    );
  }
});

Deno.test("compileRegex() runs what RE2 accepts and V8 cannot express on re2js", () => {
  // A flag group amid the pattern applies from there on.
  const mid = compileRegex("abc(?i)def");
  assert.deepEqual(["xabcDEF", "xabcdef", "ABCdef"].map((t) => mid.test(t)), [true, true, false]);
  assert.equal(requiredLiteral("abc(?i)def"), "abc");
  assert.equal(requiredLiteral("(?s)x(?i)abcdef"), "x");
  // Ungreedy (?U) and octal escapes.
  assert.equal(compileRegex("(?U)^a+", { anchored: false }).test("aaa"), true);
  assert.equal(compileRegex("\\123", { anchored: true }).test("S"), true);
  // Loki's own test query: (?i) amid a label filter's regex.
  const loki = compileRegex(
    String.raw`.*?(GET|POST) /loki/api/(?i)(\d+[a-z]|[a-z]+\d)\w*/query_range`,
    {
      anchored: true,
    },
  );
  assert.equal(loki.test("GET /loki/api/V1/query_range"), true);
  assert.equal(loki.test("get /loki/api/V1/query_range"), false);
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

Deno.test("bounded, a line's tests share one bound; V8's steps count a 32nd of a re2js thread's", () => {
  const re2js = compileRegex("[a-z]{1000}[a-z]{1000}[a-z]{1000}9");
  // 2,001 steps from each start: 63 threads a character, 4,161 characters fit 2^18 steps.
  const v8 = compileRegex("[a-z]{1000}[a-z]{1000}9");
  assert.equal(v8.engine, "v8");
  assert.equal(v8.threads, 63);
  // An IP-address pattern, 1,215 steps from each start (38 threads): lines of up to 6,898
  // characters test on the thread (it takes microseconds on them), longer ones elsewhere.
  const ip = compileRegex(String.raw`\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}`);
  assert.equal(ip.threads, 38);
  const fits = `${"a".repeat(4160)}9`;
  const long = `${"a".repeat(4161)}9`;
  const outer = boundTests(true);
  try {
    assert.equal(v8.test(fits), true);
    boundTests(true);
    assert.throws(() => v8.test(long), CostlyTestError);
    boundTests(true);
    assert.equal(ip.test(`${"x".repeat(6890)} 1.2.3.4`), true);
    boundTests(true);
    assert.throws(() => ip.test(`${"x".repeat(6891)} 1.2.3.4`), CostlyTestError);
    boundTests(true);
    // 500 letters and a "9": 501 × 501 steps fit the bound once, not twice.
    const short = `${"a".repeat(500)}9`;
    assert.equal(re2js.test(short), false);
    assert.throws(() => re2js.test(short), CostlyTestError);
  } finally {
    boundTests(outer);
  }
  // Unbounded, every test runs.
  assert.equal(v8.test(long), true);
  assert.equal(re2js.test(long), true);
});
