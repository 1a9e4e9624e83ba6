import assert from "node:assert/strict";
import { join } from "node:path";
import { BlockBuilder } from "./block_codec.ts";
import { openFileSource } from "./source/file.ts";
import { filterHasAll, termsOf } from "./content_filter.ts";
import { SegmentFormatError } from "./segment_format.ts";
import { readBlock, readSegmentIndex } from "./segment_reader.ts";
import { SegmentWriter } from "./segment_writer.ts";

function writeSample(dir: string) {
  const w = new SegmentWriter(dir, "l0-1.loge", { level: 1, zstdLevel: 3 });
  const b = new BlockBuilder();
  for (let i = 0; i < 100; i++) {
    b.addString(1_000n + BigInt(i), `web line ${i} trace=${"f".repeat(28)}${i + 1000}`);
  }
  w.writeBlock(w.stream('{"app":"web"}'), b);
  b.addString(5n, "api line");
  w.writeBlock(w.stream('{"app":"api"}'), b);
  return w.finish([[1, 3], [7, 7]]);
}

Deno.test("a segment round-trips its index and blocks", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const info = writeSample(dir);
    assert.equal(info.rows, 101);
    assert.equal(info.minTs, 5n);
    assert.equal(info.maxTs, 1_099n);
    assert.deepEqual(info.streams, ['{"app":"web"}', '{"app":"api"}']);
    assert.deepEqual((await Array.fromAsync(Deno.readDir(dir))).map((e) => e.name), ["l0-1.loge"]);
    const src = await openFileSource(join(dir, "l0-1.loge"));
    try {
      assert.equal(src.size, info.bytes);
      const index = await readSegmentIndex(src);
      assert.deepEqual(index.seqs, [[1, 3], [7, 7]]);
      assert.equal(index.blocks.length, 2);
      assert.ok(filterHasAll(info.filter, termsOf(`${"f".repeat(28)}1042`)));
      assert.ok(filterHasAll(index.blocks[0].filter, termsOf(`${"f".repeat(28)}1042`)));
      assert.ok(!filterHasAll(index.blocks[1].filter, termsOf(`${"f".repeat(28)}1042`)));
      const block = await readBlock(src, index.blocks[1]);
      assert.equal(
        new TextDecoder().decode(block.lines.subarray(block.starts[0], block.ends[0])),
        "api line",
      );
      assert.equal((await readBlock(src, index.blocks[0])).ts[99], 1_099n);
    } finally {
      await src.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a torn or foreign file is refused with a clear error", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const info = writeSample(dir);
    const path = join(dir, info.name);
    const bytes = await Deno.readFile(path);
    await Deno.writeFile(path, bytes.subarray(0, bytes.length - 5));
    const torn = await openFileSource(path);
    await assert.rejects(() => readSegmentIndex(torn), SegmentFormatError);
    await torn.close();
    bytes[bytes.length - 8] = 9;
    await Deno.writeFile(path, bytes);
    const future = await openFileSource(path);
    await assert.rejects(() => readSegmentIndex(future), /format version 9 is not supported/);
    await future.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
