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

const MARK = 0x01;
const LITERAL_MARK = 0x00;
const UUID_KIND = 0x80;
const MIN_RUN_BYTES = 8;
const MAX_RUN_BYTES = 127;
const UUID_CHARS = 36;
const DASH = 0x2d;
/** Positions of the dashes in a UUID. */
const UUID_DASHES = [8, 13, 18, 23];

/** Value of a lowercase hex digit's byte, or -1. */
const HEX_VALUE = new Int8Array(256).fill(-1);
for (let i = 0; i < 10; i++) HEX_VALUE[0x30 + i] = i;
for (let i = 0; i < 6; i++) HEX_VALUE[0x61 + i] = 10 + i;

/** A lines column coded as text and ids. */
export interface CodedLines {
  readonly text: Uint8Array;
  readonly ids: Uint8Array;
}

/** Whether `b[at..at+36)` is a lowercase UUID. */
function isUuid(b: Uint8Array, at: number): boolean {
  if (at + UUID_CHARS > b.length) return false;
  for (let i = 0; i < UUID_CHARS; i++) {
    const c = b[at + i];
    if (UUID_DASHES.includes(i) ? c !== DASH : HEX_VALUE[c] < 0) return false;
  }
  return true;
}

/**
 * Codes a lines column: hex runs and UUIDs to ids, the rest as text.
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
  // Each mark replaces at least 16 bytes with 2, and a literal 0x01 takes 2.
  const text = new Uint8Array(lines.length * 2);
  const ids = new Uint8Array(lines.length >>> 1);
  let t = 0;
  let d = 0;
  let i = 0;
  while (i < lines.length) {
    const c = lines[i];
    if (c === MARK) {
      text[t++] = MARK;
      text[t++] = LITERAL_MARK;
      i++;
      continue;
    }
    if (HEX_VALUE[c] < 0) {
      text[t++] = c;
      i++;
      continue;
    }
    let end = i + 1;
    while (end < lines.length && HEX_VALUE[lines[end]] >= 0) end++;
    if (end - i === 8 && lines[end] === DASH && isUuid(lines, i)) {
      text[t++] = MARK;
      text[t++] = UUID_KIND;
      for (let k = 0; k < UUID_CHARS; k += 2) {
        if (lines[i + k] === DASH) k++;
        ids[d++] = (HEX_VALUE[lines[i + k]] << 4) | HEX_VALUE[lines[i + k + 1]];
      }
      i += UUID_CHARS;
      continue;
    }
    // Whole bytes of the run in chunks of 8–127; what is left (under 8 bytes, an odd digit) stays text.
    let bytes = (end - i) >>> 1;
    while (bytes >= MIN_RUN_BYTES) {
      const k = Math.min(bytes, MAX_RUN_BYTES);
      text[t++] = MARK;
      text[t++] = k;
      for (let n = 0; n < k; n++, i += 2) {
        ids[d++] = (HEX_VALUE[lines[i]] << 4) | HEX_VALUE[lines[i + 1]];
      }
      bytes -= k;
    }
    while (i < end) text[t++] = lines[i++];
  }
  return { text: text.slice(0, t), ids: ids.slice(0, d) };
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
  const end = outAt + text.length + Math.ceil(ids.length * 2.25);
  const memory = wasm.memory as WebAssembly.Memory;
  if (end > memory.buffer.byteLength) {
    memory.grow(Math.ceil((end - memory.buffer.byteLength) / WASM_PAGE));
  }
  const heap = new Uint8Array(memory.buffer);
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
