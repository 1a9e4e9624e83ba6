/**
 * The figures of one benchmark run (the `figures` object of the JSON result), the check that
 * every one of them was produced, and their rows in the report table beside baselines and
 * targets.
 *
 * A figure that could not be produced is `null`; a baseline whose tool is not installed, and the
 * cold tier when `s3rver` is not, are a {@linkcode Missing}, which is reported but does not count
 * as a figure not produced.
 *
 * @module
 */

import type { BaselineResult, Missing } from "./baselines.ts";
import type { DataDirUsage } from "./data_dir.ts";
import type { FleetResult } from "./push_fleet.ts";
import { COLD_QUERIES, METRIC_QUERIES, QUERIES } from "./queries.ts";
import {
  formatBytes,
  formatInt,
  formatMB,
  formatMs,
  formatPercent,
  formatRatio,
  formatSpeedup,
  type ReportRow,
} from "./report.ts";
import { round, type Summary } from "./stats.ts";

/** The generated corpus. */
export interface CorpusFigure {
  lines: number;
  seed: number;
  /** Unix ns of the first line, as a decimal string. */
  start: string;
  /** Unix ns at which the corpus ends (generation time). */
  end: string;
  /** Lines per second of log time. */
  rate: number;
  /** Bytes of `lines.txt`. */
  rawBytes: number;
  rawBytesPerLine: number;
  /** Bytes of `corpus.ndjson`. */
  ndjsonBytes: number;
  /** The trace id that occurs in exactly one line. */
  needle: { index: number; traceId: string; ts: string };
  /** Time to generate both files. */
  seconds: number;
}

/** One ingest run, from the client processes' reports and the server's stats. */
export interface IngestFigure extends FleetResult {
  /** Seconds from the last acknowledgement until every line was in a file. */
  flushSeconds: number;
  /** Flags given to `loge serve` besides port and folder. */
  serverArgs: string[];
  /** Exit code after SIGTERM. */
  shutdownCode: number;
  /** Milliseconds from SIGTERM to exit. */
  shutdownMs: number;
}

/** A compressed copy of `lines.txt`. */
export interface SizeFigure {
  /** The command, e.g. `zstd -19 -T1 lines.txt`. */
  command: string;
  bytes: number;
  bytesPerLine: number;
  /** Time it took. */
  seconds: number;
}

/** Bytes on disk after compaction. */
export interface StorageFigure {
  /** Every file of the data folder after the server's clean shutdown. */
  atRest: DataDirUsage;
  /** The same while the server ran, right after compaction finished. */
  running: DataDirUsage;
  /** `atRest.totalBytes / lines`. */
  bytesPerLine: number;
  /** Seconds from the start of the compacting server until no flush file was left. */
  compactionSeconds: number;
  zstd3: SizeFigure | Missing | null;
  zstd19: SizeFigure | Missing | null;
  /** `atRest.totalBytes / zstd19.bytes`. */
  ratioToZstd19: number | null;
  /** `atRest.totalBytes / zstd3.bytes`. */
  ratioToZstd3: number | null;
}

/**
 * The storage figure of `lines` lines, its `zstd` baselines still to come
 * ({@linkcode setZstdBaseline}).
 *
 * @example
 * ```ts
 * import { storageFigure } from "./figures.ts";
 * import assert from "node:assert/strict";
 * const usage = { totalBytes: 4500, files: 2, segmentBytes: 4000, segments: 1, flushBytes: 0,
 *   flushFiles: 0, catalogBytes: 500, walBytes: 0, otherBytes: 0 };
 * const f = storageFigure({ atRest: usage, running: usage, lines: 100, compactionSeconds: 1.25 });
 * assert.equal(f.bytesPerLine, 45);
 * assert.equal(f.zstd19, null);
 * ```
 */
export function storageFigure(o: {
  atRest: DataDirUsage;
  running: DataDirUsage;
  lines: number;
  compactionSeconds: number;
}): StorageFigure {
  return {
    atRest: o.atRest,
    running: o.running,
    bytesPerLine: round(o.atRest.totalBytes / o.lines, 2),
    compactionSeconds: round(o.compactionSeconds, 1),
    zstd3: null,
    zstd19: null,
    ratioToZstd19: null,
    ratioToZstd3: null,
  };
}

/**
 * Sets the `zstd -level` baseline of `storage` and, when it was measured, the
 * ratio of loge's bytes to it.
 *
 * @example
 * ```ts
 * import { setZstdBaseline, storageFigure } from "./figures.ts";
 * import assert from "node:assert/strict";
 * const usage = { totalBytes: 4500, files: 2, segmentBytes: 4000, segments: 1, flushBytes: 0,
 *   flushFiles: 0, catalogBytes: 500, walBytes: 0, otherBytes: 0 };
 * const f = storageFigure({ atRest: usage, running: usage, lines: 100, compactionSeconds: 1 });
 * setZstdBaseline(f, 19, { command: "zstd -19", bytes: 4000, bytesPerLine: 40, seconds: 2 });
 * assert.equal(f.ratioToZstd19, 1.125);
 * ```
 */
export function setZstdBaseline(
  storage: StorageFigure,
  level: 3 | 19,
  size: SizeFigure | Missing | null,
): void {
  const ratio = size !== null && "bytes" in size
    ? round(storage.atRest.totalBytes / size.bytes, 3)
    : null;
  if (level === 3) {
    storage.zstd3 = size;
    storage.ratioToZstd3 = ratio;
  } else {
    storage.zstd19 = size;
    storage.ratioToZstd19 = ratio;
  }
}

/**
 * Bytes on disk of the second corpus (`wide_storage.ts`): long JSON lines with many fields,
 * pushed to a fresh server that compacts as the bench's compaction phase does. Its
 * `compactionSeconds` run from the last acknowledged push until every line was in a file and
 * compaction was done; its `zstd3` and `zstd19` compress `wide.txt`.
 */
export interface WideStorageFigure extends StorageFigure {
  lines: number;
  seed: number;
  /** Bytes of `wide.txt`: the bare lines, each with a newline. */
  rawBytes: number;
  rawBytesPerLine: number;
  /** The trace id whose query answered exactly its line. */
  needle: { index: number; traceId: string };
  /** The push of every line, from the harness. */
  push: { seconds: number; linesPerSec: number; mbPerSec: number };
  /** Flags given to `loge serve` besides port and folder. */
  serverArgs: string[];
}

/** One timed query and its baselines. */
export interface QueryFigure {
  title: string;
  query: string;
  /** `no time bound` or `last 5 minutes`. */
  window: string;
  limit: number;
  /** Lines answered (checked against `expectHits` on every run). */
  hits: number;
  expectHits: number;
  /** Round-trip latency, warm. */
  ms: Summary;
  /** By baseline name, `rg` first. */
  baselines: Record<string, BaselineResult | Missing | { error: string }>;
  targetP50Ms?: number;
  targetSpeedup?: number;
  note?: string;
}

/** One timed metric query, through Loki's `query_range`. */
export interface MetricQueryFigure {
  title: string;
  query: string;
  /** `last hour, step 1m`. */
  window: string;
  /** Series answered (checked against `expectSeries` on every run). */
  series: number;
  expectSeries: number;
  /** Samples answered, over every series. */
  points: number;
  /** The samples' sum in lines (checked against `expectLines` on every run). */
  lines: number;
  expectLines: number;
  /** Round-trip latency, warm. */
  ms: Summary;
  targetP50Ms: number;
}

/** Restart of a server (default flags) on the compacted folder holding the whole corpus. */
export interface RestartFigure {
  /** Milliseconds from SIGTERM to exit of the previous (query) server. */
  shutdownMs: number;
  /** Its exit code. */
  shutdownCode: number;
  /** Milliseconds from spawn to the `listening on` line. */
  toListeningMs: number;
  /** Milliseconds from spawn to the first answer that holds the needle. */
  toFirstQueryMs: number;
  /** Successful answers without the needle before it (should be 0). */
  emptyAnswersBeforeHit: number;
}

/** GETs and response bytes that reached the object store, counted by a proxy in front of it. */
export interface FetchCost {
  /** GET requests. */
  gets: number;
  /** Response body bytes. */
  bytes: number;
}

/** A query on the corpus rotated to S3, on a restarted server with no index cached. */
export interface ColdQueryFigure {
  title: string;
  query: string;
  /** `no time bound` or `last hour`. */
  window: string;
  limit: number;
  /** Lines answered (checked against `expectHits` on every run). */
  hits: number;
  expectHits: number;
  /** The first run after the restart: indexes and blocks are fetched from S3. */
  first: FetchCost & { ms: number };
  /**
   * The restarted server's own `cold_tier` counters after the first run (`gets`,
   * `bytes_fetched`, `index_cache_misses`: tail reads fetched, two per segment whose index
   * outgrows the first 64 KiB read; `block_cache_misses`: blocks fetched; and their hits).
   */
  firstServer: Record<string, number>;
  /** `first.bytes` over the bytes of every file in S3. */
  firstFetchedFraction: number;
  /** Latency of the runs after the first (indexes on local disk, blocks in memory). */
  ms: Summary;
  /** Mean GETs and bytes of the runs after the first, per run. */
  warmPerRun: FetchCost;
  targetP50Ms?: number;
  /** Target on `firstFetchedFraction`. */
  maxColdFetchedFraction?: number;
}

/** The cold-tier phase: the compacted corpus rotated to S3, then queried after restarts. */
export interface ColdTierFigure {
  /** The S3 server, e.g. `s3rver 3.7.1 on loopback`. */
  store: string;
  /** Flags of the rotating server besides port and folder. */
  rotateArgs: string[];
  /** Flags of the restarted (query) servers besides port and folder. */
  queryArgs: string[];
  /** Segments in S3 once rotated. */
  segments: number;
  /** Bytes of those segments (`bytes_remote`). */
  remoteBytes: number;
  /** Bytes the rotating server uploaded. */
  uploadedBytes: number;
  /** Seconds from the start of the rotating server until every segment was in S3 and no local copy was left. */
  rotationSeconds: number;
  /** Bytes of the index cache the rotation filled (`<data>/cache/`), deleted before each restart. */
  indexCacheBytes: number;
  /** Milliseconds from spawn to `listening on` of the restarted servers (median). */
  restartToListeningMs: number | null;
  /** By key of {@linkcode COLD_QUERIES}. */
  queries: Record<string, ColdQueryFigure | null>;
  /** Seconds the phase took, S3 server start to stop. */
  seconds: number;
}

/**
 * Live tails (`tail_latency.ts`): probe lines pushed one at a time while tails are open and a
 * background load flows through their query.
 */
export interface TailFigure {
  /** Tails open: Loki WebSockets and streams of server-sent events. */
  clients: { websocket: number; sse: number };
  /** The tails' query. */
  query: string;
  /** Probe lines pushed, one per push. */
  probes: number;
  /** Lines per second of background load, which the query scans and leaves. */
  loadLinesPerSec: number;
  /** From a probe's push acknowledgement to its arrival, over every probe at every client. */
  latencyMs: Summary;
  /** Probe arrivals missing 5 s after the last probe (every probe at every client is due). */
  missed: number;
  /** Probes that arrived twice at a client. */
  repeated: number;
  /** Lines the server dropped for these tails. */
  dropped: number;
}

/** One second of the sustained-load phase: the server's memory and compaction backlog. */
export interface SustainedSample {
  /** Seconds since the clients started. */
  t: number;
  /** Whether the clients were still pushing. */
  ingesting: boolean;
  /** Lines acknowledged so far, from the clients' last reports (at most a second old). */
  linesAcked: number;
  /** Rows in files: `rows_total - rows_in_memory` of `/api/v1/stats`. */
  rowsInFiles: number;
  /** `VmRSS` of the server, MB. */
  rssMB: number;
  /** `compaction.flush_files`: flush files not yet compacted. */
  flushFiles: number;
  /** `compaction.flush_raw_bytes`: raw bytes of those files, the backlog. */
  flushRawBytes: number;
  /** `compaction.units_waiting`. */
  unitsWaiting: number;
  /** `compaction.running`: a pass is under way. */
  compacting: boolean;
  /** Round trip of `GET /api/v1/stats`, ms: the next sample waits for it. */
  statsMs: number;
}

/** One query probe of the sustained-load phase. */
export interface SustainedProbe {
  /** Seconds since the clients started, when it was sent. */
  t: number;
  /** Round trip, ms. */
  ms: number;
  /** Lines answered; absent when the probe failed. */
  hits?: number;
  /** Why the probe failed. */
  error?: string;
}

/**
 * The sustained-load phase (`sustained.ts`): a fresh server (default flags) under full ingest for
 * minutes, sampled every second, with a cheap query probe every second; then the time until its
 * data folder is final, and its memory once idle.
 */
export interface SustainedFigure {
  /** Minutes of load asked for. */
  minutes: number;
  /** Flags of the server besides port and folder. */
  serverArgs: string[];
  /** Client processes, requests in flight per client, lines per request. */
  clients: number;
  concurrency: number;
  batch: number;
  /** Distinct lines the clients send again and again, with later timestamps each time. */
  poolLines: number;
  /** Lines per second of log time: the pool spans `poolLines / rate` seconds of it. */
  rate: number;
  /** The probe: LogQL, limit and window. */
  probeQuery: string;
  /** Acknowledged lines, requests, failed requests, the first failure, HTTP statuses. */
  lines: number;
  requests: number;
  errors: number;
  firstError: string | null;
  statuses: Record<string, number>;
  /** Acknowledged payload bytes. */
  bytes: number;
  /** Seconds from the start of the clients to the last answer. */
  seconds: number;
  /** `lines / seconds`. */
  linesPerSec: number;
  /** Lines acknowledged in each second, every client. */
  linesPerSecond: number[];
  /**
   * Flush files at the first sample 60 s or more after the start, when the ingest lasted 60 s or
   * more; `null` for a shorter run.
   */
  flushFilesAt60s: number | null;
  /** Flush files at the last sample of the ingest. */
  flushFilesAtEnd: number;
  /** The most flush files of any sample, ingest and after, and when. */
  maxFlushFiles: number;
  maxFlushFilesAt: number;
  /** The largest `flush_raw_bytes` of any sample. */
  maxFlushRawBytes: number;
  /** Latency of the probes answered during the ingest; `null` if none was. */
  queryMs: Summary | null;
  /** Probes that failed during the ingest. */
  probeErrors: number;
  /** Peak `VmRSS` during the ingest (sampled every 25 ms), MB. */
  peakRssMB: number;
  /** Peak `VmRSS` from the end of the ingest to the end of the idle wait, MB. */
  peakRssAfterMB: number;
  /** Seconds from the last answer until every line was in a file and compaction was done. */
  finalSeconds: number | null;
  /** Why the folder was not final within the time allowed, or `null`. */
  notFinal: string | null;
  /** The data folder once final; `null` if it never was. */
  folderAtFinal: DataDirUsage | null;
  /** `VmRSS` after the server was left idle, MB, and for how long. */
  rssAfterIdleMB: number | null;
  idleSeconds: number;
  /** One per second from the start of the clients to the end of the idle wait. */
  samples: SustainedSample[];
  /** Every probe of the ingest, in order. */
  probes: SustainedProbe[];
}

/** Peak resident set size of the server process, by phase, in MB (10^6 bytes). */
export interface RssFigure {
  ingestDurableMB: number | null;
  ingestNonDurableMB: number | null;
  /** Durable ingest in the formats of other systems' clients, by key of {@linkcode FOREIGN_PUSHES}. */
  ingestLokiProtobufMB: number | null;
  ingestOtlpProtobufMB: number | null;
  ingestEsBulkMB: number | null;
  /** From the start of the compacting server until no flush file is left. */
  compactionMB: number | null;
  queriesMB: number | null;
  /** `VmHWM` of the query server before its shutdown: lifetime peak, compaction included. */
  queryServerLifetimeMB: number | null;
}

/** Everything measured. `null` marks a figure that could not be produced. */
export interface Figures {
  corpus: CorpusFigure | null;
  /**
   * `durable` and `nonDurable` push JSON to `/api/v1/push`; the keys of
   * {@linkcode FOREIGN_PUSHES} push the same corpus to a durable server as other systems'
   * clients do.
   */
  ingest: {
    durable: IngestFigure | null;
    nonDurable: IngestFigure | null;
  } & Record<ForeignPushKey, IngestFigure | null>;
  storage: StorageFigure | null;
  /** The second corpus, of wide JSON lines. */
  wideStorage: WideStorageFigure | null;
  queries: Record<string, QueryFigure | null>;
  /** By key of {@linkcode METRIC_QUERIES}. */
  metricQueries: Record<string, MetricQueryFigure | null>;
  rss: RssFigure;
  restart: RestartFigure | null;
  /** Missing when `s3rver` is not installed. */
  coldTier: ColdTierFigure | Missing | null;
  tail: TailFigure | null;
  /** Missing when skipped (`--sustained-minutes 0`). */
  sustained: SustainedFigure | Missing | null;
}

/**
 * Figures with nothing measured yet.
 *
 * @example
 * ```ts
 * import { emptyFigures, missingFigures } from "./figures.ts";
 * console.log(missingFigures(emptyFigures()).length > 0); // true
 * ```
 */
export function emptyFigures(): Figures {
  return {
    corpus: null,
    ingest: {
      durable: null,
      nonDurable: null,
      lokiProtobuf: null,
      otlpProtobuf: null,
      esBulk: null,
    },
    storage: null,
    wideStorage: null,
    queries: Object.fromEntries(QUERIES.map((q) => [q.key, null])),
    metricQueries: Object.fromEntries(METRIC_QUERIES.map((q) => [q.key, null])),
    rss: {
      ingestDurableMB: null,
      ingestNonDurableMB: null,
      ingestLokiProtobufMB: null,
      ingestOtlpProtobufMB: null,
      ingestEsBulkMB: null,
      compactionMB: null,
      queriesMB: null,
      queryServerLifetimeMB: null,
    },
    restart: null,
    coldTier: null,
    tail: null,
    sustained: null,
  };
}

/**
 * Paths of the figures that were not produced: `null`s, and baselines that failed. Baselines
 * whose tool is missing, and the cold tier without `s3rver`, are not listed (they are reported as
 * missing).
 *
 * @example
 * ```ts
 * import { emptyFigures, missingFigures } from "./figures.ts";
 * console.log(missingFigures(emptyFigures())[0]); // corpus
 * ```
 */
export function missingFigures(f: Figures): string[] {
  const absent: string[] = [];
  const need = (path: string, value: unknown) => {
    if (value === null || value === undefined) absent.push(path);
  };
  need("corpus", f.corpus);
  need("ingest.durable", f.ingest.durable);
  need("ingest.nonDurable", f.ingest.nonDurable);
  for (const { key } of FOREIGN_PUSHES) need(`ingest.${key}`, f.ingest[key]);
  for (const key of ["storage", "wideStorage"] as const) {
    const storage = f[key];
    need(key, storage);
    if (storage !== null) {
      need(`${key}.zstd3`, storage.zstd3);
      need(`${key}.zstd19`, storage.zstd19);
    }
  }
  for (const { key } of QUERIES) {
    const q = f.queries[key];
    need(`queries.${key}`, q);
    for (const [name, b] of Object.entries(q?.baselines ?? {})) {
      if ("error" in b) absent.push(`queries.${key}.baselines.${name}`);
    }
  }
  for (const { key } of METRIC_QUERIES) need(`metricQueries.${key}`, f.metricQueries[key]);
  need("rss.ingestDurableMB", f.rss.ingestDurableMB);
  need("rss.ingestNonDurableMB", f.rss.ingestNonDurableMB);
  for (const { rss } of FOREIGN_PUSHES) need(`rss.${rss}`, f.rss[rss]);
  need("rss.compactionMB", f.rss.compactionMB);
  need("rss.queriesMB", f.rss.queriesMB);
  need("restart", f.restart);
  need("tail", f.tail);
  need("sustained", f.sustained);
  need("coldTier", f.coldTier);
  if (f.coldTier !== null && !("missing" in f.coldTier)) {
    for (const { key } of COLD_QUERIES) need(`coldTier.queries.${key}`, f.coldTier.queries[key]);
  }
  return absent;
}

/** Targets from the issues, checked by {@linkcode reportRows}. */
export const TARGETS = {
  /** Durable ingest, lines per second. */
  durableLinesPerSec: 300_000,
  /**
   * Lines per second of each push in {@linkcode FOREIGN_PUSHES} over the JSON push's (issues 8
   * and 15).
   */
  foreignOverJsonLinesPerSec: 1,
  /** Peak server RSS in any phase, sustained ingest included, MB. */
  peakRssMB: 200,
  /** Stored bytes over `zstd -19` bytes. */
  storedOverZstd19: 1.1,
  /** Restart to first answered query, ms. */
  restartMs: 1000,
  /** A tailed line's arrival after its push is acknowledged, p99, ms (issue 10). */
  tailLatencyP99Ms: 1000,
  /** Flush files after 60 s of full ingest (issue 12). */
  sustainedFlushFiles: 50,
  /** The cheap query's p50 during full ingest, ms (issue 12). */
  sustainedQueryP50Ms: 50,
  /** From the end of ingest until the data folder is final, s (issue 12). */
  finalFolderSeconds: 120,
} as const;

/**
 * The durable pushes in the formats of other systems' clients, each measured right after the
 * JSON push it is compared with: `name` names it in the report (as `durable, <name>`), `payload`
 * names its body.
 */
export const FOREIGN_PUSHES = [
  {
    key: "lokiProtobuf",
    rss: "ingestLokiProtobufMB",
    name: "Loki snappy protobuf",
    payload: "snappy protobuf",
  },
  {
    key: "otlpProtobuf",
    rss: "ingestOtlpProtobufMB",
    name: "OTLP protobuf",
    payload: "OTLP protobuf",
  },
  {
    key: "esBulk",
    rss: "ingestEsBulkMB",
    name: "Elasticsearch bulk",
    payload: "bulk NDJSON",
  },
] as const;

/** Key of a push in {@linkcode FOREIGN_PUSHES}. */
export type ForeignPushKey = typeof FOREIGN_PUSHES[number]["key"];

/** Cell of a figure that could not be produced. */
export const NOT_MEASURED = "not measured (see errors)";

function sizeCell(z: SizeFigure | Missing | null | undefined, name: string): string {
  if (z === null || z === undefined) return `${name}: ${NOT_MEASURED}`;
  if ("missing" in z) return z.missing;
  return `${name}: ${z.bytesPerLine.toFixed(1)} B/line (took ${z.seconds.toFixed(1)} s)`;
}

function baselineCell(q: QueryFigure, name: string): { text?: string; p50?: number } {
  const b = q.baselines[name];
  if (b === undefined) return {};
  if ("missing" in b) return { text: b.missing };
  if ("error" in b) return { text: `${name}: failed (see errors)` };
  return { text: `${name}: ${formatMs(b.ms.p50)}`, p50: b.ms.p50 };
}

/**
 * The report rows of `f`: figure, loge's value, baseline, ratio, target and pass/fail.
 * `ingestSetup` describes the clients, e.g. `2 clients × 4 in flight, 1000-line JSON batches`
 * (the rows of {@linkcode FOREIGN_PUSHES} name their payload for `JSON`).
 *
 * @example
 * ```ts
 * import { emptyFigures, reportRows } from "./figures.ts";
 * import { reportTable } from "./report.ts";
 * console.log(reportTable(reportRows(emptyFigures(), "2 clients")));
 * ```
 */
export function reportRows(f: Figures, ingestSetup: string): ReportRow[] {
  const rows: ReportRow[] = [];

  const ingest = (
    label: string,
    i: IngestFigure | null,
    target?: number,
    payload = "JSON",
  ) => {
    const targetText = target === undefined ? undefined : `≥ ${formatInt(target)} lines/s`;
    if (i === null) {
      rows.push({ figure: `ingest, ${label}`, value: NOT_MEASURED, target: targetText });
      return;
    }
    const setup = payload === "JSON" ? ingestSetup : ingestSetup.replace(/\bJSON\b/, payload);
    rows.push({
      figure: `ingest, ${label} (${setup})`,
      value: `${formatInt(i.linesPerSec)} lines/s (${i.mbPerSec.toFixed(1)} MB/s of ${payload})`,
      target: targetText,
      pass: target === undefined ? undefined : i.linesPerSec >= target,
    });
    rows.push({
      figure: `push latency, ${label}`,
      value: `${formatMs(i.latencyMs.p50)} p50 · ${formatMs(i.latencyMs.p99)} p99`,
    });
    rows.push({
      figure: `last ack → every line in a file, ${label}`,
      value: formatMs(i.flushSeconds * 1000),
    });
  };
  ingest("durable", f.ingest.durable, TARGETS.durableLinesPerSec);
  ingest("--durable=false", f.ingest.nonDurable);
  const json = f.ingest.durable;
  const over = TARGETS.foreignOverJsonLinesPerSec;
  for (const { key, name, payload } of FOREIGN_PUSHES) {
    const foreign = f.ingest[key];
    ingest(`durable, ${name}`, foreign, undefined, payload);
    rows.push({
      figure: `  ↳ ${name} push beside durable JSON push`,
      value: foreign === null ? NOT_MEASURED : `${formatInt(foreign.linesPerSec)} lines/s`,
      baseline: json === null ? NOT_MEASURED : `JSON: ${formatInt(json.linesPerSec)} lines/s`,
      ratio: foreign === null || json === null || json.linesPerSec === 0
        ? undefined
        : formatRatio(foreign.linesPerSec / json.linesPerSec),
      target: `≥ ${over === 1 ? "" : `${over}× `}JSON push`,
      pass: foreign === null || json === null
        ? undefined
        : foreign.linesPerSec >= over * json.linesPerSec,
    });
  }

  const rss = (label: string, value: number | null) =>
    rows.push({
      figure: `peak server RSS, ${label}`,
      value: value === null ? NOT_MEASURED : `${value.toFixed(1)} MB`,
      target: `≤ ${TARGETS.peakRssMB} MB`,
      pass: value === null ? undefined : value <= TARGETS.peakRssMB,
    });
  rss("durable ingest", f.rss.ingestDurableMB);
  rss("--durable=false ingest", f.rss.ingestNonDurableMB);
  for (const push of FOREIGN_PUSHES) rss(`durable, ${push.name} ingest`, f.rss[push.rss]);
  rss("compaction", f.rss.compactionMB);
  rss("queries", f.rss.queriesMB);

  rows.push(...storageRows(f.storage, {
    title: "stored bytes/line after compaction",
    detail: "every file",
    compaction: "time to compact every flush file",
    raw: f.corpus === null
      ? undefined
      : { name: "lines.txt", bytes: f.corpus.rawBytes, bytesPerLine: f.corpus.rawBytesPerLine },
  }));
  const w = f.wideStorage;
  rows.push(...storageRows(w, {
    title: "stored bytes/line after compaction, wide JSON lines",
    detail: w === null
      ? ""
      : `${formatInt(w.lines)} lines of ~${formatInt(Math.round(w.rawBytesPerLine))} B`,
    compaction: "last push → compaction done",
    raw: w === null
      ? undefined
      : { name: "wide.txt", bytes: w.rawBytes, bytesPerLine: w.rawBytesPerLine },
  }));

  for (const info of QUERIES) {
    const q = f.queries[info.key];
    const latencyTarget = info.targetP50Ms === undefined
      ? undefined
      : `≤ ${info.targetP50Ms} ms p50`;
    if (q === null || q === undefined) {
      rows.push({ figure: `query: ${info.title}`, value: NOT_MEASURED, target: latencyTarget });
      continue;
    }
    const names = Object.keys(q.baselines);
    const first = names.length > 0 ? baselineCell(q, names[0]) : {};
    const speedup = first.p50 === undefined ? undefined : first.p50 / q.ms.p50;
    rows.push({
      figure: `query: ${info.title}`,
      value: `${formatMs(q.ms.p50)} p50 · ${formatMs(q.ms.p95)} p95`,
      baseline: first.text,
      ratio: speedup === undefined ? undefined : formatSpeedup(speedup),
      target: latencyTarget,
      pass: info.targetP50Ms === undefined ? undefined : q.ms.p50 <= info.targetP50Ms,
    });
    if (info.targetSpeedup !== undefined) {
      rows.push({
        figure: `  ↳ speedup over ${names[0] ?? "rg"}`,
        value: "",
        baseline: first.text,
        ratio: speedup === undefined ? undefined : formatSpeedup(speedup),
        target: `≥ ${info.targetSpeedup}× faster`,
        pass: speedup === undefined ? undefined : speedup >= info.targetSpeedup,
      });
    }
    for (const name of names.slice(1)) {
      const b = baselineCell(q, name);
      rows.push({
        figure: `  ↳ beside ${name}`,
        value: "",
        baseline: b.text,
        ratio: b.p50 === undefined ? undefined : formatSpeedup(b.p50 / q.ms.p50),
      });
    }
  }

  for (const info of METRIC_QUERIES) {
    const q = f.metricQueries[info.key];
    const target = `≤ ${info.targetP50Ms} ms p50`;
    rows.push({
      figure: `query: ${info.title}`,
      value: q === null || q === undefined
        ? NOT_MEASURED
        : `${formatMs(q.ms.p50)} p50 · ${formatMs(q.ms.p95)} p95 (${q.series} series, ${
          formatInt(q.points)
        } samples)`,
      target,
      pass: q === null || q === undefined ? undefined : q.ms.p50 <= info.targetP50Ms,
    });
  }

  const r = f.restart;
  rows.push({
    figure: "restart → first answered query",
    value: r === null
      ? NOT_MEASURED
      : `${formatMs(r.toFirstQueryMs)} (listening after ${formatMs(r.toListeningMs)})`,
    target: `≤ ${TARGETS.restartMs / 1000} s`,
    pass: r === null ? undefined : r.toFirstQueryMs <= TARGETS.restartMs,
  });

  rows.push(tailRow(f.tail));
  rows.push(...sustainedRows(f.sustained));
  rows.push(...coldTierRows(f.coldTier));
  return rows;
}

/** How {@linkcode storageRows} names a corpus's rows. */
interface StorageRowNames {
  /** The first row's figure, e.g. `stored bytes/line after compaction`. */
  title: string;
  /** Added to the title in parentheses once measured (ignored until then). */
  detail: string;
  /** What `compactionSeconds` measured. */
  compaction: string;
  /** The raw corpus file, when known. */
  raw?: { name: string; bytes: number; bytesPerLine: number };
}

/** The rows of a corpus's bytes on disk: beside `zstd -19` (the target), `zstd -3` and raw. */
function storageRows(s: StorageFigure | null, names: StorageRowNames): ReportRow[] {
  const target = `≤ ${TARGETS.storedOverZstd19}× zstd -19`;
  if (s === null) return [{ figure: names.title, value: NOT_MEASURED, target }];
  const z19 = s.zstd19 !== null && "bytes" in s.zstd19 ? s.zstd19 : undefined;
  const n = s.atRest.segments;
  const rows: ReportRow[] = [
    {
      figure: `${names.title} (${names.detail})`,
      value: `${s.bytesPerLine.toFixed(1)} B/line (${formatMB(s.atRest.totalBytes)}, ${n} ${
        n === 1 ? "segment" : "segments"
      })`,
      baseline: sizeCell(s.zstd19, "zstd -19 -T1"),
      ratio: s.ratioToZstd19 === null ? undefined : formatRatio(s.ratioToZstd19),
      target,
      pass: z19 === undefined
        ? undefined
        : s.atRest.totalBytes <= TARGETS.storedOverZstd19 * z19.bytes,
    },
    { figure: `  ↳ ${names.compaction}`, value: formatMs(s.compactionSeconds * 1000) },
    {
      figure: "  ↳ beside zstd -3",
      value: "",
      baseline: sizeCell(s.zstd3, "zstd -3 -T1"),
      ratio: s.ratioToZstd3 === null ? undefined : formatRatio(s.ratioToZstd3),
    },
  ];
  const raw = names.raw;
  if (raw !== undefined) {
    rows.push({
      figure: `  ↳ beside the raw ${raw.name}`,
      value: "",
      baseline: `${raw.bytesPerLine.toFixed(1)} B/line (${formatMB(raw.bytes)})`,
      ratio: formatRatio(s.atRest.totalBytes / raw.bytes),
    });
  }
  return rows;
}

/** The row of the live-tail phase: latency over every probe at every client. */
function tailRow(t: TailFigure | null): ReportRow {
  const target = `≤ ${formatMs(TARGETS.tailLatencyP99Ms)} p99, none missed`;
  if (t === null) return { figure: "tail latency", value: NOT_MEASURED, target };
  const lost = [
    t.missed > 0 ? `${formatInt(t.missed)} missed` : "",
    t.repeated > 0 ? `${formatInt(t.repeated)} repeated` : "",
    t.dropped > 0 ? `${formatInt(t.dropped)} dropped` : "",
  ].filter((s) => s !== "");
  return {
    figure: `tail latency with ${
      t.clients.websocket + t.clients.sse
    } clients (${t.clients.websocket} WebSocket, ${t.clients.sse} SSE), push ack → line at each client, ${
      formatInt(t.loadLinesPerSec)
    } lines/s of load`,
    value: `${formatMs(t.latencyMs.p50)} p50 · ${formatMs(t.latencyMs.p99)} p99` +
      (lost.length > 0 ? ` (${lost.join(", ")})` : ""),
    target,
    pass: t.missed === 0 && t.repeated === 0 && t.latencyMs.p99 <= TARGETS.tailLatencyP99Ms,
  };
}

/**
 * The report rows of the sustained-load phase: throughput, flush files after 60 s and at most,
 * the probe's latency, peak RSS and the time to a final folder, each with its target.
 *
 * @example
 * ```ts
 * import { sustainedRows } from "./figures.ts";
 * console.log(sustainedRows({ missing: "skipped" })); // [{ figure: "sustained load", value: "skipped" }]
 * ```
 */
export function sustainedRows(s: SustainedFigure | Missing | null): ReportRow[] {
  if (s !== null && "missing" in s) return [{ figure: "sustained load", value: s.missing }];
  const filesTarget = `≤ ${TARGETS.sustainedFlushFiles}`;
  const queryTarget = `≤ ${TARGETS.sustainedQueryP50Ms} ms p50`;
  const rssTarget = `≤ ${TARGETS.peakRssMB} MB`;
  const finalTarget = `≤ ${TARGETS.finalFolderSeconds} s`;
  if (s === null) {
    return [
      { figure: "sustained ingest", value: NOT_MEASURED },
      { figure: "flush files after 60 s of full ingest", value: NOT_MEASURED, target: filesTarget },
      { figure: "max flush files during the run", value: NOT_MEASURED },
      { figure: "cheap query p50 during full ingest", value: NOT_MEASURED, target: queryTarget },
      { figure: "peak server RSS, sustained ingest", value: NOT_MEASURED, target: rssTarget },
      { figure: "ingest end → final folder", value: NOT_MEASURED, target: finalTarget },
    ];
  }
  const files = s.flushFilesAt60s ?? s.flushFilesAtEnd;
  const q = s.queryMs;
  const failed = s.probeErrors > 0 ? `, ${formatInt(s.probeErrors)} failed` : "";
  const folder = s.folderAtFinal;
  return [
    {
      figure: `sustained ingest, ${s.minutes} min (${s.clients} clients × ${s.concurrency} in ` +
        `flight, ${s.batch}-line JSON batches from a pool of ${formatInt(s.poolLines)} lines)`,
      value: `${formatInt(s.linesPerSec)} lines/s (${formatInt(s.lines)} lines in ` +
        `${s.seconds.toFixed(1)} s` + (s.errors > 0 ? `, ${formatInt(s.errors)} errors)` : ")"),
    },
    {
      figure: s.flushFilesAt60s === null
        ? `flush files at the end of ${s.seconds.toFixed(0)} s of full ingest`
        : "flush files after 60 s of full ingest",
      value: formatInt(files),
      target: filesTarget,
      pass: files <= TARGETS.sustainedFlushFiles,
    },
    {
      figure: "max flush files during the run",
      value: `${formatInt(s.maxFlushFiles)} (at ${s.maxFlushFilesAt.toFixed(0)} s; backlog up ` +
        `to ${formatMB(s.maxFlushRawBytes)} raw)`,
    },
    {
      figure: "cheap query p50 during full ingest",
      value: q === null
        ? `no probe answered (${formatInt(s.probeErrors)} failed)`
        : `${formatMs(q.p50)} p50 · ${formatMs(q.p95)} p95 · ${formatMs(q.max)} max ` +
          `(${formatInt(q.runs)} probes of ${s.probeQuery}${failed})`,
      target: queryTarget,
      pass: q !== null && q.p50 <= TARGETS.sustainedQueryP50Ms,
    },
    {
      figure: "peak server RSS, sustained ingest",
      value: `${s.peakRssMB.toFixed(1)} MB (after: ${s.peakRssAfterMB.toFixed(1)} MB peak, ` +
        (s.rssAfterIdleMB === null
          ? "gone when idle)"
          : `${s.rssAfterIdleMB.toFixed(1)} MB after ${s.idleSeconds} s idle)`),
      target: rssTarget,
      pass: s.peakRssMB <= TARGETS.peakRssMB,
    },
    {
      figure: "ingest end → final folder",
      value: s.finalSeconds === null || folder === null
        ? `not final: ${s.notFinal}`
        : `${formatMs(s.finalSeconds * 1000)} (${formatMB(folder.totalBytes)}, ` +
          `${formatInt(folder.files)} files)`,
      target: finalTarget,
      pass: s.finalSeconds !== null && s.finalSeconds <= TARGETS.finalFolderSeconds,
    },
  ];
}

/** `N GETs, B` of a fetch cost; `gets` may be a mean. */
function costText(c: FetchCost): string {
  const gets = Number.isInteger(c.gets) ? String(c.gets) : c.gets.toFixed(1);
  return `${gets} ${c.gets === 1 ? "GET" : "GETs"}, ${formatBytes(c.bytes)}`;
}

/** The rows of the cold-tier phase. */
function coldTierRows(c: ColdTierFigure | Missing | null): ReportRow[] {
  const prefix = "cold tier (S3), after a restart: ";
  if (c !== null && "missing" in c) {
    return [{ figure: "cold tier (S3)", value: c.missing }];
  }
  const rows: ReportRow[] = [{
    figure: "cold tier (S3): rotation of every segment",
    value: c === null
      ? NOT_MEASURED
      : `${formatMs(c.rotationSeconds * 1000)} for ${c.segments} ${
        c.segments === 1 ? "segment" : "segments"
      }, ${formatBytes(c.uploadedBytes)} uploaded (${c.store}); their indexes: ${
        formatBytes(c.indexCacheBytes)
      }`,
  }];
  for (const info of COLD_QUERIES) {
    const q = c?.queries[info.key] ?? null;
    const latencyTarget = info.targetP50Ms === undefined
      ? undefined
      : `≤ ${info.targetP50Ms} ms p50`;
    const fractionTarget = info.maxColdFetchedFraction === undefined
      ? undefined
      : `≤ ${formatPercent(info.maxColdFetchedFraction)} of the bytes in S3`;
    if (q === null) {
      rows.push({ figure: `${prefix}${info.title}`, value: NOT_MEASURED, target: latencyTarget });
      rows.push({ figure: "  ↳ first run, no index cached", value: NOT_MEASURED });
      continue;
    }
    rows.push({
      figure: `${prefix}${info.title}`,
      value: `${formatMs(q.ms.p50)} p50 · ${formatMs(q.ms.p95)} p95 (${
        costText(q.warmPerRun)
      } per run)`,
      target: latencyTarget,
      pass: info.targetP50Ms === undefined ? undefined : q.ms.p50 <= info.targetP50Ms,
    });
    rows.push({
      figure: "  ↳ first run, no index cached",
      value: `${formatMs(q.first.ms)}, ${costText(q.first)} (${
        formatPercent(q.firstFetchedFraction)
      } of ${formatBytes(c!.remoteBytes)} in S3)`,
      target: fractionTarget,
      pass: info.maxColdFetchedFraction === undefined
        ? undefined
        : q.firstFetchedFraction <= info.maxColdFetchedFraction,
    });
  }
  return rows;
}
