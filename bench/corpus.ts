/**
 * The benchmark corpus: `deno task loadgen corpus` run as a subprocess, writing the raw lines
 * (`lines.txt`, the input of the grep and zstd baselines) and the lines with their labels and
 * timestamps (`corpus.ndjson`), with the last line stamped at a given time.
 *
 * @module
 */

import type { CorpusFigure } from "./figures.ts";

const LOADGEN = new URL("./loadgen.ts", import.meta.url).pathname;

/** Lines per second of log time at most. */
export const MAX_RATE = 200;
/** A corpus spans at least this many seconds of log time (smaller ones get a lower rate). */
export const MIN_SPAN_SECONDS = 1800;

/** Options of {@linkcode makeCorpus}. */
export interface CorpusOptions {
  /** Lines to generate. */
  lines: number;
  /** Generator seed. */
  seed: number;
  /** Unix ns at which the corpus ends (usually now). */
  endNs: bigint;
  /** Output file of the raw lines. */
  linesFile: string;
  /** Output file of the NDJSON lines with labels. */
  ndjsonFile: string;
}

/**
 * The rate of log time for a corpus of `lines`: {@linkcode MAX_RATE}, or less so that the corpus
 * spans {@linkcode MIN_SPAN_SECONDS}.
 *
 * @example
 * ```ts
 * import { corpusRate } from "./corpus.ts";
 * console.log(corpusRate(1_000_000), corpusRate(36_000)); // 200 20
 * ```
 */
export function corpusRate(lines: number): number {
  return Math.min(MAX_RATE, lines / MIN_SPAN_SECONDS);
}

/**
 * Generates the corpus files.
 *
 * @example
 * ```ts ignore
 * import { makeCorpus } from "./corpus.ts";
 * const corpus = await makeCorpus({
 *   lines: 50_000, seed: 42, endNs: BigInt(Date.now()) * 1_000_000n,
 *   linesFile: "/tmp/lines.txt", ndjsonFile: "/tmp/corpus.ndjson",
 * });
 * console.log(corpus.needle.traceId);
 * ```
 * @throws {Error} If the generator fails.
 */
export async function makeCorpus(options: CorpusOptions): Promise<CorpusFigure> {
  const rate = corpusRate(options.lines);
  const spanNs = BigInt(Math.ceil((options.lines / rate) * 1e9));
  const start = options.endNs - spanNs;
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      LOADGEN,
      "corpus",
      "--out",
      options.ndjsonFile,
      "--raw-out",
      options.linesFile,
      "--lines",
      String(options.lines),
      "--seed",
      String(options.seed),
      "--start",
      start.toString(),
      "--rate",
      String(rate),
      "--json",
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder();
  if (!out.success) {
    throw new Error(`loadgen corpus failed (code ${out.code}): ${text.decode(out.stderr).trim()}`);
  }
  const s = JSON.parse(text.decode(out.stdout));
  return {
    lines: s.lines,
    seed: s.seed,
    start: s.start,
    end: options.endNs.toString(),
    rate: s.rate,
    rawBytes: s.rawBytes,
    rawBytesPerLine: Math.round((s.rawBytes / s.lines) * 100) / 100,
    ndjsonBytes: s.bytes,
    needle: s.needle,
    seconds: s.seconds,
  };
}
