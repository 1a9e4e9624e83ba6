/**
 * Scanning decoded blocks for matching lines: a native byte search for a
 * required term finds candidate lines without decoding the others, then every
 * line filter confirms.
 *
 * @module
 */

import { Buffer } from "node:buffer";
import type { Block } from "../storage/block_codec.ts";
import type { LineFilter } from "./logql.ts";
import { compileLineFilters, requiredLineTerms } from "./matchers.ts";

/** Line filters prepared for scanning. */
export interface LineMatcher {
  /** UTF-8 bytes of the longest required substring, searched natively. */
  readonly needle?: Uint8Array;
  /** All filters; `undefined` when every line matches. */
  readonly test?: (line: string) => boolean;
}

/** Prepares `filters` for scanning. */
export function lineMatcher(filters: LineFilter[]): LineMatcher {
  const longest = requiredLineTerms(filters).sort((a, b) => b.length - a.length)[0];
  return {
    needle: longest ? new TextEncoder().encode(longest) : undefined,
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
  // An ASCII block decodes once; slicing by byte offsets is then exact.
  const base = starts[from];
  const text = block.ascii ? utf8.decode(lines.subarray(base, ends[to - 1])) : undefined;
  const lineAt = (i: number) =>
    text !== undefined
      ? text.slice(starts[i] - base, ends[i] - base)
      : utf8.decode(lines.subarray(starts[i], ends[i]));
  const check = (i: number) => {
    const line = lineAt(i);
    if (!matcher.test || matcher.test(line)) emit(i, line);
  };
  if (!matcher.needle) {
    for (let i = from; i < to; i++) check(i);
    return;
  }
  const haystack = Buffer.from(lines.buffer, lines.byteOffset, ends[to - 1]);
  let at = base;
  let i = from;
  for (;;) {
    const hit = haystack.indexOf(matcher.needle, at);
    if (hit < 0) return;
    i = lineEndsIndex(ends, hit, i);
    if (i >= to) return;
    // A needle crossing into the next line is no hit of this one.
    if (hit + matcher.needle.length <= ends[i]) check(i);
    at = ends[i];
    i++;
    if (i >= to) return;
  }
}
