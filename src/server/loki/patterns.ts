/**
 * `GET /loki/api/v1/patterns`: the log patterns of a stream selector's
 * lines over a range, with their lines per step, in Loki's shape (loki
 * `pkg/loghttp/patterns.go` for the parameters, `pkg/util/marshal`
 * `WriteQueryPatternsResponseJSON` for the answer):
 * `{"status":"success","data":[{"pattern","level","samples":[[<unix s>, <lines>], …]}]}`.
 * Logs Drilldown's patterns tab asks it with the query's `step`; a step
 * under 10 s counts by 10 s, Loki's finest. loge mines the patterns when
 * asked (see `src/query/patterns.ts`): counts of a sample are estimates,
 * which the answer says in `warnings`.
 *
 * @module
 */

import type { PatternQuery, Patterns } from "../../query/patterns.ts";
import { QueryError } from "../read_request.ts";
import { json } from "../respond.ts";
import { lokiWindow, parseStep, requestParams } from "./params.ts";
import { selectorMatchers } from "./query_text.ts";

const SECOND = 1_000_000_000n;
/** Loki's default look-back when `start` is absent. */
const SINCE = 3600n * SECOND;
/** The finest step of pattern counts (Loki's `drain.TimeResolution`). */
const MIN_STEP = 10n * SECOND;

/** Mines patterns: the query engine's `patterns`. */
export type PatternMiner = (query: PatternQuery) => Promise<Patterns>;

/** Handles a patterns request. */
export async function handlePatterns(req: Request, patterns: PatternMiner, now: bigint) {
  const params = await requestParams(req);
  const text = params.get("query")?.trim();
  if (!text) throw new QueryError('query is required: a stream selector such as {app="web"}');
  const window = lokiWindow(params, now, SINCE);
  const step = parseStep(params.get("step"), window);
  const { series, scale, warnings } = await patterns({
    ...window,
    matchers: selectorMatchers(text, "query"),
    step: step > MIN_STEP ? step : MIN_STEP,
  });
  if (scale > 1) {
    warnings.push(
      `patterns were mined from a sample of about 1 line in ${
        scale.toFixed(1)
      }: their counts are estimates`,
    );
  }
  return json({
    status: "success",
    data: series.map(({ pattern, level, samples }) => ({
      pattern,
      level,
      samples: samples.map(([ts, n]) => [Number(ts / SECOND), n]),
    })),
    ...(warnings.length > 0 ? { warnings } : {}),
  });
}
