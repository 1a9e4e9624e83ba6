import assert from "node:assert/strict";
import { type Row, withEngine } from "../../testing/engine_fixture.ts";
import type { LabelMatcher } from "./ast.ts";
import { type VolumeQuery, volumes } from "./volume.ts";

const encoder = new TextEncoder();

const STREAMS: Record<string, string>[] = [
  { app: "web", env: "prod" },
  { app: "web", env: "dev" },
  { app: "api", env: "prod", team: "a" },
];

/** Lines of three streams over times 0..59, each `line <i>` (or with non-ASCII text). */
const rows: Row[] = Array.from({ length: 60 }, (_, i) => ({
  ts: BigInt(i),
  labels: STREAMS[i % 3],
  line: i % 10 === 0 ? `ünïcode ${i}` : `line ${i}`,
}));

const matchers = (text: Record<string, string>): LabelMatcher[] =>
  Object.entries(text).map(([name, value]) => ({
    name,
    op: value.startsWith("~") ? "=~" : "=",
    value: value.replace(/^~/, ""),
  }));

function query(overrides: Partial<VolumeQuery>): VolumeQuery {
  return {
    buckets: [[0n, 59n]],
    matchers: [],
    targetLabels: [],
    aggregateBy: "series",
    limit: 100,
    ...overrides,
  };
}

/** Bytes of the rows in [from, to] by a key of their labels (undefined: skipped). */
function expected(
  buckets: [bigint, bigint][],
  keyOf: (labels: Record<string, string>) => string[],
): Map<string, (number | undefined)[]> {
  const out = new Map<string, (number | undefined)[]>();
  buckets.forEach(([from, to], b) => {
    for (const r of rows.filter((r) => r.ts >= from && r.ts <= to)) {
      for (const key of keyOf(r.labels)) {
        if (!out.has(key)) out.set(key, buckets.map(() => undefined));
        const points = out.get(key)!;
        points[b] = (points[b] ?? 0) + encoder.encode(r.line).length;
      }
    }
  });
  return out;
}

const asMap = (series: { labels: Record<string, string>; bytes: (number | undefined)[] }[]) =>
  new Map(series.map((s) => [JSON.stringify(s.labels), s.bytes]));

Deno.test("volumes of lines in memory are their bytes, by the labels the matchers name, per bucket", () =>
  withEngine(rows, { inFiles: 0 }, async (_engine, _index, ctx) => {
    const buckets: [bigint, bigint][] = [[0n, 19n], [20n, 39n], [40n, 59n]];
    const got = await volumes(ctx, query({ buckets, matchers: matchers({ app: "~.+" }) }));
    assert.deepEqual(asMap(got), expected(buckets, (l) => [JSON.stringify({ app: l.app })]));
    // By env among web's streams; no matcher names team: it splits nothing.
    const web = await volumes(ctx, query({ matchers: matchers({ app: "web", env: "~.+" }) }));
    assert.deepEqual(
      asMap(web),
      expected(
        [[0n, 59n]],
        (l) => l.app === "web" ? [JSON.stringify({ app: l.app, env: l.env })] : [],
      ),
    );
    // {}: one series of everything.
    assert.deepEqual(asMap(await volumes(ctx, query({}))), expected([[0n, 59n]], () => ["{}"]));
  }));

Deno.test("targetLabels choose the series and leave out streams without them; aggregateBy labels sums per label name", () =>
  withEngine(rows, { inFiles: 0 }, async (_engine, _index, ctx) => {
    const byTeam = await volumes(ctx, query({ targetLabels: ["team"] }));
    assert.deepEqual(
      asMap(byTeam),
      expected([[0n, 59n]], (l) => l.team ? [JSON.stringify({ team: l.team })] : []),
    );
    const labels = await volumes(ctx, query({ aggregateBy: "labels" }));
    assert.deepEqual(
      asMap(labels),
      expected([[0n, 59n]], (l) => Object.keys(l).map((name) => JSON.stringify({ [name]: "" }))),
    );
    const targeted = await volumes(ctx, query({ aggregateBy: "labels", targetLabels: ["env"] }));
    assert.deepEqual(asMap(targeted), expected([[0n, 59n]], () => [JSON.stringify({ env: "" })]));
  }));

Deno.test("each bucket keeps its limit largest series", () =>
  withEngine(rows, { inFiles: 0 }, async (_engine, _index, ctx) => {
    const all = expected([[0n, 59n]], (l) => [JSON.stringify(l)]);
    const largest = [...all].sort(([, a], [, b]) => b[0]! - a[0]!)[0];
    const got = await volumes(
      ctx,
      query({ matchers: matchers({ app: "~.+", env: "~.+" }), limit: 1 }),
    );
    assert.equal(got.length, 1);
    assert.deepEqual(got[0].bytes, largest[1]);
  }));

Deno.test("blocks of files count their raw bytes, prorated by the part of their span a bucket covers", () =>
  withEngine(rows, { inFiles: 60, blockLines: 10 }, async (_engine, index, ctx) => {
    assert.ok(index);
    const buckets: [bigint, bigint][] = [[0n, 24n], [25n, 59n]];
    const got = asMap(await volumes(ctx, query({ buckets, matchers: matchers({ app: "api" }) })));
    const api = index.streams.indexOf(JSON.stringify({ app: "api", env: "prod", team: "a" }));
    const blocks = index.blocks.filter((b) => b.stream === api);
    const share = (b: (typeof blocks)[number], [from, to]: [bigint, bigint]) => {
      const lo = b.minTs > from ? b.minTs : from;
      const hi = b.maxTs < to ? b.maxTs : to;
      return hi < lo
        ? 0
        : Math.round(b.rawLength * Number(hi - lo + 1n) / Number(b.maxTs - b.minTs + 1n));
    };
    const sum = (bucket: [bigint, bigint]) => blocks.reduce((n, b) => n + share(b, bucket), 0);
    assert.deepEqual(got, new Map([[JSON.stringify({ app: "api" }), buckets.map(sum)]]));
    // A block straddles the buckets' border: its bytes are split, none lost or counted twice.
    assert.ok(blocks.some((b) => b.minTs < 25n && b.maxTs >= 25n));
    assert.ok(
      Math.abs(sum(buckets[0]) + sum(buckets[1]) - blocks.reduce((n, b) => n + b.rawLength, 0)) <=
        1,
    );
  }));
