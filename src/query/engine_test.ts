/**
 * The engine over a real catalog in a temp folder, segments written by the
 * real writer and a head batch in memory: no server, no workers. Expected
 * answers are computed here from the lines the test stores.
 */
import assert from "node:assert/strict";
import { MemBatch } from "../ingest/head.ts";
import { BlockBuilder } from "../storage/block_codec.ts";
import { Catalog } from "../storage/catalog.ts";
import { SegmentCache } from "../storage/segment_cache.ts";
import { SegmentWriter } from "../storage/segment_writer.ts";
import type { LineFilter } from "./ast.ts";
import { type LogQuery, QueryEngine } from "./engine.ts";

interface Line {
  ts: bigint;
  labels: Record<string, string>;
  line: string;
}

const APPS = ["api", "web"];
const LEVELS = ["error", "info", ""];

/** 600 lines over 6 streams: 400 in two segments (small blocks), 200 in the head. */
function corpus(): Line[] {
  const out: Line[] = [];
  for (let i = 0; i < 600; i++) {
    const level = LEVELS[i % 3];
    const labels: Record<string, string> = { app: APPS[i % 2] };
    if (level) labels.level = level;
    // Some times repeat, so order ties matter.
    out.push({
      ts: 1_000n + BigInt(Math.floor(i / 2)),
      labels,
      line: `line ${i} ${i % 7 === 0 ? "timeout" : "ok"}`,
    });
  }
  return out;
}

const keyOf = (labels: Record<string, string>) =>
  JSON.stringify(Object.fromEntries(Object.entries(labels).sort()));

async function withEngine(fn: (engine: QueryEngine, lines: Line[]) => Promise<void>) {
  const dir = await Deno.makeTempDir({ prefix: "loge-engine-" });
  const catalog = await Catalog.open(dir);
  const cache = new SegmentCache(catalog.opener);
  const lines = corpus();
  try {
    for (const [n, part] of [lines.slice(0, 200), lines.slice(200, 400)].entries()) {
      const writer = new SegmentWriter(dir, `l1-test-${n}.loge`, { level: 1, zstdLevel: 3 });
      const byStream = Map.groupBy(part, (l) => keyOf(l.labels));
      const builder = new BlockBuilder();
      for (const [key, rows] of byStream) {
        const id = writer.stream(key);
        for (const row of rows) {
          builder.addString(row.ts, row.line);
          if (builder.count === 10) writer.writeBlock(id, builder);
        }
        if (builder.count > 0) writer.writeBlock(id, builder);
      }
      catalog.add(writer.finish([[n + 1, n + 1]]));
    }
    const head = new MemBatch();
    for (const [key, rows] of Map.groupBy(lines.slice(400), (l) => keyOf(l.labels))) {
      head.add(3, [{ key, ts: rows.map((r) => r.ts), lines: rows.map((r) => r.line) }]);
    }
    await fn(new QueryEngine({ catalog, cache, head: () => [head], concurrency: 3 }), lines);
  } finally {
    await cache.close();
    catalog.close();
    await Deno.remove(dir, { recursive: true });
  }
}

function query(overrides: Partial<LogQuery>): LogQuery {
  return {
    start: 0n,
    end: 0n,
    matchers: [],
    pushdown: [],
    pipeline: [],
    limit: 1000,
    direction: "backward",
    ...overrides,
  };
}

/** The expected answer: filter, order by time in the direction, then labels, then line. */
function expected(lines: Line[], keep: (l: Line) => boolean, q: LogQuery): string[] {
  const later = q.direction === "backward" ? -1 : 1;
  return lines.filter(keep).sort((a, b) => {
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

const timeout: LineFilter = { kind: "line_filter", op: "|=", value: "timeout" };

Deno.test("select answers in both directions, across segments and the head, at every limit", () =>
  withEngine(async (engine, lines) => {
    for (const direction of ["backward", "forward"] as const) {
      for (const limit of [1, 7, 150, 1000]) {
        const q = query({ direction, limit });
        assert.deepEqual(
          await answer(engine, q),
          expected(lines, () => true, q),
          `${direction} ${limit}`,
        );
      }
      const web = query({
        direction,
        limit: 50,
        matchers: [{ name: "app", op: "=", value: "web" }],
      });
      assert.deepEqual(
        await answer(engine, web),
        expected(lines, (l) => l.labels.app === "web", web),
      );
      const window = query({ direction, start: 1_100n, end: 1_120n });
      assert.deepEqual(
        await answer(engine, window),
        expected(lines, (l) => l.ts >= 1_100n && l.ts <= 1_120n, window),
      );
    }
  }));

Deno.test("a line filter gives the same answer pushed down or run in the pipeline", () =>
  withEngine(async (engine, lines) => {
    for (const direction of ["backward", "forward"] as const) {
      const pushed = query({ direction, limit: 40, pushdown: [timeout] });
      const piped = query({ direction, limit: 40, pipeline: [timeout] });
      const want = expected(lines, (l) => l.line.includes("timeout"), pushed);
      assert.deepEqual(await answer(engine, pushed), want);
      assert.deepEqual(await answer(engine, piped), want);
    }
  }));

Deno.test("count over time by level: block counts, scans and the head agree with a count by hand", () =>
  withEngine(async (engine, lines) => {
    const start = 1_000n;
    const end = 1_299n;
    const step = 50n;
    const byHand = (keep: (l: Line) => boolean) => {
      const series = new Map<string, number[]>();
      for (const l of lines.filter(keep)) {
        const level = l.labels.level ?? "";
        if (!series.has(level)) series.set(level, new Array(6).fill(0));
        series.get(level)![Number((l.ts - start) / step)]++;
      }
      return [...series].sort(([a], [b]) => (a < b ? -1 : 1)).map(([level, counts]) => ({
        labels: level ? { level } : {},
        counts: counts.map((n, i): [bigint, number] => [start + BigInt(i) * step, n]),
      }));
    };
    const base = { start, end, step, matchers: [], pushdown: [], pipeline: [], by: ["level"] };
    const all = await engine.countOverTime(base);
    assert.deepEqual(all.series, byHand(() => true));
    // A filter every line passes forces a scan of every block: same counts.
    const never: LineFilter = { kind: "line_filter", op: "!=", value: "never in any line" };
    assert.deepEqual(
      (await engine.countOverTime({ ...base, pushdown: [never] })).series,
      all.series,
    );
    assert.deepEqual(
      (await engine.countOverTime({ ...base, pipeline: [timeout] })).series,
      byHand((l) => l.line.includes("timeout")),
    );
  }));

Deno.test("label names and values come from the streams with lines in the window", () =>
  withEngine(async (engine, lines) => {
    assert.deepEqual(await engine.labels(0n, 0n), ["app", "level"]);
    assert.deepEqual(await engine.labelValues("level", 0n, 0n), ["error", "info"]);
    const late = lines.filter((l) => l.ts >= 1_299n);
    assert.deepEqual(
      await engine.labelValues("app", 1_299n, 0n),
      [...new Set(late.map((l) => l.labels.app))].sort(),
    );
    assert.deepEqual(engine.span(), { min: 1_000n, max: 1_299n });
  }));
