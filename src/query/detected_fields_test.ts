import assert from "node:assert/strict";
import { detectFields, fieldValues, typeOf } from "./detected_fields.ts";
import { compilePipeline } from "./pipeline/mod.ts";
import { parseLogQL } from "./logql.ts";
import type { LogEntry } from "./top_entries.ts";

const stream = { key: '{"app":"web","level":"info"}', labels: { app: "web", level: "info" } };

/** Entries as a log query with `pipeline` makes them (LogQL after a selector). */
function entries(pipeline: string, lines: [string, Record<string, string>?][]): LogEntry[] {
  const run = compilePipeline(parseLogQL(`{app="web"} ${pipeline}`).pipeline).forStream(stream);
  return lines.map(([line, metadata], i) => ({ ts: BigInt(i), ...run.process(line, metadata)! }));
}

Deno.test("types: the narrowest every value parses as", () => {
  const cases: [string[], string][] = [
    [["1", "-2", "9223372036854775807"], "int"],
    [["9223372036854775808"], "float"],
    [["1", "2.5", "1e3"], "float"],
    [["true", "False", "1"], "boolean"],
    [["1.5s", "250ms", "1h2m", "0"], "duration"],
    [["10KB", "3 MiB", "512"], "bytes"],
    [["GET", "200"], "string"],
    [["10ms", "10MB"], "string"],
  ];
  for (const [values, type] of cases) assert.equal(typeOf(values), type, values.join(","));
});

Deno.test("fields: metadata (parsers null), then what json or logfmt find, with the query's parsed labels", () => {
  const got = detectFields(
    entries("| json | logfmt | drop __error__, __error_details__", [
      ['{"status":200,"level":"warn","req":{"path":"/a","ms":1.5}}', { trace_id: "t1" }],
      ['{"status":503,"req":{"path":"/b","ms":20}}', { trace_id: "t2" }],
      ['level=error took=250ms size=2KiB msg="disk full"', { trace_id: "t1" }],
      ["plain text line"],
    ]),
    1000,
  );
  assert.deepEqual(got, [
    // A stream label's name: the parsed field is level_extracted, as Loki names it.
    {
      label: "level_extracted",
      type: "string",
      cardinality: 2,
      parsers: ["json", "logfmt"],
      jsonPath: ["level"],
    },
    { label: "msg", type: "string", cardinality: 1, parsers: ["logfmt"] },
    { label: "req_ms", type: "float", cardinality: 2, parsers: ["json"], jsonPath: ["req", "ms"] },
    {
      label: "req_path",
      type: "string",
      cardinality: 2,
      parsers: ["json"],
      jsonPath: ["req", "path"],
    },
    { label: "size", type: "bytes", cardinality: 1, parsers: ["logfmt"] },
    { label: "status", type: "int", cardinality: 2, parsers: ["json"], jsonPath: ["status"] },
    { label: "took", type: "duration", cardinality: 1, parsers: ["logfmt"] },
    { label: "trace_id", type: "string", cardinality: 2, parsers: null },
  ]);
});

Deno.test("fields: the query's own parsed labels count, __error__ does not; the limit keeps the first seen", () => {
  const lines = entries('| regexp "(?P<verb>[A-Z]+) (?P<path>\\\\S+)"', [
    ["GET /a"],
    ["POST /b"],
    ["{not json"],
  ]);
  assert.deepEqual(detectFields(lines, 1000).map((f) => [f.label, f.cardinality]), [
    ["path", 2],
    ["verb", 2],
  ]);
  assert.deepEqual(detectFields(lines, 1).map((f) => f.label), ["verb"]);
});

Deno.test("values: metadata and parsed values of one field, sorted, byte sizes in SI units", () => {
  const lines = entries("", [
    ["size=2KiB lvl=warn"],
    ["size=1500000 lvl=info"],
    ["size=1.5MB", { lvl: "debug" }],
    ['{"size":"9 b"}'],
    // A stream label's name: the parsed field is level_extracted.
    ["level=error"],
  ]);
  assert.deepEqual(fieldValues(lines, "lvl", 1000), ["debug", "info", "warn"]);
  assert.deepEqual(fieldValues(lines, "size", 1000), ["1.5MB", "1500000", "2.0kB", "9B"]);
  assert.deepEqual(fieldValues(lines, "lvl", 2), ["info", "warn"]);
  assert.deepEqual(fieldValues(lines, "level", 10), []);
  assert.deepEqual(fieldValues(lines, "level_extracted", 10), ["error"]);
});
