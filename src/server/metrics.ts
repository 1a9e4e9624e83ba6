/**
 * `GET /metrics`: loge's figures in Prometheus' text format (version
 * 0.0.4). HTTP requests by route, method and status with their latencies
 * are counted here as they are answered; the rest is read when scraped from
 * where each figure lives: pushes, lines and bytes by format and the WAL's
 * fsync latencies from the ingester, and the figures of `/api/v1/stats`
 * (storage, WAL damage, quarantine, compaction backlog, cold tier, tails,
 * harvesters).
 *
 * @module
 */

import { FORMAT_IDS } from "../ingest/decode.ts";
import type { IngestSink } from "../ingest/ingester.ts";
import { Histogram } from "../histogram.ts";
import { workersMemory } from "../storage/worker_pool.ts";

/** The figures of `/api/v1/stats`, as its JSON answer holds them. */
export type StatsFigures = Record<string, unknown>;

/**
 * Requests answered, by route, method and status, and their latencies by route.
 *
 * @example
 * ```ts
 * import { RequestMetrics } from "./metrics.ts";
 * import assert from "node:assert/strict";
 * const requests = new RequestMetrics();
 * requests.observe("/api/v1/push", "POST", 200, 0.004);
 * assert.match(requests.render(), /loge_http_requests_total\{route="\/api\/v1\/push",method="POST",code="200"\} 1/);
 * ```
 */
export class RequestMetrics {
  readonly #counts = new Map<string, { labels: Labels; count: number }>();
  readonly #latencies = new Map<string, Histogram>();

  /**
   * Counts one answer of `route` and how long it took. Methods outside HTTP's
   * usual few count as `other`: a client may send any token there, and each
   * would make a series of its own.
   */
  observe(route: string, requested: string, status: number, seconds: number): void {
    const method = METHODS.has(requested) ? requested : "other";
    const key = `${route} ${method} ${status}`;
    const counted = this.#counts.get(key);
    if (counted) counted.count++;
    else this.#counts.set(key, { labels: { route, method, code: String(status) }, count: 1 });
    let latency = this.#latencies.get(route);
    if (latency === undefined) this.#latencies.set(route, latency = new Histogram());
    latency.observe(seconds);
  }

  /** The request families in the text format. */
  render(): string {
    const out = new Exposition();
    out.family("loge_http_requests_total", "counter", "HTTP requests answered");
    for (const { labels, count } of this.#counts.values()) {
      out.sample("loge_http_requests_total", labels, count);
    }
    out.family("loge_http_request_duration_seconds", "histogram", "time to answer, by route");
    for (const [route, latency] of this.#latencies) {
      out.histogram("loge_http_request_duration_seconds", { route }, latency);
    }
    return out.text();
  }
}

type Labels = Record<string, string>;

/** Methods counted by their name. */
const METHODS = new Set(["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"]);

/** Writes families and samples in the text format. */
class Exposition {
  readonly #lines: string[] = [];

  family(name: string, type: "counter" | "gauge" | "histogram", help: string): void {
    this.#lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
  }

  sample(name: string, labels: Labels, value: number): void {
    const pairs = Object.entries(labels).map(([k, v]) => `${k}="${escapeLabel(v)}"`);
    this.#lines.push(`${name}${pairs.length > 0 ? `{${pairs.join(",")}}` : ""} ${value}`);
  }

  histogram(name: string, labels: Labels, h: Histogram): void {
    const cumulative = h.cumulative();
    h.bounds.forEach((le, i) =>
      this.sample(`${name}_bucket`, { ...labels, le: String(le) }, cumulative[i])
    );
    this.sample(`${name}_bucket`, { ...labels, le: "+Inf" }, h.count);
    this.sample(`${name}_sum`, labels, h.sum);
    this.sample(`${name}_count`, labels, h.count);
  }

  text(): string {
    return this.#lines.length > 0 ? `${this.#lines.join("\n")}\n` : "";
  }
}

/** A label value with `\`, `"` and newlines escaped, as the text format asks. */
function escapeLabel(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

/** A figure of `/api/v1/stats` at `path` (dotted), as a number: booleans 0/1, text 1, absent/null 0. */
function figure(stats: StatsFigures, path: string): number {
  let value: unknown = stats;
  for (const key of path.split(".")) {
    value = typeof value === "object" && value !== null
      ? (value as Record<string, unknown>)[key]
      : undefined;
  }
  if (typeof value === "number") return value;
  if (typeof value === "bigint") return Number(value);
  if (typeof value === "boolean") return value ? 1 : 0;
  return typeof value === "string" ? 1 : 0;
}

/**
 * Figures of `/api/v1/stats` as metrics: `[name, type, help, path]`, the
 * path dotted into the stats' JSON. A fault's text counts as 1.
 */
const STATS_METRICS: [string, "counter" | "gauge", string, string][] = [
  ["loge_rows", "gauge", "lines stored, in files and in memory", "rows_total"],
  ["loge_rows_in_memory", "gauge", "lines acknowledged and in no file yet", "rows_in_memory"],
  ["loge_disk_bytes", "gauge", "bytes of every file in the data folder", "bytes_on_disk"],
  ["loge_raw_bytes", "gauge", "bytes of the stored lines before compression", "bytes_raw"],
  ["loge_ingest_dropped_total", "counter", "pushes dropped under backpressure", "ingest.dropped"],
  [
    "loge_ingest_replayed_total",
    "counter",
    "pushes replayed from the WAL at start",
    "ingest.replayed",
  ],
  [
    "loge_ingest_held_by_compaction_total",
    "counter",
    "pushes that waited for compaction to catch up",
    "ingest.held_by_compaction",
  ],
  [
    "loge_ingest_held_now",
    "gauge",
    "pushes waiting for compaction to catch up now",
    "ingest.held_now",
  ],
  ["loge_flushes_total", "counter", "flush files written", "ingest.flushes"],
  ["loge_wal_fault", "gauge", "1 while the WAL cannot be written", "faults.wal"],
  ["loge_flush_fault", "gauge", "1 while flush files cannot be written", "faults.flush"],
  ["loge_wal_segments", "gauge", "WAL segment files", "wal.segments"],
  [
    "loge_wal_damaged_stretches_total",
    "counter",
    "damaged stretches skipped at WAL replay",
    "wal.damaged_stretches",
  ],
  ["loge_wal_skipped_bytes_total", "counter", "WAL bytes skipped at replay", "wal.skipped_bytes"],
  ["loge_wal_records_lost_total", "counter", "WAL records lost to damage", "wal.records_lost"],
  ["loge_quarantined_files", "gauge", "damaged files set aside", "quarantined_files"],
  ["loge_salvaged_lines_total", "counter", "lines salvaged from damaged files", "salvaged_lines"],
  ["loge_lost_blocks_total", "counter", "blocks lost to damage", "lost_blocks"],
  ["loge_lost_lines_total", "counter", "lines lost to damage", "lost_lines"],
  [
    "loge_compaction_flush_files",
    "gauge",
    "flush files waiting for compaction",
    "compaction.flush_files",
  ],
  [
    "loge_compaction_flush_raw_bytes",
    "gauge",
    "raw bytes of the flush files waiting",
    "compaction.flush_raw_bytes",
  ],
  [
    "loge_compaction_units_waiting",
    "gauge",
    "units a pass would run now",
    "compaction.units_waiting",
  ],
  [
    "loge_compaction_recompress_waiting",
    "gauge",
    "segments written under load, to recompress once lines stop",
    "compaction.recompress_waiting",
  ],
  ["loge_compaction_running", "gauge", "1 while a pass runs", "compaction.running"],
  ["loge_compaction_passes_total", "counter", "compaction passes run", "compaction.passes"],
  [
    "loge_compaction_last_pass_raw_bytes",
    "gauge",
    "raw bytes the last pass merged",
    "compaction.last_pass.raw_bytes",
  ],
  ["loge_tail_clients", "gauge", "live tails open", "tails.open"],
  ["loge_tail_clients_refused_total", "counter", "tails refused at the limit", "tails.refused"],
  ["loge_tail_lines_sent_total", "counter", "lines sent to tails", "tails.lines_sent"],
  ["loge_tail_lines_dropped_total", "counter", "lines slow tails missed", "tails.lines_dropped"],
  ["loge_cold_tier_fault", "gauge", "1 while the cold tier fails", "cold_tier.fault"],
  ["loge_s3_uploads_total", "counter", "segments uploaded", "cold_tier.uploads"],
  ["loge_s3_uploaded_bytes_total", "counter", "bytes uploaded", "cold_tier.uploaded_bytes"],
  ["loge_s3_upload_errors_total", "counter", "uploads that failed", "cold_tier.upload_errors"],
  ["loge_s3_gets_total", "counter", "ranged GETs of cold files", "cold_tier.gets"],
  ["loge_s3_fetched_bytes_total", "counter", "bytes fetched", "cold_tier.bytes_fetched"],
  ["loge_s3_get_errors_total", "counter", "GETs that failed", "cold_tier.get_errors"],
  ["loge_s3_list_errors_total", "counter", "listings that failed", "cold_tier.list_errors"],
  [
    "loge_s3_unflipped_deleted_total",
    "counter",
    "objects of uploads never flipped, their lines merged or retired since, deleted",
    "cold_tier.unflipped_deleted",
  ],
  [
    "loge_cold_index_cache_hits_total",
    "counter",
    "cold indexes read from the local cache",
    "cold_tier.index_cache_hits",
  ],
  [
    "loge_cold_index_cache_misses_total",
    "counter",
    "cold indexes fetched",
    "cold_tier.index_cache_misses",
  ],
  [
    "loge_cold_block_cache_hits_total",
    "counter",
    "cold blocks read from memory",
    "cold_tier.block_cache_hits",
  ],
  [
    "loge_cold_block_cache_misses_total",
    "counter",
    "cold blocks fetched",
    "cold_tier.block_cache_misses",
  ],
];

/** What `/metrics` reads besides the requests. */
export interface MetricSources {
  readonly requests: RequestMetrics;
  readonly ingester: IngestSink;
  /** Opens of segments answered by the segment cache, those that read an index, and its bytes. */
  readonly segmentCache?: {
    readonly hits: number;
    readonly misses: number;
    readonly bytes: number;
  };
  /** The figures of `/api/v1/stats`. */
  readonly stats: StatsFigures;
}

/**
 * Every metric, in the text format.
 *
 * @example
 * ```ts
 * import { renderMetrics, RequestMetrics } from "./metrics.ts";
 * import { NO_INGEST } from "../ingest/no_ingest.ts";
 * import assert from "node:assert/strict";
 * const text = renderMetrics({
 *   requests: new RequestMetrics(),
 *   ingester: NO_INGEST,
 *   stats: { rows_total: 7, faults: { wal: "disk full" } },
 * });
 * assert.match(text, /^loge_rows 7$/m);
 * assert.match(text, /^loge_wal_fault 1$/m);
 * ```
 */
export function renderMetrics(sources: MetricSources): string {
  const { requests, ingester, segmentCache, stats } = sources;
  const out = new Exposition();
  const byFormat: [string, string, "pushes" | "lines" | "bytes"][] = [
    ["loge_ingest_pushes_total", "pushes stored", "pushes"],
    ["loge_ingest_lines_total", "lines stored", "lines"],
    ["loge_ingest_bytes_total", "bytes of the pushes stored, as logged", "bytes"],
  ];
  for (const [name, help, field] of byFormat) {
    out.family(name, "counter", `${help}, by format`);
    for (const [format, counts] of ingester.pushed) {
      out.sample(name, { format: FORMAT_IDS[format] }, counts[field]);
    }
  }
  if (ingester.walFsyncSeconds) {
    out.family("loge_wal_fsync_duration_seconds", "histogram", "time of each WAL fsync");
    out.histogram("loge_wal_fsync_duration_seconds", {}, ingester.walFsyncSeconds);
  }
  if (ingester.flushSeconds) {
    out.family(
      "loge_flush_duration_seconds",
      "histogram",
      "time to write and catalog a flush file",
    );
    out.histogram("loge_flush_duration_seconds", {}, ingester.flushSeconds);
  }
  for (const [name, type, help, path] of STATS_METRICS) {
    out.family(name, type, help);
    out.sample(name, {}, figure(stats, path));
  }
  out.family("loge_segments", "gauge", "segment files by location");
  out.sample("loge_segments", { location: "local" }, figure(stats, "segments_local"));
  out.sample("loge_segments", { location: "remote" }, figure(stats, "segments_remote"));
  out.family("loge_segment_bytes", "gauge", "bytes of segment files by location");
  out.sample("loge_segment_bytes", { location: "local" }, figure(stats, "bytes_local"));
  out.sample("loge_segment_bytes", { location: "remote" }, figure(stats, "bytes_remote"));
  const harvesters = Array.isArray(stats.harvesters) ? stats.harvesters as StatsFigures[] : [];
  if (harvesters.length > 0) {
    for (const [field, help] of HARVESTER_COUNTERS) {
      const name = `loge_harvester_${field}_total`;
      out.family(name, "counter", `${help}, by harvester`);
      for (const h of harvesters) {
        out.sample(name, { harvester: String(h.harvester) }, figure(h, field));
      }
    }
  }
  const lastPassMs = figure(stats, "compaction.last_pass.duration_ms");
  out.family("loge_compaction_last_pass_duration_seconds", "gauge", "how long the last pass took");
  out.sample("loge_compaction_last_pass_duration_seconds", {}, lastPassMs / 1000);
  if (segmentCache) {
    out.family("loge_segment_cache_hits_total", "counter", "segment opens served from the cache");
    out.sample("loge_segment_cache_hits_total", {}, segmentCache.hits);
    out.family("loge_segment_cache_misses_total", "counter", "segment opens that read an index");
    out.sample("loge_segment_cache_misses_total", {}, segmentCache.misses);
    out.family("loge_segment_cache_bytes", "gauge", "bytes of the decoded indexes it keeps");
    out.sample("loge_segment_cache_bytes", {}, segmentCache.bytes);
  }
  const memory = Deno.memoryUsage();
  out.family("process_resident_memory_bytes", "gauge", "resident memory of the process");
  out.sample("process_resident_memory_bytes", {}, memory.rss);
  out.family("loge_heap_used_bytes", "gauge", "V8 heap in use on the main thread");
  out.sample("loge_heap_used_bytes", {}, memory.heapUsed);
  out.family(
    "loge_isolate_memory_bytes",
    "gauge",
    "V8 memory of the main thread and of each worker (as of its last job or idle collection): " +
      "heap_total, heap_used, and external (array buffers)",
  );
  for (const [isolate, m] of [["main", memory] as const, ...workersMemory()]) {
    out.sample("loge_isolate_memory_bytes", { isolate, kind: "heap_total" }, m.heapTotal);
    out.sample("loge_isolate_memory_bytes", { isolate, kind: "heap_used" }, m.heapUsed);
    out.sample("loge_isolate_memory_bytes", { isolate, kind: "external" }, m.external);
  }
  out.family("process_start_time_seconds", "gauge", "when the process started, unix seconds");
  out.sample("process_start_time_seconds", {}, START_SECONDS);
  return requests.render() + out.text();
}

const START_SECONDS = Math.round(performance.timeOrigin / 1000);

/** The counters of each harvester in `/api/v1/stats`' `harvesters`, and what they count. */
const HARVESTER_COUNTERS: readonly [string, string][] = [
  ["lines", "lines harvested and stored"],
  ["malformed", "input skipped as malformed"],
  ["failed", "batches storage refused"],
  ["dropped", "datagrams dropped while storage was behind"],
  ["refused", "connections closed on arrival past the limit"],
];
