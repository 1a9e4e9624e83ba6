/**
 * Log pipelines through the engine, over a real catalog with segments and
 * an in-memory head: parsers, label filters (on parsed labels and structured
 * metadata), formatters, `drop`/`keep`, in both directions, and pruning with
 * parsers (blocks whose content filter rules out an implied value are never
 * read). Expected answers are computed here from the stored lines, without
 * the engine's stages.
 */
import assert from "node:assert/strict";
import { logQuery } from "../../testing/log_query.ts";
import { MemBatch } from "../ingest/head.ts";
import { BlockBuilder } from "../storage/block_codec.ts";
import { Catalog } from "../storage/catalog.ts";
import { SegmentCache } from "../storage/segment_cache.ts";
import { SegmentWriter } from "../storage/segment_writer.ts";
import type { SourceOpener } from "../storage/source/opener.ts";
import { type LogQuery, QueryEngine } from "./engine.ts";

interface Line {
  ts: bigint;
  labels: Record<string, string>;
  line: string;
  metadata?: Record<string, string>;
  /** What the line holds, for computing expectations. */
  fields: { status: number; took: number; path: string; user: string; json: boolean };
}

const STATUSES = [200, 404, 500, 503];
/** A distinct 32-hex trace id per line (no shared prefix, so each prunes on its own). */
const TRACE = (i: number) => {
  let h = 0x811c9dc5 ^ i;
  let out = "";
  for (let k = 0; k < 4; k++) {
    h = Math.imul(h ^ (h >>> 15), 0x2c1b3c6d) ^ k;
    h = Math.imul(h ^ (h >>> 12), 0x297a2d39);
    out += (h >>> 0).toString(16).padStart(8, "0");
  }
  return out;
};

/** 400 lines over 4 streams, JSON and logfmt alternating; every 4th line has metadata. */
function corpus(): Line[] {
  const out: Line[] = [];
  for (let i = 0; i < 400; i++) {
    const labels: Record<string, string> = { app: i % 3 === 0 ? "api" : "web" };
    if (i % 2 === 0) labels.level = "info";
    const status = STATUSES[i % 4];
    const took = (i * 37) % 600;
    const path = `/p${i % 5}`;
    const user = `u${i % 3}`;
    const json = i % 2 === 0;
    const line = json
      ? JSON.stringify({
        status,
        took: `${took}ms`,
        req: { path, user },
        tags: ["a", "b"],
        ...(i % 6 === 0 ? { app: "inner" } : {}),
        trace: TRACE(i),
      })
      : `status=${status} took=${took}ms path=${path} user=${user} msg="line ${i}" trace=${
        TRACE(i)
      }`;
    out.push({
      ts: 1_000n + BigInt(Math.floor(i / 2)),
      labels,
      line,
      metadata: i % 4 === 1 ? { trace_id: `t${i % 10}` } : undefined,
      fields: { status, took, path, user, json },
    });
  }
  return out;
}

const keyOf = (labels: Record<string, string>) =>
  JSON.stringify(Object.fromEntries(Object.entries(labels).sort()));

/** Counts block reads of segment files. */
let reads = 0;

async function withEngine(fn: (engine: QueryEngine, lines: Line[]) => Promise<void>) {
  const dir = await Deno.makeTempDir({ prefix: "loge-pipeline-" });
  const catalog = await Catalog.open(dir);
  const counting = {
    async open(entry: Parameters<SourceOpener["open"]>[0]) {
      const source = await catalog.opener.open(entry);
      return {
        name: source.name,
        size: source.size,
        read(offset: number, length: number) {
          reads++;
          return source.read(offset, length);
        },
        close: () => source.close(),
      };
    },
  } as unknown as SourceOpener;
  const cache = new SegmentCache(counting);
  const lines = corpus();
  try {
    for (const [n, part] of [lines.slice(0, 150), lines.slice(150, 300)].entries()) {
      const writer = new SegmentWriter(dir, `l1-test-${n}.loge`, { level: 1, zstdLevel: 3 });
      const builder = new BlockBuilder();
      for (const [key, rows] of Map.groupBy(part, (l) => keyOf(l.labels))) {
        const id = writer.stream(key);
        for (const row of rows) {
          builder.addString(
            row.ts,
            row.line,
            row.metadata ? JSON.stringify(row.metadata) : undefined,
          );
          if (builder.count === 4) writer.writeBlock(id, builder);
        }
        if (builder.count > 0) writer.writeBlock(id, builder);
      }
      catalog.add(writer.finish([[n + 1, n + 1]]));
    }
    const head = new MemBatch();
    for (const [key, rows] of Map.groupBy(lines.slice(300), (l) => keyOf(l.labels))) {
      head.add(3, [{
        key,
        ts: rows.map((r) => r.ts),
        lines: rows.map((r) => r.line),
        metadata: rows.map((r) => (r.metadata ? JSON.stringify(r.metadata) : undefined)),
      }]);
    }
    await fn(new QueryEngine({ catalog, cache, head: () => [head], concurrency: 3 }), lines);
  } finally {
    await cache.close();
    catalog.close();
    await Deno.remove(dir, { recursive: true });
  }
}

function query(text: string, direction: "backward" | "forward", limit = 1000): LogQuery {
  return logQuery(text, { direction, limit });
}

/** The expected answer: `keep` maps a line to its output text, or undefined to drop it. */
function expected(
  lines: Line[],
  keep: (l: Line) => string | undefined,
  q: LogQuery,
): string[] {
  const later = q.direction === "backward" ? -1 : 1;
  const kept = lines.flatMap((l) => {
    const text = keep(l);
    return text === undefined ? [] : [{ ...l, line: text }];
  });
  return kept.sort((a, b) => {
    if (a.ts !== b.ts) return a.ts > b.ts ? later : -later;
    const ka = keyOf(a.labels);
    const kb = keyOf(b.labels);
    if (ka !== kb) return ka < kb ? -1 : 1;
    return a.line < b.line ? -1 : 1;
  }).slice(0, q.limit).map((l) => `${l.ts} ${keyOf(l.labels)} ${l.line}`);
}

async function answer(engine: QueryEngine, q: LogQuery): Promise<string[]> {
  const { entries, warnings } = await engine.select(q);
  assert.deepEqual(warnings, []);
  return entries.map((e) => `${e.ts} ${e.stream.key} ${e.line}`);
}

const same = (l: Line) => l.line;
const when = (test: (l: Line) => boolean) => (l: Line) => (test(l) ? l.line : undefined);

/** Queries and their answers computed from the stored fields. */
const CASES: [string, (l: Line) => string | undefined][] = [
  // A comparison passes lines that already have __error__ (the logfmt lines), as in Loki.
  ['{app=~".+"} | json | status >= 500', when((l) => !l.fields.json || l.fields.status >= 500)],
  [
    '{app=~".+"} | json | __error__="" | status >= 500',
    when((l) => l.fields.json && l.fields.status >= 500),
  ],
  [
    '{app="web"} | logfmt | user="u1"',
    when((l) => l.labels.app === "web" && !l.fields.json && l.fields.user === "u1"),
  ],
  // Extractions: a name is "" until its key is found (JSON lines have no user= pair).
  [
    '{app=~".+"} | logfmt u="user", p="path" | u="u1" | p!="/p2"',
    when((l) => !l.fields.json && l.fields.user === "u1" && l.fields.path !== "/p2"),
  ],
  ['{app=~".+"} | logfmt nope | nope=""', same],
  [
    '{app=~".+"} | logfmt | __error__="" | took > 250ms and took <= 500ms',
    when((l) => !l.fields.json && l.fields.took > 250 && l.fields.took <= 500),
  ],
  [
    '{app=~".+"} | json | (req_path="/p1" or req_path="/p2"), status == 500',
    when((l) =>
      l.fields.json && (l.fields.path === "/p1" || l.fields.path === "/p2") &&
      l.fields.status === 500
    ),
  ],
  // "and" (and ",") binds tighter than "or".
  [
    '{app=~".+"} | json | req_path="/p1" or req_path="/p2", status == 500',
    when((l) =>
      l.fields.json &&
      (l.fields.path === "/p1" || (l.fields.path === "/p2" && l.fields.status === 500))
    ),
  ],
  ['{app=~".+"} | trace_id="t5"', when((l) => l.metadata?.trace_id === "t5")],
  [
    '{app=~".+"} |= "u1" or "path=/p3"',
    when((l) => l.line.includes("u1") || l.line.includes("path=/p3")),
  ],
  [
    '{app=~".+"} | regexp "path=(?P<path>\\\\S+)" | path="/p2"',
    when((l) => !l.fields.json && l.fields.path === "/p2"),
  ],
  [
    '{app=~".+"} | pattern "status=<status> <_>" | status="404"',
    when((l) => !l.fields.json && l.fields.status === 404),
  ],
  [
    '{app=~".+"} | json | __error__="" | line_format "{{.status}} {{.req_path | ToUpper}} {{.app_extracted}}"',
    (l) =>
      l.fields.json
        ? `${l.fields.status} ${l.fields.path.toUpperCase()} ${JSON.parse(l.line).app ?? "" // missingkey=zero, as Loki
        }`
        : undefined,
  ],
  [
    '{app=~".+"} | json a="req.user" | a="u2"',
    when((l) => l.fields.json && l.fields.user === "u2"),
  ],
  ['{app=~".+"} | decolorize', same],
];

Deno.test("pipelines answer as computed by hand, in both directions, across segments and the head", () =>
  withEngine(async (engine, lines) => {
    for (const [text, keep] of CASES) {
      for (const direction of ["backward", "forward"] as const) {
        for (const limit of [7, 1000]) {
          const q = query(text, direction, limit);
          assert.deepEqual(
            await answer(engine, q),
            expected(lines, keep, q),
            `${text} ${direction}`,
          );
        }
      }
    }
  }));

Deno.test("entries carry stream labels, structured metadata and parsed labels apart", () =>
  withEngine(async (engine, lines) => {
    const q = query('{app=~".+"} | json | __error__="" | drop tags', "forward", 1000);
    const { entries } = await engine.select(q);
    const byLine = new Map(lines.map((l) => [l.line, l]));
    assert.equal(entries.length, 200);
    for (const e of entries) {
      const l = byLine.get(e.line)!;
      const obj = JSON.parse(l.line);
      assert.deepEqual(e.stream.labels, l.labels);
      assert.deepEqual(e.metadata, l.metadata);
      assert.deepEqual(e.parsed, {
        status: String(obj.status),
        took: obj.took,
        req_path: obj.req.path,
        req_user: obj.req.user,
        trace: obj.trace,
        ...(obj.app ? { app_extracted: obj.app } : {}),
      });
    }
    // keep and drop change the stream labels too; equal label sets share one stream.
    const kept = await engine.select(query('{app=~".+"} | keep app', "forward", 1000));
    assert.deepEqual(
      [...new Set(kept.entries.map((e) => e.stream.key))].sort(),
      ['{"app":"api"}', '{"app":"web"}'],
    );
    assert.ok(kept.entries.every((e) => e.metadata === undefined && e.parsed === undefined));
    const counts = await engine.countOverTime({
      ...query('{app=~".+"} | logfmt | __error__=""', "forward"),
      start: 1_000n,
      end: 1_199n,
      step: 200n,
      by: ["user"],
    });
    assert.deepEqual(
      counts.series.map((s) => [s.labels, s.counts[0][1]]),
      // logfmt (not strict) finds no pair in a JSON line, and no error: one series without user.
      [
        [{}, lines.filter((l) => l.fields.json).length],
        ...["u0", "u1", "u2"].map((user) => [
          { user },
          lines.filter((l) => !l.fields.json && l.fields.user === user).length,
        ]),
      ],
    );
  }));

Deno.test("pruning with parsers: an implied value in no block reads no block, answers unchanged", () =>
  withEngine(async (engine, lines) => {
    // Warm the segment index cache (a query that reads every file), then count block reads only.
    await engine.select(query("{}", "backward", lines.length));
    const readsOf = async (text: string) => {
      reads = 0;
      const q = query(text, "backward");
      const got = await answer(engine, q);
      return { got, reads };
    };
    const absent = await readsOf(`{app=~".+"} | json | trace="${TRACE(100004)}"`);
    assert.deepEqual(absent, { got: [], reads: 0 });
    // The same query with a rewrite first (no implied value) reads every block.
    const unpruned = await readsOf(
      `{app=~".+"} | line_format "{{__line__}}" | json | trace="${TRACE(100004)}"`,
    );
    assert.deepEqual(unpruned.got, []);
    assert.ok(unpruned.reads > 0);
    for (const i of [3, 120, 250, 399]) {
      const value = TRACE(i);
      const pruned = await readsOf(`{app=~".+"} | json | trace="${value}"`);
      const full = await readsOf(
        `{app=~".+"} | line_format "{{__line__}}" | json | trace="${value}"`,
      );
      const want = expected(
        lines,
        when((l) => l.fields.json && l.line.includes(value)),
        query("{}", "backward"),
      );
      assert.deepEqual(pruned.got, want);
      assert.deepEqual(full.got, want);
      assert.ok(pruned.reads < full.reads, `${i}: ${pruned.reads} < ${full.reads}`);
      const logfmt = await readsOf(`{app=~".+"} | logfmt | trace="${value}"`);
      assert.deepEqual(
        logfmt.got,
        expected(
          lines,
          when((l) => !l.fields.json && l.line.includes(value)),
          query("{}", "backward"),
        ),
      );
    }
    // A stream label of that name wins over the parsed one: no pruning for it.
    const level = await readsOf('{app=~".+"} | json | level="info"');
    assert.deepEqual(
      level.got,
      expected(lines, when((l) => l.labels.level === "info"), query("{}", "backward")),
    );
  }));
