/**
 * Metric queries over step buckets: the lines of a selection counted per
 * `step` from `start` (bucket `i` holds the times `[start + i·step, start +
 * (i+1)·step)`), one series per value of the `by` labels —
 * `sum by (…) (count_over_time(selection [step]))` evaluated at each bucket's
 * end. A block wholly inside one bucket is counted from its index entry,
 * without decompressing it, when nothing filters or changes lines.
 *
 * @module
 */

import type { FinalLabels } from "../pipeline/labels.ts";
import { compilePipeline } from "../pipeline/mod.ts";
import { type EngineContext, lineMatcherOf, plan, type Selection, type Unit } from "../plan.ts";
import { readUnits, scanColumns } from "../scan.ts";

/** A count query; `start` and `end` are times here (0n is the time 0, not unbounded). */
export interface CountQuery extends Selection {
  /** Bucket width in nanoseconds. */
  readonly step: bigint;
  /**
   * Labels that split the series: of the lines' final labels, in any
   * category (structured metadata, then parsed, then the stream's); none: one series.
   */
  readonly by: readonly string[];
}

/** Counts per bucket, one series per label set. */
export interface Counts {
  start: bigint;
  end: bigint;
  step: bigint;
  series: { labels: Record<string, string>; counts: [bigint, number][] }[];
  /** One message per damaged file skipped; the counts lack its lines. */
  warnings: string[];
}

/**
 * Counts the lines of `query` per bucket.
 *
 * @throws {RangeError} If `start` is after `end` or `step` is not positive.
 */
export async function countOverTime(ctx: EngineContext, query: CountQuery): Promise<Counts> {
  const { start: lo, end: hi, step, by } = query;
  if (lo > hi || step <= 0n) {
    throw new RangeError(
      `Cannot count lines: need start <= end and step > 0, got start ${lo}, end ${hi}, step ${step}`,
    );
  }
  const buckets = Number((hi - lo) / step) + 1;
  const matcherOf = lineMatcherOf(query);
  const pipeline = compilePipeline(query.pipeline);
  const series = new Map<string, { labels: Record<string, string>; counts: number[] }>();
  const countsOf = (labels: FinalLabels) => {
    const picked: Record<string, string> = {};
    for (const name of by) {
      // Own properties only: a label named "constructor" is an ordinary name.
      for (const from of [labels.metadata, labels.parsed, labels.stream.labels]) {
        if (from && Object.hasOwn(from, name)) {
          picked[name] = from[name];
          break;
        }
      }
    }
    // Series sort by their label values, a missing label as "" (first).
    const key = JSON.stringify(by.map((name) => picked[name] ?? ""));
    let found = series.get(key);
    if (!found) series.set(key, found = { labels: picked, counts: new Array(buckets).fill(0) });
    return found.counts;
  };
  const bucketOf = (ts: bigint) => Number((ts - lo) / step);
  const { units, warnings, done } = await plan(ctx, query);
  try {
    const countable = query.pushdown.length === 0 && pipeline.identity;
    const toRead: Unit[] = [];
    for (const u of units) {
      if (
        countable && u.kind === "block" && u.minTs >= lo && u.maxTs <= hi &&
        bucketOf(u.minTs) === bucketOf(u.maxTs)
      ) {
        countsOf({ stream: u.stream })[bucketOf(u.minTs)] += u.ref.count;
      } else toRead.push(u);
    }
    for (let at = 0; at < toRead.length; at += ctx.concurrency) {
      const wave = toRead.slice(at, at + ctx.concurrency);
      const read = await readUnits(ctx, wave, warnings);
      wave.forEach((u, w) => {
        const run = pipeline.forStream(u.stream);
        scanColumns(
          read[w],
          lo,
          hi,
          matcherOf(u.stream, read[w].hasMetadata),
          (ts, line, metadata) => {
            const out = run.process(
              line,
              metadata === undefined ? undefined : JSON.parse(metadata),
            );
            if (out) countsOf(out)[bucketOf(ts)]++;
          },
        );
      });
    }
  } finally {
    done();
  }
  return {
    start: lo,
    end: hi,
    step,
    series: [...series].sort(([a], [b]) => (a < b ? -1 : 1)).map(([, s]) => ({
      labels: s.labels,
      counts: s.counts.map((n, i): [bigint, number] => [lo + BigInt(i) * step, n]),
    })),
    warnings,
  };
}
