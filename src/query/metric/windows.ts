/**
 * The windows of a range aggregation over its steps, cut into intervals. At
 * step time `t` (moved back by the offset) a range `r` covers the lines in
 * `(t - r, t]`: the start is exclusive, the end inclusive, as Loki's
 * `batchRangeVectorIterator.load` takes them. The starts and ends of every
 * window, sorted, cut the time into intervals `(b[j], b[j+1]]` so that each
 * window is a run of whole intervals: a line falls into one interval, and a
 * window's value combines its intervals' partial aggregates. With a range
 * that is a whole number of steps (the usual `[1m]` at a 1-minute step) the
 * intervals are the steps themselves.
 *
 * @module
 */

import type { Steps } from "./series.ts";

/** A range aggregation's windows over the steps, as runs of intervals. */
export interface Windows {
  /** Interval `j` is `(bounds[j], bounds[j + 1]]`. */
  readonly bounds: BigInt64Array;
  /** Intervals in `[first[k], end[k])` make up the window of step `k`. */
  readonly first: Int32Array;
  readonly end: Int32Array;
  /** 1 for the intervals some window covers (lines elsewhere count nowhere). */
  readonly covered: Uint8Array;
  /** The number of intervals. */
  readonly intervals: number;
}

/**
 * The windows of `range` over `steps`, each moved back by `offset`.
 *
 * @example
 * ```ts
 * import { rangeWindows } from "./windows.ts";
 * import assert from "node:assert/strict";
 * // Steps at 100, 110, 120; a range of 20: (80, 100], (90, 110], (100, 120].
 * const w = rangeWindows({ start: 100n, step: 10n, count: 3 }, 20n, 0n);
 * assert.deepEqual([...w.bounds], [80n, 90n, 100n, 110n, 120n]);
 * assert.deepEqual([...w.first], [0, 1, 2]);
 * assert.deepEqual([...w.end], [2, 3, 4]);
 * ```
 */
export function rangeWindows(steps: Steps, range: bigint, offset: bigint): Windows {
  const { count } = steps;
  const at = (k: number) => steps.start - offset + BigInt(k) * steps.step;
  // Merge the sorted window starts and ends, without duplicates.
  const bounds: bigint[] = [];
  const first = new Int32Array(count);
  const end = new Int32Array(count);
  const push = (b: bigint) => {
    if (bounds.length === 0 || bounds[bounds.length - 1] !== b) bounds.push(b);
    return bounds.length - 1;
  };
  let s = 0;
  let e = 0;
  while (s < count || e < count) {
    const start = s < count ? at(s) - range : undefined;
    const stop = e < count ? at(e) : undefined;
    if (start !== undefined && (stop === undefined || start <= stop)) first[s++] = push(start);
    else end[e++] = push(stop!);
  }
  const intervals = Math.max(bounds.length - 1, 0);
  const covered = new Uint8Array(intervals);
  // Windows start in order: a sweep marks what each one adds.
  let marked = 0;
  for (let k = 0; k < count; k++) {
    for (let j = Math.max(first[k], marked); j < end[k]; j++) covered[j] = 1;
    marked = Math.max(marked, end[k]);
  }
  return { bounds: BigInt64Array.from(bounds), first, end, covered, intervals };
}

/**
 * Finds the interval of a time, fastest for ascending times (the lines of
 * one block): it remembers the last interval found.
 */
export class IntervalFinder {
  readonly #bounds: BigInt64Array;
  #last = 0;

  /** A finder over the intervals of `windows`. */
  constructor(windows: Windows) {
    this.#bounds = windows.bounds;
  }

  /**
   * The interval holding `ts`, or -1 when `ts` is outside them all.
   *
   * @example
   * ```ts
   * import { IntervalFinder, rangeWindows } from "./windows.ts";
   * import assert from "node:assert/strict";
   * const find = new IntervalFinder(rangeWindows({ start: 100n, step: 10n, count: 3 }, 20n, 0n));
   * assert.deepEqual([80n, 81n, 90n, 91n, 120n, 121n].map((t) => find.of(t)), [-1, 0, 0, 1, 3, -1]);
   * ```
   */
  of(ts: bigint): number {
    const b = this.#bounds;
    const n = b.length - 1;
    let j = this.#last;
    if (j < n && ts > b[j] && ts <= b[j + 1]) return j;
    if (++j < n && ts > b[j] && ts <= b[j + 1]) return this.#last = j;
    if (n < 1 || ts <= b[0] || ts > b[n]) return -1;
    // The first bound at or after ts closes its interval.
    let lo = 1;
    let hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (b[mid] < ts) lo = mid + 1;
      else hi = mid;
    }
    return this.#last = lo - 1;
  }
}
