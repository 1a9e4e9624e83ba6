/**
 * Loki's read API, so Grafana's Loki data source works against loge
 * unchanged: `query_range` and `query` (log queries, and metric queries in
 * `metric_query.ts`), `labels`, `label/<name>/values`,
 * `series`, `index/stats`, `status/buildinfo`, `format_query`, the routes of
 * Explore and Logs Drilldown (`drilldown_routes.ts`) (each under
 * `/loki/api/v1/`, GET and form POST alike) and `/ready`. Answers take
 * Loki's shapes (loki `docs/sources/reference/loki-http-api.md`), errors
 * Loki's plain text ({@linkcode lokiFlavor}). `X-Scope-OrgID` is accepted
 * and ignored: loge has one tenant.
 *
 * @module
 */

import denoConfig from "../../../deno.json" with { type: "json" };
import type { QueryEngine } from "../../query/engine.ts";
import { splitPushdown } from "../../query/pipeline/mod.ts";
import { formatLogQL } from "../../query/format.ts";
import { errorResponse, lokiFlavor } from "../errors.ts";
import { json } from "../respond.ts";
import { QueryError } from "../read_request.ts";
import { optionalSelector, parseQuery, selectorMatchers } from "./query_text.ts";
import { CATEGORIZE_LABELS, encodeStreams, lokiStats, wantsCategorized } from "./encode.ts";
import { drilldownRoutes } from "./drilldown_routes.ts";
import type { ReadGate } from "../read_gate.ts";
import { isMetricQuery } from "../../query/metric/parse.ts";
import { metricInstant, metricRange } from "./metric_query.ts";
import {
  lokiBounds,
  lokiWindow,
  parseDuration,
  parseLokiDirection,
  parseLokiLimit,
  parseLokiTime,
  parseStep,
  pathSegment,
  requestParams,
  type Window,
} from "./params.ts";

const HOUR = 3_600_000_000_000n;
/** Loki's default look-back of log queries (`query_range`, `query`). */
const QUERY_SINCE = HOUR;
/** Loki's default look-back of label and series discovery (its API reference: 6 hours). */
const DISCOVERY_SINCE = 6n * HOUR;

/** A route's handler: the request and the path's named groups. */
export type LokiHandler = (
  req: Request,
  params: Record<string, string | undefined>,
) => Promise<Response> | Response;

const now = () => BigInt(Date.now()) * 1_000_000n;

/** A query's text, which is required: a log query or a metric query (`metric_query.ts`). */
function queryText(params: URLSearchParams): string {
  const text = params.get("query") ?? "";
  if (text.trim() === "") {
    throw new QueryError(
      'query is required: a LogQL query such as {app="web"} or rate({app="web"}[5m])',
    );
  }
  return text;
}

/** Runs a log query over `window` and answers in Loki's `streams` shape. */
async function answerLogQuery(
  req: Request,
  engine: QueryEngine,
  params: URLSearchParams,
  text: string,
  window: Window,
): Promise<Response> {
  const began = performance.now();
  const { matchers, pipeline } = parseQuery(text);
  const limit = parseLokiLimit(params.get("limit"));
  const direction = parseLokiDirection(params.get("direction"));
  const { entries, warnings, read } = await engine.select({
    ...window,
    matchers,
    ...splitPushdown(pipeline),
    limit,
    direction,
  });
  const categorize = wantsCategorized(req);
  return json({
    status: "success",
    data: {
      resultType: "streams",
      // Before `result`, where Grafana's converter looks for it.
      ...(categorize ? { encodingFlags: [CATEGORIZE_LABELS] } : {}),
      result: encodeStreams(entries, categorize),
      stats: lokiStats({
        seconds: (performance.now() - began) / 1000,
        returned: entries.length,
        read,
      }),
    },
    ...(warnings.length > 0 ? { warnings } : {}),
  });
}

/** `query_range`: a log query over `[start, end)`, a metric query at its steps. */
async function queryRange(req: Request, engine: QueryEngine): Promise<Response> {
  const params = await requestParams(req);
  const text = queryText(params);
  if (isMetricQuery(text)) {
    return metricRange(engine, params, text, lokiBounds(params, now(), QUERY_SINCE));
  }
  const window = lokiWindow(params, now(), QUERY_SINCE);
  parseStep(params.get("step"), window); // checked as Loki checks it; log queries have no steps
  return answerLogQuery(req, engine, params, text, window);
}

/**
 * `query`: an instant query at `time` (default now). Log queries answer the
 * lines of the hour before `time` (`since` changes it), in `streams`.
 */
async function instantQuery(req: Request, engine: QueryEngine): Promise<Response> {
  const params = await requestParams(req);
  const text = queryText(params);
  const timeText = params.get("time");
  const at = timeText ? parseLokiTime(timeText, "time") : now();
  if (isMetricQuery(text)) return metricInstant(engine, text, at);
  const since = params.get("since");
  const back = since ? parseDuration(since, "since") : QUERY_SINCE;
  return answerLogQuery(req, engine, params, text, { start: at > back ? at - back : 0n, end: at });
}

/** The package's version, for `status/buildinfo`. */
const VERSION = denoConfig.version;

/**
 * Loki's read routes as `[method, pattern, handler]`, each also answering
 * POST with a form body, each answering errors in Loki's plain text. The
 * routes that read data pass through `gate` (the API key, a turn among the
 * queries, the deadline); `/ready`, `buildinfo` and `format_query` read none.
 */
export function lokiRoutes(
  engine: QueryEngine,
  gate: ReadGate,
): [string, URLPattern, LokiHandler][] {
  const v1 = (path: string) => new URLPattern({ pathname: `/loki/api/v1/${path}` });
  const loki = (handler: LokiHandler, guarded = true): LokiHandler => async (req, p) => {
    try {
      return await (guarded
        ? gate.run(req, async (read) => await handler(read, p))
        : handler(req, p));
    } catch (error) {
      return errorResponse(error, lokiFlavor);
    }
  };
  const routes: [URLPattern, LokiHandler, methods?: string[]][] = [
    [v1("query_range"), loki((req) => queryRange(req, engine))],
    [v1("query"), loki((req) => instantQuery(req, engine))],
    [
      v1("labels"),
      loki(async (req) => {
        const params = await requestParams(req);
        const { start, end } = lokiWindow(params, now(), DISCOVERY_SINCE);
        const data = await engine.labels(start, end, optionalSelector(params));
        return json({ status: "success", data });
      }),
    ],
    [
      v1("label/:name/values"),
      loki(async (req, p) => {
        const params = await requestParams(req);
        const name = pathSegment(p.name!, "label name");
        const { start, end } = lokiWindow(params, now(), DISCOVERY_SINCE);
        const data = await engine.labelValues(name, start, end, optionalSelector(params));
        return json({ status: "success", data });
      }),
    ],
    [
      v1("series"),
      loki(async (req) => {
        const params = await requestParams(req);
        const selectors = params.getAll("match[]");
        if (selectors.length === 0) {
          throw new QueryError('series needs at least one match[] selector, e.g. {app="web"}');
        }
        const { start, end } = lokiWindow(params, now(), DISCOVERY_SINCE);
        const seen = new Map<string, Readonly<Record<string, string>>>();
        for (const selector of selectors) {
          const matchers = selectorMatchers(selector, "match[]");
          for (const labels of await engine.series(start, end, matchers)) {
            seen.set(JSON.stringify(labels), labels);
          }
        }
        // One answer per stream, in the order of their canonical keys.
        const data = [...seen].sort(([a], [b]) => (a < b ? -1 : 1)).map(([, labels]) => labels);
        return json({ status: "success", data });
      }),
    ],
    [
      v1("index/stats"),
      loki(async (req) => {
        const params = await requestParams(req);
        const text = params.get("query")?.trim();
        if (!text) throw new QueryError('query is required: a stream selector such as {app="web"}');
        const { start, end } = lokiWindow(params, now(), QUERY_SINCE);
        // Not wrapped in status/data, as Loki answers it.
        return json(await engine.indexStats(start, end, selectorMatchers(text, "query")));
      }),
    ],
    [
      v1("status/buildinfo"),
      loki(() =>
        json({
          version: VERSION,
          revision: "",
          branch: "",
          buildUser: "",
          buildDate: "",
          goVersion: "",
        }), false),
    ],
    [
      v1("format_query"),
      loki(async (req) => {
        const params = await requestParams(req);
        const text = queryText(params);
        if (isMetricQuery(text)) {
          throw new QueryError(
            "format_query formats log queries only; metric queries are not supported yet",
          );
        }
        return json({ status: "success", data: formatLogQL(parseQuery(text)) });
      }, false),
    ],
    // Explore's volumes and Logs Drilldown's detected labels, fields and patterns.
    ...drilldownRoutes(engine, now).map(([path, handler, guarded]): [URLPattern, LokiHandler] => [
      v1(path),
      loki(handler, guarded),
    ]),
    [
      new URLPattern({ pathname: "/ready" }),
      loki(
        () => new Response("ready\n", { headers: { "content-type": "text/plain; charset=utf-8" } }),
        false,
      ),
      ["GET"],
    ],
  ];
  return routes.flatMap(([pattern, handler, methods = ["GET", "POST"]]) =>
    methods.map((method): [string, URLPattern, LokiHandler] => [method, pattern, handler])
  );
}
