/**
 * Remote byte sources against a real S3 server (s3rver): block reads are
 * ranged GETs, the file's tail (footer and index) is fetched once and then
 * served from the disk cache, also by a fresh cache over the same folder (a
 * restart), and an outage is a SourceUnavailableError, never damage.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { startS3 } from "../../testing/s3.ts";
import { BlockBuilder } from "../storage/block_codec.ts";
import { readBlocks, readSegmentIndex } from "../storage/segment_reader.ts";
import { SegmentWriter } from "../storage/segment_writer.ts";
import { SourceUnavailableError } from "../storage/source/byte_source.ts";
import { openRemoteSource, remoteReadCounters } from "./remote_source.ts";
import { S3Store } from "./s3_store.ts";
import { TailCache } from "./tail_cache.ts";

/** A segment of `blocks` blocks of incompressible lines, big enough to outgrow its tail. */
function writeSegment(dir: string, name: string, blocks: number) {
  const w = new SegmentWriter(dir, name, { level: 1, zstdLevel: 1 });
  const stream = w.stream('{"app":"web"}');
  let x = 1;
  let ts = 1n;
  for (let b = 0; b < blocks; b++) {
    const builder = new BlockBuilder();
    for (let i = 0; i < 400; i++) {
      let line = `block ${b} line ${i} `;
      for (let k = 0; k < 8; k++) {
        x = Math.imul(x ^ (x >>> 13), 1597334677) + 1;
        line += (x >>> 0).toString(16);
      }
      builder.addString(ts++, line);
    }
    w.writeBlock(stream, builder);
  }
  return w.finish([[1, 1]]);
}

Deno.test("remote sources: ranged GETs for blocks, the tail once, kept across restarts, outages unavailable", async () => {
  await using s3 = await startS3();
  for (const [k, v] of Object.entries(s3.env)) Deno.env.set(k, v);
  const dir = await Deno.makeTempDir();
  using store = new S3Store({ bucket: s3.bucket, endpoint: s3.endpoint, forcePathStyle: true });
  try {
    const info = writeSegment(dir, "l1-a-00000001.loge", 30);
    await store.put("p/n/l1-a.loge", join(dir, info.name), info.bytes);
    const segment = { name: "n/l1-a.loge", location: "s3", bytes: info.bytes };
    const counters = remoteReadCounters();
    const cacheDir = join(dir, "cache");
    let tails = await TailCache.open(cacheDir, 1 << 30);
    let source = openRemoteSource(store, "p/n/l1-a.loge", segment, tails, counters);
    const index = await readSegmentIndex(source);
    assert.equal(index.blocks.length, 30);
    assert.ok(info.bytes > 4 * 64 * 1024, `${info.bytes} bytes: the tail must be a small part`);
    assert.equal(counters.gets, 1); // footer and index in one read of the tail
    assert.equal(counters.index_cache_misses, 1);
    const tailBytes = counters.bytes_fetched;

    // Two blocks far apart: two GETs of exactly their frames.
    const refs = [index.blocks[2], index.blocks[20]];
    const blocks = await readBlocks(source, refs);
    assert.equal(counters.gets, 3);
    assert.equal(counters.bytes_fetched, tailBytes + refs[0].length + refs[1].length);
    for (const [k, block] of blocks.entries()) {
      assert.ok(!(block instanceof Error));
      const first = new TextDecoder().decode(block.lines.subarray(block.starts[0], block.ends[0]));
      assert.match(first, new RegExp(`^block ${k === 0 ? 2 : 20} line 0 `));
    }

    // A restart: a new cache over the same folder serves the index without a GET.
    tails = await TailCache.open(cacheDir, 1 << 30);
    source = openRemoteSource(store, "p/n/l1-a.loge", segment, tails, counters);
    const again = await readSegmentIndex(source);
    assert.deepEqual(again.blocks.map((b) => b.offset), index.blocks.map((b) => b.offset));
    assert.equal(counters.gets, 3);
    assert.equal(counters.index_cache_hits, 1);

    // With the size of the index known (remote keys carry it), one GET of exactly it.
    const hinted = remoteReadCounters();
    const blocksEnd = Math.max(...index.blocks.map((b) => b.offset + b.length));
    const indexTail = info.bytes - blocksEnd; // the index follows the last block
    const other = { ...segment, name: "n/other.loge", tailBytes: indexTail };
    const hintedSource = openRemoteSource(store, "p/n/l1-a.loge", other, tails, hinted);
    assert.equal(hintedSource.tailHint, indexTail);
    await readSegmentIndex(hintedSource);
    assert.deepEqual([hinted.gets, hinted.bytes_fetched], [1, indexTail]);

    // S3 down: the cached index still opens; a block read is unavailable, not damaged.
    await s3.stop();
    await assert.rejects(readBlocks(source, [index.blocks[5]]), SourceUnavailableError);
    assert.equal(counters.get_errors, 1);
    await s3.restart();
    const [back] = await readBlocks(source, [index.blocks[5]]);
    assert.ok(!(back instanceof Error));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
