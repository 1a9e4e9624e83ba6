/**
 * A replay of the requests Grafana makes when a user opens Explore on a
 * Loki data source, runs a logs query, looks at its volume histogram, then
 * opens Logs Drilldown on a service (`/work/shared/loki_compat.md` §2, §3
 * and §5: exact paths, parameters, headers and LogQL), against the real
 * `loge serve` process. Every request must answer 200 in Loki's shape,
 * checked key by key against Loki's documented answers (loki
 * `docs/sources/reference/loki-http-api.md`) and the code that writes them
 * (loki `pkg/util/marshal`, `pkg/logproto`).
 *
 * @module
 */

import assert from "node:assert/strict";
import { call, type Reply } from "../testing/http.ts";
import { withServer } from "../testing/server.ts";
import { corpus, lokiPush, S, T0 } from "../testing/drilldown_corpus.ts";

/** The time range the user picked: the hour from T0. */
const FROM = T0;
const TO = T0 + 3600n * S;
/** Grafana's backend sends nanoseconds; Drilldown's resource calls RFC 3339 with milliseconds. */
const NS = { start: String(FROM), end: String(TO) };
const RFC3339 = {
  start: new Date(Number(FROM / 1_000_000n)).toISOString(),
  end: new Date(Number(TO / 1_000_000n)).toISOString(),
};
/** What the data source's backend adds to every data query. */
const DATA_HEADERS = {
  "X-Loki-Response-Encoding-Flags": "categorize-labels",
  "X-Query-Tags": "Source=grafana",
  "X-Scope-OrgID": "tenant-1",
};
const DRILLDOWN = { "X-Query-Tags": "Source=grafana-lokiexplore-app" };

/** One request of the replay and the shape its answer must have. */
interface Step {
  what: string;
  path: string;
  params: Record<string, string>;
  headers?: Record<string, string>;
  // deno-lint-ignore no-explicit-any
  check: (body: any) => void;
}

const keys = (o: object) => Object.keys(o).sort();
const isNumber = (v: unknown) => typeof v === "number" && Number.isFinite(v);

/** Loki's `stats`, the summary keys Grafana's `parseStats` reads. */
function assertStats(stats: Record<string, Record<string, unknown>>) {
  assert.deepEqual(keys(stats), ["ingester", "querier", "summary"]);
  for (
    const k of [
      "bytesProcessedPerSecond",
      "linesProcessedPerSecond",
      "totalBytesProcessed",
      "totalLinesProcessed",
      "execTime",
    ]
  ) assert.ok(isNumber(stats.summary[k]), k);
}

/** A `streams` answer; with `categorized`, the flag before `result` and 3-tuples. */
function streams(categorized: boolean, lines: (n: number) => boolean = (n) => n > 0) {
  // deno-lint-ignore no-explicit-any
  return (body: any) => {
    assert.equal(body.status, "success");
    assert.deepEqual(
      Object.keys(body.data),
      categorized
        ? ["resultType", "encodingFlags", "result", "stats"]
        : ["resultType", "result", "stats"],
    );
    assert.equal(body.data.resultType, "streams");
    let n = 0;
    for (const s of body.data.result) {
      assert.deepEqual(keys(s), ["stream", "values"]);
      for (const v of s.values) {
        assert.equal(v.length, categorized ? 3 : 2);
        assert.match(v[0], /^\d{19}$/);
        assert.equal(typeof v[1], "string");
        n++;
      }
    }
    assert.ok(lines(n), `${n} lines`);
    assertStats(body.data.stats);
  };
}

/** A `matrix` answer (metric queries): `[seconds, "value"]` pairs. */
// deno-lint-ignore no-explicit-any
function matrix(body: any) {
  assert.equal(body.status, "success");
  assert.equal(body.data.resultType, "matrix");
  assert.ok(body.data.result.length > 0);
  for (const s of body.data.result) {
    assert.deepEqual(keys(s), ["metric", "values"]);
    for (const [t, v] of s.values) assert.ok(isNumber(t) && !Number.isNaN(Number(v)));
  }
  assertStats(body.data.stats);
}

/** A `vector` answer: `[seconds, "value"]` per series. */
function vector(series: (n: number) => boolean) {
  // deno-lint-ignore no-explicit-any
  return (body: any) => {
    assert.equal(body.status, "success");
    assert.equal(body.data.resultType, "vector");
    assert.ok(series(body.data.result.length));
    for (const s of body.data.result) {
      assert.deepEqual(keys(s), ["metric", "value"]);
      assert.ok(isNumber(s.value[0]) && typeof s.value[1] === "string");
    }
    assertStats(body.data.stats);
  };
}

/** `{"status":"success","data":[…]}` of strings or label sets. */
function list(expected?: unknown[]) {
  // deno-lint-ignore no-explicit-any
  return (body: any) => {
    assert.equal(body.status, "success");
    assert.ok(body.data === undefined || Array.isArray(body.data));
    if (expected) assert.deepEqual(body.data ?? [], expected);
  };
}

const SHOP = '{service_name="shop"}';
const DRILLDOWN_PARSERS = "| json | logfmt | drop __error__, __error_details__";

const STEPS: Step[] = [
  // Explore opens: the query editor's label browser and its stats line.
  {
    what: "labels (label browser)",
    path: "labels",
    params: NS,
    check: list(["app", "env", "level", "namespace", "pod", "service_name"]),
  },
  {
    what: "label values (label browser)",
    path: "label/service_name/values",
    params: NS,
    check: list(["auth", "shop"]),
  },
  {
    what: "series (label browser)",
    path: "series",
    params: { "match[]": SHOP, ...NS },
    check: list([
      { app: "shop", env: "dev", pod: "shop-2", service_name: "shop" },
      { app: "shop", env: "prod", pod: "shop-1", service_name: "shop" },
    ]),
  },
  {
    what: "index/stats (This query will process approximately …)",
    path: "index/stats",
    params: { query: SHOP, ...NS },
    check: (body) => {
      assert.deepEqual(keys(body), ["bytes", "chunks", "entries", "streams"]);
      assert.equal(body.streams, 2);
      assert.equal(body.entries, 160);
    },
  },
  {
    what: "health check (Save & test)",
    path: "query",
    params: { direction: "backward", query: "vector(1)+vector(1)", time: "4000000000" },
    check: (body) => {
      assert.equal(body.status, "success");
      assert.equal(body.data.resultType, "vector");
      assert.equal(body.data.result.length, 1);
      assert.equal(body.data.result[0].value[1], "2");
    },
  },
  // The user runs a logs query.
  {
    what: "logs query",
    path: "query_range",
    params: {
      direction: "backward",
      end: NS.end,
      limit: "1000",
      query: `${SHOP} |= "order"`,
      start: NS.start,
      step: "15000ms",
    },
    headers: DATA_HEADERS,
    check: streams(true, (n) => n === 120),
  },
  // The logs volume histogram under it.
  {
    what: "logs volume histogram",
    path: "query_range",
    params: {
      direction: "backward",
      end: NS.end,
      query:
        `sum by (level, detected_level) (count_over_time(${SHOP} |= "order" | drop __error__[15s]))`,
      start: NS.start,
      step: "15000ms",
    },
    headers: { ...DATA_HEADERS, "X-Query-Tags": "Source=logvolhist" },
    check: matrix,
  },
  // Logs Drilldown opens: its config, then the service list.
  {
    what: "drilldown-limits",
    path: "drilldown-limits",
    params: {},
    headers: DRILLDOWN,
    check: (body) => {
      assert.deepEqual(keys(body), ["limits", "pattern_ingester_enabled", "version"]);
      assert.equal(typeof body.limits.max_entries_limit_per_query, "number");
      assert.equal(typeof body.limits.retention_period, "string");
      assert.equal(body.pattern_ingester_enabled, true);
    },
  },
  {
    what: "service volumes",
    path: "index/volume",
    params: { query: "{service_name=~`.+`}", ...RFC3339, limit: "5000" },
    headers: DRILLDOWN,
    check: (body) => {
      vector((n) => n === 2)(body);
      assert.deepEqual(
        // deno-lint-ignore no-explicit-any
        body.data.result.map((s: any) => keys(s.metric)),
        [["service_name"], ["service_name"]],
      );
    },
  },
  {
    what: "service tile time series",
    path: "query_range",
    params: {
      ...NS,
      query: 'sum by (detected_level) (count_over_time({ service_name="shop" } [15s]))',
      step: "15000ms",
    },
    headers: { ...DATA_HEADERS, "X-Query-Tags": "Source=grafana-lokiexplore-app" },
    check: matrix,
  },
  {
    what: "service tile logs",
    path: "query_range",
    params: { ...NS, direction: "backward", limit: "100", query: "{service_name=`shop` }" },
    headers: { ...DATA_HEADERS, "X-Query-Tags": "Source=grafana-lokiexplore-app" },
    check: streams(true, (n) => n === 100),
  },
  // The service's page.
  {
    what: "shard discovery",
    path: "label/__stream_shard__/values",
    params: { query: SHOP, ...NS },
    check: list([]),
  },
  {
    what: "detected_labels",
    path: "detected_labels",
    params: { query: SHOP, ...RFC3339 },
    headers: DRILLDOWN,
    check: (body) => {
      assert.deepEqual(keys(body), ["detectedLabels"]);
      for (const l of body.detectedLabels) {
        assert.deepEqual(keys(l), ["cardinality", "label"]);
        assert.ok(isNumber(l.cardinality) && l.cardinality > 0);
      }
    },
  },
  {
    what: "detected_fields",
    path: "detected_fields",
    params: { query: `${SHOP} ${DRILLDOWN_PARSERS}`, ...RFC3339 },
    headers: DRILLDOWN,
    check: (body) => {
      assert.deepEqual(keys(body), ["fields", "limit"]);
      for (const f of body.fields) {
        assert.deepEqual(
          keys(f),
          f.jsonPath ? ["cardinality", "jsonPath", "label", "parsers", "type"] : [
            "cardinality",
            "label",
            "parsers",
            "type",
          ],
        );
        assert.ok(["string", "int", "float", "boolean", "duration", "bytes"].includes(f.type));
        // null for structured metadata, a parser list for parsed fields.
        assert.ok(
          f.parsers === null || f.parsers.every((p: string) => p === "json" || p === "logfmt"),
        );
      }
      // deno-lint-ignore no-explicit-any
      const byName = Object.fromEntries(body.fields.map((f: any) => [f.label, f]));
      assert.equal(byName.detected_level.parsers, null);
      assert.deepEqual(byName.user_id.jsonPath, ["user", "id"]);
    },
  },
  {
    what: "logs volume panel",
    path: "query_range",
    params: {
      ...NS,
      query: `sum(count_over_time(${SHOP}      [15s])) by (detected_level)`,
      step: "15000ms",
    },
    headers: { ...DATA_HEADERS, "X-Query-Tags": "Source=grafana-lokiexplore-app" },
    check: matrix,
  },
  {
    what: "main logs panel",
    path: "query_range",
    params: {
      ...NS,
      direction: "backward",
      limit: "1000",
      query: `${SHOP}     ${DRILLDOWN_PARSERS}  `,
    },
    headers: { ...DATA_HEADERS, "X-Query-Tags": "Source=grafana-lokiexplore-app" },
    check: streams(true, (n) => n === 160),
  },
  {
    what: "log count",
    path: "query",
    params: {
      query: `sum(count_over_time(${SHOP} ${DRILLDOWN_PARSERS}[1h]))`,
      time: NS.end,
    },
    headers: { ...DATA_HEADERS, "X-Query-Tags": "Source=grafana-lokiexplore-app" },
    check: vector((n) => n === 1),
  },
  {
    what: "level filter values",
    path: "detected_field/detected_level/values",
    params: { ...NS, limit: "1000", query: SHOP },
    check: (body) => assert.deepEqual(body, { values: ["error", "info", "warn"], limit: 1000 }),
  },
  {
    what: "level filter",
    path: "query_range",
    params: {
      ...NS,
      limit: "1000",
      query: `{service_name=~"shop", env=~".+"} | detected_level != "" | detected_level=\`error\``,
    },
    headers: DATA_HEADERS,
    check: streams(true, (n) => n === 30),
  },
  {
    what: "label breakdown",
    path: "query_range",
    params: {
      ...NS,
      query: `sum(count_over_time({service_name="shop" ,env != ""}  [15s])) by (env)`,
      step: "15000ms",
    },
    headers: DATA_HEADERS,
    check: matrix,
  },
  {
    what: "field breakdown",
    path: "query_range",
    params: {
      ...NS,
      query:
        `sum by (status) (count_over_time(${SHOP} | logfmt | drop __error__, __error_details__ | status!="" [15s]))`,
      step: "15000ms",
    },
    headers: DATA_HEADERS,
    check: matrix,
  },
  {
    what: "patterns",
    path: "patterns",
    params: { query: SHOP, ...RFC3339, step: "30s" },
    headers: DRILLDOWN,
    check: (body) => {
      assert.deepEqual(keys(body), ["data", "status"]);
      assert.equal(body.status, "success");
      assert.ok(body.data.length > 0);
      for (const p of body.data) {
        assert.deepEqual(keys(p), ["level", "pattern", "samples"]);
        for (const [t, n] of p.samples) assert.ok(Number.isInteger(t) && Number.isInteger(n));
      }
    },
  },
];

Deno.test("Grafana Explore and Logs Drilldown: every request of the replay answers 200 in Loki's shape", (t) =>
  withServer(async ({ url }) => {
    await lokiPush(url, corpus());
    for (const step of STEPS) {
      await t.step({
        name: `${step.what}: ${step.path}`,
        fn: async () => {
          const r: Reply = await call(
            url,
            `/loki/api/v1/${step.path}?${new URLSearchParams(step.params)}`,
            { headers: step.headers },
          );
          assert.equal(r.status, 200, r.text);
          assert.equal(r.headers.get("content-type"), "application/json");
          step.check(r.body);
        },
      });
    }
  }));
