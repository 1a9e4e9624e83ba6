/**
 * Log queries: the first `limit` lines of a selection in a direction. Units
 * are read in that direction (newest end first when backward), `concurrency`
 * at a time, and reading stops as soon as no remaining unit can hold a line
 * that would still enter: a limit-100 query never decompresses what it does
 * not need.
 *
 * @module
 */

import type { CatalogEntry } from "../storage/catalog.ts";
import type {
  EngineContext,
  LazyPlan,
  ListedSegment,
  Plan,
  PlanOptions,
  ReadContext,
  Selection,
  Unit,
} from "./plan.ts";
import { lineMatcherOf, planLazily, planSegments, timeBounds } from "./plan.ts";
import { compilePipeline } from "./pipeline/mod.ts";
import { processLine } from "./off_thread.ts";
import { ReadFigures } from "./read_figures.ts";
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
  /** What the query read, for its statistics (set by the engine's selections). */
  read?: ReadFigures;
  /**
   * The first line the answer's size bound left out (`--max-response-size`,
   * {@linkcode TopEntries.cut}): the answer stops before it, short of its
   * limit, a warning says so ({@linkcode cutWarning}), and a client that
   * pages goes on from there.
   */
  cut?: LogEntry;
}

/** The lines of a log query over part of the catalog, and the files it left unread. */
export interface PartialSelectResult extends SelectResult {
  /** The files the catalog could not rule out that were not read (see {@linkcode PlanOptions}). */
  unread: CatalogEntry[];
}

/**
 * The first `query.limit` lines of `query` in its direction (ties ordered by
 * labels, then line), over the head and the cataloged files (those
 * `options.read` picks, when given).
 */
export async function selectLines(
  ctx: EngineContext,
  query: LogQuery,
  options: PlanOptions = {},
): Promise<PartialSelectResult> {
  // Newest files first (oldest, forward): a query that has its lines opens no more.
  const planned = planLazily(
    ctx,
    query,
    query.direction === "backward"
      ? (a, b) => cmp(b.maxTs, a.maxTs)
      : (a, b) => cmp(a.minTs, b.minTs),
    options,
  );
  return { ...await topLines(ctx, query, planned), unread: planned.unread };
}

/**
 * The first `query.limit` lines of `query` in its direction over `segments`
 * and the lines of `given`: how a client finishes a search plan, `given`
 * being the server's answer over its hot tier (lines that already went
 * through the pipeline) and `segments` the cold ones it listed. The answer
 * is the one a single engine over every line would give: the same sink
 * takes both, and the given lines bound the reading of the segments. When
 * the server's answer was cut short at `cut`, the answer stops there too:
 * the hot lines from `cut` on are not among `given`.
 */
export async function selectSegments(
  ctx: ReadContext,
  query: LogQuery,
  segments: readonly ListedSegment[],
  given: readonly LogEntry[] = [],
  cut?: LogEntry,
): Promise<SelectResult> {
  return topLines(ctx, query, await planSegments(ctx, query, segments), given, cut);
}

/**
 * The warning of an answer of `count` lines that its size bound cut short of
 * `limit` lines.
 *
 * @example
 * ```ts
 * import { cutWarning } from "./select.ts";
 * import assert from "node:assert/strict";
 * assert.match(cutWarning(268, 5000), /^the answer holds the first 268 lines, not 5000: /);
 * ```
 */
export function cutWarning(count: number, limit: number): string {
  return `the answer holds the first ${count} lines, not ${limit}: more would pass the size ` +
    "bound of an answer (--max-response-size); page on from its last line";
}

/**
 * Reads `planned` into the first lines of `query`, with `given` lines offered
 * first and the answer stopped at `cut` when there is one. Units are read in
 * the query's direction, the one that may hold the
 * first line first; a lazy plan's next file is opened before any unit it may
 * precede, and reading stops once neither a unit nor a file left can hold a
 * line that would enter the answer.
 */
async function topLines(
  ctx: ReadContext,
  query: LogQuery,
  planned: Plan | LazyPlan,
  given: readonly LogEntry[] = [],
  cut?: LogEntry,
): Promise<SelectResult> {
  const [lo, hi] = timeBounds(query);
  const matcherOf = lineMatcherOf(query);
  const pipeline = compilePipeline(query.pipeline);
  const backward = query.direction === "backward";
  const { warnings, done } = planned;
  const lazy = "next" in planned ? planned : undefined;
  /** Where a unit or file starts in the direction of reading. */
  const edge = (x: { minTs: bigint; maxTs: bigint }) => backward ? x.maxTs : x.minTs;
  /** Whether `a` comes before (or with) `b` in the direction of reading. */
  const first = (a: bigint, b: bigint) => backward ? a >= b : a <= b;
  const byEdge = (a: Unit, b: Unit) => backward ? cmp(b.maxTs, a.maxTs) : cmp(a.minTs, b.minTs);
  const read = new ReadFigures();
  try {
    let units = [...planned.units].sort(byEdge);
    const top = new TopEntries(query.limit, query.direction, ctx.maxResponseSize || Infinity);
    for (const entry of given) top.offer(entry);
    if (cut !== undefined) top.block(cut);
    top.settle();
    for (let at = 0;;) {
      const file = lazy?.next();
      const unit = units[at];
      if (file !== undefined && (unit === undefined || first(edge(file), edge(unit)))) {
        // Units left start no earlier than this file: none of them enters if it cannot.
        if (!top.admits(edge(file))) break;
        const opened = await lazy!.open(ctx.concurrency);
        units = [...units.slice(at), ...opened].sort(byEdge);
        at = 0;
        continue;
      }
      if (unit === undefined || !top.admits(edge(unit))) break;
      // A wave stops before the next file's edge: that file's units may come first.
      let end = Math.min(at + ctx.concurrency, units.length);
      if (file !== undefined) {
        for (let k = at + 1; k < end; k++) {
          if (!first(edge(units[k]), edge(file))) {
            end = k;
            break;
          }
        }
      }
      const wave = units.slice(at, end);
      at = end;
      const columns = await readUnits(ctx, wave, warnings, read);
      for (let w = 0; w < wave.length; w++) {
        const run = pipeline.forStream(wave[w].stream);
        const bound = top.bound;
        await scanColumns(
          columns[w],
          backward && bound !== undefined && bound > lo ? bound : lo,
          !backward && bound !== undefined && bound < hi ? bound : hi,
          matcherOf(wave[w].stream, columns[w].hasMetadata),
          (ts, line, metadata) => {
            if (!top.admits(ts)) return;
            return processLine(run, line, metadata, (out) => top.offer({ ts, ...out }));
          },
          read,
        );
        top.settle();
      }
    }
    const entries = top.sorted();
    const left = top.cut;
    if (left !== undefined) warnings.push(cutWarning(entries.length, query.limit));
    return { entries, warnings, read, cut: left };
  } finally {
    done();
  }
}

function cmp(a: bigint, b: bigint): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
