/**
 * `selectVisible` over a real ingester (head, flushes, catalog): lines that
 * arrive, and files that are cataloged, while it reads stay out of its
 * answer; what was visible when it was called is in it exactly once.
 */
import assert from "node:assert/strict";
import { decodePush, PushFormat } from "../ingest/decode.ts";
import { Ingester } from "../ingest/ingester.ts";
import { Catalog } from "../storage/catalog.ts";
import { SegmentCache } from "../storage/segment_cache.ts";
import { logQuery } from "../../testing/log_query.ts";
import type { EngineContext } from "./plan.ts";
import { selectVisible } from "./snapshot.ts";

const UTF8 = new TextEncoder();

async function withIngester(
  fn: (ingester: Ingester, ctx: EngineContext, catalog: Catalog) => Promise<void>,
) {
  const dir = await Deno.makeTempDir({ prefix: "loge-snapshot-" });
  const catalog = await Catalog.open(dir);
  const ingester = await Ingester.open(catalog, {
    buckets: 2,
    payloadSize: 1_000_000,
    flushIntervalMs: 3_600_000,
    flushZstdLevel: 1,
    flushWorkers: 1,
    flushQueue: 4,
    // Without a WAL, a push joins the head in the turn it is made.
    durable: false,
    checkpointIntervalMs: 3_600_000,
    dropOnBackpressure: false,
    maxFlushFiles: 0,
    flushCoalesceMs: 0,
  });
  const cache = new SegmentCache(catalog.opener);
  const ctx = { catalog, cache, head: () => ingester.head(), concurrency: 4 };
  try {
    await fn(ingester, ctx, catalog);
  } finally {
    await ingester.close();
    await cache.close();
    catalog.close();
    await Deno.remove(dir, { recursive: true });
  }
}

/** Pushes `lines` of stream `{app}` at times `ts`; returns the push (joined the head already). */
function push(ingester: Ingester, app: string, rows: [bigint, string][]): Promise<unknown> {
  const body = UTF8.encode(JSON.stringify({
    streams: [{ stream: { app }, values: rows.map(([ts, line]) => [String(ts), line]) }],
  }));
  return ingester.push(decodePush(PushFormat.Json, body), PushFormat.Json, body);
}

const lines = (entries: { line: string }[]) => entries.map((e) => e.line).sort();

Deno.test("selectVisible leaves out lines that reach the head while it reads", async () => {
  await withIngester(async (ingester, ctx) => {
    await push(ingester, "web", [[10n, "a"], [20n, "b"]]);
    await push(ingester, "api", [[15n, "c"]]);
    const answer = selectVisible(ctx, logQuery("{}", { direction: "forward" }));
    // Into the same batches (older and newer times), and a stream of their own.
    const later = [
      push(ingester, "web", [[5n, "late"], [30n, "d"]]),
      push(ingester, "api", [[16n, "e"]]),
      push(ingester, "new", [[17n, "f"]]),
    ];
    assert.deepEqual(lines((await answer).entries), ["a", "b", "c"]);
    await Promise.all(later);
    const after = await selectVisible(ctx, logQuery("{}"));
    assert.deepEqual(lines(after.entries), ["a", "b", "c", "d", "e", "f", "late"]);
  });
});

Deno.test("selectVisible answers each visible line once when its batch is flushed meanwhile", async () => {
  await withIngester(async (ingester, ctx, catalog) => {
    const rows: [bigint, string][] = Array.from({ length: 200 }, (_, i) => [BigInt(i), `l${i}`]);
    await push(ingester, "web", rows);
    const answer = selectVisible(ctx, logQuery('{app="web"}', { limit: 1000 }));
    await push(ingester, "web", [[1000n, "after"]]);
    // Close flushes every batch into a cataloged file and empties the head.
    await ingester.close();
    assert.ok([...catalog.entries()].length > 0);
    assert.deepEqual(lines((await answer).entries), rows.map(([, l]) => l).sort());
    const now = await selectVisible(ctx, logQuery('{app="web"}', { limit: 1000 }));
    assert.equal(now.entries.length, 201);
  });
});

Deno.test("selectVisible copies only the streams the query selects, within its times", async () => {
  await withIngester(async (ingester, ctx) => {
    await push(ingester, "web", [[10n, "w1"], [50n, "w2"]]);
    await push(ingester, "api", [[40n, "a1"]]);
    const { entries } = await selectVisible(ctx, logQuery('{app="web"}', { start: 20n }));
    assert.deepEqual(lines(entries), ["w2"]);
  });
});
