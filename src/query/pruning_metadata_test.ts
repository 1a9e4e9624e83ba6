/**
 * Pruning with parsers never hides a line whose structured metadata, not its
 * text, holds the value a label filter asks for (a label filter sees both).
 */
import assert from "node:assert/strict";
import { logQuery } from "../../testing/log_query.ts";
import { MemBatch } from "../ingest/head.ts";
import { BlockBuilder } from "../storage/block_codec.ts";
import { Catalog } from "../storage/catalog.ts";
import { SegmentCache } from "../storage/segment_cache.ts";
import { SegmentWriter } from "../storage/segment_writer.ts";
import { QueryEngine } from "./engine.ts";

const IN_METADATA = "4bf92f3577b34da6a3ce929d0e0e4736";
const IN_LINE = "00f067aa0ba902b7a3ce929d0e0e4736";
const ROWS: [bigint, string, Record<string, string> | undefined][] = [
  [1n, '{"msg":"a"}', { trace_id: IN_METADATA }],
  [2n, `{"msg":"b","trace_id":"${IN_LINE}"}`, undefined],
  [3n, '{"msg":"c"}', undefined],
];

Deno.test("a value held only in metadata is found with and without pruning, in segments and the head", async () => {
  const dir = await Deno.makeTempDir({ prefix: "loge-prune-meta-" });
  const catalog = await Catalog.open(dir);
  const cache = new SegmentCache(catalog.opener);
  try {
    const writer = new SegmentWriter(dir, "l1-test-0.loge", { level: 1, zstdLevel: 3 });
    const builder = new BlockBuilder();
    for (const [ts, line, meta] of ROWS) {
      builder.addString(ts, line, meta && JSON.stringify(meta));
    }
    writer.writeBlock(writer.stream('{"app":"seg"}'), builder);
    catalog.add(writer.finish([[1, 1]]));
    const head = new MemBatch();
    head.add(2, [{
      key: '{"app":"mem"}',
      ts: ROWS.map((r) => r[0]),
      lines: ROWS.map((r) => r[1]),
      metadata: ROWS.map((r) => r[2] && JSON.stringify(r[2])),
    }]);
    const engine = new QueryEngine({ catalog, cache, head: () => [head], concurrency: 2 });
    for (const app of ["seg", "mem"]) {
      for (const [value, line] of [[IN_METADATA, '{"msg":"a"}'], [IN_LINE, ROWS[1][1]]]) {
        const { entries } = await engine.select(
          logQuery(`{app="${app}"} | json | trace_id="${value}"`, { limit: 10 }),
        );
        assert.deepEqual(entries.map((e) => e.line), [line], `${app}: ${value}`);
      }
    }
  } finally {
    await cache.close();
    catalog.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a value a label filter implies rules out files by the catalog's filter, never opening them", async () => {
  const dir = await Deno.makeTempDir({ prefix: "loge-prune-file-" });
  const catalog = await Catalog.open(dir);
  const cache = new SegmentCache(catalog.opener);
  try {
    const lines = [`{"msg":"a","trace_id":"${IN_LINE}"}`, '{"msg":"b","trace_id":"other-id-0123"}'];
    lines.forEach((line, i) => {
      const writer = new SegmentWriter(dir, `l1-test-${i}.loge`, { level: 1, zstdLevel: 3 });
      const builder = new BlockBuilder();
      builder.addString(BigInt(i + 1), line);
      writer.writeBlock(writer.stream('{"app":"seg"}'), builder);
      catalog.add(writer.finish([[i + 1, i + 1]]));
    });
    // The second file is damaged: opening it would add a warning.
    const damaged = `${dir}/l1-test-1.loge`;
    const size = (await Deno.stat(damaged)).size;
    await Deno.truncate(damaged, size - 8);
    const engine = new QueryEngine({ catalog, cache, head: () => [], concurrency: 2 });
    const found = await engine.select(
      logQuery(`{app="seg"} | json | trace_id="${IN_LINE}"`, { limit: 10 }),
    );
    assert.deepEqual(found.entries.map((e) => e.line), [lines[0]]);
    assert.deepEqual(found.warnings, []);
    // A query the filter cannot rule the file out for opens it, and meets the damage.
    const all = await engine.select(logQuery(`{app="seg"} | json`, { limit: 10 }));
    assert.equal(all.warnings.length, 1);
  } finally {
    await cache.close();
    catalog.close();
    await Deno.remove(dir, { recursive: true });
  }
});
