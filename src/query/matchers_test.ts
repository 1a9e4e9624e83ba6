import assert from "node:assert/strict";
import type { LabelMatcher, LineFilter } from "./ast.ts";
import { parseLogQL } from "./logql.ts";
import { compileLabelMatchers, compileLineFilters, requiredLineTerms } from "./matchers.ts";
import { splitPushdown } from "./pipeline/mod.ts";
import { InvalidRegexError } from "./re2.ts";
import { RE2JS } from "re2js";

function labels(query: string): (l: Record<string, string>) => boolean {
  return compileLabelMatchers(parseLogQL(query).matchers);
}

/** The line filters of `query` (its whole pipeline). */
function filtersOf(query: string): LineFilter[] {
  const { pushdown, pipeline } = splitPushdown(parseLogQL(query).pipeline);
  assert.deepEqual(pipeline, []);
  return pushdown;
}

function lines(query: string): (line: string) => boolean {
  const f = compileLineFilters(filtersOf(query));
  assert.ok(f, "expected a line predicate");
  return f.test;
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
      e instanceof InvalidRegexError && e.message === 'invalid regex "a(": Unterminated group' &&
      e.pattern === "a(" && e.detail === "Unterminated group",
  );
  assert.throws(
    () => compileLabelMatchers([{ name: "a", op: "~" as LabelMatcher["op"], value: "" }]),
    { name: "TypeError", message: 'Cannot compile label matcher: unknown operator "~"' },
  );
});

Deno.test("compileLineFilters() returns undefined without filters", () => {
  assert.equal(compileLineFilters([]), undefined);
  assert.equal(compileLineFilters(filtersOf('{app="web"}')), undefined);
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
  assert.throws(() => compileLineFilters([lf("|?" as LineFilter["op"], "x")]), {
    name: "TypeError",
    message: 'Cannot compile line filter: unknown operator "|?"',
  });
});

Deno.test("requiredLineTerms() returns the |= values", () => {
  const filters = filtersOf('|= "GET" != "health" |~ "x+" |= "api" !~ "y" |= "GET" |= ""');
  assert.deepEqual(requiredLineTerms(filters), ["GET", "api"]);
  assert.deepEqual(requiredLineTerms(filtersOf('|= "GET" or "POST" |= "api"')), ["api"]);
  assert.deepEqual(requiredLineTerms([]), []);
  assert.deepEqual(requiredLineTerms([lf("!=", "a"), lf("|~", "b")]), []);
});

Deno.test("compileLineFilters() with or: |= and |~ keep any value, != and !~ none", () => {
  const any = lines('|= "GET" or "POST"');
  assert.deepEqual(["GET /", "POST /", "PUT /"].map(any), [true, true, false]);
  const none = lines('!= "GET" or "POST"');
  assert.deepEqual(["GET /", "POST /", "PUT /"].map(none), [false, false, true]);
  const re = lines('|~ "^G" or "^P"');
  assert.deepEqual(["GET /", "POST /", "DEL /"].map(re), [true, true, false]);
  const notRe = lines('!~ "^G" or "^P"');
  assert.deepEqual(["GET /", "POST /", "DEL /"].map(notRe), [false, false, true]);
});

Deno.test("compileLineFilters(): pattern filters keep the lines their pattern matches, as Loki's", () => {
  const keep = lines('|> "<_> GET <_> 500 <_>"');
  assert.equal(keep("10.0.0.1 GET /cart 500 12ms"), true);
  assert.equal(keep("10.0.0.1 GET /cart 200 12ms"), false);
  assert.equal(keep("GET /cart 500 12ms"), false); // "<_>" before GET must hold something
  const either = lines('|> "<_> GET <_>" or "<_> PUT <_>"');
  assert.deepEqual(["a GET b", "a PUT b", "a POST b"].map(either), [true, true, false]);
  const drop = lines('!> "<_> 200 <_>" or "<_> 204 <_>"');
  assert.deepEqual(["x 200 y", "x 204 y", "x 500 y"].map(drop), [false, false, true]);
  // The literals are terms every kept line holds: they prune blocks and lead the scan.
  assert.deepEqual(requiredLineTerms(filtersOf('{app="web"} |> "<_> GET <_> 500 <_>"')), [
    " GET ",
    " 500 ",
  ]);
  assert.deepEqual(requiredLineTerms(filtersOf('{app="web"} !> "<_> GET <_>"')), []);
});

Deno.test("compileLineFilters() counts the re2js threads of every regex a line may run", () => {
  const a = "[a-z]{1000}[a-z]{1000}[a-z]{1000}9";
  const b = "[0-9]{1000}[0-9]{1000}[0-9]{1000}x";
  const one = compileLineFilters([lf("|~", a)])!.threads;
  assert.equal(one, RE2JS.compile(a).programSize());
  // `or` values and chained filters all run on a line that fails the first.
  assert.equal(
    compileLineFilters([{ ...lf("|~", a), or: [b] }])!.threads,
    one + RE2JS.compile(b).programSize(),
  );
  assert.equal(
    compileLineFilters([lf("!~", a), lf("|~", b)])!.threads,
    one + RE2JS.compile(b).programSize(),
  );
  // V8 runs "5\d\d": 3 steps from each start, a 32nd of them rounded up; a substring costs none.
  assert.equal(compileLineFilters([lf("|~", "5\\d\\d"), lf("|=", "x")])!.threads, 1);
});
