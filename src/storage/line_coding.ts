/**
 * Line coding before zstd: random ids in lines are what zstd codes worst, at
 * 4.5–5 bits a hex digit among other literals against the 4 they carry. So a
 * block's lines can go as two columns (`block_codec.ts`, format version 3):
 * the text, where each lowercase hex run of 16 digits or more and each
 * lowercase UUID is replaced by a two-byte mark, and the ids, their bytes,
 * stored raw. Measured offline on the bench corpus (lines alone, per-stream
 * blocks of 128 KiB, level 9): 45.2 → 40.9 B/line; wide corpus 122.6 → 107.3.
 *
 * Text layout: bytes as in the lines, except after a mark byte (0x01):
 * - `0x01 0x00`: a literal 0x01;
 * - `0x01 k` with 8 ≤ k ≤ 127: 2k lowercase hex digits, the next k bytes of ids;
 * - `0x01 0x80`: a lowercase UUID (8-4-4-4-12 digits), the next 16 bytes of ids.
 *
 * @module
 */

import * as wasm from "./line_coding.wasm";

/** A lines column coded as text and ids. */
export interface CodedLines {
  readonly text: Uint8Array;
  readonly ids: Uint8Array;
}

/**
 * Codes a lines column: hex runs and UUIDs to ids, the rest as text, by
 * `line_coding.wasm` (`line_coding.c`) in one call: compaction codes every
 * block it writes.
 *
 * @example
 * ```ts
 * import { codeLines, decodeLines } from "./line_coding.ts";
 * import assert from "node:assert/strict";
 * const line = new TextEncoder().encode('trace_id=6a8ec3aab898ae608aa7225fdc44a737 ok\n');
 * const { text, ids } = codeLines(line);
 * assert.equal(ids.length, 16);
 * assert.equal(text.length, line.length - 32 + 2);
 * assert.deepEqual(decodeLines(text, ids), line);
 * ```
 */
export function codeLines(lines: Uint8Array): CodedLines {
  // A 0x01 takes two bytes of text; each id byte stands for two digits.
  const textAt = HEAP_BASE + lines.length;
  const idsAt = textAt + lines.length * 2;
  const heap = heapOf(idsAt + (lines.length >>> 1));
  heap.set(lines, HEAP_BASE);
  const textLength = wasm.code(HEAP_BASE, lines.length, textAt, idsAt) as number;
  const idsLength = wasm.coded_ids() as number;
  return {
    text: heap.slice(textAt, textAt + textLength),
    ids: heap.slice(idsAt, idsAt + idsLength),
  };
}

/**
 * The lines column that {@linkcode codeLines} coded as `text` and `ids`,
 * decoded by `line_coding.wasm` (`line_coding.c`) in one call: a query
 * decodes every coded block it reads.
 *
 * @example
 * ```ts
 * import { codeLines, decodeLines } from "./line_coding.ts";
 * import assert from "node:assert/strict";
 * const lines = new TextEncoder().encode("span=46e2574b-588a-4d54-a925-da7668a257c4\n");
 * const { text, ids } = codeLines(lines);
 * assert.deepEqual(decodeLines(text, ids), lines);
 * ```
 * @throws {RangeError} If a mark is unknown or the ids run out: the column is damaged.
 */
export function decodeLines(text: Uint8Array, ids: Uint8Array): Uint8Array {
  const idsAt = HEAP_BASE + text.length;
  const outAt = idsAt + ids.length;
  // A UUID's 16 bytes give 36 characters: the most any byte of ids gives.
  const heap = heapOf(outAt + text.length + Math.ceil(ids.length * 2.25));
  heap.set(text, HEAP_BASE);
  heap.set(ids, idsAt);
  const length = wasm.decode(HEAP_BASE, text.length, idsAt, ids.length, outAt) as number;
  if (length < 0) throw new RangeError(`Cannot decode lines: ${DECODE_ERRORS[-length]}`);
  return heap.slice(outAt, outAt + length);
}

/** The decoder's errors, by their negative codes. */
const DECODE_ERRORS = ["", "an unknown mark", "the ids column ends early", "ids left over"];
const WASM_PAGE = 65536;
const HEAP_BASE = wasm.heap_base() as number;

/** The module's memory as bytes, grown to hold `end` bytes first. */
function heapOf(end: number): Uint8Array {
  const memory = wasm.memory as WebAssembly.Memory;
  if (end > memory.buffer.byteLength) {
    memory.grow(Math.ceil((end - memory.buffer.byteLength) / WASM_PAGE));
  }
  return new Uint8Array(memory.buffer);
}
