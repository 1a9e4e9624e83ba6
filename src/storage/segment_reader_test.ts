import assert from "node:assert/strict";
import { BlockBuilder } from "./block_codec.ts";
import { SegmentFormatError } from "./segment_format.ts";
import {
  INDEX_TAIL_BYTES,
  readBlock,
  readBlocks,
  readIndexBytes,
  readSegmentIndex,
} from "./segment_reader.ts";
import { SegmentWriter } from "./segment_writer.ts";
import type { ByteSource } from "./source/byte_source.ts";
import { openLocalSource } from "./source/opener.ts";

/** A real file source that records every read: the round trips a remote source would pay. */
async function counted(dir: string, name: string) {
  const source = await openLocalSource(dir, name);
  const reads: [number, number][] = [];
  const wrapper: ByteSource = {
    name: source.name,
    size: source.size,
    read(offset, length) {
      reads.push([offset, length]);
      return source.read(offset, length);
    },
    close: () => source.close(),
  };
  return { source: wrapper, reads };
}

/** A segment of `streams` streams of `blocks` blocks, each of 20 lines; random labels when `noisy`. */
function writeSegment(dir: string, name: string, streams: number, blocks: number, noisy = false) {
  const w = new SegmentWriter(dir, name, { level: 1, zstdLevel: 3 });
  const b = new BlockBuilder();
  const hex = (n: number) =>
    Array.from(crypto.getRandomValues(new Uint8Array(n)), (x) => x.toString(16).padStart(2, "0"))
      .join("");
  for (let s = 0; s < streams; s++) {
    const id = w.stream(JSON.stringify({ app: `a${s}`, ...(noisy ? { id: hex(24) } : {}) }));
    for (let k = 0; k < blocks; k++) {
      for (let i = 0; i < 20; i++) {
        const ts = BigInt(k * 100 + i);
        b.addString(ts, `stream ${s} block ${k} line ${i} ${hex(8)}`);
      }
      w.writeBlock(id, b);
    }
  }
  return w.finish([[1, 1]]);
}

Deno.test("the index of a segment costs one read, two when it outgrows the tail read", async () => {
  const dir = await Deno.makeTempDir();
  try {
    writeSegment(dir, "l1-small.loge", 3, 4);
    writeSegment(dir, "l1-big.loge", 3000, 1, true);
    const small = await counted(dir, "l1-small.loge");
    const big = await counted(dir, "l1-big.loge");
    try {
      const index = await readSegmentIndex(small.source);
      assert.equal(index.blocks.length, 12);
      assert.equal(small.reads.length, 1);

      const bigIndex = await readSegmentIndex(big.source);
      assert.equal(bigIndex.streams.length, 3000);
      assert.equal(big.reads.length, 2);
      big.reads.length = 0;
      const compressed = await readIndexBytes(big.source);
      assert.ok(compressed.length > INDEX_TAIL_BYTES, `index of ${compressed.length} bytes`);
      assert.equal(big.reads.length, 2);
      // The second read fetches only what the tail missed.
      const [[tailAt, tailLength], [indexAt, missed]] = big.reads;
      assert.equal(tailAt + tailLength, big.source.size);
      assert.equal(indexAt + missed, tailAt);

      // A file smaller than the tail read is read whole, once.
      small.reads.length = 0;
      await readIndexBytes(small.source);
      assert.deepEqual(small.reads, [[0, small.source.size]]);
    } finally {
      await small.source.close();
      await big.source.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a damaged index is still refused after the tail read", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const info = writeSegment(dir, "l1-1.loge", 2, 2);
    const path = `${dir}/${info.name}`;
    const bytes = await Deno.readFile(path);
    const { source } = await counted(dir, info.name);
    const index = await readSegmentIndex(source);
    await source.close();
    const last = index.blocks.at(-1)!;
    // Flip a byte of the index (which follows the last block).
    bytes[last.offset + last.length + 3] ^= 0xff;
    await Deno.writeFile(path, bytes);
    const damaged = await counted(dir, info.name);
    await assert.rejects(() => readSegmentIndex(damaged.source), /index checksum mismatch/);
    await damaged.source.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("adjacent blocks are read in one call and decode as readBlock decodes them", async () => {
  const dir = await Deno.makeTempDir();
  try {
    writeSegment(dir, "l1-1.loge", 4, 5);
    const { source, reads } = await counted(dir, "l1-1.loge");
    try {
      const index = await readSegmentIndex(source);
      const refs = index.blocks;
      assert.equal(refs.length, 20);
      // Out of file order on purpose: results come back in the order asked.
      const asked = [...refs].reverse();
      reads.length = 0;
      const blocks = await readBlocks(source, asked);
      assert.equal(reads.length, 1);
      const first = refs[0].offset;
      const last = refs.at(-1)!;
      assert.deepEqual(reads[0], [first, last.offset + last.length - first]);
      for (const [i, ref] of asked.entries()) {
        assert.deepEqual(blocks[i], await readBlock(source, ref));
      }

      // A gap wider than the coalescing gap splits the run; empty asks read nothing.
      reads.length = 0;
      assert.deepEqual(await readBlocks(source, []), []);
      const far = { ...refs[19], offset: refs[19].offset + 10 * 1024 };
      const split = await readBlocks(source, [refs[0], refs[1], far]);
      assert.equal(reads.length, 2);
      assert.ok(split[0] instanceof Object && !(split[0] instanceof SegmentFormatError));
      assert.ok(split[2] instanceof SegmentFormatError);
    } finally {
      await source.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a damaged block in a coalesced read fails alone, as readBlock fails it", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const info = writeSegment(dir, "l1-1.loge", 2, 3);
    const path = `${dir}/${info.name}`;
    let { source } = await counted(dir, info.name);
    const index = await readSegmentIndex(source);
    await source.close();
    const bad = index.blocks[2];
    const bytes = await Deno.readFile(path);
    for (let i = 0; i < 8; i++) bytes[bad.offset + Math.floor(bad.length / 2) + i] ^= 0xff;
    await Deno.writeFile(path, bytes);
    const damaged = await counted(dir, info.name);
    source = damaged.source;
    try {
      const blocks = await readBlocks(source, index.blocks);
      assert.equal(damaged.reads.length, 1);
      for (const [i, ref] of index.blocks.entries()) {
        if (i === 2) {
          const error = await readBlock(source, ref).catch((e) => e);
          assert.ok(error instanceof SegmentFormatError);
          assert.ok(blocks[i] instanceof SegmentFormatError);
          assert.equal((blocks[i] as SegmentFormatError).message, error.message);
        } else {
          assert.deepEqual(blocks[i], await readBlock(source, ref));
        }
      }
    } finally {
      await source.close();
    }
    // A file cut short: the blocks before the cut still read, those after fail.
    await Deno.writeFile(path, bytes.subarray(0, bad.offset + 4));
    const torn = await counted(dir, info.name);
    try {
      const blocks = await readBlocks(torn.source, index.blocks);
      assert.deepEqual(blocks.map((b) => b instanceof SegmentFormatError), [
        false,
        false,
        true,
        true,
        true,
        true,
      ]);
    } finally {
      await torn.source.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a block is read into the room its index gives, and refused when its frame gives more", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const info = writeSegment(dir, "l1-1.loge", 1, 2);
    const source = await openLocalSource(dir, info.name);
    try {
      const [first, second] = (await readSegmentIndex(source)).blocks;
      const block = await readBlock(source, first);
      assert.equal(block.ts.length, 20);
      // An index that says less than the frame holds (damaged, or of another file).
      const short = { ...second, rawLength: second.rawLength - 1 };
      const error = await readBlock(source, short).catch((e) => e);
      assert.ok(error instanceof SegmentFormatError, String(error));
      const [read] = await readBlocks(source, [short]);
      assert.ok(read instanceof SegmentFormatError);
      assert.equal(read.message, error.message);
    } finally {
      await source.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
