import assert from "node:assert/strict";
import type { BinaryExpr, VectorMatching } from "./ast.ts";
import { betweenVectors, withNumber } from "./binary.ts";
import { emptySeries, MetricQueryError, type Series } from "./series.ts";

function series(labels: Record<string, string>, values: (number | undefined)[]): Series {
  const s = emptySeries(labels, values.length);
  values.forEach((v, k) => {
    if (v === undefined) return;
    s.values[k] = v;
    s.present[k] = 1;
  });
  return s;
}

function valuesOf(out: Series[]) {
  return out
    .map((s) => [s.labels, Array.from(s.values, (v, k) => (s.present[k] ? v : undefined))])
    .sort(([a], [b]) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1));
}

const ONE: VectorMatching = { on: false, labels: [], card: "one-to-one", include: [] };

function op(
  o: BinaryExpr["op"],
  left: Series[],
  right: Series[],
  matching: Partial<VectorMatching> = {},
  bool = false,
) {
  return valuesOf(
    betweenVectors({ op: o, bool, matching: { ...ONE, ...matching } }, left, right, 2),
  );
}

const L = [
  series({ app: "web", host: "a" }, [1, 10]),
  series({ app: "api", host: "a" }, [2, undefined]),
];
const R = [series({ app: "web", host: "a" }, [3, 5]), series({ app: "web", host: "b" }, [4, 4])];

Deno.test("arithmetic and comparisons pair samples with equal labels, step by step", () => {
  assert.deepEqual(op("+", L, R), [[{ app: "web", host: "a" }, [4, 15]]]);
  assert.deepEqual(op("/", L, [series({ app: "web", host: "a" }, [0, 2])]), [
    [{ app: "web", host: "a" }, [NaN, 5]],
  ]);
  // A comparison keeps the left value where it holds; with bool it gives 1 or 0.
  assert.deepEqual(op(">", L, R), [[{ app: "web", host: "a" }, [undefined, 10]]]);
  assert.deepEqual(op(">", L, R, {}, true), [[{ app: "web", host: "a" }, [0, 1]]]);
  // on (app): labels reduce to app; ignoring (host) drops host.
  const onApp = [series({ app: "web" }, [1, 1])];
  assert.deepEqual(op("*", L, onApp, { on: true, labels: ["app"] }), [[{ app: "web" }, [1, 10]]]);
  assert.deepEqual(op("-", L, onApp, { labels: ["host"] }), [[{ app: "web" }, [0, 9]]]);
});

Deno.test("group_left copies labels from the one side; one-to-one refuses several matches", () => {
  const one = [series({ app: "web", team: "t1" }, [100, 100])];
  const many = [
    series({ app: "web", host: "a" }, [1, 2]),
    series({ app: "web", host: "b" }, [3, 4]),
  ];
  assert.deepEqual(
    op("+", many, one, { on: true, labels: ["app"], card: "many-to-one", include: ["team"] }),
    [
      [{ app: "web", host: "a", team: "t1" }, [101, 102]],
      [{ app: "web", host: "b", team: "t1" }, [103, 104]],
    ],
  );
  assert.deepEqual(
    op("-", one, many, { on: true, labels: ["app"], card: "one-to-many" }),
    [[{ app: "web", host: "a" }, [99, 98]], [{ app: "web", host: "b" }, [97, 96]]],
  );
  assert.throws(
    () => op("+", many, one, { on: true, labels: ["app"] }),
    (e: unknown) =>
      e instanceof MetricQueryError && /^multiple matches for labels: many-to-one/.test(e.message),
  );
  assert.throws(
    () => op("+", one, many, { on: true, labels: ["app"] }),
    (e: unknown) =>
      e instanceof MetricQueryError && /^found duplicate series on the right/.test(e.message),
  );
});

Deno.test("and, or and unless match on labels at each step", () => {
  assert.deepEqual(op("and", L, R), [[{ app: "web", host: "a" }, [1, 10]]]);
  assert.deepEqual(op("unless", L, R), [[{ app: "api", host: "a" }, [2, undefined]]]);
  assert.deepEqual(op("or", L, R), [
    [{ app: "api", host: "a" }, [2, undefined]],
    [{ app: "web", host: "a" }, [1, 10]],
    [{ app: "web", host: "b" }, [4, 4]],
  ]);
  assert.deepEqual(op("and", L, R, { on: true, labels: ["host"] }), [
    [{ app: "api", host: "a" }, [2, undefined]],
    [{ app: "web", host: "a" }, [1, 10]],
  ]);
});

Deno.test("a number meets every sample and keeps its labels", () => {
  const with_ = (o: BinaryExpr["op"], n: number, left: boolean, bool = false) =>
    valuesOf(withNumber({ op: o, bool }, L, n, left, 2));
  assert.deepEqual(with_("-", 10, true), [
    [{ app: "api", host: "a" }, [8, undefined]],
    [{ app: "web", host: "a" }, [9, 0]],
  ]);
  assert.deepEqual(with_("^", 2, false), [
    [{ app: "api", host: "a" }, [4, undefined]],
    [{ app: "web", host: "a" }, [1, 100]],
  ]);
  assert.deepEqual(with_("<", 5, false), [
    [{ app: "api", host: "a" }, [2, undefined]],
    [{ app: "web", host: "a" }, [1, undefined]],
  ]);
  assert.deepEqual(with_(">", 5, true, true), [
    [{ app: "api", host: "a" }, [1, undefined]],
    [{ app: "web", host: "a" }, [1, 0]],
  ]);
});
