import assert from "node:assert/strict";
import { LogGenerator } from "./generator/mod.ts";
import {
  COLD_QUERIES,
  coldQuerySpecs,
  HOUR_NS,
  METRIC_QUERIES,
  METRIC_STEP_NS,
  metricQueryParams,
  metricQuerySpecs,
  pipelineExpectations,
  QUERIES,
  QUERY_LIMIT,
  queryBody,
  querySpecs,
  STATUS_5XX,
  STATUS_FIELD_5XX,
} from "./queries.ts";

const FILES = {
  lines: "/t/lines.txt",
  ndjson: "/t/corpus.ndjson",
  linesZst: "/t/lines.txt.zst",
  ndjsonZst: "/t/corpus.ndjson.zst",
};

const PIPELINE = { jsonTraceId: "feed01", status: { hits: 42, newest: "aa11", oldest: "bb22" } };

Deno.test("querySpecs() covers every query with rg, grep and zstd | rg baselines", () => {
  const specs = querySpecs("0123abcd", FILES, PIPELINE);
  assert.deepEqual(specs.map((s) => s.key), QUERIES.map((q) => q.key));
  for (const spec of specs) {
    assert.deepEqual(spec.baselines.map((b) => b.tools), [["rg"], ["grep"], ["zstd", "rg"]]);
  }
  const [needle, common, label, regex, jsonTrace, jsonStatus] = specs;
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
  assert.equal(jsonTrace.query, '{app=~".+"} | json | trace_id="feed01"');
  assert.equal(jsonTrace.expectHits, 1);
  assert.equal(jsonTrace.expectText, "feed01");
  assert.deepEqual(jsonTrace.baselines[0].command, ["rg", "-F", "feed01", FILES.lines]);
  assert.equal(jsonStatus.query, '{app="web", service="frontend"} | json | status >= 500');
  assert.equal(jsonStatus.expectHits, 42);
  assert.equal(jsonStatus.expectText, "aa11");
  assert.equal(jsonStatus.expectLastText, "bb22");
  assert.deepEqual(jsonStatus.baselines[0].command, [
    "rg",
    "-m",
    "100",
    "-e",
    STATUS_FIELD_5XX,
    FILES.lines,
  ]);
});

Deno.test("pipelineExpectations() finds a JSON line's trace id and the newest 5xx JSON lines", () => {
  const gen = new LogGenerator({ seed: 42, rate: 50 });
  const lines = 200_000;
  const e = pipelineExpectations(gen, lines, 1000);
  const traced = [...gen.entries(1000, 100)].find((x) => x.line.startsWith("{"))!;
  assert.equal(JSON.parse(traced.line).trace_id, e.jsonTraceId);
  const matching = [...gen.entries(0, lines)].filter((x) =>
    x.labels.app === "web" && x.labels.service === "frontend" &&
    (JSON.parse(x.line).status ?? 0) >= 500
  ).reverse().slice(0, QUERY_LIMIT);
  assert.equal(e.status.hits, QUERY_LIMIT);
  assert.ok(matching[0].line.includes(e.status.newest));
  assert.ok(matching.at(-1)!.line.includes(e.status.oldest));
  // Only those JSON lines carry a status field: the baselines match the same lines.
  const re = new RegExp(STATUS_FIELD_5XX);
  const byText = [...gen.entries(0, lines)].filter((x) => re.test(x.line));
  assert.ok(byText.every((x) => x.labels.service === "frontend"));
  assert.equal(pipelineExpectations(gen, 3000, 10).status.hits < QUERY_LIMIT, true);
});

Deno.test("the status regex matches 5xx access lines only", () => {
  const re = new RegExp(STATUS_5XX);
  assert.ok(re.test(`1.2.3.4 - - [x] "GET / HTTP/2.0" 503 120 "-" "curl/8.5.0" rt=0.1`));
  assert.ok(!re.test(`1.2.3.4 - - [x] "GET / HTTP/2.0" 200 5123 "-" "curl/8.5.0" rt=0.1`));
  assert.ok(!re.test(`{"msg":"x","status":503}`));
});

Deno.test("coldQuerySpecs() has the needle without a time bound and app web over the last hour", () => {
  const specs = coldQuerySpecs("0123abcd");
  assert.deepEqual(specs.map((s) => s.key), COLD_QUERIES.map((q) => q.key));
  const [needle, label] = specs;
  assert.equal(needle.query, `|= "0123abcd"`);
  assert.equal(needle.window, "all");
  assert.equal(needle.expectHits, 1);
  assert.equal(needle.expectText, "0123abcd");
  assert.equal(needle.targetP50Ms, 300);
  assert.equal(needle.maxColdFetchedFraction, 0.02);
  assert.equal(label.query, `{app="web"}`);
  assert.equal(label.window, "last1h");
  assert.equal(label.expectHits, QUERY_LIMIT);
  assert.equal(label.targetP50Ms, 200);
  assert.equal(label.maxColdFetchedFraction, undefined);
});

Deno.test("queryBody() bounds only the last-5-minutes and last-hour queries", () => {
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
  assert.deepEqual(queryBody({ query: '{app="web"}', window: "last1h" }, 1_800_000_000_000), {
    query: '{app="web"}',
    limit: QUERY_LIMIT,
    start: "1799996400000000000",
    end: "1800000000000000000",
  });
});

Deno.test("metricQuerySpecs() sums the windows of every step, as counted line by line", () => {
  const gen = new LogGenerator({ seed: 7, rate: 50 });
  const lines = 200_000; // 4000 s: more than the hour and the 5 minutes before it
  const end = gen.at(lines - 1).ts - 12_345n;
  const [volume, rate] = metricQuerySpecs(gen, lines, end);
  assert.deepEqual([volume.key, rate.key], METRIC_QUERIES.map((q) => q.key));
  assert.equal(volume.query, `sum by (level) (count_over_time({app="web"}[1m]))`);
  assert.equal(rate.query, `sum(rate({app=~".+"} |= "timeout" [5m]))`);
  assert.deepEqual([volume.perSecond, rate.perSecond], [false, true]);
  // Brute force: every step, every line of the last 65 minutes.
  const recent = [...gen.entries(0, lines)].filter((e) => e.ts > end - HOUR_NS - 300_000_000_000n);
  let web = 0;
  let timeouts = 0;
  const levels = new Set<string>();
  for (let t = end - HOUR_NS; t <= end; t += METRIC_STEP_NS) {
    for (const e of recent) {
      if (e.ts > t) continue;
      if (e.ts > t - 60_000_000_000n && e.labels.app === "web") {
        web++;
        levels.add(e.labels.level);
      }
      if (e.ts > t - 300_000_000_000n && e.line.includes("timeout")) timeouts++;
    }
  }
  assert.ok(web > 1000 && timeouts > 100, `${web} ${timeouts}`);
  assert.deepEqual([volume.expectLines, volume.expectSeries], [web, levels.size]);
  assert.deepEqual([rate.expectLines, rate.expectSeries], [timeouts, 1]);
});

Deno.test("metricQueryParams() asks for the hour before the end, one step a minute", () => {
  const params = metricQueryParams({ query: "vector(1)" }, 1_800_000_000_000_000_000n);
  assert.deepEqual(Object.fromEntries(params), {
    query: "vector(1)",
    start: "1799996400000000000",
    end: "1800000000000000000",
    step: "60",
  });
});
