/**
 * Test helper: the request handler of `loge serve` over the real components,
 * in this process: a temp folder, the catalog, a durable ingester (with its
 * WAL and flush workers), the segment cache and the query engine. No server
 * process, no mocks: for handler tests with `new Request(...)`.
 *
 * @module
 */

import { Ingester, type IngestOptions } from "../src/ingest/ingester.ts";
import { QueryEngine } from "../src/query/engine.ts";
import { Catalog } from "../src/storage/catalog.ts";
import { SegmentCache } from "../src/storage/segment_cache.ts";
import { type AppOptions, createHandler } from "../src/server/app.ts";

/** Largest push body of the fixture's handler. */
export const MAX_BODY = 4096;

/** The handler and the ingester behind it. */
export interface App {
  handle: (req: Request) => Promise<Response>;
  ingester: Ingester;
}

/**
 * Runs `test` with a handler over a fresh folder; closes and removes
 * everything after.
 *
 * @example
 * ```ts
 * import { withApp } from "./app_fixture.ts";
 * import assert from "node:assert/strict";
 * await withApp(async ({ handle }) => {
 *   const res = await handle(new Request("http://loge.test/api/v1/labels"));
 *   assert.deepEqual((await res.json()).data, []);
 * });
 * ```
 */
export async function withApp(
  test: (app: App) => Promise<void>,
  options: { apiKey?: string; ingest?: Partial<IngestOptions>; app?: Partial<AppOptions> } = {},
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "loge_app_test_" });
  const catalog = await Catalog.open(dir);
  const ingester = await Ingester.open(catalog, {
    buckets: 2,
    payloadSize: 10_000,
    // Long enough that pushed lines stay in the head unless a test asks otherwise.
    flushIntervalMs: 60_000,
    flushZstdLevel: 1,
    flushWorkers: 1,
    flushQueue: 8,
    durable: true,
    checkpointIntervalMs: 50,
    maxFlushFiles: 0,
    flushCoalesceMs: 0,
    dropOnBackpressure: false,
    ...options.ingest,
  });
  const cache = new SegmentCache(catalog.opener);
  const engine = new QueryEngine({
    catalog,
    cache,
    head: () => ingester.head(),
    concurrency: 4,
  });
  const appOptions: AppOptions = {
    ingester,
    engine,
    catalog,
    maxBodyBytes: MAX_BODY,
    readTimeoutMs: 5000,
    apiKey: options.apiKey ?? "",
    ...options.app,
  };
  try {
    await test({ handle: createHandler(appOptions), ingester });
  } finally {
    await ingester.close();
    await cache.close();
    catalog.close();
    await Deno.remove(dir, { recursive: true });
  }
}
