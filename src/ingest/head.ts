/**
 * The in-memory head: lines acknowledged but not yet in a cataloged file,
 * grouped by stream. Queries read its batches directly; the flush
 * ({@linkcode Flusher} in `flush.ts`) writes them to files, as the columns
 * {@linkcode encodeBatches} makes.
 *
 * @module
 */

import type { EncodedBatch } from "../storage/flush_worker.ts";
import type { PushStream } from "./payload.ts";
import { encodeUtf8 } from "../utf8.ts";

/**
 * One stream's lines in a batch, in arrival order: the shape of a validated
 * push stream, grown in place as payloads join the batch.
 */
export type MemStream = PushStream;

/** A stream the batch grows: its metadata column appears with the first line that has some. */
type GrowingStream = { -readonly [K in keyof MemStream]: MemStream[K] };

/**
 * A batch of lines bound for one flush file.
 *
 * @example
 * ```ts
 * import { MemBatch } from "./head.ts";
 * import assert from "node:assert/strict";
 * const batch = new MemBatch();
 * batch.add(1, [{ key: '{"app":"web"}', ts: [5n], lines: ["hello"] }]);
 * assert.equal(batch.rows, 1);
 * assert.equal(batch.minTs, 5n);
 * ```
 */
export class MemBatch {
  readonly #streams = new Map<string, GrowingStream>();
  readonly seqs: number[] = [];
  rows = 0;
  minTs = 0n;
  maxTs = 0n;

  /** The batch's streams, by canonical label JSON. */
  get streams(): ReadonlyMap<string, MemStream> {
    return this.#streams;
  }

  /** Adds the streams of payload `seq`. */
  add(seq: number, streams: Iterable<MemStream>): void {
    this.seqs.push(seq);
    this.#addStreams(streams);
  }

  #addStreams(streams: Iterable<MemStream>): void {
    for (const s of streams) {
      let into = this.#streams.get(s.key);
      if (!into) this.#streams.set(s.key, into = { key: s.key, ts: [], lines: [] });
      const before = into.ts.length;
      for (let i = 0; i < s.ts.length; i++) {
        const t = s.ts[i];
        if (this.rows === 0 && i === 0) this.minTs = this.maxTs = t;
        else if (t < this.minTs) this.minTs = t;
        else if (t > this.maxTs) this.maxTs = t;
        into.ts.push(t);
        into.lines.push(s.lines[i]);
      }
      if (s.metadata || into.metadata) {
        into.metadata ??= new Array(before).fill(undefined);
        for (let i = 0; i < s.ts.length; i++) into.metadata.push(s.metadata?.[i]);
      }
      this.rows += s.ts.length;
    }
  }
}

const encoder = new TextEncoder();

/**
 * Encodes the streams of `batches` for a flush worker (a stream may appear
 * once per batch).
 *
 * @example
 * ```ts
 * import { encodeBatches, MemBatch } from "./head.ts";
 * import assert from "node:assert/strict";
 * const batch = new MemBatch();
 * batch.add(1, [{ key: "{}", ts: [1n], lines: ["hé"] }]);
 * assert.equal(encodeBatches([batch]).ends[0], 3); // "é" is two bytes
 * ```
 */
export function encodeBatches(batches: readonly MemBatch[]): EncodedBatch {
  const keys: string[] = [];
  const counts: number[] = [];
  const metadata: Record<number, (string | undefined)[]> = {};
  const texts: string[] = [];
  const times: bigint[] = [];
  for (const batch of batches) {
    for (const s of batch.streams.values()) {
      if (s.metadata) metadata[keys.length] = s.metadata;
      keys.push(s.key);
      counts.push(s.lines.length);
      for (let i = 0; i < s.lines.length; i++) {
        texts.push(s.lines[i]);
        times.push(s.ts[i]);
      }
    }
  }
  const ends = new Uint32Array(texts.length);
  // One native encode of all lines. The separator keeps each line's bytes its
  // own: a lone surrogate ending one line and one starting the next would
  // otherwise join into one 4-byte character. When every byte is ASCII, ends
  // follow from the string lengths, which is the common case.
  const lines = encodeUtf8(texts.join("\n"));
  let at = -1;
  for (let i = 0; i < texts.length; i++) ends[i] = at += texts[i].length + 1;
  if (texts.length > 0 && at !== lines.length) {
    // Each line's bytes are already in place: measure them by encoding again.
    at = 0;
    for (let i = 0; i < texts.length; i++) {
      ends[i] = at += encoder.encodeInto(texts[i], lines.subarray(at)).written;
      at++;
    }
  }
  return {
    keys: keys.join("\n"),
    counts: Uint32Array.from(counts),
    metadata,
    ts: BigInt64Array.from(times),
    lines,
    ends,
  };
}
