/**
 * The HTTP routes of `loge serve`.
 *
 * @module
 */

import type { IngestSink } from "../ingest/ingester.ts";
import type { QueryEngine } from "../query/engine.ts";
import { type Catalog, widen } from "../storage/catalog.ts";
import type { Quarantine } from "../storage/quarantine.ts";
import { createAssets } from "./assets.ts";
import { bearerCheck } from "./auth.ts";
import { BodyBudget } from "./body.ts";
import { type ErrorFlavor, errorResponse, HttpError, logeFlavor, lokiFlavor } from "./errors.ts";
import { handleLokiPush } from "./loki/push.ts";
import { lokiRoutes } from "./loki/routes.ts";
import { json } from "./respond.ts";
import { RouteTable } from "./route_table.ts";
import { DEFAULT_PAYLOAD_LIMITS, type PayloadLimits } from "../ingest/push_limits.ts";
import { ReadGate } from "./read_gate.ts";
import { renderMetrics, RequestMetrics, type StatsFigures } from "./metrics.ts";
import { handlePush } from "./push.ts";
import { handleLabels, handleLabelValues, handleQuery, handleVolume } from "./read.ts";
import { DEFAULT_LIMIT, MAX_LIMIT } from "./read_request.ts";
import { handleSearchPlan, type SearchPlanOptions } from "./search_plan.ts";
import { handleTail } from "./tail.ts";
import { handleLokiTail } from "./loki/tail.ts";
import type { TailHub } from "../tail/hub.ts";
import type { EsBulkMapping } from "../ingest/es_bulk.ts";
import { ES_CHECKS, esFlavor, esInfo, handleEsBulk, isEsClient } from "./es_bulk.ts";
import { handleOtlpLogs } from "./otlp.ts";
import { OTLP_STREAM_ATTRIBUTES } from "../ingest/otlp.ts";
import type { CompactionStats } from "../storage/compactor.ts";

/** What the routes need. */
export interface AppOptions {
  ingester: IngestSink;
  engine: QueryEngine;
  /** For the storage figures of `/api/v1/stats`. */
  catalog: Catalog;
  /** For the figures of damaged files, when files are quarantined. */
  quarantine?: Quarantine;
  maxBodyBytes: number;
  /** Milliseconds a push body may take to arrive. */
  readTimeoutMs: number;
  /** What pushes are held to; {@linkcode DEFAULT_PAYLOAD_LIMITS} without it. */
  payloadLimits?: PayloadLimits;
  /** Bearer token required by the read endpoints; "" disables auth. */
  apiKey: string;
  /** Bearer token required by the push endpoints; "" leaves them open. */
  pushApiKey?: string;
  /** Queries run at once (as many more may wait); {@linkcode MAX_CONCURRENT_QUERIES} without it. */
  maxConcurrentQueries?: number;
  /** Milliseconds a query may take; 0 or none: no deadline. */
  queryTimeoutMs?: number;
  /** `/metrics` without the API key. */
  metricsOpen?: boolean;
  /** The segment cache's hits and misses, for `/metrics`. */
  segmentCache?: { readonly hits: number; readonly misses: number; readonly bytes: number };
  /** What compaction has before it and is doing, for `/api/v1/stats` (none on a query-only node). */
  compactor?: { stats(): CompactionStats };
  /** The cold tier's figures for `/api/v1/stats`, when there is one. */
  coldTier?: { stats(): Record<string, unknown> };
  /**
   * The presigning of cold files and the URLs' lifetime for
   * `/api/v1/search/plan`; without it, plans list no cold segments.
   */
  searchPlan?: SearchPlanOptions;
  /** The live tails (`/api/v1/tail`, `/loki/api/v1/tail`); without it, those routes do not exist. */
  tails?: TailHub;
  /** How Elasticsearch bulk documents map to lines; without it, `POST /_bulk` does not exist. */
  esBulk?: EsBulkMapping;
  /** What retention deleted, for `/api/v1/stats`, when it is on. */
  retention?: { readonly counters: object };
  /** The harvesters' figures for `/api/v1/stats`, when there are harvesters. */
  harvesters?: { stats(): unknown };
  /** Resource attributes of OTLP logs that become stream labels (Loki's defaults without it). */
  otlpStreamAttributes?: readonly string[];
}

/** Compaction's figures in `/api/v1/stats`' shape, times in RFC 3339. */
function compactionStats(c: CompactionStats | undefined): Record<string, unknown> | null {
  if (c === undefined) return null;
  const time = (ms: number) => new Date(ms).toISOString();
  const last = c.lastPass;
  return {
    flush_files: c.flushFiles,
    flush_raw_bytes: c.flushRawBytes,
    small_segments: c.smallSegments,
    awaiting_listing: c.awaitingListing,
    units_waiting: c.unitsWaiting,
    recompress_waiting: c.recompressWaiting,
    running: c.running,
    running_since: c.runningSinceMs === null ? null : time(c.runningSinceMs),
    units_done: c.unitsDone,
    units: c.units,
    units_running: c.unitsRunning,
    passes: c.passes,
    last_pass: last && {
      started: time(last.startedMs),
      duration_ms: last.durationMs,
      files: last.files,
      raw_bytes: last.rawBytes,
      raw_bytes_per_second: Math.round(last.rawBytes / Math.max(last.durationMs, 1) * 1000),
    },
  };
}

/** Queries run at once by default (`--max-concurrent-queries`). */
export const MAX_CONCURRENT_QUERIES = 16;

/** Largest bodies that fit in memory at once (see {@linkcode BodyBudget}). */
const BODY_BUDGET_BODIES = 8;

type Handler = (
  req: Request,
  params: Record<string, string | undefined>,
) => Promise<Response> | Response;

/**
 * Creates the request handler.
 *
 * @example
 * ```ts
 * import { createHandler } from "./app.ts";
 * import { Ingester } from "../ingest/ingester.ts";
 * import { QueryEngine } from "../query/engine.ts";
 * import { Catalog } from "../storage/catalog.ts";
 * import { SegmentCache } from "../storage/segment_cache.ts";
 * import assert from "node:assert/strict";
 * const dir = await Deno.makeTempDir();
 * const catalog = await Catalog.open(dir);
 * const ingester = await Ingester.open(catalog, {
 *   buckets: 2,
 *   payloadSize: 10_000,
 *   flushIntervalMs: 60_000,
 *   flushZstdLevel: 1,
 *   flushWorkers: 1,
 *   flushQueue: 8,
 *   durable: true,
 *   checkpointIntervalMs: 1000,
 *   dropOnBackpressure: false,
 *   maxFlushFiles: 0,
 *   flushCoalesceMs: 0,
 * });
 * const cache = new SegmentCache(catalog.opener);
 * const engine = new QueryEngine({ catalog, cache, head: () => ingester.head(), concurrency: 4 });
 * const handler = createHandler({
 *   ingester,
 *   engine,
 *   catalog,
 *   maxBodyBytes: 10 << 20,
 *   readTimeoutMs: 30_000,
 *   apiKey: "",
 * });
 * // Deno.serve({ port: 3100 }, handler) serves it; here requests go straight in.
 * const post = (path: string, body: unknown) =>
 *   handler(new Request(`http://loge.test${path}`, {
 *     method: "POST",
 *     headers: { "content-type": "application/json" },
 *     body: JSON.stringify(body),
 *   }));
 * const stream = { stream: { app: "web" }, values: [["1700000000000000000", "GET / 200"]] };
 * assert.equal((await post("/api/v1/push", { streams: [stream] })).status, 200);
 * const res = await post("/api/v1/query", { query: '{app="web"}', limit: 10 });
 * assert.deepEqual((await res.json()).data.map((e: { line: string }) => e.line), ["GET / 200"]);
 * await ingester.close();
 * await cache.close();
 * catalog.close();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export function createHandler(options: AppOptions): (req: Request) => Promise<Response> {
  const { ingester, engine, catalog } = options;
  const authorize = bearerCheck(options.apiKey);
  // Bodies being read or waiting for admission, together: room for a few
  // largest bodies, and for many of the usual size.
  const pushLimits = {
    maxBodyBytes: options.maxBodyBytes,
    readTimeoutMs: options.readTimeoutMs,
    budget: new BodyBudget(BODY_BUDGET_BODIES * options.maxBodyBytes),
    payload: options.payloadLimits ?? DEFAULT_PAYLOAD_LIMITS,
  };
  const gate = new ReadGate({
    authorize,
    maxConcurrent: options.maxConcurrentQueries ?? MAX_CONCURRENT_QUERIES,
    timeoutMs: options.queryTimeoutMs ?? 0,
    readTimeoutMs: options.readTimeoutMs,
  });
  // Read routes: the key, then a turn among the queries, within the deadline.
  const guarded = (handler: Handler): Handler => (req, params) =>
    gate.run(req, async (read) => await handler(read, params));
  // Tails last as long as their clients: the key only.
  const authorized = (handler: Handler): Handler => (req, params) => {
    authorize(req);
    return handler(req, params);
  };
  // Push routes check their key before anything else, the body unread.
  const authorizePush = bearerCheck(options.pushApiKey ?? "");
  const pushGuarded = (handler: Handler): Handler => (req, params) => {
    authorizePush(req);
    return handler(req, params);
  };
  /** The figures of `/api/v1/stats`, also read by `/metrics`. */
  const statsFigures = async (): Promise<StatsFigures> => {
    const { rows, span, ...files } = catalog.stats();
    const head = ingester.headStats();
    const times = head.span ? widen(span, head.span.min, head.span.max) : span;
    return {
      ...files,
      rows_total: rows + head.rows,
      rows_in_memory: head.rows,
      min_timestamp: times?.min ?? 0n,
      max_timestamp: times?.max ?? 0n,
      bytes_on_disk: await catalog.bytesOnDisk(),
      ingest: ingester.counters,
      ...ingester.health(),
      ...options.quarantine?.stats,
      compaction: compactionStats(options.compactor?.stats()),
      cold_tier: options.coldTier?.stats() ?? null,
      tails: options.tails?.stats() ?? null,
      harvesters: options.harvesters?.stats() ?? null,
      retention: options.retention ? { ...options.retention.counters } : null,
    };
  };
  const requests = new RequestMetrics();
  // The web UI, with the query limits the server enforces.
  const assets = createAssets({ DEFAULT_LIMIT, MAX_LIMIT });
  const routes: [string, URLPattern, Handler][] = [
    [
      "GET",
      new URLPattern({ pathname: "/" }),
      // Elasticsearch clients check the cluster at `/` before a bulk request.
      (req) => options.esBulk && isEsClient(req) ? esInfo() : assets(req, "/"),
    ],
    [
      "GET",
      new URLPattern({ pathname: "/assets/*" }),
      (req) => assets(req, new URL(req.url).pathname),
    ],
    [
      "POST",
      new URLPattern({ pathname: "/api/v1/push" }),
      pushGuarded((req) => handlePush(req, ingester, pushLimits)),
    ],
    [
      "POST",
      new URLPattern({ pathname: "/loki/api/v1/push" }),
      pushGuarded((req) => handleLokiPush(req, ingester, pushLimits)),
    ],
    ...["/otlp/v1/logs", "/v1/logs"].map((pathname): [string, URLPattern, Handler] => [
      "POST",
      new URLPattern({ pathname }),
      pushGuarded((req) =>
        handleOtlpLogs(
          req,
          ingester,
          pushLimits,
          options.otlpStreamAttributes ?? OTLP_STREAM_ATTRIBUTES,
        )
      ),
    ]),
    [
      "POST",
      new URLPattern({ pathname: "/api/v1/query" }),
      guarded((req) => handleQuery(req, engine)),
    ],
    [
      "POST",
      new URLPattern({ pathname: "/api/v1/volume" }),
      guarded((req) => handleVolume(req, engine)),
    ],
    [
      "GET",
      new URLPattern({ pathname: "/api/v1/search/plan" }),
      guarded((req) => handleSearchPlan(req, engine, options.searchPlan ?? { expirySeconds: 0 })),
    ],
    [
      "GET",
      new URLPattern({ pathname: "/api/v1/labels" }),
      guarded((req) => handleLabels(req, engine)),
    ],
    [
      "GET",
      new URLPattern({ pathname: "/api/v1/label/:name/values" }),
      guarded((req, p) => handleLabelValues(req, engine, p.name!)),
    ],
    [
      "GET",
      new URLPattern({ pathname: "/api/v1/stats" }),
      guarded(async () => json({ status: "success", ...await statsFigures() })),
    ],
    [
      "GET",
      new URLPattern({ pathname: "/metrics" }),
      (options.metricsOpen ? (handler: Handler) => handler : authorized)(async () =>
        new Response(
          renderMetrics({
            requests,
            ingester,
            segmentCache: options.segmentCache,
            stats: await statsFigures(),
          }),
          { headers: { "content-type": "text/plain; version=0.0.4; charset=utf-8" } },
        )
      ),
    ],
    // Loki's read API (GET and form POST, Loki's shapes and plain-text errors).
    ...lokiRoutes(engine, gate),
    ...tailRoutes(options.tails, authorized),
    ...esRoutes(
      options.esBulk,
      pushGuarded((req) => handleEsBulk(req, ingester, pushLimits, options.esBulk!)),
    ),
  ];
  const table = new RouteTable(routes);
  return async (req) => {
    const started = performance.now();
    let url: URL | undefined;
    let route = "unmatched";
    let res: Response;
    try {
      url = requestUrl(req);
      res = await dispatch(req, url, (matched) => route = matched);
    } catch (error) {
      res = errorResponse(error, flavorOf(url?.pathname ?? "/"));
    }
    requests.observe(route, req.method, res.status, (performance.now() - started) / 1000);
    return res;
  };

  /** The answer of the route `req` matches; `matched` hears the route's pattern. */
  async function dispatch(
    req: Request,
    url: URL,
    matched: (route: string) => void,
  ): Promise<Response> {
    const allowed: string[] = [];
    for (const { method, route, handler, params } of table.match(url.pathname)) {
      matched(route);
      if (method === req.method || (method === "GET" && req.method === "HEAD")) {
        return await handler(req, params);
      }
      allowed.push(method);
    }
    if (allowed.length > 0) {
      throw new HttpError(
        405,
        `method ${req.method} not allowed on ${url.pathname}; use ${allowed.join(", ")}`,
      );
    }
    throw new HttpError(404, `no route for ${url.pathname}`);
  }
}

/**
 * The URL of `req`, or a 400 when its target and `Host` header make none
 * (a client may send any bytes there).
 */
function requestUrl(req: Request): URL {
  try {
    return new URL(req.url);
  } catch {
    throw new HttpError(
      400,
      `malformed request: its target and Host header make no URL: ${
        JSON.stringify(req.url.slice(0, 200))
      }`,
    );
  }
}

/**
 * How errors on `pathname` are written: Loki's API answers in Loki's plain
 * text, Elasticsearch's in its JSON, the rest in loge's.
 */
function flavorOf(pathname: string): ErrorFlavor {
  if (pathname.startsWith("/loki/")) return lokiFlavor;
  if (pathname.startsWith("/insert/elasticsearch") || pathname.endsWith("/_bulk")) return esFlavor;
  return logeFlavor;
}

/** The live tail routes over `tails`: server-sent events, and Loki's WebSocket. */
function tailRoutes(
  tails: TailHub | undefined,
  guarded: (handler: Handler) => Handler,
): [string, URLPattern, Handler][] {
  if (!tails) return [];
  return [
    ["GET", new URLPattern({ pathname: "/api/v1/tail" }), guarded((req) => handleTail(req, tails))],
    [
      "GET",
      new URLPattern({ pathname: "/loki/api/v1/tail" }),
      guarded((req) => handleLokiTail(req, tails)),
    ],
  ];
}

/** Elasticsearch's bulk API and the checks its clients make, at `/` and under `/insert/elasticsearch`. */
function esRoutes(
  mapping: EsBulkMapping | undefined,
  bulk: Handler,
): [string, URLPattern, Handler][] {
  if (!mapping) return [];
  const prefix = "{/insert/elasticsearch}?";
  return [
    ["GET", new URLPattern({ pathname: "/insert/elasticsearch{/}?" }), () => esInfo()],
    [
      "POST",
      new URLPattern({ pathname: `${prefix}{/:index}?/_bulk` }),
      bulk,
    ],
    ...Object.entries(ES_CHECKS).map(([path, answer]): [string, URLPattern, Handler] => [
      "GET",
      new URLPattern({ pathname: `${prefix}/${path}` }),
      answer,
    ]),
  ];
}
