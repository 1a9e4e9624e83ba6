/**
 * The limits of metric queries, which bound their memory and time: the
 * series of an answer (Loki's `max_query_series`, with Loki's message, which
 * Logs Drilldown recognises), the partial aggregates a range aggregation
 * keeps before its windows are combined (series × intervals), and the work
 * of combining them (a range much longer than the step makes every window
 * combine many partials, or many samples for a quantile).
 *
 * @module
 */

import { MetricQueryError } from "./series.ts";

/** Series an answer may hold: Loki's default `max_query_series`. */
export const MAX_SERIES = 500;

/**
 * Partial aggregates (series × intervals of the steps) one range
 * aggregation may keep: 16 M, about 256 MB at two numbers each.
 */
export const MAX_RANGE_CELLS = 16 * 1024 * 1024;

/**
 * Fails when an answer holds more than {@linkcode MAX_SERIES} series.
 *
 * @example
 * ```ts
 * import { checkSeriesLimit } from "./limits.ts";
 * import assert from "node:assert/strict";
 * checkSeriesLimit(500);
 * assert.throws(() => checkSeriesLimit(501), /^MetricQueryError: maximum number of series \(500\) reached/);
 * ```
 */
export function checkSeriesLimit(series: number): void {
  if (series > MAX_SERIES) {
    throw new MetricQueryError(
      `maximum number of series (${MAX_SERIES}) reached for a single query; consider reducing ` +
        "query cardinality by adding more specific stream selectors, reducing the time range, " +
        "or aggregating results with functions like sum(), count() or topk()",
    );
  }
}

/**
 * Fails when a range aggregation would keep more than
 * {@linkcode MAX_RANGE_CELLS} partial aggregates: `series` series over
 * `intervals` intervals.
 */
export function checkRangeCells(series: number, intervals: number, what: string): void {
  if (series * intervals > MAX_RANGE_CELLS) {
    throw new MetricQueryError(
      `${what} splits into more than ${series - 1} series over ${intervals} time intervals, ` +
        `more than the ${MAX_RANGE_CELLS} partial results a range aggregation may hold; ` +
        "aggregate it with sum by (…), select fewer streams or use a larger step",
    );
  }
}

/**
 * Partial aggregates or samples one range aggregation may combine over all
 * its windows: 64 M, well under a second of work.
 */
export const MAX_WINDOW_WORK = 64 * 1024 * 1024;

/** Fails when combining the windows of a range aggregation would take more than {@linkcode MAX_WINDOW_WORK}. */
export function checkWindowWork(work: number, what: string): void {
  if (work > MAX_WINDOW_WORK) {
    throw new MetricQueryError(
      `${what} would combine more than ${MAX_WINDOW_WORK} partial results or samples over its ` +
        "steps; use a larger step, a shorter range or fewer series",
    );
  }
}
