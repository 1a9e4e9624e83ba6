/**
 * Reads every stored line of a (stopped) server's data folder through the
 * storage reader: catalog, segment index, blocks.
 *
 * @module
 */

import { Catalog, type CatalogEntry } from "../src/storage/catalog.ts";
import type { LocationReader } from "../src/storage/source/opener.ts";
import { readBlock, readSegmentIndex } from "../src/storage/segment_reader.ts";

/** One stored line. */
export interface StoredLine {
  ts: bigint;
  labels: string;
  line: string;
  metadata?: string;
}

/** Every line in the files of `catalog`. */
export async function catalogLines(catalog: Catalog): Promise<StoredLine[]> {
  const out: StoredLine[] = [];
  for (const entry of catalog.entries()) out.push(...await entryLines(catalog, entry));
  return out;
}

/** Every line in the file of `entry`, a row of `catalog`. */
export async function entryLines(catalog: Catalog, entry: CatalogEntry): Promise<StoredLine[]> {
  const out: StoredLine[] = [];
  const dec = new TextDecoder();
  const source = await catalog.opener.open(entry);
  try {
    const index = await readSegmentIndex(source);
    for (const ref of index.blocks) {
      const block = await readBlock(source, ref);
      let metaStart = 0;
      for (let i = 0; i < block.ts.length; i++) {
        const line: StoredLine = {
          ts: block.ts[i],
          labels: index.streams[ref.stream],
          line: dec.decode(block.lines.subarray(block.starts[i], block.ends[i])),
        };
        if (block.metadataEnds && block.metadataEnds[i] > metaStart) {
          line.metadata = dec.decode(block.metadata!.subarray(metaStart, block.metadataEnds[i]));
        }
        metaStart = block.metadataEnds?.[i] ?? 0;
        out.push(line);
      }
    }
  } finally {
    await source.close();
  }
  return out;
}

/**
 * Every line in the cataloged files of `dir` (a stopped server's data
 * folder); files of other locations are opened with `readers`.
 */
export async function storedLines(
  dir: string,
  readers: Record<string, LocationReader> = {},
): Promise<StoredLine[]> {
  const catalog = await Catalog.open(dir);
  for (const [location, reader] of Object.entries(readers)) {
    catalog.opener.register(location, reader);
  }
  try {
    return await catalogLines(catalog);
  } finally {
    catalog.close();
  }
}
