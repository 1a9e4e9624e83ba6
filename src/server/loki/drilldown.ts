/**
 * What Grafana's Logs Drilldown asks besides queries and volumes (its
 * requests: `/work/shared/loki_compat.md` §2): `detected_labels`,
 * `detected_fields`, `detected_field/<name>/values` and `drilldown-limits`,
 * answered in Loki's shapes (loki `pkg/querier/queryrange/detected_fields.go`,
 * `pkg/querier/querier.go` `DetectedLabels`, `pkg/loki/config_handler.go`),
 * not wrapped in `status`/`data`, and `{}` when there is nothing to list, as
 * Loki's JSON leaves empty lists out.
 *
 * Detected fields look at the newest `line_limit` lines (default 100, as
 * Loki's per-split default) of the query, a log query whose pipeline (such
 * as Drilldown's `| json | logfmt | drop __error__, __error_details__`) runs
 * as in `query_range`.
 *
 * @module
 */

import denoConfig from "../../../deno.json" with { type: "json" };
import { LEVEL_FIELDS } from "../../ingest/detected_level.ts";
import { SERVICE_NAME_SOURCES } from "../../ingest/service_name.ts";
import { detectFields, fieldValues } from "../../query/detected_fields.ts";
import { detectLabels } from "../../query/detected_labels.ts";
import type { LogEntry, QueryEngine } from "../../query/engine.ts";
import { splitPushdown } from "../../query/pipeline/mod.ts";
import { MAX_LIMIT, QueryError } from "../read_request.ts";
import { json } from "../respond.ts";
import { lokiWindow, parseStep, requestParams } from "./params.ts";
import { optionalSelector, parseQuery } from "./query_text.ts";

/** What detected labels and fields read: the query engine's selections and series. */
type Reader = Pick<QueryEngine, "select" | "series">;

/** Loki's default look-back when `start` is absent. */
const SINCE = 3_600_000_000_000n;
/** Lines detected fields look at when `line_limit` is absent (Loki's `defaultQueryLimit`). */
const DEFAULT_LINE_LIMIT = 100;
/** Fields or values answered when `limit` is absent (Loki's `defaultLimit`). */
const DEFAULT_FIELD_LIMIT = 1000;

/** A positive integer parameter, `fallback` when absent. */
function positive(params: URLSearchParams, name: string, fallback: number): number {
  const text = params.get(name);
  if (!text) return fallback;
  if (!/^[+-]?\d+$/.test(text)) {
    throw new QueryError(`${name} must be a positive integer, got ${JSON.stringify(text)}`);
  }
  const n = Number(text);
  if (n <= 0) throw new QueryError(`${name} must be a positive value`);
  return n;
}

/**
 * The newest lines of a detected-fields request's query: `query` (required,
 * a log query), `start`/`end`/`since`, `line_limit` (at most loge's 5000
 * lines per query, as Loki checks it against `max_entries_limit_per_query`)
 * and `step` (checked as Loki checks it); and its `limit` (or `field_limit`).
 */
async function sampleLines(
  req: Request,
  engine: Reader,
  now: bigint,
): Promise<{ entries: LogEntry[]; limit: number }> {
  const params = await requestParams(req);
  const text = params.get("query")?.trim();
  if (!text) {
    throw new QueryError('query is required: a LogQL log query such as {app="web"} | json');
  }
  const window = lokiWindow(params, now, SINCE);
  const lineLimit = positive(params, "line_limit", DEFAULT_LINE_LIMIT);
  if (lineLimit > MAX_LIMIT) {
    throw new QueryError(
      `max entries limit per query exceeded, limit > max_entries_limit_per_query (${lineLimit} > ${MAX_LIMIT})`,
    );
  }
  const limit = params.get("limit")
    ? positive(params, "limit", DEFAULT_FIELD_LIMIT)
    : positive(params, "field_limit", DEFAULT_FIELD_LIMIT);
  parseStep(params.get("step"), window);
  const { matchers, pipeline } = parseQuery(text);
  const { entries } = await engine.select({
    ...window,
    matchers,
    ...splitPushdown(pipeline),
    limit: lineLimit,
    direction: "backward",
  });
  return { entries, limit };
}

/** `GET /loki/api/v1/detected_fields`: `{"fields": [...], "limit": N}`. */
export async function handleDetectedFields(req: Request, engine: Reader, now: bigint) {
  const { entries, limit } = await sampleLines(req, engine, now);
  const fields = detectFields(entries, limit);
  return json(fields.length > 0 ? { fields, limit } : {});
}

/** `GET /loki/api/v1/detected_field/<name>/values`: `{"values": [...], "limit": N}`. */
export async function handleDetectedFieldValues(
  req: Request,
  engine: Reader,
  now: bigint,
  name: string,
) {
  const { entries, limit } = await sampleLines(req, engine, now);
  const values = fieldValues(entries, name, limit);
  return json(values.length > 0 ? { values, limit } : {});
}

/**
 * `GET /loki/api/v1/detected_labels`: the stream labels of `query`'s streams
 * (absent or empty: every stream) worth a breakdown, `{"detectedLabels": [...]}`.
 */
export async function handleDetectedLabels(req: Request, engine: Reader, now: bigint) {
  const params = await requestParams(req);
  const { start, end } = lokiWindow(params, now, SINCE);
  const detectedLabels = detectLabels(await engine.series(start, end, optionalSelector(params)));
  return json(detectedLabels.length > 0 ? { detectedLabels } : {});
}

/**
 * `GET /loki/api/v1/drilldown-limits`: the limits Drilldown reads, those of
 * Loki's allow-list that loge has ("0s": no limit), that patterns are
 * answered, and loge's version.
 */
export function handleDrilldownLimits(): Response {
  return json({
    limits: {
      discover_log_levels: true,
      discover_service_name: SERVICE_NAME_SOURCES,
      log_level_fields: LEVEL_FIELDS,
      max_entries_limit_per_query: MAX_LIMIT,
      max_line_size_truncate: false,
      max_query_length: "0s",
      max_query_lookback: "0s",
      max_query_range: "0s",
      metric_aggregation_enabled: false,
      pattern_persistence_enabled: false,
      query_timeout: "0s",
      retention_period: "0s",
      volume_enabled: true,
    },
    pattern_ingester_enabled: true,
    version: denoConfig.version,
  });
}
