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
  add(seq: number, streams: readonly MemStream[]): void {
    this.seqs.push(seq);
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
