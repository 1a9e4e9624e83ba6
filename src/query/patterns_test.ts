import assert from "node:assert/strict";
import { type Row, withEngine } from "../../testing/engine_fixture.ts";
import { MAX_LINES, MIN_PATTERN_LINES, minePatterns, type PatternSeries } from "./patterns.ts";

const S = 1_000_000_000n;

/**
 * 300 s of two streams: `api` logs "request <n> done in <n>ms" (info, with
 * its level in metadata) every second and "upstream <n> timed out" (error)
 * every 5 s; `web` (level label) logs "GET /page/<n> HTTP/1.1 200" every 2 s and 10
 * one-off lines.
 */
function corpus(): Row[] {
  const rows: Row[] = [];
  for (let s = 0; s < 300; s++) {
    const ts = 1_700_000_000n * S + BigInt(s) * S;
    rows.push({
      ts,
      labels: { app: "api" },
      line: `request ${s} done in ${s % 17}ms`,
      metadata: { detected_level: "info" },
    });
    if (s % 5 === 0) {
      rows.push({
        ts,
        labels: { app: "api" },
        line: `upstream ${s} timed out`,
        metadata: { detected_level: "error" },
      });
    }
    if (s % 2 === 0) {
      rows.push({ ts, labels: { app: "web", level: "WARN" }, line: `GET /page/${s} HTTP/1.1 200` });
    }
    if (s % 30 === 0) {
      rows.push({ ts, labels: { app: "web", level: "WARN" }, line: `odd one ${s} here` });
    }
  }
  return rows.sort((a, b) => (a.ts < b.ts ? -1 : a.ts > b.ts ? 1 : 0));
}

/** Lines per `step` bucket (start of the bucket, aligned to multiples of the step) of the rows `keep` picks. */
function counts(rows: Row[], keep: (r: Row) => boolean, step: bigint): [bigint, number][] {
  const by = new Map<bigint, number>();
  for (const r of rows.filter(keep)) {
    by.set(r.ts - r.ts % step, (by.get(r.ts - r.ts % step) ?? 0) + 1);
  }
  const keys = [...by.keys()].sort((a, b) => (a < b ? -1 : 1));
  const out: [bigint, number][] = [];
  for (let k = keys[0]; k <= keys[keys.length - 1]; k += step) out.push([k, by.get(k) ?? 0]);
  return out;
}

const byPattern = (series: PatternSeries[]) =>
  Object.fromEntries(series.map((s) => [`${s.level} ${s.pattern}`, s.samples]));

Deno.test("patterns count their lines per step, by level, in files and in memory alike", async () => {
  const rows = corpus();
  const start = rows[0].ts;
  const end = rows[rows.length - 1].ts;
  const step = 60n * S;
  const expected = {
    "info request <_> done in <_>": counts(rows, (r) => r.line.startsWith("request"), step),
    "error upstream <_> timed out": counts(rows, (r) => r.line.startsWith("upstream"), step),
    "warn GET <_> HTTP/1.1 200": counts(rows, (r) => r.line.startsWith("GET"), step),
  };
  for (const inFiles of [rows.length, 200, 0]) {
    await withEngine(rows, { inFiles, blockLines: 50 }, async (_engine, _index, ctx) => {
      const matchers = [{ name: "app", op: "=~" as const, value: ".+" }];
      const got = await minePatterns(ctx, { start, end, matchers, step });
      assert.equal(got.scale, 1);
      // The 10 one-off lines make no pattern of 30 lines.
      assert.deepEqual(byPattern(got.series), expected, `${inFiles} rows in files`);
      // Largest first.
      assert.deepEqual(got.series.map((s) => s.level), ["info", "warn", "error"]);
      assert.equal(got.read.lines, rows.length);
    });
  }
});

Deno.test("a selector and a window restrict the lines mined", () =>
  withEngine(corpus(), { inFiles: 0 }, async (_engine, _index, ctx) => {
    const rows = corpus();
    const start = rows[0].ts + 100n * S;
    const end = start + 119n * S;
    const step = 10n * S;
    const got = await minePatterns(ctx, {
      start,
      end,
      matchers: [{ name: "app", op: "=", value: "api" }],
      step,
    });
    const inWindow = (r: Row) => r.ts >= start && r.ts <= end;
    const requests = rows.filter((r) => inWindow(r) && r.line.startsWith("request"));
    assert.ok(requests.length >= MIN_PATTERN_LINES);
    assert.deepEqual(byPattern(got.series), {
      "info request <_> done in <_>": counts(requests, () => true, step),
    });
  }));

Deno.test("over more lines than it mines, a sample of blocks is mined and its counts scaled", () => {
  const rows: Row[] = Array.from({ length: MAX_LINES * 2 }, (_, i) => ({
    ts: BigInt(i) * 1_000_000n,
    labels: { app: "big" },
    line: `job ${i} finished in ${i % 100}ms`,
  }));
  return withEngine(rows, { blockLines: 1000 }, async (_engine, _index, ctx) => {
    const got = await minePatterns(ctx, {
      start: 0n,
      end: rows[rows.length - 1].ts,
      matchers: [],
      step: 3600n * S,
    });
    assert.equal(got.scale, 2);
    assert.equal(got.series.length, 1);
    const total = got.series[0].samples.reduce((n, [, c]) => n + c, 0);
    // About every other block of 1000 lines, each line counted twice.
    assert.ok(Math.abs(total - rows.length) <= rows.length * 0.1, `${total} of ${rows.length}`);
    assert.ok(got.read.lines < rows.length * 0.75);
  });
});
