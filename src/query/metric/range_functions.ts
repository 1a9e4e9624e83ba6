/**
 * The functions of range aggregations (Loki's `pkg/logql/range_vector.go`),
 * computed per series in two parts: samples accumulate into partial
 * aggregates per interval of the time (see `windows.ts`), and the value of a
 * window combines the partials of its intervals. Counts and sums add up,
 * minima and maxima fold, first and last keep the earliest and latest
 * sample, the variance merges its partial moments (Chan et al.), and the
 * quantile and `rate_counter` keep their samples. A window without a sample
 * has no value (`undefined`).
 *
 * @module
 */

import type { RangeAggregation } from "./ast.ts";

/**
 * One series' partial aggregates, per interval: samples are all added
 * before values are asked for.
 */
export interface RangeState {
  /** Adds the sample `value` at time `ts` to interval `j`. */
  add(j: number, ts: bigint, value: number): void;
  /** The value over intervals `[first, end)`, for the window that ends at `at`. */
  value(first: number, end: number, at: bigint): number | undefined;
  /** What {@linkcode RangeState.value} of the same window costs: the partials or samples it combines. */
  work(first: number, end: number): number;
}

/** Windows of more intervals than this add sums up from prefix sums, not one by one. */
const DIRECT_SUM_INTERVALS = 32;

/** Prefix sums of `values`: `out[j]` is the sum of `values[0..j)`. */
function prefixSums(values: Float64Array): Float64Array {
  const out = new Float64Array(values.length + 1);
  for (let j = 0; j < values.length; j++) out[j + 1] = out[j] + values[j];
  return out;
}

/** A range function: makes the state of each series. */
export interface RangeFunction {
  /** The state of a new series over `intervals` intervals. */
  create(intervals: number): RangeState;
  /**
   * Whether every sample is 1 and only the number of lines matters, so a
   * block's line count can stand for its lines (`count_over_time`, `rate`
   * and `absent_over_time` without `unwrap`): then `state.add(j, 0n, n)`
   * adds `n` lines.
   */
  readonly counts: boolean;
}

/**
 * Adds up the values per interval; `add` with a count adds that many lines
 * to a counting state. A window's count comes from prefix sums (exact for
 * whole numbers), its sum too beyond {@linkcode DIRECT_SUM_INTERVALS}
 * intervals (so every window costs the same), else interval by interval.
 */
class SumState implements RangeState {
  readonly #sums: Float64Array;
  readonly #counts: Float64Array;
  #prefix?: { sums: Float64Array; counts: Float64Array };
  readonly #counting: boolean;
  readonly #finish: (sum: number, count: number) => number;

  constructor(n: number, counting: boolean, finish: (sum: number, count: number) => number) {
    this.#sums = new Float64Array(n);
    this.#counts = new Float64Array(n);
    this.#counting = counting;
    this.#finish = finish;
  }

  add(j: number, _ts: bigint, value: number): void {
    if (this.#counting) {
      this.#counts[j] += value;
      return;
    }
    this.#sums[j] += value;
    this.#counts[j]++;
  }

  value(first: number, end: number): number | undefined {
    const prefix = this.#prefix ??= {
      sums: prefixSums(this.#sums),
      counts: prefixSums(this.#counts),
    };
    const count = prefix.counts[end] - prefix.counts[first];
    if (count === 0) return undefined;
    if (this.#counting) return this.#finish(count, count);
    let sum = 0;
    if (end - first > DIRECT_SUM_INTERVALS) sum = prefix.sums[end] - prefix.sums[first];
    else for (let j = first; j < end; j++) sum += this.#sums[j];
    return this.#finish(sum, count);
  }

  work(): number {
    return 1;
  }
}

/** Minimum or maximum, where NaN gives way to any other value (Loki's min/maxOverTime). */
class ExtremeState implements RangeState {
  readonly #values: Float64Array;
  readonly #counts: Uint32Array;
  readonly #better: (v: number, than: number) => boolean;

  constructor(n: number, max: boolean) {
    this.#values = new Float64Array(n);
    this.#counts = new Uint32Array(n);
    this.#better = max ? (v, than) => v > than : (v, than) => v < than;
  }

  add(j: number, _ts: bigint, value: number): void {
    const cur = this.#values[j];
    if (this.#counts[j]++ === 0 || this.#better(value, cur) || Number.isNaN(cur)) {
      this.#values[j] = value;
    }
  }

  work(first: number, end: number): number {
    return end - first;
  }

  value(first: number, end: number): number | undefined {
    let out: number | undefined;
    for (let j = first; j < end; j++) {
      if (this.#counts[j] === 0) continue;
      const v = this.#values[j];
      if (out === undefined || this.#better(v, out) || Number.isNaN(out)) out = v;
    }
    return out;
  }
}

/** The first or the last sample in time (the later of equal times is the last). */
class EdgeState implements RangeState {
  readonly #ts: BigInt64Array;
  readonly #values: Float64Array;
  readonly #counts: Uint32Array;
  readonly #last: boolean;

  constructor(n: number, last: boolean) {
    this.#ts = new BigInt64Array(n);
    this.#values = new Float64Array(n);
    this.#counts = new Uint32Array(n);
    this.#last = last;
  }

  add(j: number, ts: bigint, value: number): void {
    const replace = this.#counts[j]++ === 0 ||
      (this.#last ? ts >= this.#ts[j] : ts < this.#ts[j]);
    if (replace) {
      this.#ts[j] = ts;
      this.#values[j] = value;
    }
  }

  work(first: number, end: number): number {
    return end - first;
  }

  value(first: number, end: number): number | undefined {
    // Intervals are in time order: the first (last) one with a sample holds it.
    if (this.#last) {
      for (let j = end - 1; j >= first; j--) if (this.#counts[j] > 0) return this.#values[j];
    } else {
      for (let j = first; j < end; j++) if (this.#counts[j] > 0) return this.#values[j];
    }
    return undefined;
  }
}

/** Count, mean and sum of squared deviations per interval (Welford), merged per window. */
class VarianceState implements RangeState {
  readonly #counts: Float64Array;
  readonly #means: Float64Array;
  readonly #m2: Float64Array;
  readonly #deviation: boolean;

  constructor(n: number, deviation: boolean) {
    this.#counts = new Float64Array(n);
    this.#means = new Float64Array(n);
    this.#m2 = new Float64Array(n);
    this.#deviation = deviation;
  }

  add(j: number, _ts: bigint, value: number): void {
    const count = ++this.#counts[j];
    const delta = value - this.#means[j];
    this.#means[j] += delta / count;
    this.#m2[j] += delta * (value - this.#means[j]);
  }

  work(first: number, end: number): number {
    return end - first;
  }

  value(first: number, end: number): number | undefined {
    let count = 0;
    let mean = 0;
    let m2 = 0;
    for (let j = first; j < end; j++) {
      const n = this.#counts[j];
      if (n === 0) continue;
      const total = count + n;
      const delta = this.#means[j] - mean;
      mean += delta * n / total;
      m2 += this.#m2[j] + delta * delta * count * n / total;
      count = total;
    }
    if (count === 0) return undefined;
    return this.#deviation ? Math.sqrt(m2 / count) : m2 / count;
  }
}

/** Keeps every sample (time and value) of each interval. */
class SamplesState implements RangeState {
  readonly #ts: (bigint[] | undefined)[];
  readonly #values: (number[] | undefined)[];
  readonly #reduce: (ts: bigint[], values: number[], at: bigint) => number;

  constructor(n: number, reduce: (ts: bigint[], values: number[], at: bigint) => number) {
    this.#ts = new Array(n);
    this.#values = new Array(n);
    this.#reduce = reduce;
  }

  add(j: number, ts: bigint, value: number): void {
    (this.#ts[j] ??= []).push(ts);
    (this.#values[j] ??= []).push(value);
  }

  #prefix?: Float64Array;

  /** The intervals, and each sample of the window twice over (gathered, then sorted or scanned). */
  work(first: number, end: number): number {
    const prefix = this.#prefix ??= prefixSums(
      Float64Array.from(this.#values, (v) => v?.length ?? 0),
    );
    return end - first + 2 * (prefix[end] - prefix[first]);
  }

  value(first: number, end: number, at: bigint): number | undefined {
    const ts: bigint[] = [];
    const values: number[] = [];
    for (let j = first; j < end; j++) {
      const t = this.#ts[j];
      if (!t) continue;
      ts.push(...t);
      values.push(...this.#values[j]!);
    }
    return values.length === 0 ? undefined : this.#reduce(ts, values, at);
  }
}

/**
 * The φ-quantile of `values` as Loki's `Quantile`: sorted (NaN first),
 * interpolated between the two nearest ranks; φ < 0 gives -Inf, φ > 1 +Inf.
 *
 * @example
 * ```ts
 * import { quantile } from "./range_functions.ts";
 * import assert from "node:assert/strict";
 * assert.equal(quantile(0.5, [3, 1, 2, 4]), 2.5);
 * assert.equal(quantile(1, [3, 1, 2]), 3);
 * assert.equal(quantile(2, [1]), Infinity);
 * ```
 */
export function quantile(phi: number, values: number[]): number {
  if (values.length === 0) return NaN;
  if (phi < 0) return -Infinity;
  if (phi > 1) return Infinity;
  const sorted = [...values].sort((a, b) =>
    Number.isNaN(a) ? (Number.isNaN(b) ? 0 : -1) : Number.isNaN(b) ? 1 : a - b
  );
  const n = sorted.length;
  const rank = phi * (n - 1);
  const lower = Math.max(0, Math.floor(rank));
  const upper = Math.min(n - 1, lower + 1);
  const weight = rank - Math.floor(rank);
  return sorted[lower] * (1 - weight) + sorted[upper] * weight;
}

/**
 * The per-second rate of a counter over a window ending at `rangeEnd`, as
 * Loki's `extrapolatedRate` (adapted from Prometheus): resets add the value
 * before them, and the rate is extrapolated to the window's edges when the
 * first and last samples are near them. Fewer than two samples: 0.
 *
 * @example
 * ```ts
 * import { counterRate } from "./range_functions.ts";
 * import assert from "node:assert/strict";
 * const s = 1_000_000_000n;
 * // 10, 20, 30 at 10 s, 20 s, 30 s in the 30 s up to 30 s: extrapolated to the window start.
 * assert.equal(counterRate([10n * s, 20n * s, 30n * s], [10, 20, 30], 30n * s, 30n * s), 1);
 * ```
 */
export function counterRate(
  ts: readonly bigint[],
  values: readonly number[],
  rangeEnd: bigint,
  range: bigint,
): number {
  if (values.length < 2) return 0;
  const order = ts.map((_, i) => i).sort((
    a,
    b,
  ) => (ts[a] < ts[b] ? -1 : ts[a] > ts[b] ? 1 : a - b));
  const t = order.map((i) => ts[i]);
  const v = order.map((i) => values[i]);
  const n = v.length;
  const rangeStart = rangeEnd - range;
  let result = v[n - 1] - v[0];
  let previous = 0;
  for (const value of v) {
    if (value < previous) result += previous;
    previous = value;
  }
  let toStart = Number(t[0] - rangeStart) / 1e9;
  let toEnd = Number(rangeEnd - t[n - 1]) / 1e9;
  const sampled = Number(t[n - 1] - t[0]) / 1e9;
  const average = sampled / (n - 1);
  const threshold = average * 1.1;
  if (toStart >= threshold) toStart = average / 2;
  // A counter cannot go below zero: extrapolate no further back than its zero point.
  let toZero = toStart;
  if (result > 0 && v[0] >= 0) toZero = sampled * (v[0] / result);
  if (toZero < toStart) toStart = toZero;
  if (toEnd >= threshold) toEnd = average / 2;
  result *= (sampled + toStart + toEnd) / sampled;
  return result / (Number(range) / 1e9);
}

/**
 * The range function of `agg`.
 *
 * @example
 * ```ts
 * import { rangeFunction } from "./range_functions.ts";
 * import assert from "node:assert/strict";
 * const f = rangeFunction({ op: "rate", range: 60_000_000_000n });
 * const state = f.create(2);
 * state.add(0, 0n, 30); // 30 lines in interval 0
 * assert.equal(state.value(0, 2, 0n), 0.5);
 * assert.equal(state.value(1, 2, 0n), undefined);
 * ```
 */
export function rangeFunction(
  agg: Pick<RangeAggregation, "op" | "range" | "unwrap" | "param">,
): RangeFunction {
  const seconds = Number(agg.range) / 1e9;
  const counting = (finish: (count: number) => number): RangeFunction => ({
    counts: true,
    create: (n) => new SumState(n, true, (count) => finish(count)),
  });
  const summing = (finish: (sum: number, count: number) => number): RangeFunction => ({
    counts: false,
    create: (n) => new SumState(n, false, finish),
  });
  const of = (create: (n: number) => RangeState): RangeFunction => ({ counts: false, create });
  switch (agg.op) {
    case "count_over_time":
      return counting((count) => count);
    case "absent_over_time":
      return agg.unwrap ? summing(() => 1) : counting(() => 1);
    case "rate":
      return agg.unwrap ? summing((sum) => sum / seconds) : counting((count) => count / seconds);
    case "bytes_over_time":
    case "sum_over_time":
      return summing((sum) => sum);
    case "bytes_rate":
      return summing((sum) => sum / seconds);
    case "avg_over_time":
      return summing((sum, count) => sum / count);
    case "min_over_time":
    case "max_over_time":
      return of((n) => new ExtremeState(n, agg.op === "max_over_time"));
    case "first_over_time":
    case "last_over_time":
      return of((n) => new EdgeState(n, agg.op === "last_over_time"));
    case "stddev_over_time":
    case "stdvar_over_time":
      return of((n) => new VarianceState(n, agg.op === "stddev_over_time"));
    case "quantile_over_time": {
      const phi = agg.param!;
      return of((n) => new SamplesState(n, (_ts, values) => quantile(phi, values)));
    }
    case "rate_counter":
      return of((n) =>
        new SamplesState(n, (ts, values, at) => counterRate(ts, values, at, agg.range))
      );
  }
}
