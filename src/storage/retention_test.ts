import assert from "node:assert/strict";
import { join } from "node:path";
import { BlockBuilder } from "./block_codec.ts";
import { Catalog } from "./catalog.ts";
import { Retention } from "./retention.ts";
import { SegmentCache } from "./segment_cache.ts";
import { SegmentWriter } from "./segment_writer.ts";

const HOUR_MS = 3_600_000;

/** A level-1 file of 50 lines ending `hoursAgo` before `now`. */
function write(dir: string, name: string, seq: number, now: number, hoursAgo: number) {
  const w = new SegmentWriter(dir, name, { level: 1, zstdLevel: 1 });
  const b = new BlockBuilder();
  const end = BigInt(now - hoursAgo * HOUR_MS) * 1_000_000n;
  for (let i = 49; i >= 0; i--) b.addString(end - BigInt(i), `${name} ${i} ${crypto.randomUUID()}`);
  w.writeBlock(w.stream('{"app":"web"}'), b);
  return w.finish([[seq, seq]]);
}

Deno.test("Retention: by age, whole files whose newest line is older; by size, the oldest first down to the target", async () => {
  const dir = await Deno.makeTempDir();
  const now = Date.now();
  try {
    const catalog = await Catalog.open(dir);
    const cache = new SegmentCache(catalog.opener);
    const files = [5, 4, 3, 2, 1].map((h, i) =>
      catalog.add(write(dir, `l1-h${h}-0000000${i + 1}.loge`, i + 1, now, h))
    );
    const byAge = new Retention(catalog, cache, {
      ageMs: 3.5 * HOUR_MS,
      sizeBytes: 0,
      targetBytes: 0,
      walFloor: () => Infinity,
    });
    assert.deepEqual(byAge.due(now).map((e) => e.name), [files[0].name, files[1].name]);
    const size = files.reduce((n, e) => n + e.bytes, 0);
    const bySize = new Retention(catalog, cache, {
      ageMs: 0,
      sizeBytes: size - 1,
      targetBytes: size - files[0].bytes - files[1].bytes,
      walFloor: () => Infinity,
    });
    assert.deepEqual(bySize.due(now).map((e) => e.name), [files[0].name, files[1].name]);
    assert.equal(await byAge.run(now), 2);
    assert.deepEqual(byAge.counters, {
      files_deleted: 2,
      bytes_deleted: files[0].bytes + files[1].bytes,
      lines_deleted: 100,
    });
    assert.deepEqual(
      [...catalog.entries()].map((e) => e.name),
      files.slice(2).map((e) => e.name),
    );
    await assert.rejects(Deno.stat(join(dir, files[0].name)), Deno.errors.NotFound);
    assert.equal(catalog.covered.has(1), true, "the deleted file's sequence is retired");
    assert.equal(await byAge.run(now), 0);
    await cache.close();
    catalog.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
