/**
 * Vector aggregations (Loki's `VectorAggEvaluator`), step by step: the
 * series present at a step fall into groups by their labels (`by` keeps
 * the named ones, `without` drops them), and each group gives one sample:
 * `sum`, `avg` (a running mean that keeps infinities), `min`/`max` (NaN
 * gives way to any value), `count`, `stddev`/`stdvar` (population, Welford).
 * `topk`/`bottomk` keep the k largest/smallest samples of each group with
 * their own labels (NaN last), and `sort`/`sort_desc` keep every sample in
 * value order — an order only an instant query's vector shows.
 *
 * @module
 */

import type { Grouping, VectorAggregation } from "./ast.ts";
import { emptySeries, type Labels, labelsKey, labelsOf, type Series } from "./series.ts";

/** The labels of the group of a series with `labels`. */
function groupLabels(labels: Labels, grouping: Grouping): Labels {
  const out: Record<string, string> = {};
  if (grouping.without) {
    for (const [name, value] of Object.entries(labels)) {
      if (!grouping.labels.includes(name)) out[name] = value;
    }
  } else {
    for (const name of grouping.labels) if (Object.hasOwn(labels, name)) out[name] = labels[name];
  }
  return labelsOf(out);
}

/** Series grouped by their group's labels, in order of first appearance. */
function groupsOf(input: readonly Series[], grouping: Grouping) {
  const groups = new Map<string, { labels: Labels; members: Series[] }>();
  for (const s of input) {
    const labels = groupLabels(s.labels, grouping);
    const key = labelsKey(labels);
    let group = groups.get(key);
    if (!group) groups.set(key, group = { labels, members: [] });
    group.members.push(s);
  }
  return [...groups.values()];
}

/** Folds the values present at one step into one (Loki's `groupedAggregation`). */
function fold(op: VectorAggregation["op"], values: number[]): number {
  switch (op) {
    case "sum":
      return values.reduce((a, b) => a + b, 0);
    case "count":
      return values.length;
    case "min":
    case "max": {
      let out = values[0];
      for (const v of values) {
        if ((op === "max" ? out < v : out > v) || Number.isNaN(out)) out = v;
      }
      return out;
    }
    case "avg": {
      let mean = values[0];
      for (let i = 1; i < values.length; i++) {
        const v = values[i];
        if (!Number.isFinite(mean) && !Number.isNaN(mean)) {
          // An infinite mean stays unless a NaN or the other infinity comes.
          if (!Number.isFinite(v) && !Number.isNaN(v) && (mean > 0) === (v > 0)) continue;
          if (Number.isFinite(v)) continue;
        }
        mean += (v - mean) / (i + 1);
      }
      return mean;
    }
    default: {
      // stddev, stdvar
      let mean = 0;
      let m2 = 0;
      values.forEach((v, i) => {
        const delta = v - mean;
        mean += delta / (i + 1);
        m2 += delta * (v - mean);
      });
      const variance = m2 / values.length;
      return op === "stddev" ? Math.sqrt(variance) : variance;
    }
  }
}

/** Descending (topk, sort_desc) or ascending (bottomk, sort) by value, NaN last, then by labels. */
function valueOrder(descending: boolean, k: number) {
  return (a: Series, b: Series): number => {
    const x = a.values[k];
    const y = b.values[k];
    if (Number.isNaN(x) || Number.isNaN(y)) {
      if (!Number.isNaN(x)) return -1;
      if (!Number.isNaN(y)) return 1;
    } else if (x !== y) return descending ? y - x : x - y;
    return a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
  };
}

/**
 * Aggregates `input` (series over `count` steps) as `expr` says. For
 * `sort` and `sort_desc` over one step (an instant query), the series come
 * in value order.
 *
 * @example
 * ```ts
 * import { aggregate } from "./vector_aggregation.ts";
 * import { emptySeries } from "./series.ts";
 * import assert from "node:assert/strict";
 * const at = (labels: Record<string, string>, v: number) => {
 *   const s = emptySeries(labels, 1);
 *   s.values[0] = v;
 *   s.present[0] = 1;
 *   return s;
 * };
 * const input = [at({ app: "a", level: "x" }, 1), at({ app: "a", level: "y" }, 2), at({ app: "b" }, 4)];
 * const sum = aggregate({ op: "sum", grouping: { without: false, labels: ["app"] } }, input, 1);
 * assert.deepEqual(sum.map((s) => [s.labels, s.values[0]]), [[{ app: "a" }, 3], [{ app: "b" }, 4]]);
 * ```
 */
export function aggregate(
  expr: Pick<VectorAggregation, "op" | "grouping" | "param">,
  input: readonly Series[],
  count: number,
): Series[] {
  const { op } = expr;
  const groups = groupsOf(input, expr.grouping);
  if (op === "topk" || op === "bottomk" || op === "sort" || op === "sort_desc") {
    const descending = op === "topk" || op === "sort_desc";
    const keep = op === "topk" || op === "bottomk" ? expr.param! : Infinity;
    const out = new Map<Series, Series>();
    for (let k = 0; k < count; k++) {
      for (const { members } of groups) {
        const present = members.filter((s) => s.present[k]).sort(valueOrder(descending, k));
        for (const s of present.slice(0, keep)) {
          let o = out.get(s);
          if (!o) out.set(s, o = emptySeries(s.labels, count));
          o.values[k] = s.values[k];
          o.present[k] = 1;
        }
      }
    }
    const series = [...out.values()];
    if (count === 1) series.sort(valueOrder(descending, 0));
    return series;
  }
  const out: Series[] = [];
  const values: number[] = [];
  for (const { labels, members } of groups) {
    const s = emptySeries(labels, count);
    for (let k = 0; k < count; k++) {
      values.length = 0;
      for (const m of members) if (m.present[k]) values.push(m.values[k]);
      if (values.length === 0) continue;
      s.values[k] = fold(op, values);
      s.present[k] = 1;
    }
    out.push(s);
  }
  return out;
}
