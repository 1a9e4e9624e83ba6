/**
 * Loki's own table tests for its LogQL stages (grafana/loki main, 3.7+:
 * `pkg/logql/log/{parser,label_filter,drop_labels,keep_labels}_test.go`),
 * written as LogQL and run through loge's pipeline: every expected value is
 * copied from Loki's tables, none from running loge.
 *
 * Each case compares the union of the result's labels (stream, structured
 * metadata, parsed, a failure's included) with Loki's expected set, then the
 * categories: base labels stay in the stream's, structured metadata in its
 * own, and what a stage adds is parsed (as stated in
 * TestLogfmtConsistentPrecedence).
 *
 * Where loge answers otherwise on purpose, {@linkcode KNOWN} says why and pins
 * loge's answer, so a change on either side shows.
 *
 * Not translated (Go-only knobs with no LogQL syntax): the parser-hint cases
 * (`__preserve_error__`: "errors hints", "not logfmt with hints", "invalid
 * JSON line with hints", "wrong json with hints", keep's "preserve special
 * labels"), captureJSONPath checks, fake hints (TestKeyShortCircuit,
 * TestLabelShortCircuit), `NewKeepLabels([])` ("keep all": `| keep` needs a
 * label), ReduceAndLabelFilter and the String() tests.
 */

import { parseLogQL } from "../src/query/logql.ts";
import { compilePipeline, type PipelineResult } from "../src/query/pipeline/mod.ts";
import { streamKey } from "../src/query/pipeline/labels.ts";

type Labels = Record<string, string>;

interface Case {
  name: string;
  /** The pipeline after the selector. */
  query: string;
  line: string;
  base: Labels;
  sm?: Labels;
  /** Loki's expected full label set (undefined: labels not checked). */
  want?: Labels;
  /** Whether Loki keeps the line (default true). */
  kept?: boolean;
  /** Loki's expected output line. */
  wantLine?: string;
  /** `__error_details__` only needs to be present (Loki's value was set by hand with SetErr). */
  anyDetails?: boolean;
  /** Categories stated by the Loki test itself (label -> category), checked instead of inferred ones. */
  stated?: Record<string, { value: string; category: "stream" | "metadata" | "parsed" }>;
  note?: string;
}

const q = (s: string) => JSON.stringify(s); // a Go-unquotable double-quoted string

function sorted(o: Labels): Labels {
  return Object.fromEntries(Object.entries(o).sort(([a], [b]) => a < b ? -1 : a > b ? 1 : 0));
}

function union(r: PipelineResult): Labels {
  return { ...r.stream.labels, ...(r.metadata ?? {}), ...(r.parsed ?? {}) };
}

function categories(r: PipelineResult) {
  return {
    stream: sorted(r.stream.labels),
    metadata: sorted(r.metadata ?? {}),
    parsed: sorted(r.parsed ?? {}),
  };
}

function inferred(c: Case) {
  const stream: Labels = {}, metadata: Labels = {}, parsed: Labels = {};
  for (const [k, v] of Object.entries(c.want!)) {
    if (c.sm && c.sm[k] === v) metadata[k] = v;
    else if (c.base[k] === v && !k.startsWith("__error")) stream[k] = v;
    else parsed[k] = v;
  }
  return { stream: sorted(stream), metadata: sorted(metadata), parsed: sorted(parsed) };
}

function fail(c: Case, what: string, extra: Record<string, unknown>): never {
  throw new Error(
    `${what}\n` + JSON.stringify({
      query: c.query,
      line: c.line,
      base: c.base,
      sm: c.sm,
      want: c.want && sorted(c.want),
      wantKept: c.kept ?? true,
      wantLine: c.wantLine,
      ...extra,
    }),
  );
}

function eq(a: unknown, b: unknown) {
  return JSON.stringify(a) === JSON.stringify(b);
}

const seen = new Map<string, number>();
function uniq(name: string) {
  const n = (seen.get(name) ?? 0) + 1;
  seen.set(name, n);
  return n === 1 ? name : `${name} #${n}`;
}

const DETAILS = "error details worded as JavaScript's, not Go's";
const JSON_WHOLE = "| json reads a line only when it is one whole JSON value (JSON.parse)";
const FFFD =
  "U+FFFD stays as written (Loki makes it a space): a parsed value stays text of the line, which pruning by a filter's value relies on";

/**
 * Where loge answers otherwise than Loki's table on purpose: why, and the
 * labels loge gives instead (`"accepted"`: a query Loki refuses).
 */
const KNOWN: Record<string, { why: string; loge: Labels | "accepted" }> = {
  "Test_jsonParser_Parse/whitespace key and whitespace subkey values": {
    why: "no label with an empty name",
    loge: {},
  },
  "Test_jsonParser_Parse/whitespace key and empty subkey values": {
    why: "no label with an empty name",
    loge: {},
  },
  "Test_jsonParser_Parse/empty key and empty subkey values": {
    why: "no label with an empty name",
    loge: {},
  },
  "Test_jsonParser_Parse/utf8 error rune": {
    why: FFFD,
    loge: { counter: "1", foo: "\uFFFD", price__net_: "5.56909" },
  },
  "Test_jsonParser_Parse/nested bad key replaced": {
    why: JSON_WHOLE,
    loge: {
      __error__: "JSONParserErr",
      __error_details__:
        "Unexpected non-whitespace character after JSON at position 22 (line 1 column 23)",
    },
  },
  "Test_jsonParser_Parse/errors": {
    why: DETAILS,
    loge: {
      __error__: "JSONParserErr",
      __error_details__: "Expected property name or '}' in JSON at position 1 (line 1 column 2)",
    },
  },
  "TestJSONExpressionParser/full object": {
    why: "an object's value is its JSON written again, without the line's spaces",
    loge: { deployment: '{"ref":"foobar","params":[1,2,3,"string_value"]}' },
  },
  "TestJSONExpressionParser/invalid JSON line": {
    why: DETAILS + " (Loki's expression parser gives none)",
    loge: {
      __error__: "JSONParserErr",
      __error_details__: `Unexpected token 'i', "invalid json" is not valid JSON`,
      foo: "bar",
    },
  },
  "TestJSONExpressionParser/nested object with escaped value": {
    why: JSON_WHOLE + ": this line lacks its last brace",
    loge: {
      __error__: "JSONParserErr",
      __error_details__:
        "Expected ',' or '}' after property value in JSON at position 32 (line 1 column 33)",
      foo: "bar",
    },
  },
  "TestJSONExpressionParser/duplicate field name takes first value": {
    why:
      "| json name=\"path\" looks the path up in JSON.parse's object, which keeps a key's last value",
    loge: { app: "duplicate", foo: "bar" },
  },
  "TestJSONExpressionParserFailures/invalid field name": {
    why: "a path with spaces is read as one key, not refused",
    loge: "accepted",
  },
  "TestLogfmtParser_parse/utf8 error rune": { why: FFFD, loge: { bar: "\uFFFDf", buzz: "foo" } },
  "TestLogfmtParser_parse/strict/utf8 error rune": {
    why: FFFD,
    loge: { bar: "\uFFFDf", buzz: "foo" },
  },
  "TestLogfmtParser_parse/strict/error rune in key": {
    why: "a syntax error's position counts UTF-16 units, not bytes",
    loge: {
      __error__: "LogfmtParserErr",
      __error_details__: "logfmt syntax error at pos 18 : invalid key",
      foo: "bar",
      foo_extracted: "foo bar",
    },
  },
  ...Object.fromEntries(
    ["not strict", "strict"].flatMap((mode) =>
      ["without", "with"].map((keep) => [
        `TestLogfmtParser_keepEmpty/${mode}/utf8 error rune ${keep} keep empty`,
        { why: FFFD, loge: { bar: "buzz", foo: "bar", foo_extracted: "b\uFFFDr" } },
      ])
    ),
  ),
  "Test_unpackParser_Parse/wrong json": {
    why: DETAILS,
    loge: {
      __error__: "JSONParserErr",
      __error_details__:
        "Unexpected non-whitespace character after JSON at position 5 (line 1 column 6)",
    },
  },
  "Test_unpackParser_Parse/not a map": {
    why: DETAILS,
    loge: {
      __error__: "JSONParserErr",
      __error_details__: "Value looks like a JSON value, but not an object",
      cluster: "us-central1",
    },
  },
  'TestBinary_Filter/| duration > 3s {"duration":"2weeeeee"}': {
    why: DETAILS,
    loge: {
      __error__: "LabelFilterErr",
      __error_details__: 'cannot parse "2weeeeee" as a duration',
      duration: "2weeeeee",
    },
  },
  'TestBinary_Filter/| bytes > 100B {"bytes":"2qb"}': {
    why: DETAILS,
    loge: {
      __error__: "LabelFilterErr",
      __error_details__: 'cannot parse "2qb" as a bytes',
      bytes: "2qb",
    },
  },
  'TestBinary_Filter/| number > 100 {"number":"not_a_number"}': {
    why: DETAILS,
    loge: {
      __error__: "LabelFilterErr",
      __error_details__: 'cannot parse "not_a_number" as a number',
      number: "not_a_number",
    },
  },
  "Test_DropLabels/drop by __error_details__": {
    why: DETAILS + ": the matcher expects Go's",
    loge: {
      __error_details__: "Value looks like a JSON value, but not an object",
      app: "foo",
      namespace: "prod",
      pod_uuid: "foo",
    },
  },
};

function runCase(c: Case) {
  const name = uniq(c.name);
  Deno.test(name, () => {
    const pipeline = compilePipeline(parseLogQL(`{x="y"} ${c.query}`).pipeline);
    const stream = { key: streamKey(c.base), labels: { ...c.base } };
    const res = pipeline.forStream(stream).process(c.line, c.sm ? { ...c.sm } : undefined);
    const known = KNOWN[name];
    if (known) {
      const got = res && sorted(union(res));
      if (!eq(got, known.loge)) fail(c, `loge's known answer changed (${known.why})`, { got });
      if (c.want && eq(got, sorted(c.want))) {
        fail(c, "loge now answers as Loki: drop it from KNOWN", {});
      }
      return;
    }
    const kept = c.kept ?? true;
    if (!res) {
      if (kept) fail(c, "loge DROPPED the line; Loki keeps it", {});
      return;
    }
    if (!kept) {
      fail(c, "loge KEPT the line; Loki drops it", { got: sorted(union(res)), gotLine: res.line });
    }
    if (c.wantLine !== undefined && res.line !== c.wantLine) {
      fail(c, "line differs", { gotLine: res.line, got: sorted(union(res)) });
    }
    if (c.stated) {
      const cats = categories(res);
      for (const [k, { value, category }] of Object.entries(c.stated)) {
        if (cats[category][k] !== value) {
          fail(c, `label ${k} not ${category}=${q(value)}`, { gotCategories: cats });
        }
      }
    }
    if (!c.want) return;
    const got = union(res);
    const want = { ...c.want };
    if (c.anyDetails && "__error_details__" in want && "__error_details__" in got) {
      want.__error_details__ = got.__error_details__;
    }
    if (!eq(sorted(got), sorted(want))) {
      fail(c, "labels differ", { got: sorted(got), gotCategories: categories(res) });
    }
    const exp = inferred({ ...c, want });
    if (!eq(categories(res), exp)) {
      fail(c, "categories differ (labels equal)", {
        wantCategories: exp,
        gotCategories: categories(res),
      });
    }
  });
}

/** A query Loki refuses (or accepts: ok=true) when building the pipeline. */
function runBuild(name: string, query: string, ok: boolean) {
  Deno.test(uniq(name), () => {
    let err: unknown;
    try {
      compilePipeline(parseLogQL(`{x="y"} ${query}`).pipeline);
    } catch (e) {
      err = e;
    }
    const accepts = KNOWN[name]?.loge === "accepted" ? !ok : ok;
    if (accepts && err) throw new Error(`loge REFUSES ${query}: ${(err as Error).message}`);
    if (!accepts && !err) throw new Error(`loge ACCEPTS ${query} (Loki refuses it)`);
  });
}

// ---------------------------------------------------------------- Test_jsonParser_Parse (NewJSONParser, `| json`)
{
  const T = "Test_jsonParser_Parse/";
  const json = (name: string, line: string, base: Labels, want: Labels, sm?: Labels) =>
    runCase({ name: T + name, query: "| json", line, base, want, sm });
  json(
    "multi depth",
    `{"app":"foo","namespace":"prod","pod":{"uuid":"foo","deployment":{"ref":"foobar"}}}`,
    {},
    { app: "foo", namespace: "prod", pod_uuid: "foo", pod_deployment_ref: "foobar" },
  );
  json(
    "multi depth with duplicates",
    `{"app":"bar","namespace":"prod","pod":{"uuid":"bar","deployment":{"ref":"foobar"}}}`,
    { app: "foo", pod_uuid: "foo" },
    {
      app: "foo",
      app_extracted: "bar",
      namespace: "prod",
      pod_uuid: "foo",
      pod_uuid_extracted: "bar",
      pod_deployment_ref: "foobar",
    },
  );
  json("numeric", `{"counter":1, "price": {"_net_":5.56909}}`, {}, {
    counter: "1",
    price__net_: "5.56909",
  });
  json("whitespace key value", `{" ": {"foo":"bar"}}`, {}, { foo: "bar" });
  json("whitespace key and whitespace subkey values", `{" ": {" ":"bar"}}`, {}, { "": "bar" });
  json("whitespace key and empty subkey values", `{" ": {"":"bar"}}`, {}, { "": "bar" });
  json("empty key and empty subkey values", `{"": {"":"bar"}}`, {}, { "": "bar" });
  json(
    "escaped",
    String.raw`{"counter":1,"foo":"foo\\\"bar", "price": {"_net_":5.56909}}`,
    {},
    { counter: "1", price__net_: "5.56909", foo: String.raw`foo\"bar` },
  );
  json(
    "utf8 error rune",
    `{"counter":1,"foo":"\uFFFD", "price": {"_net_":5.56909}}`,
    {},
    { counter: "1", price__net_: "5.56909", foo: " " },
  );
  json("skip arrays", `{"counter":1, "price": {"net_":["10","20"]}}`, {}, { counter: "1" });
  json("bad key replaced", `{"cou-nter":1}`, {}, { cou_nter: "1" });
  json("nested bad key replaced", `{"foo":{"cou-nter":1}}"`, {}, { foo_cou_nter: "1" });
  json("errors", `{n}`, {}, {
    __error__: "JSONParserErr",
    __error_details__: "Value looks like object, but can't find closing '}' symbol",
  });
  json(
    "duplicate extraction",
    `{"app":"foo","namespace":"prod","pod":{"uuid":"foo","deployment":{"ref":"foobar"}},"next":{"err":false}}`,
    { app: "bar" },
    {
      app: "bar",
      app_extracted: "foo",
      namespace: "prod",
      pod_uuid: "foo",
      next_err: "false",
      pod_deployment_ref: "foobar",
    },
  );
  json(
    "duplicate conflict with structured metadata",
    `{"app":"foo","namespace":"prod","pod":"pod_parsed"}`,
    {},
    { app: "foo", namespace: "prod", pod: "pod_sm", pod_extracted: "pod_parsed" },
    { pod: "pod_sm" },
  );
}

// ---------------------------------------------------------------- TestJSONExpressionParser (`| json a="expr"`)
{
  const T = "TestJSONExpressionParser/";
  const testLine =
    `{"app":"foo","field with space":"value","field with ÜFT8👌":"value","null_field":null,"bool_field":false,"namespace":"prod","pod":{"uuid":"foo","deployment":{"ref":"foobar", "params": [1,2,3,"string_value"]}}}`;
  const jx = (
    name: string,
    line: string,
    exprs: [string, string][],
    base: Labels,
    want: Labels,
    sm?: Labels,
  ) =>
    runCase({
      name: T + name,
      query: "| json " + exprs.map(([n, e]) => `${n}=${q(e)}`).join(", "),
      line,
      base,
      want,
      sm,
    });
  jx("single field", testLine, [["app", "app"]], {}, { app: "foo" });
  jx("alternate syntax", testLine, [["test", `["field with space"]`]], {}, { test: "value" });
  jx("multiple fields", testLine, [["app", "app"], ["namespace", "namespace"]], {}, {
    app: "foo",
    namespace: "prod",
  });
  jx("utf8", testLine, [["utf8", `["field with ÜFT8👌"]`]], {}, { utf8: "value" });
  jx("nested field", testLine, [["uuid", "pod.uuid"]], {}, { uuid: "foo" });
  jx("nested field alternate syntax", testLine, [["uuid", `pod["uuid"]`]], {}, { uuid: "foo" });
  jx("nested field alternate syntax 2", testLine, [["uuid", `["pod"]["uuid"]`]], {}, {
    uuid: "foo",
  });
  jx("nested field alternate syntax 3", testLine, [["uuid", `["pod"].uuid`]], {}, { uuid: "foo" });
  jx("array element", testLine, [["param", `pod.deployment.params[0]`]], {}, { param: "1" });
  jx("object element not present", testLine, [["undefined", `pod[""]`]], {}, { undefined: "" });
  jx("accessing invalid array index", testLine, [["param", `pod.deployment.params[""]`]], {}, {
    param: "",
  });
  jx("array string element", testLine, [["param", `pod.deployment.params[3]`]], {}, {
    param: "string_value",
  });
  jx("full array", testLine, [["params", `pod.deployment.params`]], {}, {
    params: `[1,2,3,"string_value"]`,
  });
  jx("full object", testLine, [["deployment", `pod.deployment`]], {}, {
    deployment: `{"ref":"foobar", "params": [1,2,3,"string_value"]}`,
  });
  jx("expression matching nothing", testLine, [["nope", `pod.nope`]], {}, { nope: "" });
  jx("null field", testLine, [["nf", `null_field`]], {}, { nf: "" });
  jx("boolean field", testLine, [["bool", `bool_field`]], {}, { bool: "false" });
  jx("label override", testLine, [["uuid", `pod.uuid`]], { uuid: "bar" }, {
    uuid: "bar",
    uuid_extracted: "foo",
  });
  jx("non-matching expression", testLine, [["request_size", `request.size.invalid`]], {
    uuid: "bar",
  }, {
    uuid: "bar",
    request_size: "",
  });
  jx("empty line", "{}", [["uuid", `pod.uuid`]], {}, { uuid: "" });
  jx("existing labels are not affected", testLine, [["uuid", `will.not.work`]], { foo: "bar" }, {
    foo: "bar",
    uuid: "",
  });
  jx("invalid JSON line", `invalid json`, [["uuid", `will.not.work`]], { foo: "bar" }, {
    foo: "bar",
    __error__: "JSONParserErr",
  });
  jx("empty line", ``, [["uuid", `will.not.work`]], { foo: "bar" }, { foo: "bar" });
  jx("nested escaped object", String.raw`{"app":"{ \"key\": \"value\", \"key2\":\"value2\"}"}`, [[
    "app",
    "app",
  ]], {
    foo: "bar",
  }, { foo: "bar", app: `{ "key": "value", "key2":"value2"}` });
  jx("nested object with escaped value", String.raw`{"app":{"name":"great \"loki\""}`, [[
    "app",
    "app",
  ]], {
    foo: "bar",
  }, { foo: "bar", app: String.raw`{"name":"great \"loki\""}` });
  jx(
    "field with escaped value inside the json string",
    String.raw`{"app":"{\"name\":\"great \\\"loki\\\"\"}"}`,
    [["app", "app"]],
    { foo: "bar" },
    { foo: "bar", app: String.raw`{"name":"great \"loki\""}` },
  );
  jx(
    "duplicate field name takes first value",
    `{"app":"foo","app":"duplicate"}`,
    [["app", "app"]],
    { foo: "bar" },
    {
      foo: "bar",
      app: "foo",
    },
  );
  jx("duplicate conflict with structured metadata", testLine, [["app", "app"]], {}, {
    app: "app_sm",
    app_extracted: "foo",
  }, { app: "app_sm" });
}

// ---------------------------------------------------------------- TestJSONExpressionParserFailures
{
  const T = "TestJSONExpressionParserFailures/";
  for (
    const [name, expr] of [
      ["invalid field name", `field with space`],
      ["missing opening square bracket", `"pod"]`],
      ["missing closing square bracket", `["pod"`],
      ["missing closing square bracket", `["pod""uuid"]`],
      ["invalid nesting", `pod..uuid`],
    ]
  ) runBuild(T + name, `| json app=${q(expr)}`, false);
}

// ---------------------------------------------------------------- TestNewRegexpParser
{
  const T = "TestNewRegexpParser/";
  for (
    const [name, re, wantErr] of [
      ["no sub", "w.*", true],
      ["sub but not named", "f(.*) (foo|bar|buzz)", true],
      ["named and unamed", "blah (.*) (?P<foo>)", false],
      ["named", "blah (.*) (?P<foo>foo)(?P<bar>barr)", false],
      ["invalid name", "blah (.*) (?P<foo$>foo)(?P<bar>barr)", true],
      ["duplicate", "blah (.*) (?P<foo>foo)(?P<foo>barr)", true],
    ] as [string, string, boolean][]
  ) runBuild(T + name, `| regexp ${q(re)}`, !wantErr);
}

// ---------------------------------------------------------------- Test_regexpParser_Parse
{
  const T = "Test_regexpParser_Parse/";
  const rx = (name: string, re: string, line: string, base: Labels, want: Labels, sm?: Labels) =>
    runCase({ name: T + name, query: `| regexp ${q(re)}`, line, base, want, sm });
  rx("no matches", "(?P<foo>foo|bar)buzz", "blah", { app: "foo" }, { app: "foo" });
  rx("double matches", "(?P<foo>.*)buzz", "matchebuzz barbuzz", { app: "bar" }, {
    app: "bar",
    foo: "matchebuzz bar",
  });
  rx("duplicate labels", "(?P<bar>bar)buzz", "barbuzz", { bar: "foo" }, {
    bar: "foo",
    bar_extracted: "bar",
  });
  rx(
    "multiple labels extracted",
    String.raw`status=(?P<status>\w+),latency=(?P<latency>\w+)(ms|ns)`,
    "status=200,latency=500ms",
    { app: "foo" },
    { app: "foo", status: "200", latency: "500" },
  );
  rx(
    "duplicate conflict with structured metadata",
    String.raw`status=(?P<status>\w+),latency=(?P<latency>\w+)(ms|ns)`,
    "status=200,latency=500ms",
    {},
    { status: "400", status_extracted: "200", latency: "500" },
    { status: "400" },
  );
}

// ---------------------------------------------------------------- TestLogfmtParser_parse (not strict, then strict)
{
  const E = "__error__", D = "__error_details__", ERR = "LogfmtParserErr";
  const cases: {
    name: string;
    line: string;
    base: Labels;
    want: Labels;
    wantStrict?: Labels;
    sm?: Labels;
  }[] = [
    {
      name: "not logfmt",
      line: "foobar====wqe=sdad1r",
      base: { foo: "bar" },
      want: { foo: "bar" },
      wantStrict: { foo: "bar", [E]: ERR, [D]: "logfmt syntax error at pos 8 : unexpected '='" },
    },
    {
      name: "utf8 error rune",
      line: "buzz=foo bar=\uFFFDf",
      base: {},
      want: { bar: " f", buzz: "foo" },
    },
    {
      name: "key alone logfmt",
      line: "buzz bar=foo",
      base: { foo: "bar" },
      want: { foo: "bar", bar: "foo" },
    },
    {
      name: "quoted logfmt",
      line: `foobar="foo bar"`,
      base: { foo: "bar" },
      want: { foo: "bar", foobar: "foo bar" },
    },
    {
      name: "escaped control chars in logfmt",
      line: String.raw`foobar="foo\nbar\tbaz"`,
      base: { a: "b" },
      want: { a: "b", foobar: "foo\nbar\tbaz" },
    },
    {
      name: "literal control chars in logfmt",
      line: 'foobar="foo\nbar\tbaz"',
      base: { a: "b" },
      want: { a: "b", foobar: "foo\nbar\tbaz" },
    },
    {
      name: "escaped slash logfmt",
      line: String.raw`foobar="foo ba\\r baz"`,
      base: { a: "b" },
      want: { a: "b", foobar: String.raw`foo ba\r baz` },
    },
    {
      name: "literal newline and escaped slash logfmt",
      line: 'foobar="foo bar\nb\\\\az"',
      base: { a: "b" },
      want: { a: "b", foobar: "foo bar\nb\\az" },
    },
    {
      name: "double property logfmt",
      line: `foobar="foo bar" latency=10ms`,
      base: { foo: "bar" },
      want: { foo: "bar", foobar: "foo bar", latency: "10ms" },
    },
    {
      name: "duplicate from line property",
      line: `foobar="foo bar" foobar=10ms`,
      base: { foo: "bar" },
      want: { foo: "bar", foobar: "foo bar" },
    },
    {
      name: "duplicate property",
      line: `foo="foo bar" foobar=10ms`,
      base: { foo: "bar" },
      want: { foo: "bar", foo_extracted: "foo bar", foobar: "10ms" },
    },
    {
      name: "no duplicate property",
      line: `foo="foo bar" foobar=10ms`,
      base: {},
      want: { foo: "foo bar", foobar: "10ms" },
    },
    {
      name: "invalid key names",
      line: `foo="foo bar" foo.bar=10ms test-dash=foo`,
      base: { foo: "bar" },
      want: { foo: "bar", foo_extracted: "foo bar", foo_bar: "10ms", test_dash: "foo" },
    },
    { name: "nil", line: "", base: { foo: "bar" }, want: { foo: "bar" } },
    {
      name: "empty key",
      line: `foo="foo bar" =notkey bar=10ms`,
      base: { foo: "bar" },
      want: { foo: "bar", foo_extracted: "foo bar", bar: "10ms" },
      wantStrict: {
        foo: "bar",
        foo_extracted: "foo bar",
        [E]: ERR,
        [D]: "logfmt syntax error at pos 15 : unexpected '='",
      },
    },
    {
      name: "error rune in key",
      line: `foo="foo bar" b\uFFFDr=10ms`,
      base: { foo: "bar" },
      want: { foo: "bar", foo_extracted: "foo bar" },
      wantStrict: {
        foo: "bar",
        foo_extracted: "foo bar",
        [E]: ERR,
        [D]: "logfmt syntax error at pos 20 : invalid key",
      },
    },
    {
      name: "double quote in key",
      line: `foo="foo bar" bu"zz=10ms`,
      base: { foo: "bar" },
      want: { foo: "bar", foo_extracted: "foo bar" },
      wantStrict: {
        foo: "bar",
        foo_extracted: "foo bar",
        [E]: ERR,
        [D]: `logfmt syntax error at pos 17 : unexpected '"'`,
      },
    },
    {
      name: "= in value",
      line: `bar=bu=zz foo="foo bar"`,
      base: { foo: "bar" },
      want: { foo: "bar", foo_extracted: "foo bar" },
      wantStrict: { foo: "bar", [E]: ERR, [D]: `logfmt syntax error at pos 7 : unexpected '='` },
    },
    {
      name: "duplicate conflict with structured metadata",
      line: `app=foo level=error`,
      base: {},
      sm: { app: "foo_sm" },
      want: { app: "foo_sm", app_extracted: "foo", level: "error" },
    },
  ];
  for (const c of cases) {
    runCase({
      name: "TestLogfmtParser_parse/" + c.name,
      query: "| logfmt",
      line: c.line,
      base: c.base,
      sm: c.sm,
      want: c.want,
    });
  }
  for (const c of cases) {
    runCase({
      name: "TestLogfmtParser_parse/strict/" + c.name,
      query: "| logfmt --strict",
      line: c.line,
      base: c.base,
      sm: c.sm,
      want: c.wantStrict ?? c.want,
    });
  }
}

// ---------------------------------------------------------------- TestLogfmtParser_keepEmpty
{
  const cases: [string, string, boolean, Labels, Labels][] = [
    ["without keep empty", "foo bar=buzz", false, { foo: "bar" }, { foo: "bar", bar: "buzz" }],
    ["with keep empty", "foo bar=buzz", true, { foo: "bar" }, {
      foo: "bar",
      foo_extracted: "",
      bar: "buzz",
    }],
    ["utf8 error rune without keep empty", "foo=b\uFFFDr bar=buzz", false, { foo: "bar" }, {
      foo: "bar",
      bar: "buzz",
      foo_extracted: "b r",
    }],
    ["utf8 error rune with keep empty", "foo=b\uFFFDr bar=buzz", true, { foo: "bar" }, {
      foo: "bar",
      foo_extracted: "b r",
      bar: "buzz",
    }],
  ];
  for (const strict of [false, true]) {
    for (const [name, line, keepEmpty, base, want] of cases) {
      runCase({
        name: `TestLogfmtParser_keepEmpty/${strict ? "strict" : "not strict"}/${name}`,
        query: "| logfmt" + (strict ? " --strict" : "") + (keepEmpty ? " --keep-empty" : ""),
        line,
        base,
        want,
      });
    }
  }
}

// ---------------------------------------------------------------- TestLogfmtConsistentPrecedence
{
  const line = `app=lowkey level=error ts=2021-02-12T19:18:10.037940878Z msg="hello world"`;
  const query = "| logfmt --strict --keep-empty";
  for (const order of ["sturctured metadata first", "parsed labels first"]) {
    Deno.test(`TestLogfmtConsistentPrecedence/${order}`, () => {
      const pipeline = compilePipeline(parseLogQL(`{x="y"} ${query}`).pipeline);
      const mBase = { foo: "bar" }, bBase = { foo: "baz" };
      const m = pipeline.forStream({ key: streamKey(mBase), labels: mBase });
      const b = pipeline.forStream({ key: streamKey(bBase), labels: bBase });
      let mRes: PipelineResult | undefined, bRes: PipelineResult | undefined;
      if (order.startsWith("sturctured")) {
        mRes = m.process(line, { app: "loki" });
        bRes = b.process(line);
      } else {
        bRes = b.process(line);
        mRes = m.process(line, { app: "loki" });
      }
      if (!mRes || !bRes) throw new Error("line dropped");
      const mc = categories(mRes), bc = categories(bRes);
      const problems: string[] = [];
      if (mc.metadata.app !== "loki") {
        problems.push("metadata stream: app should be structured metadata 'loki'");
      }
      if (mc.parsed.app_extracted !== "lowkey") {
        problems.push("metadata stream: app_extracted should be parsed 'lowkey'");
      }
      if (bc.parsed.app !== "lowkey") problems.push("basic stream: app should be parsed 'lowkey'");
      if (problems.length) {
        throw new Error(
          problems.join("; ") + "\n" +
            JSON.stringify({ query, line, metadataStream: mc, basicStream: bc }),
        );
      }
    });
  }
}

// ---------------------------------------------------------------- TestLogfmtExpressionParser (`| logfmt a="b"`)
{
  const T = "TestLogfmtExpressionParser/";
  const testLine =
    `app=foo level=error spaces="value with ÜFT8👌" ts=2021-02-12T19:18:10.037940878Z`;
  const lx = (name: string, exprs: [string, string][], base: Labels, want: Labels, sm?: Labels) =>
    runCase({
      name: T + name,
      query: "| logfmt " + exprs.map(([n, e]) => `${n}=${q(e)}`).join(", "),
      line: testLine,
      base,
      want,
      sm,
    });
  lx("single field", [["app", "app"]], {}, { app: "foo" });
  lx("multiple fields", [["app", "app"], ["level", "level"], ["ts", "ts"]], {}, {
    app: "foo",
    level: "error",
    ts: "2021-02-12T19:18:10.037940878Z",
  });
  lx("label renaming", [["test", "level"]], {}, { test: "error" });
  lx(
    "multiple fields with label renaming",
    [["app", "app"], ["lvl", "level"], ["timestamp", "ts"]],
    {},
    {
      app: "foo",
      lvl: "error",
      timestamp: "2021-02-12T19:18:10.037940878Z",
    },
  );
  lx("value with spaces and ÜFT8👌", [["spaces", "spaces"]], {}, { spaces: "value with ÜFT8👌" });
  lx("expression matching nothing", [["nope", "nope"]], {}, { nope: "" });
  lx("double property logfmt", [["app", "app"]], { ap: "bar" }, { ap: "bar", app: "foo" });
  lx("label override", [["app", "app"]], { app: "bar" }, { app: "bar", app_extracted: "foo" });
  lx("label override 2", [["lvl", "level"]], { level: "debug" }, { level: "debug", lvl: "error" });
  lx(
    "structured metadata conflict",
    [["app", "app"]],
    {},
    { app: "foo_sm", app_extracted: "foo" },
    { app: "foo_sm" },
  );
}

// ---------------------------------------------------------------- TestXExpressionParserFailures
runBuild(
  "TestXExpressionParserFailures/invalid field name",
  `| logfmt app=${q("field with space")}`,
  false,
);

// ---------------------------------------------------------------- Test_unpackParser_Parse
{
  const T = "Test_unpackParser_Parse/";
  const up = (
    name: string,
    line: string,
    base: Labels,
    want: Labels,
    wantLine: string,
    sm?: Labels,
  ) => runCase({ name: T + name, query: "| unpack", line, base, want, wantLine, sm });
  const packed =
    `{"bar":1,"app":"foo","namespace":"prod","_entry":"some message","pod":{"uid":"1"}}`;
  const wrong = `"app":"foo","namespace":"prod","_entry":"some message","pod":{"uid":"1"}`;
  up("should extract only map[string]string", packed, { cluster: "us-central1" }, {
    app: "foo",
    namespace: "prod",
    cluster: "us-central1",
  }, "some message");
  up("wrong json", wrong, {}, {
    __error__: "JSONParserErr",
    __error_details__: "expecting json object(6), but it is not",
  }, wrong);
  up("empty line", "", { cluster: "us-central1" }, { cluster: "us-central1" }, "");
  up("not a map", `["foo","bar"]`, { cluster: "us-central1" }, {
    __error__: "JSONParserErr",
    __error_details__: "expecting json object(6), but it is not",
    cluster: "us-central1",
  }, `["foo","bar"]`);
  up("should rename", packed, { cluster: "us-central1", app: "bar" }, {
    app: "bar",
    app_extracted: "foo",
    namespace: "prod",
    cluster: "us-central1",
  }, "some message");
  const noEntry = `{"bar":1,"app":"foo","namespace":"prod","pod":{"uid":"1"}}`;
  up("should not change log and labels if no packed entry", noEntry, {
    app: "bar",
    cluster: "us-central1",
  }, {
    app: "bar",
    cluster: "us-central1",
  }, noEntry);
  up(
    "non json with escaped quotes",
    String
      .raw`{"_entry":"I0303 17:49:45.976518    1526 kubelet_getters.go:178] \"Pod status updated\" pod=\"openshift-etcd/etcd-ip-10-0-150-50.us-east-2.compute.internal\" status=Running"}`,
    { app: "bar", cluster: "us-central1" },
    { app: "bar", cluster: "us-central1" },
    `I0303 17:49:45.976518    1526 kubelet_getters.go:178] "Pod status updated" pod="openshift-etcd/etcd-ip-10-0-150-50.us-east-2.compute.internal" status=Running`,
  );
  up("invalid key names", `{"foo.bar":"10ms","test-dash":"foo","_entry":"some message"}`, {
    foo: "bar",
  }, {
    foo: "bar",
    foo_bar: "10ms",
    test_dash: "foo",
  }, "some message");
  up(
    "duplicate conflict with structured metadata",
    `{"app":"foo","namespace":"prod","_entry":"some message"}`,
    {},
    {
      app: "foo_sm",
      app_extracted: "foo",
      namespace: "prod",
    },
    "some message",
    { app: "foo_sm" },
  );
}

// ---------------------------------------------------------------- Test_PatternParser
{
  const T = "Test_PatternParser/";
  const apache = `<ip> <userid> <user> [<_>] "<method> <path> <_>" <status> <size>`;
  const apacheLine =
    `127.0.0.1 user-identifier frank [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif HTTP/1.0" 200 2326`;
  const pt = (pattern: string, line: string, base: Labels, want: Labels, sm?: Labels) =>
    runCase({ name: T + pattern, query: `| pattern ${q(pattern)}`, line, base, want, sm });
  pt(apache, apacheLine, { foo: "bar" }, {
    foo: "bar",
    ip: "127.0.0.1",
    userid: "user-identifier",
    user: "frank",
    method: "GET",
    path: "/apache_pb.gif",
    status: "200",
    size: "2326",
  });
  pt(
    `<_> msg="<method> <path> (<status>) <duration>"`,
    `level=debug ts=2021-05-19T07:54:26.864644382Z caller=logging.go:66 traceID=7fbb92fd0eb9c65d msg="POST /loki/api/v1/push (204) 1.238734ms"`,
    { method: "bar" },
    {
      method: "bar",
      method_extracted: "POST",
      path: "/loki/api/v1/push",
      status: "204",
      duration: "1.238734ms",
    },
  );
  pt(`foo <f>"`, "bar", { method: "bar" }, { method: "bar" });
  pt(apache, apacheLine, {}, {
    ip: "127.0.0.1",
    userid: "user-identifier",
    user: "not_frank",
    user_extracted: "frank",
    method: "GET",
    path: "/apache_pb.gif",
    status: "200",
    size: "2326",
  }, { user: "not_frank" });
}

// ---------------------------------------------------------------- TestBinary_Filter (label filters)
{
  const T = "TestBinary_Filter/";
  const lf = (query: string, base: Labels, kept: boolean, want: Labels) =>
    runCase({ name: `${T}${query} ${JSON.stringify(base)}`, query, line: "", base, kept, want });
  lf("| foo == 5 and bar == 1s", { foo: "5", bar: "1s" }, true, { foo: "5", bar: "1s" });
  lf("| foo == 5 and bar == 42000B", { foo: "5", bar: "42kB" }, true, { foo: "5", bar: "42kB" });
  lf("| foo == 5 and bar == 1s", { foo: "6", bar: "1s" }, false, { foo: "6", bar: "1s" });
  lf("| foo == 5 and bar == 1s", { foo: "5", bar: "2s" }, false, { foo: "5", bar: "2s" });
  lf(`| foo = "5" and bar == 1s`, { foo: "5", bar: "1s" }, true, { foo: "5", bar: "1s" });
  lf(`| foo = "5" and bar == 1s`, { foo: "6", bar: "1s" }, false, { foo: "6", bar: "1s" });
  const or1 = `| (duration > 1s or status != 200) and method != "POST"`;
  lf(or1, { duration: "2s", status: "200", method: "GET" }, true, {
    duration: "2s",
    status: "200",
    method: "GET",
  });
  lf(or1, { duration: "2s", status: "200", method: "POST" }, false, {
    duration: "2s",
    status: "200",
    method: "POST",
  });
  lf(or1, { duration: "2s", status: "500", method: "POST" }, false, {
    duration: "2s",
    status: "500",
    method: "POST",
  });
  lf(
    `| (duration > 3s or status != 200) and method != "POST"`,
    { duration: "2s", status: "200", method: "POST" },
    false,
    {
      duration: "2s",
      status: "200",
      method: "POST",
    },
  );
  lf("| duration > 3s", { duration: "2weeeeee" }, true, {
    duration: "2weeeeee",
    __error__: "LabelFilterErr",
    __error_details__: `time: unknown unit "weeeeee" in duration "2weeeeee"`,
  });
  lf("| bytes > 100B", { bytes: "2qb" }, true, {
    bytes: "2qb",
    __error__: "LabelFilterErr",
    __error_details__: "unhandled size name: qb",
  });
  lf("| number > 100", { number: "not_a_number" }, true, {
    number: "not_a_number",
    __error__: "LabelFilterErr",
    __error_details__: `strconv.ParseFloat: parsing "not_a_number": invalid syntax`,
  });
}

// ---------------------------------------------------------------- TestBytes_Filter
{
  const K = 1000n, Ki = 1024n;
  const cases: [bigint, string][] = [
    [42n, "42B"],
    [42n * K, "42kB"],
    [42n * K ** 2n, "42MB"],
    [42n * K ** 3n, "42GB"],
    [42n * K ** 4n, "42TB"],
    [42n * K ** 5n, "42PB"],
    [42n * Ki, "42KiB"],
    [42n * Ki ** 2n, "42MiB"],
    [42n * Ki ** 3n, "42GiB"],
    [42n * Ki ** 4n, "42TiB"],
    [42n * Ki ** 5n, "42PiB"],
  ];
  for (const [bytes, label] of cases) {
    runCase({
      name: `TestBytes_Filter/bar == ${bytes}B vs ${label}`,
      query: `| bar == ${bytes}B`,
      line: "",
      base: { bar: label },
      want: { bar: label },
    });
  }
}

// ---------------------------------------------------------------- TestErrorFiltering
// Loki sets the error with b.SetErr(err) (no details); here a real `| json`
// failure on a non-JSON line sets it (error JSONParserErr, for the "foo" case too).
{
  const T = "TestErrorFiltering/";
  const base = { status: "200", method: "POST" };
  runCase({
    name: T + `__error__!="JSONParserErr" (err JSONParserErr)`,
    query: `| json | __error__ != "JSONParserErr"`,
    line: "not json",
    base,
    kept: false,
  });
  runCase({
    name: T + `__error__!~".+" (err set)`,
    query: `| json | __error__ !~ ".+"`,
    line: "not json",
    base,
    kept: false,
  });
  runCase({
    name: T + `__error__!~".+" (no err)`,
    query: `| __error__ !~ ".+"`,
    line: "",
    base,
    want: base,
  });
  runCase({
    name: T + `__error__!="JSONParserErr" (no err)`,
    query: `| __error__ != "JSONParserErr"`,
    line: "",
    base,
    want: base,
  });
}

// ---------------------------------------------------------------- TestStringLabelFilter
{
  const T = "TestStringLabelFilter/";
  const sf = (name: string, query: string, base: Labels) =>
    runCase({ name: T + name, query, line: "sample log line", base, kept: true });
  sf(`logfmt|subqueries!="0" (without label)`, `| subqueries != "0"`, { msg: "hello" });
  sf(`logfmt|subqueries!="0" (with label)`, `| subqueries != "0"`, {
    msg: "hello",
    subqueries: "2",
  });
  sf(`logfmt|subqueries!~"0" (without label)`, `| subqueries !~ "0"`, { msg: "hello" });
  sf(`logfmt|subqueries!~"0" (with label)`, `| subqueries !~ "0"`, {
    msg: "hello",
    subqueries: "2",
  });
  sf(`logfmt|subqueries="0" (without label)`, `| subqueries = ""`, { msg: "hello" });
  sf(`logfmt|subqueries="0" (with label)`, `| subqueries = ""`, { msg: "hello", subqueries: "" });
  sf(`logfmt|subqueries=~"0" (without label)`, `| subqueries =~ ""`, { msg: "hello" });
  sf(`logfmt|subqueries=~"0" (with label)`, `| subqueries =~ ""`, { msg: "hello", subqueries: "" });
  sf(`logfmt|msg=~"(?i)hello" (with label)`, `| msg =~ "(?i)hello"`, {
    msg: "HELLO",
    subqueries: "",
  });
  sf(`logfmt|msg=~"(?i)hello" (with label)`, `| msg =~ "(?i)hello"`, {
    msg: "hello",
    subqueries: "",
  });
  sf(`logfmt|msg=~"(?i)HELLO" (with label)`, `| msg =~ "(?i)HELLO"`, {
    msg: "HELLO",
    subqueries: "",
  });
  sf(`logfmt|msg=~"(?i)HELLO" (with label)`, `| msg =~ "(?i)HELLO"`, {
    msg: "hello",
    subqueries: "",
  });
}

// ---------------------------------------------------------------- Test_DropLabels
// Loki sets __error__/__error_details__ by hand; here `| json` (or `| unpack`,
// whose Loki details start "expecting json object") on a non-JSON line does.
{
  const T = "Test_DropLabels/";
  const base = { app: "foo", namespace: "prod", pod_uuid: "foo" };
  runCase({
    name: T + "drop by name",
    query: "| drop app, namespace",
    line: "",
    base,
    want: { pod_uuid: "foo" },
  });
  runCase({
    name: T + "drop by __error__",
    query: `| json | drop __error__="JSONParserErr", __error_details__`,
    line: "not json",
    base,
    want: base,
  });
  runCase({
    name: T + "drop with wrong __error__ value",
    query: `| json | drop __error__="LogfmtParserErr"`,
    line: "not json",
    base,
    want: { ...base, __error__: "JSONParserErr", __error_details__: "json error" },
    anyDetails: true,
  });
  runCase({
    name: T + "drop by __error_details__",
    query: `| unpack | drop __error_details__=~"expecting json.*", __error__`,
    line: `["foo","bar"]`,
    base,
    want: base,
    note: "details come from a real unpack failure",
  });
  runCase({
    name: T + "drop labels with names and matcher",
    query: `| json | drop __error__="JSONParserErr", __error_details__, app, namespace`,
    line: "not json",
    base,
    want: { pod_uuid: "foo" },
  });
}

// ---------------------------------------------------------------- Test_KeepLabels
{
  const T = "Test_KeepLabels/";
  const base = { app: "foo", namespace: "prod", env: "prod", pod_uuid: "foo" };
  runCase({
    name: T + "keep by name",
    query: "| keep app, namespace",
    line: "",
    base,
    want: { app: "foo", namespace: "prod" },
  });
  runCase({
    name: T + "keep labels with names and matcher",
    query: `| keep namespace="prod", app, fizz`,
    line: "",
    base,
    want: { app: "foo", namespace: "prod" },
  });
}
