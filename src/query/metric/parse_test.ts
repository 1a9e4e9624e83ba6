import assert from "node:assert/strict";
import { LogQLParseError } from "../logql.ts";
import type { MetricExpr, RangeAggregation } from "./ast.ts";
import { isMetricQuery, parseMetricQuery, parseQuery } from "./parse.ts";

const M = 60_000_000_000n;
const ONE_TO_ONE = { on: false, labels: [], card: "one-to-one", include: [] } as const;

function range(overrides: Partial<RangeAggregation>): RangeAggregation {
  return {
    kind: "range_aggregation",
    op: "count_over_time",
    matchers: [{ name: "app", op: "=", value: "web" }],
    pipeline: [],
    range: M,
    offset: 0n,
    ...overrides,
  };
}

Deno.test("parseMetricQuery() reads what Grafana and Logs Drilldown send", () => {
  const cases: [string, MetricExpr][] = [
    [
      "vector(1)+vector(1)",
      {
        kind: "binary",
        op: "+",
        bool: false,
        matching: ONE_TO_ONE,
        left: { kind: "vector", value: 1 },
        right: { kind: "vector", value: 1 },
      },
    ],
    [
      'sum by (level, detected_level) (count_over_time({app="web"} | drop __error__[1m]))',
      {
        kind: "vector_aggregation",
        op: "sum",
        grouping: { without: false, labels: ["level", "detected_level"] },
        expr: range({ pipeline: [{ kind: "drop", labels: [{ name: "__error__" }] }] }),
      },
    ],
    [
      'sum(count_over_time({app="web"}      [5m])) by (detected_level)',
      {
        kind: "vector_aggregation",
        op: "sum",
        grouping: { without: false, labels: ["detected_level"] },
        expr: range({ range: 5n * M }),
      },
    ],
    [
      'avg_over_time({app="web"} | logfmt | unwrap duration(took) | __error__="" [1m]) by ()',
      range({
        op: "avg_over_time",
        pipeline: [{ kind: "logfmt", strict: false, keepEmpty: false }],
        unwrap: {
          label: "took",
          conversion: "duration",
          filters: [{ kind: "match", matcher: { name: "__error__", op: "=", value: "" } }],
        },
        grouping: { without: false, labels: [] },
      }),
    ],
    [
      'quantile_over_time(0.99, {app="web"} | json | unwrap bytes(size) [5m]) without (x)',
      range({
        op: "quantile_over_time",
        param: 0.99,
        pipeline: [{ kind: "json" }],
        unwrap: { label: "size", conversion: "bytes", filters: [] },
        range: 5n * M,
        grouping: { without: true, labels: ["x"] },
      }),
    ],
    [
      'COUNT_OVER_TIME({app="web"}[1m] offset 1h | json)',
      range({ pipeline: [{ kind: "json" }], offset: 60n * M }),
    ],
    [
      'rate(({app="web"} |= "x")[1m])',
      range({
        op: "rate",
        pipeline: [{ kind: "line_filter", op: "|=", value: "x" }],
      }),
    ],
    ['rate({app="web"}[1m] offset -30s)', range({ op: "rate", offset: -M / 2n })],
    [
      'topk(3, sum by (host) (rate({app="web"}[1m])))',
      {
        kind: "vector_aggregation",
        op: "topk",
        param: 3,
        grouping: { without: false, labels: [] },
        expr: {
          kind: "vector_aggregation",
          op: "sum",
          grouping: { without: false, labels: ["host"] },
          expr: range({ op: "rate" }),
        },
      },
    ],
    [
      'label_replace(rate({app="web"}[1m]), "dst", "$1", "src", "(.*)")',
      {
        kind: "label_replace",
        expr: range({ op: "rate" }),
        dst: "dst",
        replacement: "$1",
        src: "src",
        regex: "(.*)",
      },
    ],
    // Numbers reduce while parsing; ^ is right-associative and binds tightest.
    ["1 + 2 * 3 ^ 2", { kind: "number", value: 19 }],
    ["2 ^ 3 ^ 2", { kind: "number", value: 512 }],
    ["(1 - 3) * -2 # a comment", { kind: "number", value: 4 }],
    ["1 > 2", { kind: "number", value: 0 }],
  ];
  for (const [text, want] of cases) assert.deepEqual(parseMetricQuery(text), want, text);
});

Deno.test("parseMetricQuery() binds binary operators by precedence and reads modifiers", () => {
  const r = range({ op: "rate" });
  const expr = parseMetricQuery(
    'rate({app="web"}[1m]) > bool on (host) group_left (zone) rate({app="web"}[1m]) * 2 or vector(0)',
  );
  assert.deepEqual(expr, {
    kind: "binary",
    op: "or",
    bool: false,
    matching: ONE_TO_ONE,
    left: {
      kind: "binary",
      op: ">",
      bool: true,
      matching: { on: true, labels: ["host"], card: "many-to-one", include: ["zone"] },
      left: r,
      right: {
        kind: "binary",
        op: "*",
        bool: false,
        matching: ONE_TO_ONE,
        left: r,
        right: { kind: "number", value: 2 },
      },
    },
    right: { kind: "vector", value: 0 },
  });
  const unless = parseMetricQuery('rate({app="web"}[1m]) unless ignoring (a, b) vector(1)');
  assert.deepEqual(unless.kind === "binary" && unless.matching, {
    on: false,
    labels: ["a", "b"],
    card: "one-to-one",
    include: [],
  });
});

Deno.test("parseQuery() tells log queries from metric queries", () => {
  assert.equal(isMetricQuery(""), false);
  assert.equal(isMetricQuery('  |= "x"'), false);
  assert.equal(isMetricQuery("(vector(1))"), true);
  assert.deepEqual(parseQuery('( ({app="web"} |= "x") )'), {
    kind: "log",
    matchers: [{ name: "app", op: "=", value: "web" }],
    pipeline: [{ kind: "line_filter", op: "|=", value: "x" }],
  });
  assert.equal(parseQuery('{app="web"} | json').kind, "log");
});

Deno.test("parseMetricQuery() refuses malformed and unsupported queries with a position", () => {
  const cases: [string, number, string][] = [
    ["sum(1", 6, 'expected ")"'],
    ['rate({app="web"})', 17, 'expected range such as [5m] ("["), found ")"'],
    ['rate({app="web"}[5x])', 18, 'invalid range "5x": expected a duration such as 30s, 5m or 1h'],
    [
      'count_over_time({app="web"} | unwrap x [1m])',
      1,
      "invalid aggregation count_over_time with unwrap",
    ],
    [
      'sum_over_time({app="web"}[1m])',
      1,
      "invalid aggregation sum_over_time without unwrap: add | unwrap <label> before the range",
    ],
    [
      'count_over_time({app="web"}[1m]) by (x)',
      1,
      "grouping not allowed for count_over_time aggregation",
    ],
    ['rate(0.5, {app="web"}[1m])', 1, "rate takes no parameter, got 0.5"],
    ['topk(rate({app="web"}[1m]))', 1, "topk needs a parameter: topk(5, …)"],
    [
      'topk(1.5, rate({app="web"}[1m]))',
      1,
      "topk needs an integer parameter greater than 0, got 1.5",
    ],
    [
      'sum(rate({app="web"}[1m])) by (x) by (y)',
      35,
      'expected binary operator or end of query, found "by"',
    ],
    ["sum(5)", 5, "sum needs a vector, found the number 5"],
    [
      "1 and 2",
      3,
      'unexpected number 1 for the left side of set operator "and": and, or and unless combine vectors',
    ],
    [
      "vector(1) or 1",
      11,
      'unexpected number 1 for the right side of set operator "or": and, or and unless combine vectors',
    ],
    ["foo(1)", 1, 'unknown function "foo"'],
    [
      "rate",
      1,
      'expected metric expression (a range aggregation such as rate({…}[5m]), an aggregation such as sum(…), a number or vector(…)), found "rate"',
    ],
    [
      'approx_topk(5, rate({app="web"}[1m]))',
      1,
      'unsupported function "approx_topk": loge does not support it yet',
    ],
    [
      'sum({app="web"})',
      5,
      "a log query cannot be used here: aggregate it over a range, such as count_over_time({…}[1m])",
    ],
    [
      'rate({app="web"} | unwrap x | json [1m])',
      29,
      'only label filters may follow "| unwrap x", found "json"',
    ],
    [
      'label_replace(vector(1), "1x", "", "a", "b")',
      26,
      'invalid label name "1x": must match [a-zA-Z_][a-zA-Z0-9_]*',
    ],
    [
      'label_replace(vector(1), "d", "", "a", "(")',
      40,
      'invalid regex "(" in label_replace: Unterminated group',
    ],
    [
      'rate({app="web"}[1m] offset soon)',
      29,
      'invalid offset "soon": expected a duration such as 5m or 1h',
    ],
  ];
  for (const [text, position, reason] of cases) {
    assert.throws(
      () => parseMetricQuery(text),
      (e: unknown) => {
        assert.ok(e instanceof LogQLParseError, String(e));
        assert.equal(e.reason.startsWith(reason) ? reason : e.reason, reason, text);
        assert.equal(e.position, position, `${text}: ${e.reason}`);
        return true;
      },
    );
  }
});
