/**
 * Binary operations of metric queries (Loki's `BinOpStepEvaluator` and
 * `LiteralStepEvaluator`), step by step.
 *
 * - With a number on one side, every sample meets the number and keeps its
 *   labels; a comparison keeps the samples for which it holds (with their
 *   value), or with `bool` gives every sample 1 or 0.
 * - Between vectors, samples pair by their labels: all of them, those of
 *   `on (…)`, or all but those of `ignoring (…)`. One-to-one matching
 *   refuses two samples of a side with the same match; `group_left` and
 *   `group_right` let the "many" side have several, and copy their listed
 *   labels from the "one" side. The result has the labels of the left (the
 *   "many") sample, reduced to the `on` labels or without the `ignoring`
 *   ones in one-to-one matching.
 * - `and` keeps the left samples that have a match on the right, `unless`
 *   those that have none, `or` every left sample and the right ones without
 *   a match on the left.
 *
 * @module
 */

import type { BinaryExpr, VectorMatching } from "./ast.ts";
import { applyOp, isComparison } from "./operators.ts";
import {
  emptySeries,
  formatLabels,
  type Labels,
  labelsKey,
  labelsOf,
  MetricQueryError,
  type Series,
} from "./series.ts";

/** The match signature of a series' labels. */
function signature(labels: Labels, matching: VectorMatching): string {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(labels)) {
    if (matching.labels.includes(name) === matching.on) out[name] = value;
  }
  return labelsKey(out);
}

/** The labels of a result: the "many" side's, as Loki's `resultMetric`. */
function resultLabels(many: Labels, one: Labels, matching: VectorMatching): Labels {
  const out: Record<string, string> = { ...many };
  if (matching.card === "one-to-one") {
    for (const name of Object.keys(out)) {
      if (matching.labels.includes(name) !== matching.on) delete out[name];
    }
  }
  for (const name of matching.include) {
    if (Object.hasOwn(one, name)) out[name] = one[name];
    else delete out[name];
  }
  return labelsOf(out);
}

/** Collects result samples by label set, step by step. */
class Collector {
  readonly #series = new Map<string, Series>();
  readonly #count: number;

  constructor(count: number) {
    this.#count = count;
  }

  put(labels: Labels, k: number, value: number): void {
    const key = labelsKey(labels);
    let s = this.#series.get(key);
    if (!s) this.#series.set(key, s = emptySeries(labels, this.#count));
    s.values[k] = value;
    s.present[k] = 1;
  }

  get series(): Series[] {
    return [...this.#series.values()];
  }
}

/**
 * `series op number` (`numberOnLeft` false) or `number op series`.
 *
 * @example
 * ```ts
 * import { withNumber } from "./binary.ts";
 * import { emptySeries } from "./series.ts";
 * import assert from "node:assert/strict";
 * const s = emptySeries({ app: "web" }, 2);
 * s.values.set([1, 5]);
 * s.present.set([1, 1]);
 * const [gt] = withNumber({ op: ">", bool: false }, [s], 2, false, 2);
 * assert.deepEqual([...gt.present], [0, 1]);
 * assert.equal(gt.values[1], 5);
 * ```
 */
export function withNumber(
  expr: Pick<BinaryExpr, "op" | "bool">,
  series: readonly Series[],
  number: number,
  numberOnLeft: boolean,
  count: number,
): Series[] {
  const { op, bool } = expr;
  if (op === "and" || op === "or" || op === "unless") {
    throw new MetricQueryError(`set operator ${op} needs vectors on both sides`);
  }
  const out: Series[] = [];
  for (const s of series) {
    const o = emptySeries(s.labels, count);
    for (let k = 0; k < count; k++) {
      if (!s.present[k]) continue;
      const v = s.values[k];
      const result = numberOnLeft ? applyOp(op, number, v) : applyOp(op, v, number);
      if (isComparison(op) && !bool) {
        if (result === 0) continue;
        o.values[k] = v;
      } else o.values[k] = result;
      o.present[k] = 1;
    }
    out.push(o);
  }
  return out;
}

/**
 * `left op right` between vectors.
 *
 * @throws {MetricQueryError} When the matching is ambiguous.
 */
export function betweenVectors(
  expr: Pick<BinaryExpr, "op" | "bool" | "matching">,
  left: readonly Series[],
  right: readonly Series[],
  count: number,
): Series[] {
  const { op, matching } = expr;
  const lsig = left.map((s) => signature(s.labels, matching));
  const rsig = right.map((s) => signature(s.labels, matching));
  const out = new Collector(count);
  for (let k = 0; k < count; k++) {
    const ls = left.flatMap((s, i) => (s.present[k] ? [i] : []));
    const rs = right.flatMap((s, i) => (s.present[k] ? [i] : []));
    switch (op) {
      case "and":
      case "unless": {
        if (ls.length === 0) break;
        const rightSigs = new Set(rs.map((i) => rsig[i]));
        for (const i of ls) {
          if (rightSigs.has(lsig[i]) === (op === "and")) {
            out.put(left[i].labels, k, left[i].values[k]);
          }
        }
        break;
      }
      case "or": {
        const leftSigs = new Set(ls.map((i) => lsig[i]));
        for (const i of ls) out.put(left[i].labels, k, left[i].values[k]);
        for (const i of rs) {
          if (!leftSigs.has(rsig[i])) out.put(right[i].labels, k, right[i].values[k]);
        }
        break;
      }
      default:
        matchStep(expr, left, right, lsig, rsig, ls, rs, k, out);
    }
  }
  return out.series;
}

/** One step of an arithmetic or comparison operation between vectors (Loki's `vectorBinop`). */
function matchStep(
  expr: Pick<BinaryExpr, "op" | "bool" | "matching">,
  left: readonly Series[],
  right: readonly Series[],
  lsig: string[],
  rsig: string[],
  ls: number[],
  rs: number[],
  k: number,
  out: Collector,
): void {
  const { matching, bool } = expr;
  const op = expr.op as Exclude<BinaryExpr["op"], "and" | "or" | "unless">;
  // The "many" side is scanned, the "one" side looked up.
  const swap = matching.card === "one-to-many";
  const [many, one, manySig, oneSig, manyAt, oneAt] = swap
    ? [right, left, rsig, lsig, rs, ls]
    : [left, right, lsig, rsig, ls, rs];
  const ones = new Map<string, Series>();
  for (const i of oneAt) {
    if (ones.has(oneSig[i])) {
      throw new MetricQueryError(
        `found duplicate series on the ${swap ? "left" : "right"} hand-side of "${op}";` +
          `many-to-many matching not allowed: matching labels must be unique on one side ` +
          `(${formatLabels(one[i].labels)})`,
      );
    }
    ones.set(oneSig[i], one[i]);
  }
  const matched = new Map<string, Set<string>>();
  for (const i of manyAt) {
    const partner = ones.get(manySig[i]);
    if (!partner) continue;
    const labels = resultLabels(many[i].labels, partner.labels, matching);
    const seen = matched.get(manySig[i]);
    if (matching.card === "one-to-one") {
      if (seen) {
        throw new MetricQueryError(
          `multiple matches for labels: many-to-one matching must be explicit (group_left/group_right) ` +
            `(${formatLabels(many[i].labels)})`,
        );
      }
      matched.set(manySig[i], new Set());
    } else {
      const key = labelsKey(labels);
      if (seen?.has(key)) {
        throw new MetricQueryError(
          `multiple matches for labels: grouping labels must ensure unique matches (${
            formatLabels(labels)
          })`,
        );
      }
      if (seen) seen.add(key);
      else matched.set(manySig[i], new Set([key]));
    }
    const [l, r] = swap ? [partner, many[i]] : [many[i], partner];
    const result = applyOp(op, l.values[k], r.values[k]);
    if (isComparison(op) && !bool) {
      if (result !== 0) out.put(labels, k, l.values[k]);
    } else out.put(labels, k, result);
  }
}
