import assert from "node:assert/strict";
import { BlockBuilder } from "./block_codec.ts";
import { SegmentCache } from "./segment_cache.ts";
import { readBlock } from "./segment_reader.ts";
import { SegmentWriter } from "./segment_writer.ts";
import { SourceOpener } from "./source/opener.ts";

Deno.test("segments in use stay readable when the cache evicts them", async () => {
  const dir = await Deno.makeTempDir();
  try {
    for (let i = 0; i < 5; i++) {
      const w = new SegmentWriter(dir, `l1-${i}.loge`, { level: 1, zstdLevel: 1 });
      const b = new BlockBuilder();
      b.addString(BigInt(i), `line ${i}`);
      w.writeBlock(w.stream('{"a":"b"}'), b);
      w.finish([[i + 1, i + 1]]);
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
