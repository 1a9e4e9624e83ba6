/**
 * Sets of WAL sequence numbers kept as sorted, disjoint, inclusive ranges.
 * Every file records the sequences it holds, so replay can skip what is
 * already stored and the WAL can tell which of its segments are redundant.
 *
 * @module
 */

/** Inclusive `[first, last]` ranges, sorted and non-overlapping. */
export type SeqRanges = [number, number][];

/**
 * Normalizes sequence numbers into sorted, merged ranges.
 *
 * @example
 * ```ts
 * import { toRanges } from "./seq_ranges.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual(toRanges([5, 1, 2, 3]), [[1, 3], [5, 5]]);
 * ```
 */
export function toRanges(seqs: Iterable<number>): SeqRanges {
  return mergeRanges([...seqs].map((s): [number, number] => [s, s]));
}

/** Sorts and merges overlapping or adjacent ranges. */
export function mergeRanges(ranges: Iterable<[number, number]>): SeqRanges {
  const sorted = [...ranges].sort((a, b) => a[0] - b[0]);
  const out: SeqRanges = [];
  for (const [lo, hi] of sorted) {
    const last = out[out.length - 1];
    if (last && lo <= last[1] + 1) last[1] = Math.max(last[1], hi);
    else out.push([lo, hi]);
  }
  return out;
}

/**
 * A mutable set of sequence numbers with range queries.
 *
 * @example
 * ```ts
 * import { SeqSet } from "./seq_ranges.ts";
 * import assert from "node:assert/strict";
 * const s = new SeqSet();
 * s.addRanges([[1, 10]]);
 * assert.equal(s.has(4), true);
 * assert.equal(s.coversRange(1, 10), true);
 * assert.equal(s.coversRange(9, 11), false);
 * ```
 */
export class SeqSet {
  #ranges: SeqRanges = [];

  /** Adds ranges to the set. */
  addRanges(ranges: SeqRanges): void {
    this.#ranges = mergeRanges([...this.#ranges, ...ranges.map((r): [number, number] => [...r])]);
  }

  /** The set's ranges, sorted and disjoint. */
  get ranges(): SeqRanges {
    return this.#ranges;
  }

  /** Whether `seq` is in the set. */
  has(seq: number): boolean {
    return this.coversRange(seq, seq);
  }

  /** Whether every sequence in `[first, last]` is in the set. */
  coversRange(first: number, last: number): boolean {
    let lo = 0;
    let hi = this.#ranges.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const [a, b] = this.#ranges[mid];
      if (first < a) hi = mid - 1;
      else if (first > b) lo = mid + 1;
      else return last <= b;
    }
    return false;
  }

  /** Whether every range of `ranges` is in the set. */
  coversAll(ranges: SeqRanges): boolean {
    return ranges.every(([a, b]) => this.coversRange(a, b));
  }

  /** The largest sequence in the set, or 0 when it is empty. */
  max(): number {
    return this.#ranges.at(-1)?.[1] ?? 0;
  }
}
