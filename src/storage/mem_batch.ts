/**
 * The in-memory head: lines acknowledged but not yet in a file, grouped by
 * stream. Queries read batches directly; the flush writes each as a file.
 *
 * @module
 */

/** One stream's lines in a batch, in arrival order. */
export interface MemStream {
  /** Canonical label JSON. */
  readonly key: string;
  readonly ts: bigint[];
  readonly lines: string[];
  /** Metadata JSON per line, present once any line has some. */
  metadata?: (string | undefined)[];
}

/**
 * A batch of lines bound for one flush file.
 *
 * @example
 * ```ts
 * import { MemBatch } from "./mem_batch.ts";
 * const batch = new MemBatch();
 * batch.add(1, [{ key: '{"app":"web"}', ts: [5n], lines: ["hello"] }]);
 * console.log(batch.rows, batch.minTs); // 1 5n
 * ```
 */
export class MemBatch {
  readonly streams: Map<string, MemStream> = new Map();
  readonly seqs: number[] = [];
  rows = 0;
  minTs = 0n;
  maxTs = 0n;

  /** Adds the streams of payload `seq`. */
  add(seq: number, streams: Iterable<MemStream>): void {
    this.seqs.push(seq);
    this.#addStreams(streams);
  }

  #addStreams(streams: Iterable<MemStream>): void {
    for (const s of streams) {
      let into = this.streams.get(s.key);
      if (!into) this.streams.set(s.key, into = { key: s.key, ts: [], lines: [] });
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

/**
 * Lines of several batches as transferable columns (times, UTF-8 bytes, end
 * offsets, per-stream counts), stream after stream: what a flush worker gets,
 * so its heap never holds the lines as strings and a job moves as a handful
 * of buffers and one string.
 */
export interface EncodedBatch {
  /** Canonical label JSON of each stream, joined by "\n" (which label JSON never holds). */
  readonly keys: string;
  /** Lines per stream, in column order. */
  readonly counts: Uint32Array;
  /** Metadata JSON per line, by stream index, for the streams that have some. */
  readonly metadata: Record<number, (string | undefined)[]>;
  readonly ts: BigInt64Array;
  /**
   * UTF-8 of every line, each but the last followed by a "\n" that belongs to
   * no line: line `i` is `lines[i === 0 ? 0 : ends[i - 1] + 1, ends[i])`.
   */
  readonly lines: Uint8Array;
  readonly ends: Uint32Array;
}

/** Where line `i` of an {@linkcode EncodedBatch} starts. */
export function lineStart(ends: Uint32Array, i: number): number {
  return i === 0 ? 0 : ends[i - 1] + 1;
}

const encoder = new TextEncoder();

/**
 * Encodes the streams of `batches` for a worker (a stream may appear once
 * per batch).
 *
 * @example
 * ```ts
 * import { encodeBatches, MemBatch } from "./mem_batch.ts";
 * const batch = new MemBatch();
 * batch.add(1, [{ key: "{}", ts: [1n], lines: ["hé"] }]);
 * console.log(encodeBatches([batch]).ends[0]); // 3
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
  const lines = encoder.encode(texts.join("\n"));
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
