/**
 * What a query read, for the statistics of its answer (the figures Grafana
 * shows from Loki's `stats`: lines and bytes processed, and where they came
 * from). The scan counts the lines it looks at — those within the query's
 * time bounds of each unit it reads, whether a filter keeps them or not —
 * by where they are: blocks of files, or the in-memory head.
 *
 * @module
 */

/**
 * Counters of one query's reading.
 *
 * @example
 * ```ts
 * import { ReadFigures } from "./read_figures.ts";
 * import assert from "node:assert/strict";
 * const read = new ReadFigures();
 * read.blocks++;
 * read.blockLines += 3;
 * read.blockBytes += 30;
 * read.headLines += 1;
 * read.headBytes += 5;
 * assert.equal(read.lines, 4);
 * assert.equal(read.bytes, 35);
 * ```
 */
export class ReadFigures {
  /** Blocks of files read. */
  blocks = 0;
  /** Compressed bytes of those blocks. */
  compressedBytes = 0;
  /** Lines of those blocks that the scan looked at. */
  blockLines = 0;
  /** UTF-8 bytes of those lines. */
  blockBytes = 0;
  /** Lines in memory (not yet in a file) that the scan looked at. */
  headLines = 0;
  /** UTF-8 bytes of those lines. */
  headBytes = 0;

  /** Lines looked at, in files and in memory. */
  get lines(): number {
    return this.blockLines + this.headLines;
  }

  /** Bytes of the lines looked at, in files and in memory. */
  get bytes(): number {
    return this.blockBytes + this.headBytes;
  }
}
