/**
 * The two halves of a client-side search: the engine's hot part
 * (`selectHot`: the head and local files, and the remote files left unread)
 * and a client's reading of those files (`selectSegments`, without a
 * catalog) together give exactly the answer of one query over everything.
 * A real catalog in a temp folder, segments by the real writer, and a
 * remote location whose reader opens the files from the folder.
 */
import assert from "node:assert/strict";
import { logQuery } from "../../testing/log_query.ts";
import { MemBatch } from "../ingest/head.ts";
import { BlockBuilder } from "../storage/block_codec.ts";
import { BlockCache } from "../storage/block_cache.ts";
import { Catalog } from "../storage/catalog.ts";
import { SegmentCache } from "../storage/segment_cache.ts";
import { SegmentWriter } from "../storage/segment_writer.ts";
import { openLocalSource, SourceOpener } from "../storage/source/opener.ts";
import { type LogQuery, QueryEngine, selectSegments } from "./engine.ts";

const FAR = "far";

interface Line {
  ts: bigint;
  labels: Record<string, string>;
  line: string;
}

const keyOf = (labels: Record<string, string>) =>
  JSON.stringify(Object.fromEntries(Object.entries(labels).sort()));

/** 800 lines of 4 streams, times interleaved across 3 segments and the head, with ties. */
function corpus(): Line[] {
  return Array.from({ length: 800 }, (_, i) => ({
    ts: 5_000n + BigInt(Math.floor(i / 3)),
    labels: { app: i % 2 === 0 ? "web" : "api", ...(i % 3 === 0 ? { env: "prod" } : {}) },
    line: `status=${200 + (i % 4) * 100} took=${i % 13}ms n=${i}${i % 97 === 0 ? " needle" : ""}`,
  }));
}

/** Engine over 2 far segments, 1 local segment and a head batch; a client over the far ones. */
async function withTiers(
  fn: (engine: QueryEngine, client: SegmentCache, lines: Line[], catalog: Catalog) => Promise<void>,
) {
  const dir = await Deno.makeTempDir({ prefix: "loge-select-segments-" });
  const catalog = await Catalog.open(dir);
  const reader = (segment: { name: string }) => openLocalSource(dir, segment.name);
  catalog.opener.register(FAR, reader);
  const cache = new SegmentCache(catalog.opener);
  const client = new SegmentCache(new SourceOpener(dir, { [FAR]: reader }));
  const lines = corpus();
  // Parts by pairs of lines: interleaved, so every part holds every stream and time range.
  const parts = [0, 1, 2, 3].map((p) => lines.filter((_, i) => Math.floor(i / 2) % 4 === p));
  try {
    for (const n of [0, 1, 2]) {
      const writer = new SegmentWriter(dir, `l1-test-${n}.loge`, { level: 1, zstdLevel: 3 });
      const builder = new BlockBuilder();
      for (const [key, rows] of Map.groupBy(parts[n], (l) => keyOf(l.labels))) {
        const id = writer.stream(key);
        for (const row of rows) {
          builder.addString(row.ts, row.line);
          if (builder.count === 8) writer.writeBlock(id, builder);
        }
        if (builder.count > 0) writer.writeBlock(id, builder);
      }
      const entry = catalog.add(writer.finish([[n + 1, n + 1]]));
      if (n < 2) catalog.moveToRemote(entry, FAR, entry.name);
    }
    const head = new MemBatch();
    for (const [key, rows] of Map.groupBy(parts[3], (l) => keyOf(l.labels))) {
      head.add(4, [{ key, ts: rows.map((r) => r.ts), lines: rows.map((r) => r.line) }]);
    }
    const engine = new QueryEngine({ catalog, cache, head: () => [head], concurrency: 2 });
    await fn(engine, client, lines, catalog);
  } finally {
    await cache.close();
    await client.close();
    catalog.close();
    await Deno.remove(dir, { recursive: true });
  }
}

/** The hot part, then the client's reading of the cold files with a small block cache. */
async function splitAnswer(engine: QueryEngine, client: SegmentCache, q: LogQuery) {
  const hot = await engine.selectHot(q);
  assert.deepEqual(hot.warnings, []);
  const segments = hot.cold.map(({ name, location, bytes }) => ({ name, location, bytes }));
  const ctx = { cache: client, concurrency: 3, blockCache: new BlockCache(4) };
  const result = await selectSegments(ctx, q, segments, hot.entries);
  assert.deepEqual(result.warnings, []);
  return { entries: result.entries, cold: hot.cold.map((e) => e.name).sort() };
}

Deno.test("hot part and client-read cold segments give the answer of one query over everything", () =>
  withTiers(async (engine, client, lines) => {
    const far = ["l1-test-0.loge", "l1-test-1.loge"];
    const cases: [string, Partial<LogQuery>][] = [
      ['{app=~".+"}', {}],
      ['{app="web"}', { limit: 7 }],
      ['{app="api", env="prod"}', { direction: "forward", limit: 33 }],
      ['{app=~".+"} |= "needle"', {}],
      ['{app=~".+"} | logfmt | status >= 400', { limit: 120 }],
      ['{app=~".+"} | logfmt | took = "12ms" | line_format "{{.n}}"', { direction: "forward" }],
      ['{app=~".+"}', { start: 5_100n, end: 5_110n, limit: 11 }],
      ['{app=~".+"}', { limit: 1, direction: "forward" }],
    ];
    for (const [text, overrides] of cases) {
      const q = logQuery(text, overrides);
      const whole = await engine.select(q);
      assert.deepEqual(whole.warnings, []);
      const split = await splitAnswer(engine, client, q);
      assert.deepEqual(
        split.entries,
        whole.entries,
        `${text} ${JSON.stringify(overrides, (_, v) => typeof v === "bigint" ? String(v) : v)}`,
      );
      assert.deepEqual(split.cold, far, text);
      assert.ok(whole.entries.length > 0, text);
    }
    // Every line once: a far file is never also read as a hot one.
    const all = await splitAnswer(engine, client, logQuery('{app=~".+"}', { limit: 5000 }));
    assert.equal(all.entries.length, lines.length);
  }));

Deno.test("the catalog rules cold files out by time and streams; unknown streams cannot be", () =>
  withTiers(async (engine, client, _lines, catalog) => {
    // Before any time in the store: nothing at all.
    const early = logQuery('{app=~".+"}', { end: 4_000n });
    assert.deepEqual((await engine.selectHot(early)).cold, []);
    // No stream of any file: nothing listed, and no needle in any file's filter.
    assert.deepEqual((await engine.selectHot(logQuery('{app="db"}'))).cold, []);
    assert.deepEqual(
      (await engine.selectHot(logQuery('{app=~".+"} |= " nowhere0123456789 "'))).cold,
      [],
    );
    // A row found by listing a bucket does not know its streams: it is listed.
    const far = [...catalog.entries()].find((e) => e.location === FAR)!;
    const copy = "l1-copy.loge";
    await Deno.copyFile(`${catalog.dir}/${far.name}`, `${catalog.dir}/${copy}`);
    catalog.addRemote(FAR, [{ ...far, name: copy }]);
    const listed = await engine.selectHot(logQuery('{app="db"}'));
    assert.deepEqual(listed.cold.map((e) => [e.name, e.indexed]), [[copy, false]]);
    assert.deepEqual(listed.entries, []);
    // The client reads it and finds nothing of the stream.
    await splitAnswer(engine, client, logQuery('{app="db"}'));
  }));
