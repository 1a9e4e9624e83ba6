import assert from "node:assert/strict";
import { writeOneLine } from "../../testing/segments.ts";
import { BlockBuilder } from "./block_codec.ts";
import { SegmentCache } from "./segment_cache.ts";
import { readBlock } from "./segment_reader.ts";
import { SegmentWriter } from "./segment_writer.ts";
import { SourceOpener } from "./source/opener.ts";

Deno.test("segments in use stay readable when the cache evicts them", async () => {
  const dir = await Deno.makeTempDir();
  try {
    for (let i = 0; i < 5; i++) {
      writeOneLine(dir, `l1-${i}.loge`, {
        ts: BigInt(i),
        line: `line ${i}`,
        seqs: [[i + 1, i + 1]],
      });
    }
    const cache = new SegmentCache(new SourceOpener(dir), 2);
    const held = await Promise.all(
      [0, 1, 2, 3, 4].map((i) => cache.open({ name: `l1-${i}.loge`, location: "local" })),
    );
    cache.evict("l1-4.loge");
    for (const [i, s] of held.entries()) {
      const block = await readBlock(s.source, s.index.blocks[0]);
      assert.equal(block.ts[0], BigInt(i));
    }
    for (const s of held) s.release();
    const again = await cache.open({ name: "l1-0.loge", location: "local" });
    assert.equal(again.index.rows, 1);
    again.release();
    // Every handle is closed now, or the resource sanitizer fails this test.
    await cache.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the cache keeps its decoded indexes within its bytes, least recently used out", async () => {
  const dir = await Deno.makeTempDir();
  try {
    for (let i = 0; i < 6; i++) {
      const w = new SegmentWriter(dir, `l1-${i}.loge`, { level: 1, zstdLevel: 1 });
      for (let k = 0; k < 20; k++) {
        const b = new BlockBuilder();
        for (let n = 0; n < 50; n++) {
          b.addString(BigInt(k * 50 + n), `token${i}-${k}-${n} word${n}`);
        }
        w.writeBlock(w.stream(`{"block":"${k}"}`), b);
      }
      w.finish([[i + 1, i + 1]]);
    }
    const opener = new SourceOpener(dir);
    const probe = new SegmentCache(opener);
    const one = await probe.open({ name: "l1-0.loge", location: "local" });
    one.release();
    const perIndex = probe.bytes;
    assert.ok(perIndex > 0);
    await probe.close();
    assert.equal(probe.bytes, 0);

    // Room for two indexes and a half: at most two stay, the latest ones.
    const cache = new SegmentCache(opener, 256, Math.floor(perIndex * 2.5));
    for (let i = 0; i < 6; i++) {
      const s = await cache.open({ name: `l1-${i}.loge`, location: "local" });
      assert.equal(s.index.blocks.length, 20);
      s.release();
      await new Promise((r) => setTimeout(r, 0)); // the index's bytes are counted once loaded
      assert.ok(cache.bytes <= perIndex * 2.5, `${cache.bytes} bytes after ${i + 1} opens`);
    }
    const misses = cache.misses;
    (await cache.open({ name: "l1-5.loge", location: "local" })).release();
    (await cache.open({ name: "l1-4.loge", location: "local" })).release();
    assert.equal(cache.misses, misses, "the two latest are still cached");
    (await cache.open({ name: "l1-0.loge", location: "local" })).release();
    assert.equal(cache.misses, misses + 1, "the first was dropped");
    await cache.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a warmed segment is open before its first use; a missing one is left for its user", async () => {
  const dir = await Deno.makeTempDir();
  try {
    writeOneLine(dir, "l0-1.loge", { level: 0, ts: 7n });
    const cache = new SegmentCache(new SourceOpener(dir));
    cache.warm({ name: "l0-1.loge", location: "local" });
    cache.warm({ name: "l0-1.loge", location: "local" }); // already there: nothing more
    cache.warm({ name: "l0-gone.loge", location: "local" });
    assert.deepEqual([cache.hits, cache.misses], [0, 2]);
    const used = await cache.open({ name: "l0-1.loge", location: "local" });
    assert.equal((await readBlock(used.source, used.index.blocks[0])).ts[0], 7n);
    used.release();
    assert.deepEqual([cache.hits, cache.misses], [1, 2]);
    // The failed warm left no slot: its user opens it afresh and meets the error.
    await assert.rejects(cache.open({ name: "l0-gone.loge", location: "local" }), /ENOENT/);
    assert.deepEqual([cache.hits, cache.misses], [1, 3]);
    await cache.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
