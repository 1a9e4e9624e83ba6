/**
 * The query engine: one entry point over the query modules. A query is
 * planned against the catalog and the in-memory head (`plan.ts`), its units
 * are read and scanned with the pushed-down line filters (`scan.ts`), the
 * rest of its pipeline runs once per stream (`pipeline/`), and a sink keeps
 * what the query asks for: the first lines in a direction (`select.ts`) or
 * the samples of metric queries per step (`metric/`). `streams.ts` answers
 * label discovery.
 *
 * @module
 */

import { type CatalogEntry, type TimeSpan, widen } from "../storage/catalog.ts";
import { LOCAL } from "../storage/source/opener.ts";
import { countOverTime, type CountQuery, type Counts } from "./metric/count_over_time.ts";
import { evaluateMetric, type MetricQuery, type MetricResult } from "./metric/evaluate.ts";
import type { EngineContext } from "./plan.ts";
import { type LogQuery, selectLines, type SelectResult } from "./select.ts";
import type { LabelMatcher } from "./ast.ts";
import { type IndexStats, indexStats, labelNames, labelValues, streamsIn } from "./streams.ts";
import { minePatterns, type PatternQuery, type Patterns } from "./patterns.ts";
import { type VolumeQuery, volumes, type VolumeSeries } from "./volume.ts";
import { checkQueryRange } from "./range_limit.ts";

export type { EngineContext, ListedSegment, ReadContext, Selection } from "./plan.ts";
export type { LogQuery, SelectResult } from "./select.ts";
export { cutWarning, selectSegments } from "./select.ts";
export type { CountQuery, Counts } from "./metric/count_over_time.ts";
export type { MetricQuery, MetricResult } from "./metric/evaluate.ts";
export type { IndexStats } from "./streams.ts";
export type { PatternQuery, Patterns, PatternSeries } from "./patterns.ts";
export type { VolumeAggregation, VolumeQuery, VolumeSeries } from "./volume.ts";
export type { Direction, LogEntry } from "./top_entries.ts";
export { MAX_ANSWER_SIZE } from "./top_entries.ts";

/** The hot part of a client-side search: lines of the head and local files, and the cold files. */
export interface HotSelectResult extends SelectResult {
  /** The remote files the catalog cannot rule out, unread: the client reads them. */
  cold: CatalogEntry[];
}

/**
 * Answers queries over a catalog, its segment cache and the head.
 *
 * @example
 * ```ts
 * import { QueryEngine } from "./engine.ts";
 * import { MemBatch } from "../ingest/head.ts";
 * import { Catalog } from "../storage/catalog.ts";
 * import { SegmentCache } from "../storage/segment_cache.ts";
 * import assert from "node:assert/strict";
 * const dir = await Deno.makeTempDir();
 * const catalog = await Catalog.open(dir);
 * const head = new MemBatch();
 * head.add(1, [{ key: '{"app":"web"}', ts: [1n, 2n], lines: ["GET / 200", "GET /x 502"] }]);
 * const engine = new QueryEngine({
 *   catalog,
 *   cache: new SegmentCache(catalog.opener),
 *   head: () => [head],
 *   concurrency: 8,
 * });
 * const { entries } = await engine.select({
 *   start: 0n,
 *   end: 0n,
 *   matchers: [{ name: "app", op: "=", value: "web" }],
 *   pushdown: [{ kind: "line_filter", op: "|=", value: "502" }],
 *   pipeline: [],
 *   limit: 100,
 *   direction: "backward",
 * });
 * assert.deepEqual(entries.map((e) => e.line), ["GET /x 502"]);
 * catalog.close();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export class QueryEngine {
  readonly #ctx: EngineContext;

  /** Creates an engine over `context`. */
  constructor(context: EngineContext) {
    this.#ctx = context;
  }

  /**
   * The first `query.limit` lines of a log query, in its direction, or fewer
   * when they pass `--max-response-size`: then `cut` is the first line left
   * out, and a warning says so.
   */
  async select(query: LogQuery): Promise<SelectResult> {
    this.#checkRange(query);
    return await selectLines(this.#ctx, query);
  }

  /** Queries that read lines cover at most `--max-query-range`. */
  #checkRange(query: { start: bigint; end: bigint }): void {
    checkQueryRange(query.start, query.end, this.#ctx.maxQueryRange ?? 0n);
  }

  /**
   * The hot part of a client-side search (`GET /api/v1/search/plan`): the
   * first `query.limit` lines of `query` over the head and the local files,
   * and the remote files that the catalog cannot rule out for it (by time,
   * streams — a row that does not know its streams yet cannot be ruled out —
   * and content filter), left for the client to read with
   * {@linkcode selectSegments}. One look at the catalog decides both, so a
   * file rotating meanwhile is in exactly one of them.
   */
  async selectHot(query: LogQuery): Promise<HotSelectResult> {
    this.#checkRange(query);
    const { entries, warnings, unread, cut } = await selectLines(this.#ctx, query, {
      read: (entry) => entry.location === LOCAL,
    });
    // The cut's warning is for clients that do not stop at `cut`; `loge search --local` answers its own.
    return { entries, warnings, cold: unread, cut };
  }

  /** Lines per step bucket, by label values. */
  async countOverTime(query: CountQuery): Promise<Counts> {
    this.#checkRange(query);
    return await countOverTime(this.#ctx, query);
  }

  /** The answer of a metric query (`rate(…)`, `sum by (…) (…)`, …) at its steps. */
  async metric(query: MetricQuery): Promise<MetricResult> {
    this.#checkRange(query);
    return await evaluateMetric(this.#ctx, query);
  }

  /**
   * Label names of the streams with lines in `[start, end]` (0n = unbounded)
   * that `matchers` select (none: every stream), sorted.
   */
  async labels(
    start: bigint,
    end: bigint,
    matchers: readonly LabelMatcher[] = [],
  ): Promise<string[]> {
    return labelNames(await streamsIn(this.#ctx, start, end, matchers));
  }

  /**
   * Values of label `name` in the streams with lines in `[start, end]` that
   * `matchers` select (none: every stream), sorted.
   */
  async labelValues(
    name: string,
    start: bigint,
    end: bigint,
    matchers: readonly LabelMatcher[] = [],
  ): Promise<string[]> {
    return labelValues(await streamsIn(this.#ctx, start, end, matchers), name);
  }

  /**
   * The label sets of the streams with lines in `[start, end]` that
   * `matchers` select, sorted by their canonical key.
   */
  async series(
    start: bigint,
    end: bigint,
    matchers: readonly LabelMatcher[],
  ): Promise<Readonly<Record<string, string>>[]> {
    const streams = [...await streamsIn(this.#ctx, start, end, matchers)];
    return streams.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)).map((s) =>
      s.labels
    );
  }

  /** Streams, blocks, lines and bytes of what `matchers` select in `[start, end]`, by block. */
  indexStats(
    start: bigint,
    end: bigint,
    matchers: readonly LabelMatcher[],
  ): Promise<IndexStats> {
    return indexStats(this.#ctx, start, end, matchers);
  }

  /** Bytes per bucket by series or by label, from the index (Loki's `index/volume`). */
  volumes(query: VolumeQuery): Promise<VolumeSeries[]> {
    return volumes(this.#ctx, query);
  }

  /** Log patterns of the selected streams and their lines per step (Loki's `patterns`). */
  async patterns(query: PatternQuery): Promise<Patterns> {
    this.#checkRange(query);
    return await minePatterns(this.#ctx, query);
  }

  /** The times of every stored line, in files and in memory; `undefined` when there is none. */
  span(): TimeSpan | undefined {
    let span = this.#ctx.catalog.stats().span;
    for (const batch of this.#ctx.head()) {
      if (batch.rows > 0) span = widen(span, batch.minTs, batch.maxTs);
    }
    return span;
  }
}
