/**
 * Scanning decoded blocks for matching lines: a byte search in WASM for a
 * required term finds candidate lines without decoding the others, then every
 * line filter confirms.
 *
 * @module
 */

import type { Block } from "../storage/block_codec.ts";
import type { LineFilter } from "./ast.ts";
import { linesWith } from "./line_search.ts";
import { compileLineFilters, requiredLineTerms } from "./matchers.ts";

/** Line filters prepared for scanning. */
export interface LineMatcher {
  /** The UTF-8 bytes of the longest required substring, searched in the blocks' bytes. */
  readonly needle?: Uint8Array;
  /** All filters; `undefined` when every line matches. */
  readonly test?: (line: string) => boolean;
}

const encoder = new TextEncoder();

/** Prepares `filters` for scanning. */
export function lineMatcher(filters: readonly LineFilter[]): LineMatcher {
  const longest = requiredLineTerms(filters).sort((a, b) => b.length - a.length)[0];
  return {
    needle: longest ? encoder.encode(longest) : undefined,
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

/**
 * Of the lines to read, the share below which each is decoded alone rather
 * than the block at once: decoding a line costs ~40 times a byte of the block.
 */
const FEW_LINES = 1 / 4;

/**
 * Calls `emit` for every line with index in `[from, to)` of `block` that
 * passes `matcher`, in ascending order, until `turnUp` (called after each
 * line tested) says the query's turn is up. Returns the index to resume
 * from: `to` once every line is done.
 *
 * The needle is searched in the block's bytes: stored lines are well-formed
 * UTF-8, in which a line holds a string exactly when its bytes hold the
 * string's, and the filters confirm every line found.
 */
export function scanBlock(
  block: Block,
  from: number,
  to: number,
  matcher: LineMatcher,
  emit: (index: number, line: string) => void,
  turnUp: () => boolean = () => false,
): number {
  if (from >= to) return to;
  const { lines, starts, ends } = block;
  const hits = matcher.needle && linesWith(lines, starts, ends, from, to, matcher.needle);
  const count = hits ? hits.length : to - from;
  const lineAt = hits ? (k: number) => hits[k] : (k: number) => from + k;
  // An ASCII block decodes once; byte offsets are then string offsets.
  const once = block.ascii && count >= (to - from) * FEW_LINES;
  const base = starts[from];
  const text = once ? utf8.decode(lines.subarray(base, ends[to - 1])) : "";
  for (let k = 0; k < count; k++) {
    const i = lineAt(k);
    const line = once
      ? text.slice(starts[i] - base, ends[i] - base)
      : utf8.decode(lines.subarray(starts[i], ends[i]));
    if (!matcher.test || matcher.test(line)) emit(i, line);
    if (k + 1 < count && turnUp()) return lineAt(k + 1);
  }
  return to;
}
