/**
 * Loki's answers to queries: a log query's lines grouped into stream objects
 * (loki `pkg/util/marshal/query.go` `encodeStream`), optionally with the
 * `categorize-labels` encoding; a metric query's scalar, vector or matrix
 * (`encodeScalar`, `encodeVector`, `encodeMatrix` there); and the `stats`
 * object (loki `pkg/logqlmodel/stats/context.go`, the keys Grafana's
 * `parseStats` reads).
 *
 * @module
 */

import type { MetricResult } from "../../query/metric/evaluate.ts";
import type { ReadFigures } from "../../query/read_figures.ts";
import type { StreamLabels } from "../../storage/catalog.ts";

/** One line of a log query's answer, as the engine gives it. */
export interface LokiEntry {
  readonly ts: bigint;
  readonly line: string;
  /** The stream's (indexed) labels. */
  readonly stream: StreamLabels;
  /** Structured metadata. */
  readonly metadata?: Readonly<Record<string, string>>;
  /** Labels the pipeline's parsers extracted. */
  readonly parsed?: Readonly<Record<string, string>>;
}

/** A stream object of a `streams` result. */
export interface LokiStream {
  stream: Record<string, string>;
  values: ([string, string] | [string, string, LabelCategories])[];
}

/** The third element of a value under `categorize-labels`; empty keys are left out. */
export interface LabelCategories {
  structuredMetadata?: Record<string, string>;
  parsed?: Record<string, string>;
}

/** The header by which a client asks for categorized labels, and the flag's name. */
export const ENCODING_FLAGS_HEADER = "x-loki-response-encoding-flags";
/** The flag that splits labels into stream, structured metadata and parsed. */
export const CATEGORIZE_LABELS = "categorize-labels";

/** Whether `req` asks for the `categorize-labels` encoding (a comma list of flags). */
export function wantsCategorized(req: Request): boolean {
  const flags = req.headers.get(ENCODING_FLAGS_HEADER) ?? "";
  return flags.split(",").some((f) => f.trim() === CATEGORIZE_LABELS);
}

/**
 * A line's label set when labels are not categorized: the stream's labels
 * with structured metadata and parsed labels merged in, as Loki's querier
 * folds them (its label builder adds both categories to the entry's labels,
 * loki `pkg/logql/log/labels.go` `LabelsBuilder`); a parsed label whose name
 * is a stream label's becomes `<name>_extracted`, as Loki renames it; a
 * structured-metadata name that is a stream label's keeps the stream's value.
 */
function mergedLabels(e: LokiEntry): Record<string, string> {
  const labels: Record<string, string> = { ...e.metadata, ...e.stream.labels };
  for (const [name, value] of Object.entries(e.parsed ?? {})) {
    labels[Object.hasOwn(e.stream.labels, name) ? `${name}_extracted` : name] = value;
  }
  // Sorted by name, as Loki writes a label set (Go sorts map keys).
  return Object.fromEntries(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : 1)));
}

/** A canonical key of a label set: its pairs, sorted by name. */
function keyOf(labels: Record<string, string>): string {
  return JSON.stringify(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/**
 * Groups `entries` (already in the query's order) into stream objects, in
 * order of each stream's first line. Categorized: grouped by stream labels,
 * each value a 3-tuple whose third element holds the line's structured
 * metadata and parsed labels (`{}` when it has neither). Otherwise grouped by
 * the merged label set, values 2-tuples.
 *
 * @example
 * ```ts
 * import { encodeStreams } from "./encode.ts";
 * import assert from "node:assert/strict";
 * const stream = { key: '{"app":"web"}', labels: { app: "web" } };
 * const entries = [
 *   { ts: 2n, line: "b", stream, metadata: { trace_id: "t1" } },
 *   { ts: 1n, line: "a", stream },
 * ];
 * assert.deepEqual(encodeStreams(entries, true), [{
 *   stream: { app: "web" },
 *   values: [["2", "b", { structuredMetadata: { trace_id: "t1" } }], ["1", "a", {}]],
 * }]);
 * assert.deepEqual(encodeStreams(entries, false), [
 *   { stream: { app: "web", trace_id: "t1" }, values: [["2", "b"]] },
 *   { stream: { app: "web" }, values: [["1", "a"]] },
 * ]);
 * ```
 */
export function encodeStreams(entries: readonly LokiEntry[], categorize: boolean): LokiStream[] {
  const streams = new Map<string, LokiStream>();
  for (const e of entries) {
    const labels = categorize ? { ...e.stream.labels } : mergedLabels(e);
    const key = categorize ? e.stream.key : keyOf(labels);
    let out = streams.get(key);
    if (!out) streams.set(key, out = { stream: labels, values: [] });
    const ts = e.ts.toString();
    if (!categorize) {
      out.values.push([ts, e.line]);
      continue;
    }
    const categories: LabelCategories = {};
    if (e.metadata && Object.keys(e.metadata).length > 0) {
      categories.structuredMetadata = { ...e.metadata };
    }
    if (e.parsed && Object.keys(e.parsed).length > 0) categories.parsed = { ...e.parsed };
    out.values.push([ts, e.line, categories]);
  }
  return [...streams.values()];
}

/** What loge measured of a query, for {@linkcode lokiStats}. */
export interface QueryFigures {
  /** Seconds the query took. */
  seconds: number;
  /** What the query read: lines of blocks of files, and lines in memory. */
  read?: ReadFigures;
  /** Lines processed; default: those `read` counts. */
  lines?: number;
  /** Bytes (UTF-8) of the lines processed; default: those `read` counts. */
  bytes?: number;
  /** Lines (entries) the answer holds; default `lines`. */
  returned?: number;
}

/**
 * Loki's chunk figures of a store: loge reads blocks where Loki reads
 * chunks, so blocks read stand for chunks referenced and downloaded.
 */
function storeStats(chunks = 0, chunk: Partial<ReturnType<typeof chunkStats>> = {}) {
  return {
    totalChunksRef: chunks,
    totalChunksDownloaded: chunks,
    chunksDownloadTime: 0,
    chunk: { ...chunkStats(), ...chunk },
  };
}

function chunkStats() {
  return {
    headChunkBytes: 0,
    headChunkLines: 0,
    decompressedBytes: 0,
    decompressedLines: 0,
    compressedBytes: 0,
    totalDuplicates: 0,
  };
}

/**
 * Loki's `stats` object (loki `pkg/logqlmodel/stats`): `summary` from what
 * loge measured; with `read`, lines of blocks of files as the querier's
 * store figures (decompressed lines and bytes, compressed bytes, blocks as
 * chunks) and lines in memory as the ingester's head-chunk figures, as Loki
 * splits what its store and its ingesters read; other keys at zero.
 *
 * @example
 * ```ts
 * import { lokiStats } from "./encode.ts";
 * import { ReadFigures } from "../../query/read_figures.ts";
 * import assert from "node:assert/strict";
 * const read = new ReadFigures();
 * read.blocks = 1;
 * read.blockLines = 3;
 * read.blockBytes = 30;
 * read.headLines = 1;
 * read.headBytes = 10;
 * const stats = lokiStats({ seconds: 0.5, returned: 2, read });
 * assert.equal(stats.summary.totalLinesProcessed, 4);
 * assert.equal(stats.summary.bytesProcessedPerSecond, 80);
 * assert.equal(stats.summary.totalEntriesReturned, 2);
 * assert.equal(stats.querier.store.chunk.decompressedLines, 3);
 * assert.equal(stats.ingester.store.chunk.headChunkBytes, 10);
 * ```
 */
export function lokiStats(figures: QueryFigures) {
  const { seconds, read } = figures;
  const lines = figures.lines ?? read?.lines ?? 0;
  const bytes = figures.bytes ?? read?.bytes ?? 0;
  const returned = figures.returned ?? lines;
  const perSecond = (n: number) => (seconds > 0 ? Math.round(n / seconds) : 0);
  const headLines = read?.headLines ?? 0;
  return {
    summary: {
      bytesProcessedPerSecond: perSecond(bytes),
      linesProcessedPerSecond: perSecond(lines),
      totalBytesProcessed: bytes,
      totalLinesProcessed: lines,
      execTime: seconds,
      queueTime: 0,
      subqueries: 0,
      totalEntriesReturned: returned,
      splits: 0,
      shards: 0,
      totalPostFilterLines: returned,
      totalStructuredMetadataBytesProcessed: 0,
    },
    querier: {
      store: storeStats(read?.blocks, {
        decompressedLines: read?.blockLines ?? 0,
        decompressedBytes: read?.blockBytes ?? 0,
        compressedBytes: read?.compressedBytes ?? 0,
      }),
    },
    ingester: {
      totalReached: headLines > 0 ? 1 : 0,
      totalChunksMatched: 0,
      totalBatches: 0,
      totalLinesSent: 0,
      store: storeStats(0, { headChunkLines: headLines, headChunkBytes: read?.headBytes ?? 0 }),
    },
  };
}

/**
 * A sample value as Go's `strconv.FormatFloat(v, 'f', -1, 64)` writes it,
 * which Loki's answers use (`model.SampleValue.String`): the shortest
 * decimal that reads back as `v`, never in exponent form; `NaN`, `+Inf`,
 * `-Inf`.
 *
 * @example
 * ```ts
 * import { formatSampleValue } from "./encode.ts";
 * import assert from "node:assert/strict";
 * assert.equal(formatSampleValue(2), "2");
 * assert.equal(formatSampleValue(0.1 + 0.2), "0.30000000000000004");
 * assert.equal(formatSampleValue(1e21), "1000000000000000000000");
 * assert.equal(formatSampleValue(1.5e-7), "0.00000015");
 * assert.equal(formatSampleValue(-Infinity), "-Inf");
 * ```
 */
export function formatSampleValue(v: number): string {
  if (Number.isNaN(v)) return "NaN";
  if (!Number.isFinite(v)) return v > 0 ? "+Inf" : "-Inf";
  if (Object.is(v, -0)) return "-0";
  const text = String(v);
  const m = /^(-?)(\d)(?:\.(\d+))?e([+-]\d+)$/.exec(text);
  if (!m) return text;
  // JavaScript's exponent form (|v| ≥ 1e21 or < 1e-6): write the digits out.
  const [, sign, lead, rest = "", exp] = m;
  const digits = lead + rest;
  const point = 1 + Number(exp);
  return sign +
    (point <= 0
      ? `0.${"0".repeat(-point)}${digits}`
      : digits.length <= point
      ? digits + "0".repeat(point - digits.length)
      : `${digits.slice(0, point)}.${digits.slice(point)}`);
}

/** A time of a metric answer: unix seconds with milliseconds, as a JSON number. */
function sampleTime(ns: bigint): number {
  return Number(ns / 1_000_000n) / 1000;
}

/**
 * The `resultType` and `result` of a metric query's answer, in Loki's
 * shapes (loki `pkg/util/marshal/query.go`): a `scalar` is `[<time>,
 * "<value>"]`, a `vector` a list of `{"metric": {…}, "value": [<time>,
 * "<value>"]}`, a `matrix` a list of `{"metric": {…}, "values": [[<time>,
 * "<value>"], …]}` with the steps each series has a value at. Times are
 * unix seconds with millisecond precision (JSON numbers), values strings.
 *
 * @example
 * ```ts
 * import { encodeMetric } from "./encode.ts";
 * import assert from "node:assert/strict";
 * import { emptySeries } from "../../query/metric/series.ts";
 * const steps = { start: 1_700_000_000_000_000_000n, step: 60_000_000_000n, count: 2 };
 * const errors = emptySeries({ level: "error" }, 2);
 * errors.values.set([3, 0.5]);
 * errors.present.set([1, 1]);
 * const series = [errors];
 * assert.deepEqual(encodeMetric({ resultType: "matrix", steps, series }), {
 *   resultType: "matrix",
 *   result: [{ metric: { level: "error" }, values: [[1700000000, "3"], [1700000060, "0.5"]] }],
 * });
 * assert.deepEqual(encodeMetric({ resultType: "vector", steps, series }).result, [
 *   { metric: { level: "error" }, value: [1700000000, "3"] },
 * ]);
 * ```
 */
export function encodeMetric(answer: Pick<MetricResult, "resultType" | "steps" | "series">) {
  const { resultType, steps, series } = answer;
  const at = (k: number): number => sampleTime(steps.start + BigInt(k) * steps.step);
  if (resultType === "scalar") {
    return { resultType, result: [at(0), formatSampleValue(series[0].values[0])] };
  }
  if (resultType === "vector") {
    return {
      resultType,
      result: series.map((s) => ({
        metric: s.labels,
        value: [at(0), formatSampleValue(s.values[0])],
      })),
    };
  }
  return {
    resultType,
    result: series.map((s) => {
      const values: [number, string][] = [];
      for (let k = 0; k < steps.count; k++) {
        if (s.present[k]) values.push([at(k), formatSampleValue(s.values[k])]);
      }
      return { metric: s.labels, values };
    }),
  };
}
