/**
 * Metric queries on Loki's query endpoints: `query_range` evaluates at
 * `start + k·step` up to `end` (`step` as Loki reads it, default
 * `max(floor(range / 250), 1)` seconds, at most 11,000 points) and answers
 * a `matrix`; `query` evaluates at `time` and answers a `vector` (a
 * `scalar` for a number). The engine computes the answer
 * (`query/metric/`); this face parses the parameters and encodes it, with
 * Loki's `stats` and the warnings of files that could not be read.
 *
 * @module
 */

import type { QueryEngine } from "../../query/engine.ts";
import { json } from "../respond.ts";
import { encodeMetric, lokiStats } from "./encode.ts";
import { parseStep, type Window } from "./params.ts";
import { parseMetricText } from "./query_text.ts";

/** Evaluates metric query `text` and answers in Loki's shape. */
async function answer(
  engine: QueryEngine,
  text: string,
  when: { instant: boolean; start: bigint; end: bigint; step: bigint },
): Promise<Response> {
  const began = performance.now();
  const expr = parseMetricText(text);
  const result = await engine.metric({ expr, ...when });
  return json({
    status: "success",
    data: {
      ...encodeMetric(result),
      stats: lokiStats({
        seconds: (performance.now() - began) / 1000,
        read: result.read,
        // Loki counts the series of a vector or matrix, nothing for a scalar.
        returned: result.resultType === "scalar" ? 0 : result.series.length,
      }),
    },
    ...(result.warnings.length > 0 ? { warnings: result.warnings } : {}),
  });
}

/**
 * `query_range` of a metric query over `bounds` (Loki's, `end` included)
 * with the request's `step`.
 */
export function metricRange(
  engine: QueryEngine,
  params: URLSearchParams,
  text: string,
  bounds: Window,
): Promise<Response> {
  const step = parseStep(params.get("step"), bounds);
  return answer(engine, text, { instant: false, start: bounds.start, end: bounds.end, step });
}

/**
 * `query` of a metric query at time `at`.
 *
 * @example
 * ```ts
 * import { metricInstant } from "./metric_query.ts";
 * import { QueryEngine } from "../../query/engine.ts";
 * import { Catalog } from "../../storage/catalog.ts";
 * import { SegmentCache } from "../../storage/segment_cache.ts";
 * import assert from "node:assert/strict";
 * const dir = await Deno.makeTempDir();
 * const catalog = await Catalog.open(dir);
 * const engine = new QueryEngine({
 *   catalog,
 *   cache: new SegmentCache(catalog.opener),
 *   head: () => [],
 *   concurrency: 4,
 * });
 * // Grafana's health check.
 * const res = await metricInstant(engine, "vector(1)+vector(1)", 4_000_000_000_000_000_000n);
 * const { data } = await res.json();
 * assert.deepEqual(data.result, [{ metric: {}, value: [4000000000, "2"] }]);
 * catalog.close();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export function metricInstant(engine: QueryEngine, text: string, at: bigint): Promise<Response> {
  return answer(engine, text, { instant: true, start: at, end: at, step: 0n });
}
