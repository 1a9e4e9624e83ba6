import assert from "node:assert/strict";
import { LabelsBuilder } from "./labels.ts";

const stream = { key: '{"app":"web","level":"info"}', labels: { app: "web", level: "info" } };

Deno.test("LabelsBuilder reads metadata, then parsed, then stream labels, as Loki does", () => {
  const b = new LabelsBuilder(stream, { level: "meta", trace_id: "t" });
  assert.equal(b.get("level"), "meta");
  b.setParsed("trace_id", "p");
  b.setParsed("user", "u");
  assert.equal(b.get("trace_id"), "t");
  assert.equal(b.get("user"), "u");
  assert.equal(b.get("missing"), undefined);
  assert.deepEqual(b.all(), { app: "web", level: "meta", trace_id: "t", user: "u" });
  assert.deepEqual(b.final(new Map()), {
    stream,
    parsed: { trace_id: "p", user: "u" },
    metadata: { level: "meta", trace_id: "t" },
  });
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
  c.rename("level", "severity");
  assert.deepEqual(c.final(finals).stream.labels, { app: "web", severity: "info" });
});
