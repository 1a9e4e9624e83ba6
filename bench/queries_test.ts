import assert from "node:assert/strict";
import { QUERIES, QUERY_LIMIT, queryBody, querySpecs, STATUS_5XX } from "./queries.ts";

const FILES = {
  lines: "/t/lines.txt",
  ndjson: "/t/corpus.ndjson",
  linesZst: "/t/lines.txt.zst",
  ndjsonZst: "/t/corpus.ndjson.zst",
};

Deno.test("querySpecs() covers every query with rg, grep and zstd | rg baselines", () => {
  const specs = querySpecs("0123abcd", FILES);
  assert.deepEqual(specs.map((s) => s.key), QUERIES.map((q) => q.key));
  for (const spec of specs) {
    assert.deepEqual(spec.baselines.map((b) => b.tools), [["rg"], ["grep"], ["zstd", "rg"]]);
  }
  const [needle, common, label, regex] = specs;
  assert.equal(needle.query, `|= "0123abcd"`);
  assert.equal(needle.expectHits, 1);
  assert.deepEqual(needle.baselines[0].command, ["rg", "-F", "0123abcd", FILES.lines]);
  assert.deepEqual(needle.baselines[2].command, [
    ["zstd", "-dc", FILES.linesZst],
    ["rg", "-F", "0123abcd"],
  ]);
  assert.equal(common.baselines[1].name, "grep -F -m 100");
  assert.equal(label.window, "last5m");
  assert.equal(label.baselines[0].command.at(-1), FILES.ndjson);
  assert.deepEqual(regex.baselines[1].command, [
    "grep",
    "-E",
    "-m",
    "100",
    "-e",
    STATUS_5XX,
    FILES.lines,
  ]);
  assert.equal(regex.baselines[1].name, "grep -E -m 100 -e");
  assert.equal(regex.query, '{app=~"web|api"} |~ `" 5[0-9]{2} `');
});

Deno.test("the status regex matches 5xx access lines only", () => {
  const re = new RegExp(STATUS_5XX);
  assert.ok(re.test(`1.2.3.4 - - [x] "GET / HTTP/2.0" 503 120 "-" "curl/8.5.0" rt=0.1`));
  assert.ok(!re.test(`1.2.3.4 - - [x] "GET / HTTP/2.0" 200 5123 "-" "curl/8.5.0" rt=0.1`));
  assert.ok(!re.test(`{"msg":"x","status":503}`));
});

Deno.test("queryBody() bounds only the last-5-minutes query", () => {
  assert.deepEqual(queryBody({ query: '|= "x"', window: "all" }, 1000), {
    query: '|= "x"',
    limit: QUERY_LIMIT,
  });
  assert.deepEqual(queryBody({ query: '{app="web"}', window: "last5m" }, 1_800_000_000_000), {
    query: '{app="web"}',
    limit: QUERY_LIMIT,
    start: "1799999700000000000",
    end: "1800000000000000000",
  });
});
