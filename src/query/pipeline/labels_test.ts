import assert from "node:assert/strict";
import { parseLogQL } from "../logql.ts";
import { LabelsBuilder } from "./labels.ts";
import { compilePipeline } from "./mod.ts";

const stream = { key: '{"app":"web","level":"info"}', labels: { app: "web", level: "info" } };

Deno.test("LabelsBuilder reads metadata, then parsed, then stream labels, as Loki does", () => {
  const b = new LabelsBuilder(stream, { level: "meta", trace_id: "t" });
  assert.equal(b.get("level"), "meta");
  b.setOver("user", "u");
  b.setParsed("trace_id", "p"); // metadata has it: trace_id_extracted (Loki 3.7)
  b.setOver("trace_id", "s"); // `label_format`'s way: a parsed label over the metadata
  assert.equal(b.get("trace_id"), "s");
  assert.equal(b.get("trace_id_extracted"), "p");
  assert.equal(b.get("user"), "u");
  assert.equal(b.get("missing"), undefined);
  assert.deepEqual(b.all(), {
    app: "web",
    level: "meta",
    trace_id: "s",
    trace_id_extracted: "p",
    user: "u",
  });
  assert.deepEqual(b.final(new Map()), {
    stream,
    parsed: { trace_id_extracted: "p", user: "u", trace_id: "s" },
    metadata: { level: "meta" },
  });
  // A rename makes a parsed label too, over the stream's of that name.
  b.rename("app", "level");
  assert.deepEqual(b.final(new Map()).stream.labels, {});
  assert.equal(b.final(new Map()).parsed?.level, "web");
});

Deno.test("LabelsBuilder.of: a line's final labels, its failure a failure again", () => {
  const b = new LabelsBuilder(stream, { trace_id: "t" });
  b.setParsed("user", "u");
  b.setError("JSONParserErr", "why");
  const again = LabelsBuilder.of(b.final(new Map()));
  assert.equal(again.hasError(), true);
  assert.equal(again.errorLabel("__error_details__"), "why");
  assert.deepEqual(again.final(new Map()), b.final(new Map()));
});

Deno.test("LabelsBuilder: a parsed name the stream has gets _extracted; errors keep the first", () => {
  const b = new LabelsBuilder(stream);
  b.setParsed("app", "x");
  b.setError("JSONParserErr", "first");
  b.setError("LogfmtParserErr", "second");
  assert.deepEqual(b.final(new Map()).parsed, {
    app_extracted: "x",
    __error__: "JSONParserErr",
    __error_details__: "first",
  });
});

Deno.test("LabelsBuilder: a failure is apart from the labels; a parsed __error__ fails nothing", () => {
  const b = new LabelsBuilder(stream);
  b.setParsed("__error__", "from the line"); // a JSON key of that name
  assert.equal(b.hasError(), false);
  assert.equal(b.errorLabel("__error__"), "");
  assert.deepEqual(b.final(new Map()).parsed, { __error__: "from the line" });
  b.setError("JSONParserErr", "why");
  assert.equal(b.hasError(), true);
  assert.equal(b.errorLabel("__error__"), "JSONParserErr");
  assert.equal(b.errorLabel("__error_details__"), "why");
  assert.equal(b.get("__error__"), "from the line");
  assert.deepEqual(b.names(), ["app", "level", "__error__"]);
  // Shown, the failure wins over the parsed label of its name.
  assert.deepEqual(b.final(new Map()).parsed, {
    __error__: "JSONParserErr",
    __error_details__: "why",
  });
  assert.equal(b.all().__error__, "JSONParserErr");
  b.clearErrorLabel("__error__");
  assert.equal(b.hasError(), false);
  assert.deepEqual(b.final(new Map()).parsed, {
    __error__: "from the line",
    __error_details__: "why",
  });
});

Deno.test("LabelsBuilder: changed stream labels make a new stream, shared by equal sets", () => {
  const finals = new Map();
  const a = new LabelsBuilder(stream);
  a.delete("level");
  const b = new LabelsBuilder(stream);
  b.delete("level");
  const fa = a.final(finals);
  assert.deepEqual(fa.stream, { key: '{"app":"web"}', labels: { app: "web" } });
  assert.equal(b.final(finals).stream, fa.stream);
  assert.deepEqual(stream.labels, { app: "web", level: "info" }); // the original is untouched
  const c = new LabelsBuilder(stream);
  c.rename("level", "severity"); // to a parsed label, as Loki's label_format
  assert.equal(c.final(finals).stream, fa.stream);
  assert.deepEqual(c.final(finals).parsed, { severity: "info" });
});

/** What `JSON.parse` says of "not json": a failed `| json`'s details. */
const JSON_DETAILS = (() => {
  try {
    JSON.parse("not json");
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error('JSON.parse("not json") did not throw');
})();

Deno.test("through the stages, a failure and a parsed name of metadata are as in Loki 3.7", () => {
  const web = { key: '{"app":"web"}', labels: { app: "web" } };
  // Each line goes through 300 times: past the trial of `| json | <filter>`'s probe, on or off.
  const run = (query: string, line: string, metadata?: Record<string, string>) => {
    const stages = compilePipeline(parseLogQL(query).pipeline).forStream(web);
    const first = stages.process(line, metadata);
    for (let n = 1; n < 300; n++) assert.deepEqual(stages.process(line, metadata), first, query);
    return first && { parsed: first.parsed, metadata: first.metadata, stream: first.stream.labels };
  };
  const boom = '{"__error__":"boom","status":"abc"}';
  // A JSON key __error__ is no failure: the comparison fails on its own.
  assert.equal(run('{app="web"} | json | status >= 500', '{"__error__":"boom"}'), undefined);
  assert.deepEqual(run('{app="web"} | json | __error__=""', boom)?.parsed, {
    __error__: "boom",
    status: "abc",
  });
  // A value that does not parse is a failure, shown over the parsed __error__.
  assert.deepEqual(run('{app="web"} | json | status >= 500', boom)?.parsed, {
    __error__: "LabelFilterErr",
    __error_details__: 'cannot parse "abc" as a number',
    status: "abc",
  });
  const failed = { __error__: "JSONParserErr", __error_details__: JSON_DETAILS };
  assert.deepEqual(run('{app="web"} | json | keep status', "not json"), {
    parsed: failed,
    metadata: undefined,
    stream: {},
  });
  assert.deepEqual(run('{app="web"} | json | drop __error__', "not json")?.parsed, {
    __error_details__: JSON_DETAILS,
  });
  assert.equal(run('{app="web"} | json | drop __error__ | __error__!=""', "not json"), undefined);
  // Parsed names that structured metadata has get _extracted; the metadata stays as it was.
  const meta = { trace_id: "m", user: "u" };
  for (const query of ['{app="web"} | json', '{app="web"} | logfmt']) {
    const line = query.endsWith("json") ? '{"trace_id":"j","app":"a"}' : "trace_id=j app=a";
    assert.deepEqual(run(query, line, meta), {
      parsed: { trace_id_extracted: "j", app_extracted: "a" },
      metadata: meta,
      stream: web.labels,
    });
  }
  // The first value a parser finds for a name stays, as Loki's parsers skip extracted names;
  // `| json name="path"` alone replaces it.
  assert.deepEqual(run('{app="web"} | json', '{"a":"1","a":"2","b":{"c":"3"},"b_c":"4"}')?.parsed, {
    a: "1",
    b_c: "3",
  });
  assert.deepEqual(run('{app="web"} | logfmt', "a=1 a=2 b= b=5")?.parsed, { a: "1", b: "5" });
  const both = run('{app="web"} | json | logfmt', '{"a":"1","x":"a=2 x=3"}')?.parsed;
  assert.deepEqual([both?.a, both?.x], ["1", "a=2 x=3"]);
  assert.deepEqual(
    run('{app="web"} | regexp `a=(?P<a>\\d)` | json a="y"', '{"y":"2","z":"a=1"}')?.parsed,
    {
      a: "2",
    },
  );
  const line = '{"trace_id":"j"}';
  assert.ok(run('{app="web"} | json | trace_id="m"', line, meta));
  assert.equal(run('{app="web"} | json | trace_id="j"', line, meta), undefined);
  assert.ok(run('{app="web"} | json | trace_id_extracted="j"', line, meta));
});
