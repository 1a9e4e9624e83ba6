/**
 * The lines of a block that hold a substring, found on the block's bytes by
 * `line_search.wasm` (`line_search.c`), 16 positions at a time, before any
 * line is decoded: a line filter's required term (`|= "timeout"`) is looked
 * for in every block a query reads, and the decoding and string search it
 * replaces took a fifth of a metric query over an hour of lines.
 *
 * @module
 */

import * as wasm from "./line_search.wasm";
import { memoryFor } from "../wasm_memory.ts";

/** Past the module's data, at a multiple of 4. */
const HEAP_BASE = Math.ceil((wasm.heap_base() as number) / 4) * 4;
/** Bytes read past the lines: a 16-byte load at the last position a match can start at. */
const READ_PAST = 16;

function align(at: number): number {
  return Math.ceil(at / 4) * 4;
}

/**
 * The indexes of lines `[from, to)` of a block (line `i` is
 * `lines[starts[i]..ends[i])`, ascending, not overlapping) that hold the
 * bytes of `needle`, ascending.
 *
 * @example
 * ```ts
 * import { linesWith } from "./line_search.ts";
 * import assert from "node:assert/strict";
 * const lines = new TextEncoder().encode("GET / 200\nupstream timeout\nGET /a timeout\n");
 * const starts = new Uint32Array([0, 10, 27]);
 * const ends = new Uint32Array([9, 26, 41]);
 * const needle = new TextEncoder().encode("timeout");
 * assert.deepEqual([...linesWith(lines, starts, ends, 0, 3, needle)], [1, 2]);
 * assert.deepEqual([...linesWith(lines, starts, ends, 2, 3, needle)], [2]);
 * // A needle across a line's end is in neither line.
 * assert.deepEqual([...linesWith(lines, starts, ends, 0, 3, new TextEncoder().encode("200\nup"))], []);
 * ```
 * @throws {RangeError} If `needle` is empty.
 */
export function linesWith(
  lines: Uint8Array,
  starts: Uint32Array,
  ends: Uint32Array,
  from: number,
  to: number,
  needle: Uint8Array,
): Uint32Array {
  if (needle.length === 0) throw new RangeError("Cannot search lines for an empty needle");
  const count = Math.max(0, to - from);
  if (count === 0) return new Uint32Array(0);
  const base = starts[from];
  const text = lines.subarray(base, ends[to - 1]);
  const textAt = HEAP_BASE;
  const startsAt = align(textAt + text.length + READ_PAST);
  const endsAt = startsAt + count * 4;
  const needleAt = endsAt + count * 4;
  const outAt = align(needleAt + needle.length);
  const memory = memoryFor(wasm.memory as WebAssembly.Memory, outAt + count * 4);
  const heap = new Uint8Array(memory.buffer);
  heap.set(text, textAt);
  const lineStarts = new Uint32Array(memory.buffer, startsAt, count);
  const lineEnds = new Uint32Array(memory.buffer, endsAt, count);
  for (let i = 0; i < count; i++) {
    lineStarts[i] = starts[from + i] - base;
    lineEnds[i] = ends[from + i] - base;
  }
  heap.set(needle, needleAt);
  const found = wasm.lines_with(
    textAt,
    text.length,
    startsAt,
    endsAt,
    count,
    needleAt,
    needle.length,
    outAt,
  ) as number;
  const out = new Uint32Array(memory.buffer, outAt, found).slice();
  for (let k = 0; k < found; k++) out[k] += from;
  return out;
}
