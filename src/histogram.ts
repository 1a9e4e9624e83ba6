/**
 * A histogram of durations in seconds with fixed buckets, as Prometheus
 * exposes them: a count per bucket (upper bounds), a sum and a count.
 *
 * @module
 */

/** Bucket bounds for latencies, in seconds: 1 ms to a minute. */
export const LATENCY_BUCKETS: readonly number[] = Object.freeze([
  0.001,
  0.0025,
  0.005,
  0.01,
  0.025,
  0.05,
  0.1,
  0.25,
  0.5,
  1,
  2.5,
  5,
  10,
  30,
  60,
]);

/**
 * Observations counted by bucket.
 *
 * @example
 * ```ts
 * import { Histogram } from "./histogram.ts";
 * import assert from "node:assert/strict";
 * const h = new Histogram([0.1, 1]);
 * h.observe(0.05);
 * h.observe(0.5);
 * h.observe(3);
 * assert.deepEqual(h.cumulative(), [1, 2]); // at most 0.1 s, at most 1 s
 * assert.equal(h.count, 3);
 * assert.equal(h.sum, 3.55);
 * ```
 */
export class Histogram {
  readonly bounds: readonly number[];
  readonly #counts: number[];
  /** Observations in all, the `+Inf` bucket. */
  count = 0;
  /** Their sum. */
  sum = 0;

  constructor(bounds: readonly number[] = LATENCY_BUCKETS) {
    this.bounds = bounds;
    this.#counts = new Array(bounds.length).fill(0);
  }

  /** Counts one observation of `value`. */
  observe(value: number): void {
    this.count++;
    this.sum += value;
    for (let i = 0; i < this.bounds.length; i++) {
      if (value <= this.bounds[i]) {
        this.#counts[i]++;
        return;
      }
    }
  }

  /** Observations at most each bound, as Prometheus' `le` buckets count them. */
  cumulative(): number[] {
    let total = 0;
    return this.#counts.map((c) => total += c);
  }
}
