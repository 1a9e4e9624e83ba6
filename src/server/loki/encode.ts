/**
 * Loki's answer to a log query: lines grouped into stream objects (loki
 * `pkg/util/marshal/query.go` `encodeStream`), optionally with the
 * `categorize-labels` encoding, and the `stats` object (loki
 * `pkg/logqlmodel/stats/context.go`, the keys Grafana's `parseStats` reads).
 *
 * @module
 */

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
