/**
 * Segment files of every format version this build claims to read, as
 * written by the build of their day: `testdata/segments/v<N>/` holds one file
 * and `expected.json`, the lines its generator fed to the writer. A change
 * that makes an old file read differently fails here; a new version gets a
 * fixture of its own, and the old ones stay.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import type { Block } from "./block_codec.ts";
import { filterHasAll, termsOf } from "./content_filter.ts";
import {
  FOOTER_SIZE,
  READABLE_VERSIONS,
  SEGMENT_VERSION,
  SegmentFormatError,
} from "./segment_format.ts";
import { readBlock, readBlocks, readSegmentIndex } from "./segment_reader.ts";
import { openFileSource } from "./source/file.ts";
import { lineMatcher, scanBlock } from "../query/line_scan.ts";

const FIXTURES = join(import.meta.dirname!, "../../testdata/segments");

interface Expected {
  file: string;
  formatVersion: number;
  level: number;
  minTs: string;
  maxTs: string;
  rows: number;
  seqs: [number, number][];
  filtersCoverMetadata: boolean;
  streams: {
    labels: Record<string, string>;
    blockLines: number[];
    lines: { ts: string; line: string; metadata: Record<string, string> | null }[];
  }[];
}

async function loadExpected(version: number): Promise<Expected> {
  return JSON.parse(await Deno.readTextFile(join(FIXTURES, `v${version}`, "expected.json")));
}

const utf8 = new TextDecoder();

/** Line `i`'s metadata JSON as the query path decodes it (`scan.ts`): none when empty. */
function metadataOf(block: Block, i: number): string | undefined {
  const ends = block.metadataEnds;
  if (!ends) return undefined;
  const start = i === 0 ? 0 : ends[i - 1];
  return ends[i] > start ? utf8.decode(block.metadata!.subarray(start, ends[i])) : undefined;
}

/** Every line of `block` as the query path decodes it (`line_scan.ts`), with its time and metadata. */
function linesOf(block: Block) {
  const out: { ts: string; line: string; metadata: string | undefined }[] = [];
  scanBlock(block, 0, block.ts.length, lineMatcher([]), (i, line) => {
    out.push({ ts: String(block.ts[i]), line, metadata: metadataOf(block, i) });
  });
  return out;
}

for (const version of READABLE_VERSIONS) {
  Deno.test(`the v${version} segment fixture reads as it was written`, async () => {
    await readsAsWritten(version);
  });
}

async function readsAsWritten(version: number): Promise<void> {
  const expected = await loadExpected(version);
  assert.equal(expected.formatVersion, version);
  const source = await openFileSource(join(FIXTURES, `v${version}`, expected.file));
  try {
    const index = await readSegmentIndex(source);
    assert.equal(index.level, expected.level);
    assert.equal(index.minTs, BigInt(expected.minTs));
    assert.equal(index.maxTs, BigInt(expected.maxTs));
    assert.equal(index.rows, expected.rows);
    assert.deepEqual(index.seqs, expected.seqs);
    assert.equal(index.filtersCoverMetadata, expected.filtersCoverMetadata);
    // Canonical label JSON, byte for byte: the catalog and queries match on it.
    assert.deepEqual(index.streams, expected.streams.map((s) => JSON.stringify(s.labels)));

    // Blocks grouped by stream, in time order, of the sizes the generator cut.
    assert.deepEqual(
      index.blocks.map((b) => [b.stream, b.count]),
      expected.streams.flatMap((s, id) => s.blockLines.map((n) => [id, n])),
    );

    const blocks = await readBlocks(source, index.blocks);
    let rows = 0;
    for (const [id, stream] of expected.streams.entries()) {
      const got: ReturnType<typeof linesOf> = [];
      for (const [k, ref] of index.blocks.entries()) {
        if (ref.stream !== id) continue;
        const block = blocks[k];
        if (block instanceof SegmentFormatError) throw block;
        // One block alone reads the same as within a coalesced read.
        assert.deepEqual(await readBlock(source, ref), block);
        const lines = linesOf(block);
        assert.equal(lines.length, ref.count);
        assert.equal(block.ts[0], ref.minTs);
        assert.equal(block.ts[block.ts.length - 1], ref.maxTs);
        for (const { line, metadata } of lines) {
          // The block filter holds what a query for any of its terms looks up.
          for (const text of [line, ...Object.values(JSON.parse(metadata ?? "{}"))]) {
            assert.ok(filterHasAll(ref.filter, termsOf(text as string)), `terms of ${text}`);
          }
        }
        got.push(...lines);
      }
      rows += got.length;
      assert.deepEqual(
        got,
        stream.lines.map(({ ts, line, metadata }) => ({
          ts,
          line,
          metadata: metadata === null ? undefined : JSON.stringify(metadata),
        })),
        `lines of ${index.streams[id]}`,
      );
    }
    assert.equal(rows, expected.rows);

    // The filters are not all ones: a term in no line is ruled out somewhere.
    const absent = termsOf(" d0e5n07-exist-anywhere ");
    assert.ok(absent.length > 0);
    assert.ok(index.blocks.some((b) => !filterHasAll(b.filter, absent)));
  } finally {
    await source.close();
  }
}

Deno.test("a segment of an unknown format version is refused, naming the version", async () => {
  const expected = await loadExpected(1);
  const bytes = await Deno.readFile(join(FIXTURES, "v1", expected.file));
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  // Where the version fields are (header and footer), they say 1; the copy
  // says the first version after this build's.
  const future = SEGMENT_VERSION + 1;
  assert.equal(view.getUint32(4, true), 1);
  assert.equal(view.getUint32(bytes.length - FOOTER_SIZE + 16, true), 1);
  view.setUint32(4, future, true);
  view.setUint32(bytes.length - FOOTER_SIZE + 16, future, true);
  const dir = await Deno.makeTempDir();
  try {
    const path = join(dir, expected.file);
    await Deno.writeFile(path, bytes);
    const source = await openFileSource(path);
    try {
      await assert.rejects(
        () => readSegmentIndex(source),
        (error) => {
          assert.ok(error instanceof SegmentFormatError, String(error));
          assert.equal(error.file, path);
          assert.match(error.reason, new RegExp(`^format version ${future} is not supported `));
          return true;
        },
      );
    } finally {
      await source.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
