/**
 * Segments for tests of files rather than of their contents.
 *
 * @module
 */

import { join } from "node:path";
import { BlockBuilder } from "../src/storage/block_codec.ts";
import { CATALOG_FILE } from "../src/storage/catalog.ts";
import type { SegmentInfo } from "../src/storage/segment_format.ts";
import { SegmentWriter } from "../src/storage/segment_writer.ts";
import type { SeqRanges } from "../src/storage/seq_ranges.ts";

/** What {@linkcode writeOneLine} writes; every field has a default. */
export interface OneLine {
  level?: number;
  ts?: bigint;
  line?: string;
  /** The stream's labels as a key (`{"app":"web"}`). */
  stream?: string;
  /** The WAL sequences the file holds. */
  seqs?: SeqRanges;
}

/**
 * Writes the segment `name` in `dir` holding a single line.
 *
 * @example
 * ```ts
 * import { writeOneLine } from "./segments.ts";
 * import assert from "node:assert/strict";
 * const dir = await Deno.makeTempDir();
 * const info = writeOneLine(dir, "l0-1.loge", { level: 0, ts: 7n });
 * assert.deepEqual([info.level, info.rows, info.minTs], [0, 1, 7n]);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export function writeOneLine(dir: string, name: string, one: OneLine = {}): SegmentInfo {
  const { level = 1, ts = 1n, line = "line", stream = '{"app":"web"}', seqs = [[1, 1]] } = one;
  const w = new SegmentWriter(dir, name, { level, zstdLevel: 1 });
  const b = new BlockBuilder();
  b.addString(ts, line);
  w.writeBlock(w.stream(stream), b);
  return w.finish(seqs);
}

/**
 * Deletes the catalog of the data folder `dir` (closed) and its SQLite WAL,
 * as a lost catalog: the next open rebuilds it from the files.
 *
 * @example
 * ```ts
 * import { loseCatalog } from "./segments.ts";
 * import { Catalog } from "../src/storage/catalog.ts";
 * const dir = await Deno.makeTempDir();
 * (await Catalog.open(dir)).close();
 * await loseCatalog(dir);
 * (await Catalog.open(dir)).close();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function loseCatalog(dir: string): Promise<void> {
  await Deno.remove(join(dir, CATALOG_FILE));
  for (const suffix of ["-wal", "-shm"]) {
    await Deno.remove(join(dir, `${CATALOG_FILE}${suffix}`)).catch(() => {});
  }
}

/**
 * Flips `count` bytes in the middle of the frame of the block at `ref` of
 * the file at `path`: a damaged block whose neighbours still read.
 *
 * @example
 * ```ts
 * import { damageFrame, writeOneLine } from "./segments.ts";
 * import { openLocalSource } from "../src/storage/source/opener.ts";
 * import { readBlock, readSegmentIndex } from "../src/storage/segment_reader.ts";
 * import assert from "node:assert/strict";
 * const dir = await Deno.makeTempDir();
 * writeOneLine(dir, "l1-1.loge", { line: "a line long enough to damage" });
 * let source = await openLocalSource(dir, "l1-1.loge");
 * const [ref] = (await readSegmentIndex(source)).blocks;
 * await source.close();
 * await damageFrame(`${dir}/l1-1.loge`, ref, 8);
 * source = await openLocalSource(dir, "l1-1.loge");
 * await assert.rejects(readBlock(source, ref));
 * await source.close();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function damageFrame(
  path: string,
  ref: { offset: number; length: number },
  count: number,
): Promise<void> {
  using file = await Deno.open(path, { read: true, write: true });
  const at = ref.offset + Math.floor((ref.length - count) / 2);
  const bytes = new Uint8Array(count);
  await file.seek(at, Deno.SeekMode.Start);
  await file.read(bytes);
  await file.seek(at, Deno.SeekMode.Start);
  await file.write(bytes.map((b) => b ^ 0xff));
}
