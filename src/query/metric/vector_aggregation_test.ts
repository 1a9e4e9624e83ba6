import assert from "node:assert/strict";
import type { VectorAggregation } from "./ast.ts";
import { emptySeries, type Series } from "./series.ts";
import { aggregate } from "./vector_aggregation.ts";

/** A series over the steps, `undefined` where it has no sample. */
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
  return out.map((s) => [
    s.labels,
    Array.from(s.values, (v, k) => (s.present[k] ? v : undefined)),
  ]);
}

const INPUT = [
  series({ app: "web", host: "a" }, [1, 4, undefined]),
  series({ app: "web", host: "b" }, [3, undefined, 5]),
  series({ app: "api", host: "a" }, [2, 8, 6]),
];

function agg(op: VectorAggregation["op"], by: string[] | null, param?: number) {
  const grouping = by === null
    ? { without: true, labels: ["host"] }
    : { without: false, labels: by };
  return valuesOf(aggregate({ op, grouping, param }, INPUT, 3));
}

Deno.test("aggregate() groups the series present at each step by their labels", () => {
  assert.deepEqual(agg("sum", ["app"]), [
    [{ app: "web" }, [4, 4, 5]],
    [{ app: "api" }, [2, 8, 6]],
  ]);
  assert.deepEqual(agg("sum", []), [[{}, [6, 12, 11]]]);
  assert.deepEqual(agg("count", null), [[{ app: "web" }, [2, 1, 1]], [{ app: "api" }, [1, 1, 1]]]);
  assert.deepEqual(agg("avg", ["host"]), [[{ host: "a" }, [1.5, 6, 6]], [{ host: "b" }, [
    3,
    undefined,
    5,
  ]]]);
  assert.deepEqual(agg("min", []), [[{}, [1, 4, 5]]]);
  assert.deepEqual(agg("max", []), [[{}, [3, 8, 6]]]);
  assert.deepEqual(agg("stdvar", ["app"]), [[{ app: "web" }, [1, 0, 0]], [{ app: "api" }, [
    0,
    0,
    0,
  ]]]);
  assert.deepEqual(agg("stddev", []), [[{}, [Math.sqrt(2 / 3), 2, 0.5]]]);
  // A label the grouping names but a series lacks is left out.
  assert.deepEqual(agg("sum", ["zone"]), [[{}, [6, 12, 11]]]);
});

Deno.test("topk and bottomk keep the k extreme samples per group and step, with their labels", () => {
  assert.deepEqual(agg("topk", [], 1), [
    [{ app: "web", host: "b" }, [3, undefined, undefined]],
    [{ app: "api", host: "a" }, [undefined, 8, 6]],
  ]);
  assert.deepEqual(agg("bottomk", ["app"], 1), [
    [{ app: "web", host: "a" }, [1, 4, undefined]],
    [{ app: "api", host: "a" }, [2, 8, 6]],
    [{ app: "web", host: "b" }, [undefined, undefined, 5]],
  ]);
  // NaN comes last.
  const nan = [series({ a: "1" }, [NaN]), series({ a: "2" }, [1])];
  const top = aggregate({ op: "topk", grouping: { without: false, labels: [] }, param: 1 }, nan, 1);
  assert.deepEqual(valuesOf(top), [[{ a: "2" }, [1]]]);
});

Deno.test("sort and sort_desc order an instant vector by value", () => {
  const at = [series({ a: "x" }, [2]), series({ a: "y" }, [NaN]), series({ a: "z" }, [1])];
  const sorted = (op: "sort" | "sort_desc") =>
    aggregate({ op, grouping: { without: false, labels: [] } }, at, 1).map((s) => s.labels.a);
  assert.deepEqual(sorted("sort"), ["z", "x", "y"]);
  assert.deepEqual(sorted("sort_desc"), ["x", "z", "y"]);
});
