/**
 * Line counts per step bucket (`/api/v1/volume`): the lines of a selection
 * counted per `step` from `start` (bucket `i` holds the times `[start +
 * i·step, start + (i+1)·step)`, the last one cut at `end`), one series per
 * value of the `by` labels. It is `sum by (…) (count_over_time(selection
 * [step]))` of the range-aggregation evaluator, at each bucket's last
 * nanosecond, with the buckets without lines at 0; lines a parser failed on
 * count too (a metric query would refuse them).
 *
 * @module
 */

import type { EngineContext, Selection } from "../plan.ts";
import { evaluateRange } from "./range_aggregation.ts";

/** A count query; `start` and `end` are times here (0n is the time 0, not unbounded). */
export interface CountQuery extends Selection {
  /** Bucket width in nanoseconds. */
  readonly step: bigint;
  /**
   * Labels that split the series: of the lines' final labels, in any
   * category (as a metric query's `by`); none: one series.
   */
  readonly by: readonly string[];
}

/** Counts per bucket, one series per label set. */
export interface Counts {
  start: bigint;
  end: bigint;
  step: bigint;
  series: { labels: Record<string, string>; counts: [bigint, number][] }[];
  /** One message per damaged file skipped; the counts lack its lines. */
  warnings: string[];
}

/**
 * Counts the lines of `query` per bucket.
 *
 * @throws {RangeError} If `start` is after `end` or `step` is not positive.
 */
export async function countOverTime(ctx: EngineContext, query: CountQuery): Promise<Counts> {
  const { start: lo, end: hi, step, by } = query;
  if (lo > hi || step <= 0n) {
    throw new RangeError(
      `Cannot count lines: need start <= end and step > 0, got start ${lo}, end ${hi}, step ${step}`,
    );
  }
  const buckets = Number((hi - lo) / step) + 1;
  const { series, warnings } = await evaluateRange(
    ctx,
    {
      kind: "range_aggregation",
      op: "count_over_time",
      matchers: query.matchers,
      pipeline: [...query.pushdown, ...query.pipeline],
      range: step,
      offset: 0n,
    },
    // The window of step k, (t - step, t], is bucket k: t is its last nanosecond.
    { start: lo + step - 1n, step, count: buckets },
    { grouping: { without: false, labels: by }, until: hi, keepErrors: true },
  );
  // Series sort by their label values, a missing label as "" (first).
  const sortKey = (labels: Readonly<Record<string, string>>) =>
    JSON.stringify(by.map((name) => (Object.hasOwn(labels, name) ? labels[name] : "")));
  return {
    start: lo,
    end: hi,
    step,
    series: series
      .map((s) => ({ key: sortKey(s.labels), s }))
      .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
      .map(({ s }) => ({
        labels: { ...s.labels },
        counts: Array.from(s.values, (n, i): [bigint, number] => [lo + BigInt(i) * step, n]),
      })),
    warnings,
  };
}
