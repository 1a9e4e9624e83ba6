/**
 * loge: log storage with a Loki-style push API and LogQL search.
 *
 * The folders, in the order data flows through them:
 * - `cli/` — the `loge` commands (`serve`, `search`), each owning its flags and help;
 * - `server/` — HTTP routes, errors → responses, auth;
 * - `ingest/` — push decoding and validation, the write-ahead log, the in-memory head
 *   (buckets of acknowledged lines, `head.ts`) and flushing it to files (`flush.ts`);
 * - `query/` — the LogQL parser, matchers and the query engine;
 * - `storage/` — block codec, content filters, segment files, catalog, compactor, workers.
 *
 * A stage only calls the ones below it: server → ingest / query → storage (the query engine
 * also reads the ingest head's batches, by their types only).
 *
 * @example Open the storage of a data folder and read its catalog
 * ```ts ignore
 * import { Catalog } from "./mod.ts";
 * const catalog = await Catalog.open("tmp");
 * for (const e of catalog.entries()) console.log(e.name, e.rows);
 * catalog.close();
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
