/**
 * Line coding before zstd: random ids in lines are what zstd codes worst, at
 * 4.5–5 bits a hex digit among other literals against the 4 they carry. So a
 * block's lines can go as two columns (`block_codec.ts`, format version 3):
 * the text, where each lowercase hex run of 16 digits or more and each
 * lowercase UUID is replaced by a two-byte mark, and the ids, their bytes,
 * stored raw. Measured offline on the bench corpus (lines alone, per-stream
 * blocks of 128 KiB, level 9): 45.2 → 40.9 B/line; wide corpus 122.6 → 107.3.
 *
 * Times written in lines repeat their lines' timestamps, in digits zstd
 * cannot guess: newline-terminated lines (format version 4) code them as their
 * difference from their line's timestamp, zero for most. Measured offline on
 * the same lines: 40.9 → 36.9 B/line; wide corpus 107.3 → 102.4.
 *
 * Text layout: bytes as in the lines, except after a mark byte (0x01):
 * - `0x01 0x00`: a literal 0x01;
 * - `0x01 k` with 8 ≤ k ≤ 127: 2k lowercase hex digits, the next k bytes of ids;
 * - `0x01 0x80`: a lowercase UUID (8-4-4-4-12 digits), the next 16 bytes of ids;
 * - `0x01 0x81 lines layout [offset] delta`: an ISO 8601 time, years
 *   1900–2199 (`2025-12-01T14:51:08.754725Z`, `2025-12-01 14:51:08,754`,
 *   `…+05:30`, `…-0700`); `lines` counts the lines from the last time's line
 *   (or the first) to this one's (a LEB128 varint, so the decoder need not
 *   count newlines); the layout byte holds the digits of its fraction (bits
 *   0–3), a space for the `T` (bit 4), a comma for the point (bit 5) and its
 *   zone (bits 6–7: none, `Z`, `±hh:mm`, `±hhmm`); a zone with an offset is
 *   followed by the offset in minutes; `delta` is the time less its line's
 *   timestamp, in units of the time's last digit (rounded down); both zigzag
 *   LEB128 varints;
 * - `0x01 0x82 lines offset delta`: a time of the common log format
 *   (`01/Dec/2025:14:56:36 +0000`), likewise.
 *
 * A time is coded only where it reads back byte for byte as written.
 *
 * @module
 */

import * as wasm from "./line_coding.wasm";
import { memoryFor } from "../wasm_memory.ts";

/** A lines column coded as text and ids. */
export interface CodedLines {
  readonly text: Uint8Array;
  readonly ids: Uint8Array;
}

/**
 * Codes a lines column: hex runs and UUIDs to ids, the rest as text, by
 * `line_coding.wasm` (`line_coding.c`) in one call: compaction codes every
 * block it writes. With `ts`, the timestamps of its lines, which must then
 * each end in a newline (and hold none), times in lines are coded too.
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
export function codeLines(lines: Uint8Array, ts: ArrayLike<bigint> = NO_TS): CodedLines {
  // A 0x01 takes two bytes of text; each id byte stands for two digits.
  const linesAt = HEAP_BASE + ts.length * 8;
  const textAt = linesAt + lines.length;
  const idsAt = textAt + lines.length * 2;
  const heap = heapWith(ts, idsAt + (lines.length >>> 1));
  heap.set(lines, linesAt);
  const textLength = wasm.code(
    linesAt,
    lines.length,
    HEAP_BASE,
    ts.length,
    textAt,
    idsAt,
  ) as number;
  const idsLength = wasm.coded_ids() as number;
  return {
    text: heap.slice(textAt, textAt + textLength),
    ids: heap.slice(idsAt, idsAt + idsLength),
  };
}

/**
 * The lines column that {@linkcode codeLines} coded as `text` and `ids` (with
 * `ts`, the timestamps it was given), decoded by `line_coding.wasm`
 * (`line_coding.c`) in one call: a query decodes every coded block it reads.
 * `length` is the decoded column's length when known (format version 4); a
 * column longer is damaged.
 *
 * @example
 * ```ts
 * import { codeLines, decodeLines } from "./line_coding.ts";
 * import assert from "node:assert/strict";
 * const lines = new TextEncoder().encode(
 *   'at=2025-12-01T14:51:08.754725Z span=46e2574b-588a-4d54-a925-da7668a257c4\n',
 * );
 * const ts = [1_764_600_668_754_725_751n];
 * const { text, ids } = codeLines(lines, ts);
 * assert.equal(text.length, "at= span=\n".length + 5 + 2);
 * assert.deepEqual(decodeLines(text, ids, ts, lines.length), lines);
 * ```
 * @throws {RangeError} If the column is damaged: a mark unknown or cut, ids
 * that run out or are left over, a time without a line, a longer column.
 */
export function decodeLines(
  text: Uint8Array,
  ids: Uint8Array,
  ts: ArrayLike<bigint> = NO_TS,
  length?: number,
): Uint8Array {
  const textAt = HEAP_BASE + ts.length * 8;
  const idsAt = textAt + text.length;
  const outAt = idsAt + ids.length;
  // The most the column can give: a UUID's 16 bytes give 36 characters, the
  // most any byte of ids gives; a time's mark of 5 bytes up to 30.
  const most = text.length * (ts.length > 0 ? MAX_TIME_GAIN : 1) + Math.ceil(ids.length * 2.25);
  if (length !== undefined && length > most) {
    throw new RangeError(
      `Cannot decode lines: ${length} bytes cannot come from ${text.length} of text and ${ids.length} of ids`,
    );
  }
  const room = length ?? most;
  // The decoder copies 16 bytes at a time, past what it writes.
  const heap = heapWith(ts, outAt + room + 16);
  heap.set(text, textAt);
  heap.set(ids, idsAt);
  const written = wasm.decode(
    textAt,
    text.length,
    idsAt,
    ids.length,
    HEAP_BASE,
    ts.length,
    outAt,
    room,
  ) as number;
  if (written < 0) throw new RangeError(`Cannot decode lines: ${DECODE_ERRORS[-written]}`);
  if (length !== undefined && written !== length) {
    throw new RangeError(`Cannot decode lines: ${written} bytes where ${length} were written`);
  }
  return heap.slice(outAt, outAt + written);
}

/**
 * The end (the offset of its newline) of each of the first `count`
 * newline-terminated lines of `lines`, found by `line_coding.wasm` 16 bytes
 * at a time: a query finds the lines of every block it reads (a call of
 * `indexOf` a line took half of decoding a block).
 *
 * @example
 * ```ts
 * import { lineEnds } from "./line_coding.ts";
 * import assert from "node:assert/strict";
 * const lines = new TextEncoder().encode("GET /a\n\nPOST /b\n");
 * assert.deepEqual(lineEnds(lines, 3), new Uint32Array([6, 7, 15]));
 * assert.throws(() => lineEnds(lines, 4), RangeError);
 * ```
 * @throws {RangeError} If `lines` holds fewer than `count` newlines.
 */
export function lineEnds(lines: Uint8Array, count: number): Uint32Array {
  const linesAt = HEAP_BASE;
  const endsAt = Math.ceil((linesAt + lines.length) / 4) * 4;
  const heap = heapWith(NO_TS, endsAt + count * 4);
  heap.set(lines, linesAt);
  const found = wasm.line_ends(linesAt, lines.length, endsAt, count) as number;
  if (found < count) throw new RangeError(`Block truncated in line ${found} of ${count}`);
  return new Uint32Array(heap.buffer, endsAt, count).slice();
}

/** The decoder's errors, by their negative codes. */
const DECODE_ERRORS = [
  "",
  "an unknown mark",
  "the ids column ends early",
  "ids left over",
  "a mark cut short",
  "a time past the last line",
  "more bytes than were written",
  "a time out of range",
];
const NO_TS: readonly bigint[] = [];
/**
 * The most characters a byte of text gives: 6, for a time's mark of 5 bytes
 * that gives 30 (`2025-12-01T14:51:08.123456789Z`; with an offset, 6 give 35).
 */
const MAX_TIME_GAIN = 6;
/** Past the module's data, at a multiple of 8 for the timestamps laid out first. */
const HEAP_BASE = Math.ceil((wasm.heap_base() as number) / 8) * 8;

/**
 * The module's memory as bytes, grown to hold `end` bytes first, with `ts`
 * laid out as i64s from {@linkcode HEAP_BASE}: both calls take their
 * timestamps there.
 */
function heapWith(ts: ArrayLike<bigint>, end: number): Uint8Array {
  const memory = memoryFor(wasm.memory as WebAssembly.Memory, end);
  new BigInt64Array(memory.buffer, HEAP_BASE, ts.length).set(ts);
  return new Uint8Array(memory.buffer);
}
