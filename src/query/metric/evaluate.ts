/**
 * Evaluating a metric query (Loki's `pkg/logql/engine.go` and
 * `evaluator.go`): at `start + k·step` up to `end` for a range query, at
 * one time for an instant query. Range aggregations are read from the
 * engine (`range_aggregation.ts`), the rest is computed over their series:
 * vector aggregations, binary operations, `label_replace`. A `sum` over a
 * counting or summing range aggregation (`count_over_time`, `rate`,
 * `bytes_over_time`, `bytes_rate`, `sum_over_time`) groups the samples as
 * they are read, as Loki does, so the series of the lines never pile up.
 *
 * What the answer is, as Loki's: a number gives a `scalar` (instant) or one
 * series without labels at every step; anything else a `vector` (instant,
 * sorted by labels unless the query sorts) or a `matrix` (series sorted by
 * labels, each with the steps it has a value at). At most 500 series
 * (`limits.ts`).
 *
 * @module
 */

import type { EngineContext } from "../plan.ts";
import { ReadFigures } from "../read_figures.ts";
import type { MetricExpr, RangeAggregation } from "./ast.ts";
import { betweenVectors, withNumber } from "./binary.ts";
import { labelReplace } from "./label_replace.ts";
import { checkSeriesLimit } from "./limits.ts";
import { evaluateRange, type RangeOptions } from "./range_aggregation.ts";
import { compareLabels, emptySeries, type Series, type Steps } from "./series.ts";
import { aggregate } from "./vector_aggregation.ts";

/** A metric query and when to evaluate it. */
export interface MetricQuery {
  readonly expr: MetricExpr;
  /** An instant query is evaluated once, at `start`. */
  readonly instant: boolean;
  readonly start: bigint;
  /** The last time a range query may be evaluated at (inclusive). */
  readonly end: bigint;
  /** Nanoseconds between the steps of a range query (positive). */
  readonly step: bigint;
}

/** The answer of a metric query. */
export interface MetricResult {
  /** `scalar` for a number at an instant, `vector` for an instant query, else `matrix`. */
  resultType: "scalar" | "vector" | "matrix";
  /** The evaluation times. */
  steps: Steps;
  /** The series, in the answer's order (a scalar: one series without labels). */
  series: Series[];
  /** One message per file that could not be read; the values lack its lines. */
  warnings: string[];
  /** What the query read, for its statistics. */
  read: ReadFigures;
}

/** Range aggregations whose `sum` may group samples as they are read (Loki's `canInjectVectorGrouping`). */
const ADDITIVE = new Set<RangeAggregation["op"]>([
  "count_over_time",
  "rate",
  "bytes_over_time",
  "bytes_rate",
  "sum_over_time",
]);

/** Whether `expr` sorts anywhere (Loki's `Sortable`): then an instant vector keeps its order. */
function sorts(expr: MetricExpr): boolean {
  switch (expr.kind) {
    case "vector_aggregation":
      return expr.op === "sort" || expr.op === "sort_desc" || sorts(expr.expr);
    case "binary":
      return sorts(expr.left) || sorts(expr.right);
    case "label_replace":
      return sorts(expr.expr);
    default:
      return false;
  }
}

/** Walks the tree: a number stays a number, everything else becomes series. */
class Evaluator {
  readonly #ctx: EngineContext;
  readonly #steps: Steps;
  readonly warnings: string[] = [];
  readonly read = new ReadFigures();

  constructor(ctx: EngineContext, steps: Steps) {
    this.#ctx = ctx;
    this.#steps = steps;
  }

  async eval(expr: MetricExpr): Promise<Series[] | number> {
    const { count } = this.#steps;
    switch (expr.kind) {
      case "number":
        return expr.value;
      case "vector": {
        const s = emptySeries({}, count);
        s.values.fill(expr.value);
        s.present.fill(1);
        return [s];
      }
      case "range_aggregation":
        return await this.#range(expr);
      case "vector_aggregation": {
        const inner = expr.expr;
        const pushed = expr.op === "sum" && inner.kind === "range_aggregation" &&
          !inner.grouping && ADDITIVE.has(inner.op);
        const series = pushed
          ? await this.#range(inner, { grouping: expr.grouping })
          : await this.#vector(inner);
        return aggregate(expr, series, count);
      }
      case "label_replace":
        return await labelReplace(expr, await this.#vector(expr.expr), count);
      case "binary": {
        const [left, right] = await Promise.all([this.eval(expr.left), this.eval(expr.right)]);
        // Two numbers were reduced while parsing.
        if (typeof left === "number") return withNumber(expr, right as Series[], left, true, count);
        if (typeof right === "number") return withNumber(expr, left, right, false, count);
        return betweenVectors(expr, left, right, count);
      }
    }
  }

  async #vector(expr: MetricExpr): Promise<Series[]> {
    const value = await this.eval(expr);
    // The parser refuses numbers where a vector is needed.
    return value as Series[];
  }

  async #range(expr: RangeAggregation, options: RangeOptions = {}): Promise<Series[]> {
    const r = await evaluateRange(this.#ctx, expr, this.#steps, { ...options, read: this.read });
    this.warnings.push(...r.warnings);
    return r.series;
  }
}

/**
 * The steps of `query`: `start + k·step` up to `end`, or `start` alone.
 *
 * @example
 * ```ts
 * import { stepsOf } from "./evaluate.ts";
 * import assert from "node:assert/strict";
 * const expr = { kind: "number", value: 1 } as const;
 * assert.deepEqual(stepsOf({ expr, instant: false, start: 0n, end: 100n, step: 30n }), {
 *   start: 0n, step: 30n, count: 4,
 * });
 * ```
 */
export function stepsOf(query: MetricQuery): Steps {
  if (query.instant) return { start: query.start, step: 0n, count: 1 };
  return {
    start: query.start,
    step: query.step,
    count: Number((query.end - query.start) / query.step) + 1,
  };
}

/**
 * Evaluates a metric query.
 *
 * @example
 * ```ts
 * import { evaluateMetric } from "./evaluate.ts";
 * import { parseMetricQuery } from "./parse.ts";
 * import { MemBatch } from "../../ingest/head.ts";
 * import { Catalog } from "../../storage/catalog.ts";
 * import { SegmentCache } from "../../storage/segment_cache.ts";
 * import assert from "node:assert/strict";
 * const dir = await Deno.makeTempDir();
 * const catalog = await Catalog.open(dir);
 * const head = new MemBatch();
 * const s = 1_000_000_000n;
 * head.add(1, [{ key: '{"app":"web"}', ts: [10n * s, 20n * s, 70n * s], lines: ["a", "b", "c"] }]);
 * const ctx = { catalog, cache: new SegmentCache(catalog.opener), head: () => [head], concurrency: 4 };
 * const r = await evaluateMetric(ctx, {
 *   expr: parseMetricQuery('sum(count_over_time({app="web"}[1m]))'),
 *   instant: false,
 *   start: 60n * s,
 *   end: 120n * s,
 *   step: 60n * s,
 * });
 * assert.equal(r.resultType, "matrix");
 * assert.deepEqual([...r.series[0].values], [2, 1]); // (0 s, 60 s] and (60 s, 120 s]
 * catalog.close();
 * await Deno.remove(dir, { recursive: true });
 * ```
 *
 * @throws {MetricQueryError} When a series carries `__error__`, the answer
 * holds too many series, or a binary operation cannot match its sides.
 */
export async function evaluateMetric(
  ctx: EngineContext,
  query: MetricQuery,
): Promise<MetricResult> {
  const steps = stepsOf(query);
  const evaluator = new Evaluator(ctx, steps);
  const value = await evaluator.eval(query.expr);
  const { warnings, read } = evaluator;
  if (typeof value === "number") {
    const s = emptySeries({}, steps.count);
    s.values.fill(value);
    s.present.fill(1);
    return {
      resultType: query.instant ? "scalar" : "matrix",
      steps,
      series: [s],
      warnings,
      read,
    };
  }
  const series = value.filter((s) => s.present.some((p) => p === 1));
  checkSeriesLimit(series.length);
  if (!(query.instant && sorts(query.expr))) {
    series.sort((a, b) => compareLabels(a.labels, b.labels));
  }
  return {
    resultType: query.instant ? "vector" : "matrix",
    steps,
    series,
    warnings,
    read,
  };
}
