/**
 * Scanning decoded blocks for matching lines: a native byte search for a
 * required term finds candidate lines without decoding the others, then every
 * line filter confirms.
 *
 * @module
 */

import type { Block } from "../storage/block_codec.ts";
import type { LineFilter } from "./ast.ts";
import { compileLineFilters, requiredLineTerms } from "./matchers.ts";

/** Line filters prepared for scanning. */
export interface LineMatcher {
  /** The longest required substring, searched natively. */
  readonly needle?: string;
  /** All filters; `undefined` when every line matches. */
  readonly test?: (line: string) => boolean;
}

/** Prepares `filters` for scanning. */
export function lineMatcher(filters: readonly LineFilter[]): LineMatcher {
  const longest = requiredLineTerms(filters).sort((a, b) => b.length - a.length)[0];
  return {
    needle: longest,
    test: compileLineFilters(filters),
  };
}

/** Index of the first timestamp ≥ `t` in ascending `ts`. */
export function lowerBound(ts: BigInt64Array | readonly bigint[], t: bigint): number {
  let lo = 0;
  let hi = ts.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (ts[mid] < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Index of the first timestamp > `t` in ascending `ts`. */
export function upperBound(ts: BigInt64Array | readonly bigint[], t: bigint): number {
  let lo = 0;
  let hi = ts.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (ts[mid] <= t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

const utf8 = new TextDecoder();

function lineEndsIndex(ends: Uint32Array, offset: number, from: number): number {
  // The line containing byte `offset`: the first whose end is beyond it.
  let lo = from;
  let hi = ends.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (ends[mid] <= offset) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Calls `emit` for every line with index in `[from, to)` of `block` that
 * passes `matcher`, in ascending order.
 */
export function scanBlock(
  block: Block,
  from: number,
  to: number,
  matcher: LineMatcher,
  emit: (index: number, line: string) => void,
): void {
  if (from >= to) return;
  const { lines, starts, ends } = block;
  if (!block.ascii) {
    // Rare: byte and string offsets differ, so each line is decoded alone.
    for (let i = from; i < to; i++) {
      const line = utf8.decode(lines.subarray(starts[i], ends[i]));
      if (
        (matcher.needle === undefined || line.includes(matcher.needle)) &&
        (!matcher.test || matcher.test(line))
      ) emit(i, line);
    }
    return;
  }
  // An ASCII block decodes once; byte offsets are then string offsets, and
  // a required term is found by the native string search.
  const base = starts[from];
  const text = utf8.decode(lines.subarray(base, ends[to - 1]));
  const check = (i: number) => {
    const line = text.slice(starts[i] - base, ends[i] - base);
    if (!matcher.test || matcher.test(line)) emit(i, line);
  };
  if (matcher.needle === undefined) {
    for (let i = from; i < to; i++) check(i);
    return;
  }
  const needle = matcher.needle;
  let at = 0;
  for (let i = from;;) {
    const hit = text.indexOf(needle, at);
    if (hit < 0) return;
    i = lineEndsIndex(ends, hit + base, i);
    if (i >= to) return;
    // A needle crossing into the next line is no hit of this one.
    if (hit + base + needle.length <= ends[i]) check(i);
    at = ends[i] - base;
    if (++i >= to) return;
  }
}
