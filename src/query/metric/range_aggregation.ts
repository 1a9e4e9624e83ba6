/**
 * Range aggregations evaluated in the engine, over blocks: the selection is
 * planned like a log query's over the window of every step (`plan.ts`:
 * catalog, block pruning, the head), its units are read `concurrency` at a
 * time (`scan.ts`) and their lines go through one pipeline per stream
 * (`pipeline/`), never all in memory. Each line that comes through is a
 * sample (1, its bytes, or its unwrapped value) of the series its labels
 * name (`sample_labels.ts`), added to the partial aggregate of the interval
 * its time falls into (`windows.ts`, `range_functions.ts`); the value at
 * each step combines the intervals of its window.
 *
 * Counting needs no lines where nothing filters or changes them: a block
 * wholly inside one interval adds its line count from the index without
 * being read when the series of its lines cannot depend on their
 * structured metadata (the grouping keeps labels of the stream only), and
 * any other block is read for its timestamps (and metadata) only.
 *
 * @module
 */

import { compilePipeline, splitPushdown } from "../pipeline/mod.ts";
import { processLine, processSample } from "../off_thread.ts";
import { type EngineContext, lineMatcherOf, plan, type Selection, type Unit } from "../plan.ts";
import { lowerBound, upperBound } from "../line_scan.ts";
import type { ReadFigures } from "../read_figures.ts";
import { countLines, readUnits, scanColumns } from "../scan.ts";
import { utf8Length } from "../../utf8.ts";
import type { Grouping, RangeAggregation } from "./ast.ts";
import { checkRangeCells, checkWindowWork } from "./limits.ts";
import { rangeFunction, type RangeState } from "./range_functions.ts";
import { SampleLabeler, type SampleSeries } from "./sample_labels.ts";
import { emptySeries, type Labels, labelsOf, type Series, type Steps } from "./series.ts";
import { Unwrapper } from "./unwrap.ts";
import { IntervalFinder, rangeWindows } from "./windows.ts";

/** How a range aggregation is evaluated beyond its own expression. */
export interface RangeOptions {
  /**
   * A grouping pushed down from an enclosing `sum` (Loki's
   * `canInjectVectorGrouping`): samples are grouped as they are read.
   */
  readonly grouping?: Grouping;
  /** Lines after this time (inclusive bound, ns) are left out. */
  readonly until?: bigint;
  /** Lines carrying `__error__` count as they are instead of failing the query. */
  readonly keepErrors?: boolean;
  /**
   * Counts what is read (lines of blocks counted from the index count as
   * lines of blocks, without bytes).
   */
  readonly read?: ReadFigures;
}

/** The series of a range aggregation, and what could not be read. */
export interface RangeResult {
  /** Series with at least one sample, in no particular order. */
  series: Series[];
  /** One message per damaged or unreachable file skipped; the values lack its lines. */
  warnings: string[];
}

/**
 * The labels `absent_over_time` answers with: those of the selector's
 * equality matchers, except names matched more than once or otherwise
 * (Loki's `absentLabels`).
 */
function absentLabels(agg: RangeAggregation): Labels {
  const labels: Record<string, string> = {};
  const drop = new Set<string>();
  for (const m of agg.matchers) {
    if (m.op === "=" && !Object.hasOwn(labels, m.name)) labels[m.name] = m.value;
    else drop.add(m.name);
  }
  for (const name of drop) delete labels[name];
  return labelsOf(labels);
}

/**
 * Evaluates `agg` at `steps`.
 *
 * @example
 * ```ts
 * import { evaluateRange } from "./range_aggregation.ts";
 * import { parseMetricQuery } from "./parse.ts";
 * import { MemBatch } from "../../ingest/head.ts";
 * import { Catalog } from "../../storage/catalog.ts";
 * import { SegmentCache } from "../../storage/segment_cache.ts";
 * import assert from "node:assert/strict";
 * const dir = await Deno.makeTempDir();
 * const catalog = await Catalog.open(dir);
 * const head = new MemBatch();
 * const s = 1_000_000_000n;
 * const lines = ["GET 200", "GET 502", "GET 200"];
 * head.add(1, [{ key: '{"app":"web"}', ts: [1n * s, 2n * s, 3n * s], lines }]);
 * const ctx = { catalog, cache: new SegmentCache(catalog.opener), head: () => [head], concurrency: 4 };
 * const agg = parseMetricQuery('count_over_time({app="web"} |= "200" [2s])');
 * assert.equal(agg.kind, "range_aggregation");
 * const { series } = await evaluateRange(ctx, agg, { start: 2n * s, step: s, count: 2 });
 * assert.deepEqual(series[0].labels, { app: "web" });
 * assert.deepEqual([...series[0].values], [1, 1]); // (0 s, 2 s] and (1 s, 3 s]
 * catalog.close();
 * await Deno.remove(dir, { recursive: true });
 * ```
 *
 * @throws {MetricQueryError} When a sample carries `__error__`, or the
 * series are too many.
 */
export async function evaluateRange(
  ctx: EngineContext,
  agg: RangeAggregation,
  steps: Steps,
  options: RangeOptions = {},
): Promise<RangeResult> {
  const windows = rangeWindows(steps, agg.range, agg.offset);
  const { bounds, intervals } = windows;
  if (intervals === 0) return { series: [], warnings: [] };
  const lo = bounds[0];
  const last = bounds[intervals];
  const hi = options.until !== undefined && options.until < last ? options.until : last;
  const result: RangeResult = { series: [], warnings: [] };
  if (hi > lo && hi >= 0n) await accumulate(ctx, agg, windows, lo, hi, options, result);
  if (agg.op !== "absent_over_time") return result;
  // absent_over_time: one series where no other has a sample.
  const absent = emptySeries(absentLabels(agg), steps.count);
  let any = false;
  for (let k = 0; k < steps.count; k++) {
    if (result.series.some((s) => s.present[k])) continue;
    absent.values[k] = 1;
    absent.present[k] = 1;
    any = true;
  }
  result.series = any ? [absent] : [];
  return result;
}

/** Reads the lines of `agg` in `(lo, hi]` into `result`. */
async function accumulate(
  ctx: EngineContext,
  agg: RangeAggregation,
  windows: ReturnType<typeof rangeWindows>,
  lo: bigint,
  hi: bigint,
  options: RangeOptions,
  result: RangeResult,
): Promise<void> {
  const { covered, intervals } = windows;
  const sel: Selection = {
    start: lo + 1n,
    end: hi,
    matchers: agg.matchers,
    ...splitPushdown(agg.pipeline),
  };
  const fn = rangeFunction(agg);
  const labeler = new SampleLabeler(
    agg.grouping ?? options.grouping,
    agg.unwrap?.label,
    options.keepErrors,
  );
  const unwrapping = agg.unwrap && { unwrap: agg.unwrap, unwrapper: new Unwrapper(agg.unwrap) };
  const bytes = agg.op === "bytes_over_time" || agg.op === "bytes_rate";
  const pipeline = compilePipeline(sel.pipeline);
  const matcherOf = lineMatcherOf(sel);
  const countsOnly = fn.counts && sel.pushdown.length === 0 && pipeline.identity;
  const states = new Map<string, { series: SampleSeries; state: RangeState }>();
  const stateOf = (series: SampleSeries): RangeState => {
    let found = states.get(series.key);
    if (!found) {
      checkRangeCells(states.size + 1, intervals, agg.op);
      states.set(series.key, found = { series, state: fn.create(intervals) });
    }
    return found.state;
  };
  const { units, warnings, done } = await plan(ctx, sel);
  result.warnings = warnings;
  try {
    const toRead: Unit[] = [];
    const finder = new IntervalFinder(windows);
    for (const u of units) {
      if (
        countsOnly && u.kind === "block" && u.minTs > lo && u.maxTs <= hi &&
        labeler.streamDecides(u.stream)
      ) {
        const j = finder.of(u.minTs);
        if (j >= 0 && j === finder.of(u.maxTs)) {
          if (covered[j]) stateOf(labeler.of({ stream: u.stream })).add(j, 0n, u.ref.count);
          if (options.read) options.read.blockLines += u.ref.count;
          continue;
        }
      }
      toRead.push(u);
    }
    for (let at = 0; at < toRead.length; at += ctx.concurrency) {
      const wave = toRead.slice(at, at + ctx.concurrency);
      const columns = await readUnits(ctx, wave, warnings, options.read, countsOnly);
      for (let w = 0; w < wave.length; w++) {
        const u = wave[w];
        const cols = columns[w];
        const find = new IntervalFinder(windows);
        if (countsOnly) {
          // Only the timestamps matter, and the metadata where it may name the series.
          const from = lowerBound(cols.ts, lo + 1n);
          const to = upperBound(cols.ts, hi);
          if (options.read) countLines(options.read, cols, from, to);
          const fixed = !cols.hasMetadata || labeler.streamDecides(u.stream)
            ? stateOf(labeler.of({ stream: u.stream }))
            : undefined;
          const byMetadata = new Map<string | undefined, RangeState>();
          for (let i = from; i < to; i++) {
            const j = find.of(cols.ts[i]);
            if (j < 0 || !covered[j]) continue;
            let state = fixed;
            if (!state) {
              const meta = cols.metadata(i);
              state = byMetadata.get(meta);
              if (!state) {
                const metadata = meta === undefined ? undefined : JSON.parse(meta);
                byMetadata.set(meta, state = stateOf(labeler.of({ stream: u.stream, metadata })));
              }
            }
            state.add(j, 0n, 1);
          }
          continue;
        }
        const run = pipeline.forStream(u.stream);
        await scanColumns(
          cols,
          lo + 1n,
          hi,
          matcherOf(u.stream, cols.hasMetadata),
          (ts, line, meta) => {
            const j = find.of(ts);
            if (j < 0 || !covered[j]) return;
            if (unwrapping) {
              return processSample(run, line, meta, unwrapping, ({ value, labels }) => {
                stateOf(labeler.of(labels)).add(j, ts, value);
              });
            }
            return processLine(run, line, meta, (out) => {
              stateOf(labeler.of(out)).add(j, ts, bytes ? utf8Length(out.line) : 1);
            });
          },
          options.read,
        );
      }
    }
  } finally {
    done();
  }
  const { first, end } = windows;
  const count = first.length;
  const shifted = (k: number) => windows.bounds[end[k]];
  let work = 0;
  for (const { state } of states.values()) {
    for (let k = 0; k < count; k++) work += state.work(first[k], end[k]);
    checkWindowWork(work, agg.op);
  }
  for (const { series, state } of states.values()) {
    const out = emptySeries(series.labels, count);
    let any = false;
    for (let k = 0; k < count; k++) {
      const v = state.value(first[k], end[k], shifted(k));
      if (v === undefined) continue;
      out.values[k] = v;
      out.present[k] = 1;
      any = true;
    }
    if (any) result.series.push(out);
  }
}
