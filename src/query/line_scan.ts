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
import { costlyOnThread } from "./re2.ts";

/** Line filters prepared for scanning. */
export interface LineMatcher {
  /** The filters. */
  readonly filters: readonly LineFilter[];
  /** The UTF-8 bytes of the longest required substring, searched in the blocks' bytes. */
  readonly needle?: Uint8Array;
  /** All filters; `undefined` when every line matches. */
  readonly test?: (line: string) => boolean;
  /**
   * Whether testing a line of `length` UTF-16 code units may hold the thread
   * long enough to stall other requests (a regex on `re2js` over a long
   * line): the scan leaves such a line to be tested off the thread. Absent
   * when no line can be.
   */
  readonly costly?: (length: number) => boolean;
}

const encoder = new TextEncoder();

/**
 * Prepares `filters` for scanning.
 *
 * @example
 * ```ts
 * import { lineMatcher } from "./line_scan.ts";
 * import { MAX_STEPS_ON_THREAD } from "./re2.ts";
 * import assert from "node:assert/strict";
 * const costly = "[a-z]{1000}[a-z]{1000}[a-z]{1000}9";
 * const m = lineMatcher([{ kind: "line_filter", op: "|~", value: costly }]);
 * // re2js runs it, up to 3,003 threads a character: n characters cost up to n × min(n, 3003).
 * assert.equal(MAX_STEPS_ON_THREAD, 512 * 512);
 * assert.equal(m.costly?.(512), false);
 * assert.equal(m.costly?.(513), true);
 * // V8 runs "5\d\d": 3 steps from each start, cheap on any line a push may carry.
 * assert.equal(lineMatcher([{ kind: "line_filter", op: "|~", value: "5\\d\\d" }]).costly?.(262_144), false);
 * assert.equal(lineMatcher([{ kind: "line_filter", op: "|=", value: "5" }]).costly, undefined);
 * ```
 */
export function lineMatcher(filters: readonly LineFilter[]): LineMatcher {
  const longest = requiredLineTerms(filters).sort((a, b) => b.length - a.length)[0];
  const compiled = compileLineFilters(filters);
  const threads = compiled?.threads ?? 0;
  return {
    filters,
    needle: longest ? encoder.encode(longest) : undefined,
    test: compiled?.test,
    costly: threads === 0 ? undefined : (length) => costlyOnThread(length, threads),
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
 * line tested) says the query's turn is up, or a line is too costly to test
 * here (`matcher.costly`). Returns the index to resume from, that line's
 * when it is one: `to` once every line is done.
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
  // An ASCII block decodes once; byte offsets are then string offsets. Not
  // when a line is left costly: each would decode the rest again.
  const once = block.ascii && count >= (to - from) * FEW_LINES &&
    !(matcher.costly && matcher.costly(longest(starts, ends, count, lineAt)));
  const base = starts[from];
  const text = once ? utf8.decode(lines.subarray(base, ends[to - 1])) : "";
  for (let k = 0; k < count; k++) {
    const i = lineAt(k);
    const line = once
      ? text.slice(starts[i] - base, ends[i] - base)
      : utf8.decode(lines.subarray(starts[i], ends[i]));
    if (matcher.costly?.(line.length)) return i;
    if (!matcher.test || matcher.test(line)) emit(i, line);
    if (k + 1 < count && turnUp()) return lineAt(k + 1);
  }
  return to;
}

/** The most bytes one of `count` lines (the `k`th is line `lineAt(k)`) holds. */
function longest(
  starts: Uint32Array,
  ends: Uint32Array,
  count: number,
  lineAt: (k: number) => number,
): number {
  let most = 0;
  for (let k = 0; k < count; k++) {
    const i = lineAt(k);
    most = Math.max(most, ends[i] - starts[i]);
  }
  return most;
}
