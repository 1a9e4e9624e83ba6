/**
 * Summary statistics of timing samples: nearest-rank percentiles and a compact summary.
 *
 * @module
 */

/** Percentiles and extremes of a set of samples, in the samples' unit. */
export interface Summary {
  /** Number of samples. */
  runs: number;
  /** Smallest sample. */
  min: number;
  /** Median (nearest rank). */
  p50: number;
  /** 95th percentile (nearest rank). */
  p95: number;
  /** 99th percentile (nearest rank). */
  p99: number;
  /** Largest sample. */
  max: number;
  /** Arithmetic mean. */
  mean: number;
}

/**
 * The `p`-th percentile of ascending `sorted` samples by the nearest-rank method: the smallest
 * sample such that at least `p`% of the samples are at most it.
 *
 * @example
 * ```ts
 * import { percentile } from "./stats.ts";
 * console.log(percentile([1, 2, 3, 4], 50)); // 2
 * ```
 * @throws {RangeError} If there are no samples, or `p` is not in [0, 100].
 */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) throw new RangeError("Cannot take a percentile of no samples");
  if (!(p >= 0 && p <= 100)) {
    throw new RangeError(`Cannot take percentile ${p}: expected a number in [0, 100]`);
  }
  const rank = Math.ceil((p / 100) * sorted.length) - 1;
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank))];
}

/**
 * Summarizes samples (in any order), rounding every figure to `digits` decimals.
 *
 * @example
 * ```ts
 * import { summarize } from "./stats.ts";
 * const s = summarize([12.5, 10, 11, 30]);
 * console.log(s.p50, s.p95, s.max); // 11 30 30
 * ```
 * @throws {RangeError} If there are no samples.
 */
export function summarize(samples: readonly number[], digits = 2): Summary {
  if (samples.length === 0) throw new RangeError("Cannot summarize no samples");
  const sorted = Float64Array.from(samples).sort();
  const mean = sorted.reduce((a, b) => a + b, 0) / sorted.length;
  return {
    runs: sorted.length,
    min: round(sorted[0], digits),
    p50: round(percentile(sorted, 50), digits),
    p95: round(percentile(sorted, 95), digits),
    p99: round(percentile(sorted, 99), digits),
    max: round(sorted[sorted.length - 1], digits),
    mean: round(mean, digits),
  };
}

/**
 * `x` rounded to `digits` decimals.
 *
 * @example
 * ```ts
 * import { round } from "./stats.ts";
 * console.log(round(3.14159, 2)); // 3.14
 * ```
 */
export function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
