/**
 * Test helper: a {@linkcode QueryEngine} over given rows, the older ones in
 * segment files written by the real writer (one block per stream, or
 * blocks of a given size), the rest in an in-memory head batch. No server,
 * no workers: for the engine's unit tests, whose expected answers come from
 * the rows.
 *
 * @module
 */

import { MemBatch } from "../src/ingest/head.ts";
import { BlockBuilder } from "../src/storage/block_codec.ts";
import { Catalog } from "../src/storage/catalog.ts";
import { SegmentCache } from "../src/storage/segment_cache.ts";
import { SegmentWriter } from "../src/storage/segment_writer.ts";
import type { SegmentIndex } from "../src/storage/segment_reader.ts";
import { type EngineContext, QueryEngine } from "../src/query/engine.ts";

/** A stored line: its time, its stream's labels, its text and its structured metadata. */
export interface Row {
  ts: bigint;
  labels: Record<string, string>;
  line: string;
  metadata?: Record<string, string>;
}

/** Where the rows go. */
export interface FixtureOptions {
  /** Rows (in the order given) written to one segment file; the rest go to the head. Default: all. */
  inFiles?: number;
  /** Lines per block (default: one block per stream). */
  blockLines?: number;
}

/** The canonical key of a label set, as the catalog keys streams. */
export const streamKeyOf = (labels: Record<string, string>): string =>
  JSON.stringify(Object.fromEntries(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : 1))));

/**
 * Runs `fn` with an engine over `rows`, the index of the segment file
 * (undefined when no row is in a file) and the engine's context (for the
 * query modules' own functions); removes everything after.
 *
 * @example
 * ```ts
 * import { withEngine } from "./engine_fixture.ts";
 * import assert from "node:assert/strict";
 * const rows = [
 *   { ts: 1n, labels: { app: "web" }, line: "in a file" },
 *   { ts: 2n, labels: { app: "web" }, line: "in memory" },
 * ];
 * await withEngine(rows, { inFiles: 1 }, async (engine, index) => {
 *   assert.equal(index?.blocks.length, 1);
 *   assert.equal((await engine.series(0n, 0n, [])).length, 1);
 * });
 * ```
 */
export async function withEngine(
  rows: readonly Row[],
  options: FixtureOptions,
  fn: (engine: QueryEngine, index: SegmentIndex | undefined, ctx: EngineContext) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "loge-engine-" });
  const catalog = await Catalog.open(dir);
  const cache = new SegmentCache(catalog.opener);
  const inFiles = rows.slice(0, options.inFiles ?? rows.length);
  try {
    let index: SegmentIndex | undefined;
    if (inFiles.length > 0) {
      const writer = new SegmentWriter(dir, "l1-fixture-1.loge", { level: 1, zstdLevel: 3 });
      const builder = new BlockBuilder();
      for (const [key, group] of Map.groupBy(inFiles, (r) => streamKeyOf(r.labels))) {
        const id = writer.stream(key);
        const sorted = [...group].sort((a, b) => (a.ts < b.ts ? -1 : a.ts > b.ts ? 1 : 0));
        for (const row of sorted) {
          builder.addString(row.ts, row.line, row.metadata && JSON.stringify(row.metadata));
          if (builder.count === options.blockLines) writer.writeBlock(id, builder);
        }
        if (builder.count > 0) writer.writeBlock(id, builder);
      }
      catalog.add(writer.finish([[1, 1]]));
      const opened = await cache.open([...catalog.entries()][0]);
      index = opened.index;
      opened.release();
    }
    const head = new MemBatch();
    for (
      const [key, group] of Map.groupBy(rows.slice(inFiles.length), (r) => streamKeyOf(r.labels))
    ) {
      const metadata = group.some((r) => r.metadata)
        ? group.map((r) => r.metadata && JSON.stringify(r.metadata))
        : undefined;
      head.add(2, [{ key, ts: group.map((r) => r.ts), lines: group.map((r) => r.line), metadata }]);
    }
    const ctx: EngineContext = { catalog, cache, head: () => [head], concurrency: 3 };
    await fn(new QueryEngine(ctx), index, ctx);
  } finally {
    await cache.close();
    catalog.close();
    await Deno.remove(dir, { recursive: true });
  }
}
