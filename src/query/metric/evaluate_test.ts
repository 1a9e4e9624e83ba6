/**
 * Metric queries through the engine over a real catalog in a temp folder:
 * segments written by the real writer (small blocks, so that some lie
 * inside one step and others across steps) and a head batch in memory. The
 * expected values are computed here from the stored lines, by brute force:
 * for every step, the lines of its window.
 */
import assert from "node:assert/strict";
import { MemBatch } from "../../ingest/head.ts";
import { BlockBuilder } from "../../storage/block_codec.ts";
import { Catalog } from "../../storage/catalog.ts";
import { SegmentCache } from "../../storage/segment_cache.ts";
import { SegmentWriter } from "../../storage/segment_writer.ts";
import type { SourceOpener } from "../../storage/source/opener.ts";
import { QueryEngine } from "../engine.ts";
import { MetricQueryError, type Series } from "./series.ts";
import { parseMetricQuery } from "./parse.ts";

const S = 1_000_000_000n;
const T0 = 1_700_000_000n * S;

interface Line {
  ts: bigint;
  labels: Record<string, string>;
  line: string;
  metadata?: Record<string, string>;
  took: number;
  user: string;
}

const STREAMS: Record<string, string>[] = [
  { app: "web", level: "info" },
  { app: "web", level: "error" },
  { app: "api", level: "info" },
  { app: "api" },
];

/** 1200 lines over 4 streams and 40 minutes; every 5th has metadata, every 7th says timeout. */
function corpus(): Line[] {
  const out: Line[] = [];
  for (let i = 0; i < 1200; i++) {
    const took = (i * 37) % 500;
    const user = `u${i % 3}`;
    out.push({
      ts: T0 + BigInt(i * 2) * S + BigInt((i * 7919) % 1000) * 1_000_000n,
      labels: STREAMS[i % 4],
      line: `took=${took}ms user=${user} ${i % 7 === 0 ? "timeout" : "ok"} é${i}`,
      ...(i % 5 === 0 ? { metadata: { detected_level: i % 2 ? "warn" : "debug" } } : {}),
      took,
      user,
    });
  }
  return out;
}

const keyOf = (labels: Record<string, string>) =>
  JSON.stringify(Object.fromEntries(Object.entries(labels).sort()));

/** Counts reads of segment files (index and blocks). */
let reads = 0;

async function withEngine(fn: (engine: QueryEngine, lines: Line[]) => Promise<void>) {
  const dir = await Deno.makeTempDir({ prefix: "loge-metric-" });
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
    for (const [n, part] of [lines.slice(0, 500), lines.slice(500, 1000)].entries()) {
      const writer = new SegmentWriter(dir, `l1-test-${n}.loge`, { level: 1, zstdLevel: 3 });
      const builder = new BlockBuilder();
      for (const [key, rows] of Map.groupBy(part, (l) => keyOf(l.labels))) {
        const id = writer.stream(key);
        for (const row of rows) {
          builder.addString(row.ts, row.line, row.metadata && JSON.stringify(row.metadata));
          if (builder.count === 8) writer.writeBlock(id, builder);
        }
        if (builder.count > 0) writer.writeBlock(id, builder);
      }
      catalog.add(writer.finish([[n + 1, n + 1]]));
    }
    const head = new MemBatch();
    for (const [key, rows] of Map.groupBy(lines.slice(1000), (l) => keyOf(l.labels))) {
      head.add(3, [{
        key,
        ts: rows.map((r) => r.ts),
        lines: rows.map((r) => r.line),
        metadata: rows.map((r) => r.metadata && JSON.stringify(r.metadata)),
      }]);
    }
    await fn(new QueryEngine({ catalog, cache, head: () => [head], concurrency: 3 }), lines);
  } finally {
    await cache.close();
    catalog.close();
    await Deno.remove(dir, { recursive: true });
  }
}

/** A range query's answer as `{labels key: values by step}` (undefined: no value). */
type Answer = Record<string, (number | undefined)[]>;

function answerOf(series: Series[]): Answer {
  const out: Answer = {};
  for (const s of series) {
    out[keyOf(s.labels)] = Array.from(s.values, (v, k) => (s.present[k] ? v : undefined));
  }
  return out;
}

/**
 * By brute force: for each step time t, the samples of the lines in
 * `(t - offset - range, t - offset]`, by series, folded by `agg`.
 */
function expected(
  lines: Line[],
  times: bigint[],
  range: bigint,
  offset: bigint,
  sample: (l: Line) => { labels: Record<string, string>; value: number } | undefined,
  agg: (values: number[], ts: bigint[], end: bigint) => number,
): Answer {
  const out: Answer = {};
  times.forEach((t, k) => {
    const end = t - offset;
    const groups = new Map<string, { values: number[]; ts: bigint[] }>();
    for (const l of lines) {
      if (l.ts <= end - range || l.ts > end) continue;
      const s = sample(l);
      if (!s) continue;
      const key = keyOf(s.labels);
      if (!groups.has(key)) groups.set(key, { values: [], ts: [] });
      groups.get(key)!.values.push(s.value);
      groups.get(key)!.ts.push(l.ts);
    }
    for (const [key, { values, ts }] of groups) {
      out[key] ??= times.map(() => undefined);
      out[key][k] = agg(values, ts, end);
    }
  });
  return out;
}

function assertClose(actual: Answer, want: Answer, what: string) {
  assert.deepEqual(Object.keys(actual).sort(), Object.keys(want).sort(), what);
  for (const [key, values] of Object.entries(want)) {
    values.forEach((v, k) => {
      const a = actual[key][k];
      if (v === undefined || a === undefined || !Number.isFinite(v)) {
        assert.deepEqual(a, v, `${what} ${key} step ${k}`);
      } else {
        assert.ok(
          Math.abs(a - v) <= 1e-9 * Math.max(1, Math.abs(v)),
          `${what} ${key} step ${k}: ${a} ≠ ${v}`,
        );
      }
    });
  }
}

const fullLabels = (l: Line): Record<string, string> => ({ ...l.labels, ...l.metadata });
const sum = (v: number[]) => v.reduce((a, b) => a + b, 0);
const utf8 = new TextEncoder();

async function range(engine: QueryEngine, text: string, start: bigint, end: bigint, step: bigint) {
  const r = await engine.metric({ expr: parseMetricQuery(text), instant: false, start, end, step });
  assert.equal(r.resultType, "matrix");
  return answerOf(r.series);
}

function times(start: bigint, end: bigint, step: bigint): bigint[] {
  const out: bigint[] = [];
  for (let t = start; t <= end; t += step) out.push(t);
  return out;
}

Deno.test("count_over_time, rate and bytes_over_time per stream match a count by hand, for ranges equal to, above, below and across steps", () =>
  withEngine(async (engine, lines) => {
    const start = T0 + 90n * S + 123n;
    const end = T0 + 2500n * S;
    for (
      const [range_, step, offset] of [
        [60n, 60n, 0n],
        [300n, 60n, 0n],
        [20n, 60n, 0n],
        [90n, 60n, 0n],
        [60n, 60n, 300n],
        [7n, 13n, 0n],
      ] as const
    ) {
      const r = `${range_}s`;
      const o = offset ? ` offset ${offset}s` : "";
      const at = times(start, end, step * S);
      const want = (value: (l: Line) => number, agg: (v: number[]) => number) =>
        expected(
          lines,
          at,
          range_ * S,
          offset * S,
          (l) => l.labels.app === "web" ? { labels: fullLabels(l), value: value(l) } : undefined,
          agg,
        );
      const what = `[${r}] step ${step}s offset ${offset}s`;
      assertClose(
        await range(engine, `count_over_time({app="web"}[${r}]${o})`, start, end, step * S),
        want(() => 1, (v) => v.length),
        `count ${what}`,
      );
      assertClose(
        await range(engine, `rate({app="web"}[${r}]${o})`, start, end, step * S),
        want(() => 1, (v) => v.length / Number(range_)),
        `rate ${what}`,
      );
      assertClose(
        await range(engine, `bytes_over_time({app="web"}[${r}]${o})`, start, end, step * S),
        want((l) => utf8.encode(l.line).length, sum),
        `bytes ${what}`,
      );
    }
  }));

Deno.test("sum by, without and line filters: block counts and scans agree with a count by hand", () =>
  withEngine(async (engine, lines) => {
    const start = T0;
    const end = T0 + 2400n * S;
    const at = times(start, end, 60n * S);
    const count = (pick: (l: Line) => Record<string, string> | undefined) =>
      expected(lines, at, 60n * S, 0n, (l) => {
        const labels = pick(l);
        return labels && { labels, value: 1 };
      }, (v) => v.length);
    const q = (text: string) => range(engine, text, start, end, 60n * S);
    assertClose(
      await q('sum by (level) (count_over_time({app=~".+"}[1m]))'),
      count((l): Record<string, string> => (l.labels.level ? { level: l.labels.level } : {})),
      "by level",
    );
    // A filter that every line passes forces a scan of every block: the same counts.
    assertClose(
      await q('sum by (level) (count_over_time({app=~".+"} != "never" [1m]))'),
      count((l): Record<string, string> => (l.labels.level ? { level: l.labels.level } : {})),
      "by level, scanned",
    );
    assertClose(
      await q('sum(count_over_time({app=~".+"} |= "timeout" [1m]))'),
      count((l) => (l.line.includes("timeout") ? {} : undefined)),
      "timeout",
    );
    assertClose(
      await q('sum without (level) (count_over_time({app=~".+"}[1m]))'),
      count((l) => {
        const { level: _, ...rest } = fullLabels(l);
        return rest;
      }),
      "without level",
    );
    // Grafana's logs volume: by a label of the stream and one of structured metadata.
    assertClose(
      await q(
        'sum by (level, detected_level) (count_over_time({app=~".+"} | drop __error__ [1m]))',
      ),
      count((l) => {
        const out: Record<string, string> = {};
        if (l.labels.level) out.level = l.labels.level;
        if (l.metadata) out.detected_level = l.metadata.detected_level;
        return out;
      }),
      "logs volume",
    );
    assertClose(
      await q('sum by (user) (count_over_time({app="api"} | logfmt [1m]))'),
      count((l) => (l.labels.app === "api" ? { user: l.user } : undefined)),
      "by a parsed label",
    );
  }));

Deno.test("unwrapped values: sum, avg, min, max, first, last, stddev, stdvar, quantile, rate and rate_counter", () =>
  withEngine(async (engine, lines) => {
    const start = T0 + 30n * S;
    const end = T0 + 2400n * S;
    const step = 45n * S;
    const at = times(start, end, step);
    const seconds = 120;
    const cases: [string, (v: number[], ts: bigint[], end: bigint) => number][] = [
      ["sum_over_time", sum],
      ["avg_over_time", (v) => sum(v) / v.length],
      ["min_over_time", (v) => Math.min(...v)],
      ["max_over_time", (v) => Math.max(...v)],
      ["first_over_time", (v, ts) => v[ts.indexOf(ts.reduce((a, b) => (b < a ? b : a)))]],
      ["last_over_time", (v, ts) => v[ts.indexOf(ts.reduce((a, b) => (b > a ? b : a)))]],
      ["stdvar_over_time", (v) => sum(v.map((x) => (x - sum(v) / v.length) ** 2)) / v.length],
      [
        "stddev_over_time",
        (v) => Math.sqrt(sum(v.map((x) => (x - sum(v) / v.length) ** 2)) / v.length),
      ],
      ["rate", (v) => sum(v) / seconds],
      [
        "quantile_over_time",
        (v) => {
          const s = [...v].sort((a, b) => a - b);
          const rank = 0.9 * (s.length - 1);
          const lo = Math.floor(rank);
          return s[lo] + (s[Math.min(lo + 1, s.length - 1)] - s[lo]) * (rank - lo);
        },
      ],
    ];
    for (const [op, agg] of cases) {
      const param = op === "quantile_over_time" ? "0.9, " : "";
      const text =
        `${op}(${param}{app="api"} | logfmt | unwrap duration(took) [${seconds}s]) by (user)`
          .replace(") by (user)", op === "sum_over_time" || op === "rate" ? ")" : ") by (user)");
      const grouped = !(op === "sum_over_time" || op === "rate");
      const want = expected(
        lines,
        at,
        BigInt(seconds) * S,
        0n,
        (l) =>
          l.labels.app === "api"
            ? {
              labels: grouped ? { user: l.user } : { ...fullLabels(l), user: l.user },
              value: l.took / 1000,
            }
            : undefined,
        agg,
      );
      assertClose(await range(engine, text, start, end, step), want, op);
    }
    // rate_counter of a counter that resets: every line of one stream, in time order.
    const counter = await range(
      engine,
      'rate_counter({app="api", level="info"} | logfmt | keep app, level, took | unwrap duration(took) [120s])',
      start,
      end,
      step,
    );
    const mine = lines.filter((l) => l.labels.level === "info" && l.labels.app === "api");
    assert.deepEqual(Object.keys(counter), [keyOf({ app: "api", level: "info" })]);
    const values = Object.values(counter)[0];
    at.forEach((t, k) => {
      const inWindow = mine.filter((l) => l.ts > t - 120n * S && l.ts <= t);
      // Two samples at least for a rate; more than two here, and took resets often.
      assert.ok(inWindow.length > 2);
      const v = inWindow.map((l) => l.took / 1000);
      let increase = v.at(-1)! - v[0];
      let previous = 0;
      for (const x of v) {
        if (x < previous) increase += previous;
        previous = x;
      }
      const span = Number(inWindow.at(-1)!.ts - inWindow[0].ts) / 1e9;
      const average = span / (inWindow.length - 1);
      let toStart = Number(inWindow[0].ts - (t - 120n * S)) / 1e9;
      let toEnd = Number(t - inWindow.at(-1)!.ts) / 1e9;
      if (toStart >= average * 1.1) toStart = average / 2;
      if (increase > 0 && v[0] >= 0) toStart = Math.min(toStart, span * (v[0] / increase));
      if (toEnd >= average * 1.1) toEnd = average / 2;
      const want = increase * ((span + toStart + toEnd) / span) / 120;
      assert.ok(Math.abs(values[k]! - want) < 1e-9 * Math.max(1, want), `step ${k}`);
    });
  }));

Deno.test("a pipeline error fails the query unless a label filter skips it; unwrap errors too", () =>
  withEngine(async (engine) => {
    const start = T0 + 600n * S;
    const fails = (text: string) =>
      assert.rejects(
        () => range(engine, text, start, start + 600n * S, 60n * S),
        (e: unknown) =>
          e instanceof MetricQueryError &&
          /^pipeline error: '(JSONParserErr|SampleExtractionErr)'/.test(e.message),
      );
    await fails('count_over_time({app="web"} | json [1m])');
    await fails('sum by (app) (count_over_time({app="web"} | json [1m]))');
    await fails('sum_over_time({app="web"} | logfmt | unwrap user [1m])');
    const skipped = await range(
      engine,
      'sum(count_over_time({app="web"} | json | __error__="" [1m]))',
      start,
      start + 600n * S,
      60n * S,
    );
    assert.deepEqual(skipped, {});
    const dropped = await range(
      engine,
      'sum(count_over_time({app="web"} | json | drop __error__, __error_details__ [1m]))',
      start,
      start + 600n * S,
      60n * S,
    );
    assert.ok(Object.values(dropped)[0].every((v) => v !== undefined && v > 0));
    const afterUnwrap = await range(
      engine,
      'sum(sum_over_time({app="web"} | logfmt | unwrap user | __error__="" [1m]))',
      start,
      start + 600n * S,
      60n * S,
    );
    assert.deepEqual(afterUnwrap, {});
  }));

Deno.test("instant queries: a vector at the time, scalars, absent_over_time", () =>
  withEngine(async (engine, lines) => {
    const at = T0 + 1000n * S;
    const instant = (text: string) =>
      engine.metric({ expr: parseMetricQuery(text), instant: true, start: at, end: at, step: 0n });
    const r = await instant('sum by (app) (count_over_time({app=~".+"}[5m]))');
    assert.equal(r.resultType, "vector");
    const inWindow = lines.filter((l) => l.ts > at - 300n * S && l.ts <= at);
    assert.deepEqual(
      r.series.map((s) => [s.labels, s.values[0]]),
      ["api", "web"].map((app) => [{ app }, inWindow.filter((l) => l.labels.app === app).length]),
    );
    const scalar = await instant("2 * 3");
    assert.equal(scalar.resultType, "scalar");
    assert.equal(scalar.series[0].values[0], 6);
    const two = await instant("vector(1) + vector(1)");
    assert.deepEqual([two.resultType, two.series[0].labels, two.series[0].values[0]], [
      "vector",
      {},
      2,
    ]);
    const absent = await instant('absent_over_time({app="nope", level="x", level!="y"}[5m])');
    assert.deepEqual([absent.series[0].labels, absent.series[0].values[0]], [{ app: "nope" }, 1]);
    assert.deepEqual((await instant('absent_over_time({app="web"}[5m])')).series, []);
  }));

Deno.test("counts of blocks inside one window come from the index: no block is read", () =>
  withEngine(async (engine, lines) => {
    const at = T0 + 3000n * S;
    const instant = async (text: string) => {
      const r = await engine.metric({
        expr: parseMetricQuery(text),
        instant: true,
        start: at,
        end: at,
        step: 0n,
      });
      return answerOf(r.series);
    };
    const inWindow = lines.filter((l) => l.ts > at - 3600n * S);
    const want = (pick: (l: Line) => Record<string, string>) =>
      expected(
        inWindow,
        [at],
        3600n * S,
        0n,
        (l) => ({ labels: pick(l), value: 1 }),
        (v) => v.length,
      );
    await instant('sum(count_over_time({app=~".+"}[1h]))'); // opens the indexes
    reads = 0;
    assertClose(await instant('sum(count_over_time({app=~".+"}[1h]))'), want(() => ({})), "sum");
    assertClose(
      await instant('sum by (app) (rate({app=~".+"}[1h]))'),
      expected(
        inWindow,
        [at],
        3600n * S,
        0n,
        (l) => ({ labels: { app: l.labels.app }, value: 1 }),
        (v) => v.length / 3600,
      ),
      "rate by app",
    );
    assert.equal(reads, 0);
    // A stream without a label of the grouping may have it in structured metadata: read.
    assertClose(
      await instant('sum by (level) (count_over_time({app=~".+"}[1h]))'),
      want((l): Record<string, string> => (l.labels.level ? { level: l.labels.level } : {})),
      "by level",
    );
    assert.ok(reads > 0);
    // Without a grouping, structured metadata splits the series: blocks are read.
    assertClose(await instant('count_over_time({app=~".+"}[1h])'), want(fullLabels), "all labels");
    assert.ok(reads > 0);
  }));

Deno.test("a range far longer than the step: counts stay cheap, combining maxima is refused beyond the limit", () =>
  withEngine(async (engine, lines) => {
    const start = T0 + 2400n * S;
    const end = start + 10n * S;
    const ms = 1_000_000n;
    const counts = await range(engine, 'sum(count_over_time({app="api"}[1h]))', start, end, ms);
    const api = lines.filter((l) => l.labels.app === "api").length;
    assert.ok(Object.values(counts)[0].every((v) => v === api));
    await assert.rejects(
      () =>
        range(
          engine,
          'max_over_time({app="api"} | logfmt | unwrap duration(took) [1h]) by (app)',
          start,
          end,
          ms,
        ),
      (e: unknown) => e instanceof MetricQueryError && /would combine more than/.test(e.message),
    );
  }));

Deno.test("volume counts (countOverTime) keep the lines a parser failed on", () =>
  withEngine(async (engine, lines) => {
    const start = T0;
    const step = 600n * S;
    const counts = await engine.countOverTime({
      start,
      end: T0 + 2399n * S,
      step,
      matchers: [{ name: "app", op: "=", value: "web" }],
      pushdown: [],
      pipeline: [{ kind: "json" }],
      by: ["level"],
    });
    assert.deepEqual(
      counts.series.map((s) => [s.labels, s.counts.map(([, n]) => n)]),
      ["error", "info"].map((level) => [
        { level },
        [0, 1, 2, 3].map((k) =>
          lines.filter((l) =>
            l.labels.app === "web" && l.labels.level === level &&
            l.ts >= start + BigInt(k) * step && l.ts < start + BigInt(k + 1) * step
          ).length
        ),
      ]),
    );
  }));
