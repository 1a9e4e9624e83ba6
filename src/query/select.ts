/**
 * Log queries: the first `limit` lines of a selection in a direction. Units
 * are read in that direction (newest end first when backward), `concurrency`
 * at a time, and reading stops as soon as no remaining unit can hold a line
 * that would still enter: a limit-100 query never decompresses what it does
 * not need.
 *
 * @module
 */

import type { EngineContext, Selection } from "./plan.ts";
import { lineMatcherOf, plan, timeBounds } from "./plan.ts";
import { compilePipeline } from "./pipeline/mod.ts";
import { readUnits, scanColumns } from "./scan.ts";
import { type Direction, type LogEntry, TopEntries } from "./top_entries.ts";

/** A log query: a selection, the most lines to return, and which come first. */
export interface LogQuery extends Selection {
  readonly limit: number;
  readonly direction: Direction;
}

/** The lines of a log query, and what could not be read. */
export interface SelectResult {
  entries: LogEntry[];
  /** One message per damaged file skipped; the answer lacks its lines. */
  warnings: string[];
}

/**
 * The first `query.limit` lines of `query` in its direction (ties ordered by
 * labels, then line).
 */
export async function selectLines(ctx: EngineContext, query: LogQuery): Promise<SelectResult> {
  const [lo, hi] = timeBounds(query);
  const matcherOf = lineMatcherOf(query);
  const pipeline = compilePipeline(query.pipeline);
  const backward = query.direction === "backward";
  const { units, warnings, done } = await plan(ctx, query);
  try {
    // The unit that may hold the first line in the direction goes first.
    units.sort(backward ? (a, b) => cmp(b.maxTs, a.maxTs) : (a, b) => cmp(a.minTs, b.minTs));
    const top = new TopEntries(query.limit, query.direction);
    for (let at = 0; at < units.length;) {
      if (!top.admits(backward ? units[at].maxTs : units[at].minTs)) break;
      const wave = units.slice(at, at + ctx.concurrency);
      at += wave.length;
      const read = await readUnits(ctx, wave, warnings);
      for (let w = 0; w < wave.length; w++) {
        const run = pipeline.forStream(wave[w].stream);
        const bound = top.bound;
        scanColumns(
          read[w],
          backward && bound !== undefined && bound > lo ? bound : lo,
          !backward && bound !== undefined && bound < hi ? bound : hi,
          matcherOf(wave[w].stream, read[w].hasMetadata),
          (ts, line, metadata) => {
            if (!top.admits(ts)) return;
            const out = run.process(
              line,
              metadata === undefined ? undefined : JSON.parse(metadata),
            );
            if (out) top.offer({ ts, ...out });
          },
        );
        top.settle();
      }
    }
    return { entries: top.sorted(), warnings };
  } finally {
    done();
  }
}

function cmp(a: bigint, b: bigint): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
