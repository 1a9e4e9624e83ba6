/**
 * `index/volume` and `index/volume_range`: log volume by series or by label,
 * from the index, in Loki's Prometheus-style answer (loki
 * `pkg/querier/queryrange/volume.go`; parameters as `pkg/loghttp/query.go`
 * `ParseVolumeInstantQuery`/`ParseVolumeRangeQuery`). Logs Drilldown's
 * service page asks `index/volume` for `{service_name=~".+"}`.
 *
 * `volume` answers one sample per series, at the end of the range; a
 * `volume_range` bucket is a step of the range aligned to multiples of the
 * step (the first and last cut by the range), its sample at the bucket's end
 * less a millisecond (the range's end for the last), as Loki's splits stamp
 * them. Values are bytes. Series come largest first (by their first
 * sample), the answer is a `matrix` when a series has several samples, else
 * a `vector`.
 *
 * @module
 */

import type { VolumeAggregation, VolumeQuery, VolumeSeries } from "../../query/volume.ts";
import { isValidLabelName, LABEL_NAME_RULE } from "../../labels.ts";
import { QueryError } from "../read_request.ts";
import { json } from "../respond.ts";
import { lokiStats } from "./encode.ts";
import { lokiWindow, parseStep, requestParams, type Window } from "./params.ts";
import { selectorMatchers } from "./query_text.ts";

const MS = 1_000_000n;
/** Loki's default look-back when `start` is absent. */
const SINCE = 3_600_000_000_000n;
/** Loki's `limit` of volume queries when absent or 0. */
const DEFAULT_LIMIT = 100;

/** What a volume request asks, beyond its window. */
interface VolumeParams {
  text: string;
  limit: number;
  targetLabels: string[];
  aggregateBy: VolumeAggregation;
}

function volumeParams(params: URLSearchParams): VolumeParams {
  const text = params.get("query")?.trim();
  if (!text) throw new QueryError('query is required: a stream selector such as {app="web"}');
  const limitText = params.get("limit") ?? "";
  if (limitText !== "" && !/^[+-]?\d+$/.test(limitText)) {
    throw new QueryError(`limit must be an integer, got ${JSON.stringify(limitText)}`);
  }
  const limit = limitText === "" || Number(limitText) === 0 ? DEFAULT_LIMIT : Number(limitText);
  if (limit < 0) throw new QueryError("limit must be a positive value");
  const targets = params.get("targetLabels") ?? "";
  const targetLabels = targets === "" ? [] : targets.split(",");
  for (const name of targetLabels) {
    if (!isValidLabelName(name)) {
      throw new QueryError(`targetLabels: label name ${JSON.stringify(name)} ${LABEL_NAME_RULE}`);
    }
  }
  const aggregateBy = params.get("aggregateBy") || "series";
  if (aggregateBy !== "series" && aggregateBy !== "labels") {
    throw new QueryError(
      `invalid aggregation option ${JSON.stringify(aggregateBy)}: use "series" or "labels"`,
    );
  }
  return { text, limit, targetLabels, aggregateBy };
}

/** A bucket: inclusive bounds and the time its sample is stamped with. */
type Bucket = [from: bigint, to: bigint, stamp: bigint];

/**
 * The buckets of `window` by `step`, as Loki's `ForInterval` splits a range:
 * steps aligned to multiples of `step`, cut by the window.
 *
 * @example
 * ```ts
 * import { rangeBuckets } from "./volume.ts";
 * import assert from "node:assert/strict";
 * const s = 1_000_000_000n;
 * assert.deepEqual(rangeBuckets({ start: 5n * s, end: 25n * s - 1n }, 10n * s), [
 *   [5n * s, 10n * s - 1n, 10n * s - 1_000_000n],
 *   [10n * s, 20n * s - 1n, 20n * s - 1_000_000n],
 *   [20n * s, 25n * s - 1n, 25n * s],
 * ]);
 * ```
 */
export function rangeBuckets(window: Window, step: bigint): Bucket[] {
  const end = window.end + 1n; // exclusive, as the request gave it
  const buckets: Bucket[] = [];
  for (let at = window.start - window.start % step; at < end; at += step) {
    const last = at + step >= end;
    buckets.push([
      at < window.start ? window.start : at,
      last ? window.end : at + step - 1n,
      last ? end : at + step - MS,
    ]);
  }
  return buckets;
}

/** A Prometheus sample time: seconds, to the millisecond. */
const seconds = (ns: bigint) => Number(ns / MS) / 1000;

/** Each series' `metric` and its `[seconds, "bytes"]` samples, largest first. */
function encodeSeries(series: VolumeSeries[], buckets: Bucket[]) {
  const encoded = series.map(({ labels, bytes }) => {
    const samples: [number, string][] = [];
    bytes.forEach((n, b) => {
      if (n !== undefined) samples.push([seconds(buckets[b][2]), String(n)]);
    });
    return { metric: labels, samples };
  });
  // Largest first by the first sample, as Loki orders them; ties by label set.
  return encoded.sort((a, b) => Number(b.samples[0][1]) - Number(a.samples[0][1]));
}

/** Reads volumes: the query engine's `volumes`. */
export type VolumeReader = (query: VolumeQuery) => Promise<VolumeSeries[]>;

async function answer(
  volumes: VolumeReader,
  request: VolumeParams,
  buckets: Bucket[],
): Promise<Response> {
  const began = performance.now();
  const series = encodeSeries(
    await volumes({
      buckets: buckets.map(([from, to]): [bigint, bigint] => [from, to]),
      matchers: selectorMatchers(request.text, "query"),
      targetLabels: request.targetLabels,
      aggregateBy: request.aggregateBy,
      limit: request.limit,
    }),
    buckets,
  );
  const matrix = series.some((s) => s.samples.length > 1);
  return json({
    status: "success",
    data: {
      resultType: matrix ? "matrix" : "vector",
      result: series.map(({ metric, samples }) =>
        matrix ? { metric, values: samples } : { metric, value: samples[0] }
      ),
      // Read from the index: no line is processed.
      stats: lokiStats({ seconds: (performance.now() - began) / 1000, lines: 0, bytes: 0 }),
    },
  });
}

/** `GET /loki/api/v1/index/volume`: one sample per series, over the whole window. */
export async function handleVolume(req: Request, volumes: VolumeReader, now: bigint) {
  const params = await requestParams(req);
  const request = volumeParams(params);
  const window = lokiWindow(params, now, SINCE);
  return answer(volumes, request, [[window.start, window.end, window.end + 1n]]);
}

/** `GET /loki/api/v1/index/volume_range`: one sample per series and step. */
export async function handleVolumeRange(req: Request, volumes: VolumeReader, now: bigint) {
  const params = await requestParams(req);
  const request = volumeParams(params);
  const window = lokiWindow(params, now, SINCE);
  return answer(volumes, request, rangeBuckets(window, parseStep(params.get("step"), window)));
}
