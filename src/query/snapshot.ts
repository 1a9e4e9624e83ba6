/**
 * Log queries over what is visible at one instant. A query reads the head's
 * batches while pushes keep growing them, so an ordinary answer may hold
 * lines that arrived after it was asked. A live tail cannot have that: it
 * subscribes to new lines and then replays what came before, and a line in
 * both would be delivered twice. {@linkcode selectVisible} copies the head's
 * lines of the selected streams and lists (and leases) the catalog's files
 * in the turn it is called, so its answer holds exactly the lines visible
 * then, whatever arrives, is flushed or compacted while it reads.
 *
 * @module
 */

import { MemBatch } from "../ingest/head.ts";
import { type EngineContext, streamFilter, timeBounds } from "./plan.ts";
import { type LogQuery, selectLines, type SelectResult } from "./select.ts";

/**
 * The first `query.limit` lines of `query` among those visible when it is
 * called. Lines that reach the head afterwards are not in the answer, nor
 * are files cataloged afterwards (their lines were in the copied head, or
 * arrived later).
 *
 * @example
 * ```ts
 * import { selectVisible } from "./snapshot.ts";
 * import { MemBatch } from "../ingest/head.ts";
 * import { Catalog } from "../storage/catalog.ts";
 * import { SegmentCache } from "../storage/segment_cache.ts";
 * import assert from "node:assert/strict";
 * const dir = await Deno.makeTempDir();
 * const catalog = await Catalog.open(dir);
 * const head = new MemBatch();
 * head.add(1, [{ key: '{"app":"web"}', ts: [1n], lines: ["before"] }]);
 * const ctx = { catalog, cache: new SegmentCache(catalog.opener), head: () => [head], concurrency: 2 };
 * const query = {
 *   start: 0n, end: 0n, matchers: [], pushdown: [], pipeline: [],
 *   limit: 10, direction: "forward" as const,
 * };
 * const answer = selectVisible(ctx, query);
 * head.add(2, [{ key: '{"app":"web"}', ts: [0n], lines: ["after"] }]); // arrives meanwhile
 * assert.deepEqual((await answer).entries.map((e) => e.line), ["before"]);
 * catalog.close();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export function selectVisible(ctx: EngineContext, query: LogQuery): Promise<SelectResult> {
  const [lo, hi] = timeBounds(query);
  const wanted = streamFilter(query.matchers);
  const head: MemBatch[] = [];
  for (const batch of ctx.head()) {
    if (batch.rows === 0 || batch.maxTs < lo || batch.minTs > hi) continue;
    const streams = [...batch.streams.values()].filter((s) => wanted(ctx.catalog.stream(s.key)));
    if (streams.length === 0) continue;
    // `add` copies the lines: the batch's later growth stays out of the copy.
    const copy = new MemBatch();
    copy.add(0, streams);
    head.push(copy);
  }
  // `selectLines` plans before its first `await`: it lists and leases the
  // catalog's files in this same turn, consistent with the copied head (a
  // flush catalogs its file and drops its batch from the head in one turn).
  return selectLines({ ...ctx, head: () => head }, query);
}
