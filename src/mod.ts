/**
 * loge: log storage with a Loki-style push API and LogQL search.
 *
 * The folders, in the order data flows through them:
 * - `cli/` — the `loge` commands (`serve`, `search`), each owning its flags and help;
 * - `server/` — HTTP routes, errors → responses, auth;
 * - `harvest/` — files, syslog and sockets read by the server itself, pushed as any push;
 * - `tail/` — live tails: pushes as they become visible, filtered for each tail;
 * - `ingest/` — push decoding and validation, the write-ahead log, the in-memory head
 *   (buckets of acknowledged lines, `head.ts`) and flushing it to files (`flush.ts`);
 * - `query/` — the LogQL parser, matchers and the query engine;
 * - `tier/` — the S3 cold tier: rotation, listings, remote reads;
 * - `storage/` — block codec, content filters, segment files, catalog, compactor, workers.
 *
 * Beside them, `client/` is a batching logger for Deno and Node that ships to loge or Loki.
 *
 * A stage only calls the ones below it: server → harvest / tail → ingest / query / tier →
 * storage. Two calls go sideways: the query engine reads the ingest head's batches, and
 * ingest's `detected_level` reads logfmt with the query pipeline's parser.
 *
 * @example Ingest into a data folder, then read its catalog and a file's index
 * ```ts
 * import { Catalog, decodePush, Ingester, PushFormat, readSegmentIndex } from "./mod.ts";
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
 * const body = new TextEncoder().encode(JSON.stringify({
 *   streams: [{ stream: { app: "web" }, values: [["1700000000000000000", "GET / 200"]] }],
 * }));
 * assert.ok(await ingester.admit());
 * await ingester.push(decodePush(PushFormat.Json, body), PushFormat.Json, body);
 * ingester.release();
 * await ingester.close(); // flushes the head into a level-0 file
 * const [entry] = catalog.entries();
 * assert.equal(entry.rows, 1);
 * const source = await catalog.opener.open(entry);
 * const index = await readSegmentIndex(source);
 * assert.deepEqual(index.streams, ['{"app":"web"}']);
 * await source.close();
 * catalog.close();
 * await Deno.remove(dir, { recursive: true });
 * ```
 *
 * @module
 */

export { Catalog, type CatalogEntry, type StreamLabels } from "./storage/catalog.ts";
export { COMPACTION_DEFAULTS, Compactor } from "./storage/compactor.ts";
export {
  readBlock,
  readBlocks,
  readSegmentIndex,
  type SegmentIndex,
} from "./storage/segment_reader.ts";
export { type ByteSource } from "./storage/source/byte_source.ts";
export { openFileSource } from "./storage/source/file.ts";
export {
  type LocationReader,
  type SegmentLocation,
  SourceOpener,
  UnknownLocationError,
} from "./storage/source/opener.ts";
export { SegmentCache } from "./storage/segment_cache.ts";
export { Ingester, type IngestOptions } from "./ingest/ingester.ts";
export { decodePush, formatOf, PushFormat } from "./ingest/decode.ts";
export { PushError, validatePush } from "./ingest/payload.ts";
export { toLogQuery } from "./server/read_request.ts";
export { type LogQuery } from "./query/engine.ts";
export { QueryEngine } from "./query/engine.ts";
export { parseLogQL } from "./query/logql.ts";
export { createHandler } from "./server/app.ts";
import { parseDuration as parseDurationFlag } from "./cli/flags.ts";

/**
 * Parses a Go-style duration (`500ms`, `2s`, `1m30s`, `1h`, `0`) into milliseconds, as the
 * `loge` flags do; `undefined` when the text is not one.
 */
export const parseDuration: (text: string) => number | undefined = parseDurationFlag;
