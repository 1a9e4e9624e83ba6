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
  readonly streams = new Map<string, MemStream>();
  readonly seqs: number[] = [];
  rows = 0;
  /** Approximate bytes of line text held. */
  bytes = 0;
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
        this.bytes += s.lines[i].length;
      }
      if (s.metadata || into.metadata) {
        into.metadata ??= new Array(before).fill(undefined);
        for (let i = 0; i < s.ts.length; i++) into.metadata.push(s.metadata?.[i]);
      }
      this.rows += s.ts.length;
    }
  }
}

/** A stream's lines as transferable columns: UTF-8 bytes, end offsets, times. */
export interface EncodedStream {
  readonly key: string;
  readonly ts: BigInt64Array;
  /** UTF-8 of every line, concatenated; line `i` ends at `ends[i]`. */
  readonly lines: Uint8Array;
  readonly ends: Uint32Array;
  readonly metadata?: (string | undefined)[];
}

const encoder = new TextEncoder();

/**
 * Encodes a stream for a worker; the buffers can be transferred rather than
 * copied, so the worker's heap never holds the lines as strings.
 *
 * @example
 * ```ts
 * import { encodeStream } from "./mem_batch.ts";
 * const e = encodeStream({ key: "{}", ts: [1n], lines: ["hé"] });
 * console.log(e.ends[0]); // 3
 * ```
 */
export function encodeStream(mem: MemStream): EncodedStream {
  const ends = new Uint32Array(mem.lines.length);
  // One native encode of all lines; when every byte is ASCII, ends follow
  // from the string lengths, which is the common case.
  let lines = encoder.encode(mem.lines.join(""));
  let at = 0;
  for (let i = 0; i < mem.lines.length; i++) ends[i] = at += mem.lines[i].length;
  if (at !== lines.length) {
    at = 0;
    for (let i = 0; i < mem.lines.length; i++) {
      const { written } = encoder.encodeInto(mem.lines[i], lines.subarray(at));
      ends[i] = at += written;
    }
    lines = lines.subarray(0, at);
  }
  return { key: mem.key, ts: BigInt64Array.from(mem.ts), lines, ends, metadata: mem.metadata };
}
