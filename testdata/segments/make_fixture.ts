/**
 * Writes the segment fixture of this build's format version,
 * `testdata/segments/v<N>/`, with the current {@linkcode SegmentWriter}, and
 * `expected.json` beside it: what the file holds, computed here from the lines
 * fed to the writer, never read back. Run once per format version, from
 * anywhere in the repository:
 *
 * ```sh
 * deno run -A testdata/segments/make_fixture.ts [--force]
 * ```
 *
 * (`v1/` was made by this script's first form, `make_v1.ts`, at commit
 * d86795c; the data below has grown since: a gap that escapes a Rice code and
 * one too long for a Rice code, which format version 2 stores differently;
 * then UUIDs, request ids and a 0x01 byte in lines, which version 3 codes;
 * then times written in lines, which version 4 codes.)
 *
 * It refuses to overwrite an existing fixture without `--force`: the point of
 * the fixture is that it is written once, by the build of its day, and read by
 * every later build (`src/storage/segment_compat_test.ts`).
 *
 * @module
 */

import { join } from "node:path";
import { BlockBuilder } from "../../src/storage/block_codec.ts";
import { SEGMENT_VERSION } from "../../src/storage/segment_format.ts";
import { SegmentWriter } from "../../src/storage/segment_writer.ts";

const DIR = join(import.meta.dirname!, `v${SEGMENT_VERSION}`);
const FILE = "l1-fixture-00000001.loge";
const EXPECTED = "expected.json";
/** Small blocks, so a few lines make several blocks per stream. */
const BLOCK_BYTES = 640;
/** The level compaction uses for a small backlog. */
const ZSTD_LEVEL = 19;
const SEQS: [number, number][] = [[1, 4], [7, 9]];
/** 2026-11-30T08:00:00Z in unix nanoseconds. */
const BASE = 1_796_025_600_000_000_000n;

interface Line {
  ts: bigint;
  line: string;
  metadata?: Record<string, string>;
}

/** Deterministic pseudo-random numbers (xorshift32), so a rerun makes the same data. */
let state = 0x10ce5eed;
function next(): number {
  state ^= state << 13;
  state ^= state >>> 17;
  state ^= state << 5;
  return state >>> 0;
}
const hex = (bytes: number) =>
  Array.from({ length: bytes }, () => (next() & 0xff).toString(16).padStart(2, "0")).join("");

/** Timestamps from `BASE + start` ns, `count` of them, steps of up to ~0.4 s, some equal. */
function times(start: bigint, count: number): bigint[] {
  const out: bigint[] = [];
  let t = BASE + start;
  for (let i = 0; i < count; i++) {
    out.push(t);
    // Every seventh step is 0: equal timestamps must keep their order.
    t += i % 7 === 6 ? 0n : BigInt(next() % 400_000_000) + 1n;
  }
  return out;
}

function apiLines(): Line[] {
  const paths = ["/api/v1/users", "/api/v1/orders", "/api/v1/search?q=caf%C3%A9", "/healthz"];
  return times(123_456_789n, 18).map((ts, i) => {
    const status = [200, 200, 201, 404, 503][i % 5];
    const line = JSON.stringify({
      // The line's own time, as a JSON logger writes it (to the millisecond).
      time: new Date(Number(ts / 1_000_000n)).toISOString(),
      level: status >= 500 ? "error" : "info",
      method: i % 3 === 0 ? "POST" : "GET",
      path: paths[i % paths.length],
      status,
      duration_ms: (next() % 5000) / 10,
    });
    // Structured metadata on most lines, none on every fourth.
    if (i % 4 === 3) return { ts, line };
    const metadata: Record<string, string> = { trace_id: hex(16), span_id: hex(8) };
    if (i % 5 === 1) metadata.user = ["zoë", "renée", "José", "田中"][i % 4];
    return { ts, line, metadata };
  });
}

function webLines(): Line[] {
  const messages = [
    'rendered page=accueil lang=fr title="Café crème & pâtisserie"',
    'rendered page=home lang=ja title="東京の天気 ☀️"',
    'rendered page=cart lang=de title="Übersicht für Jürgen"',
    'client error msg="emoji in input 🦊🚀👩🏽‍💻" code=E_INPUT',
    'rendered page=about lang=ru title="О компании"',
    'rendered page=help lang=ar title="مساعدة"',
    "asset=/static/app.js bytes=48213 cache=hit",
    'combining="e\u0301 vs \u00e9" nfc=false',
    "session=46e2574b-588a-4d54-a925-da7668a257c4 resumed ctl=\u0001",
  ];
  return times(987_654_321n, 16).map((ts, i) => ({
    // An hour's silence after line 10: a delta far above the block's others.
    ts: i > 10 ? ts + 3_600_000_000_000n : ts,
    line: `${messages[i % messages.length]} request_id=${hex(10)}`,
  }));
}

function workerLines(): Line[] {
  const out: Line[] = times(2_000_000_001n, 12).map((ts, i) => ({
    ts,
    line: `job=reindex-${i} state=${i % 3 === 2 ? "failed" : "done"} shard=${hex(6)}`,
  }));
  // A multi-line stack trace, a tab, and an empty line: the block then keeps a
  // line-length column instead of newline terminators.
  out[5].line = "panic: index out of range [3] with length 3\n\ngoroutine 17 [running]:\n" +
    "main.reindex(0xc000012345)\n\t/src/worker/reindex.go:42 +0x1d";
  out[5].metadata = { trace_id: hex(16), pod: "worker-7f9c-ümlaut" };
  // A time in the block that keeps a length column: left as written.
  out[0].line = `2026-11-30 08:00:02,000 ${out[0].line}`;
  out[8].line = "";
  out[9].line = "\ttab-indented continuation with trailing space ";
  return out;
}

function cronLines(): Line[] {
  // Three lines, two of them at the same nanosecond, and one 200 days later
  // (a delta over 2^53 ns).
  const ts = BASE + 3_500_000_000n;
  return [
    { ts, line: 'cron tick schedule="*/5 * * * *" job=cleanup' },
    // A time in the common log format, an hour ahead of the line's, in a zone
    // of its own; and one that is no date.
    { ts, line: 'cron tick schedule="0 * * * *" job=rollup at=30/Nov/2026:10:00:03 +0100' },
    { ts: ts + 1n, line: "cron done jobs=2 ✓ next=2026-02-30T00:00:00Z" },
    { ts: ts + 200n * 86_400_000_000_000n, line: "cron tick schedule=yearly job=archive" },
  ];
}

/** Canonical label JSON as loge stores it: names sorted, no empty values. */
function labelKey(labels: Record<string, string>): string {
  return JSON.stringify(
    Object.fromEntries(Object.entries(labels).sort(([a], [b]) => a < b ? -1 : 1)),
  );
}

const streams = ([
  { labels: { app: "api", env: "prod", level: "info" }, lines: apiLines() },
  { labels: { region: "eu-west-1", app: "web", env: "prod" }, lines: webLines() },
  { labels: { app: "worker", env: "staging", team: "données-ü" }, lines: workerLines() },
  { labels: { app: "cron", env: "prod" }, lines: cronLines() },
] as { labels: Record<string, string>; lines: Line[] }[]).map((s) => ({
  key: labelKey(s.labels),
  lines: s.lines,
}))
  // Compaction writes streams in order of their label JSON.
  .sort((a, b) => a.key < b.key ? -1 : 1);

const force = Deno.args.includes("--force");
await Deno.mkdir(DIR, { recursive: true });
for (const name of [FILE, EXPECTED]) {
  try {
    await Deno.lstat(join(DIR, name));
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) continue;
    throw error;
  }
  if (!force) {
    console.error(
      `${join(DIR, name)} exists; the fixture is written once (use --force to replace it)`,
    );
    Deno.exit(1);
  }
  await Deno.remove(join(DIR, name));
}

const writer = new SegmentWriter(DIR, FILE, { level: 1, zstdLevel: ZSTD_LEVEL });
/** As compaction builds blocks. */
const builder = new BlockBuilder({ codeLines: true });
const expectedStreams = [];
let rows = 0;
let minTs = streams[0].lines[0].ts;
let maxTs = minTs;
for (const { key, lines } of streams) {
  const id = writer.stream(key);
  const blockLines: number[] = [];
  for (const { ts, line, metadata } of lines) {
    builder.addString(ts, line, metadata && JSON.stringify(metadata));
    if (builder.size >= BLOCK_BYTES) {
      blockLines.push(builder.count);
      writer.writeBlock(id, builder);
    }
    if (ts < minTs) minTs = ts;
    if (ts > maxTs) maxTs = ts;
  }
  if (builder.count > 0) {
    blockLines.push(builder.count);
    writer.writeBlock(id, builder);
  }
  rows += lines.length;
  expectedStreams.push({
    labels: JSON.parse(key),
    blockLines,
    lines: lines.map(({ ts, line, metadata }) => ({
      ts: String(ts),
      line,
      metadata: metadata ?? null,
    })),
  });
}
const info = writer.finish(SEQS);

const git = (...args: string[]) =>
  new TextDecoder().decode(new Deno.Command("git", { args, stderr: "null" }).outputSync().stdout)
    .trim();
const expected = {
  file: FILE,
  formatVersion: SEGMENT_VERSION,
  writtenBy: { commit: git("rev-parse", "HEAD"), deno: Deno.version.deno },
  level: 1,
  minTs: String(minTs),
  maxTs: String(maxTs),
  rows,
  seqs: SEQS,
  filtersCoverMetadata: true,
  streams: expectedStreams,
};
await Deno.writeTextFile(join(DIR, EXPECTED), JSON.stringify(expected, null, 2) + "\n");
console.log(`wrote ${join(DIR, FILE)} (${info.bytes} bytes, ${rows} lines) and ${EXPECTED}`);
