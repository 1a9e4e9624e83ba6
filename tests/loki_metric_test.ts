/**
 * End-to-end tests of LogQL metric queries on Loki's query endpoints,
 * against the real `loge serve` process: the lines live in the in-memory
 * head and flush files, then flush files only, then compacted segments, and
 * every answer is checked against values computed here from the pushed
 * lines (counts, rates, sums per step and per label set), in each state.
 *
 * @module
 */

import assert from "node:assert/strict";
import { startServer, withServer } from "../testing/server.ts";
import {
  call,
  type Labels,
  push,
  type Reply,
  stats,
  waitCompacted,
  waitFor,
} from "../testing/http.ts";

const S = 1_000_000_000n;
/** 2023-11-14T22:13:20Z. */
const T0 = 1_700_000_000n * S;

interface Line {
  labels: Labels;
  ts: bigint;
  line: string;
  metadata?: Labels;
  took: number;
}

const STREAMS: Labels[] = [
  { app: "web", level: "info" },
  { app: "web", level: "error" },
  { app: "api", level: "info" },
  { app: "api" },
];

/** 600 lines over 4 streams and 20 minutes; every 6th has metadata, every 5th says timeout. */
const LINES: Line[] = Array.from({ length: 600 }, (_, i) => {
  const took = (i * 53) % 400;
  return {
    labels: STREAMS[i % 4],
    ts: T0 + BigInt(i * 2) * S + BigInt((i * 7919) % 1000) * 1_000_000n,
    line: `took=${took}ms path=/p${i % 3} ${i % 5 === 0 ? "upstream timeout" : "ok"}`,
    ...(i % 6 === 0 ? { metadata: { detected_level: i % 12 ? "warn" : "debug" } } : {}),
    took,
  };
});

const row = (l: Line): [Labels, bigint, string, Labels?] => [l.labels, l.ts, l.line, l.metadata];

/** Seconds with milliseconds, as Loki writes a sample's time. */
const seconds = (ns: bigint) => Number(ns / 1_000_000n) / 1000;

/** A matrix as `{labels key: [[time, value], …]}`; a vector as the same with one pair each. */
type Answer = Record<string, [number, number][]>;

const keyOf = (labels: Labels) => JSON.stringify(Object.fromEntries(Object.entries(labels).sort()));

/**
 * By brute force: at each step time, the lines in `(t - range, t]` that
 * `pick` gives labels to, by label set, folded by `agg`.
 */
function expected(
  times: bigint[],
  range: bigint,
  pick: (l: Line) => Labels | undefined,
  agg: (lines: Line[]) => number,
): Answer {
  const out: Answer = {};
  for (const t of times) {
    const groups = new Map<string, Line[]>();
    for (const l of LINES) {
      if (l.ts <= t - range || l.ts > t) continue;
      const labels = pick(l);
      if (!labels) continue;
      const key = keyOf(labels);
      groups.set(key, [...groups.get(key) ?? [], l]);
    }
    for (const [key, lines] of groups) (out[key] ??= []).push([seconds(t), agg(lines)]);
  }
  return out;
}

function steps(start: bigint, end: bigint, step: bigint): bigint[] {
  const out: bigint[] = [];
  for (let t = start; t <= end; t += step) out.push(t);
  return out;
}

/** A matrix or vector answer as an {@linkcode Answer}, its shape checked. */
function answerOf(r: Reply, resultType: "matrix" | "vector"): Answer {
  assert.equal(r.status, 200, r.text);
  assert.equal(r.body.status, "success");
  assert.equal(r.body.data.resultType, resultType);
  const out: Answer = {};
  for (const s of r.body.data.result) {
    const pairs: [number, string][] = resultType === "matrix" ? s.values : [s.value];
    for (const [t, v] of pairs) {
      assert.equal(typeof t, "number");
      assert.equal(typeof v, "string");
    }
    out[keyOf(s.metric)] = pairs.map(([t, v]) => [t, Number(v)]);
  }
  return out;
}

function assertClose(actual: Answer, want: Answer, what: string) {
  assert.deepEqual(Object.keys(actual).sort(), Object.keys(want).sort(), what);
  for (const [key, pairs] of Object.entries(want)) {
    assert.deepEqual(actual[key].map(([t]) => t), pairs.map(([t]) => t), `${what} ${key}`);
    pairs.forEach(([, v], i) => {
      const a = actual[key][i][1];
      assert.ok(
        Math.abs(a - v) <= 1e-9 * Math.max(1, Math.abs(v)),
        `${what} ${key} #${i}: ${a} ≠ ${v}`,
      );
    });
  }
}

function get(url: string, path: string, params: Record<string, string>) {
  return call(url, `${path}?${new URLSearchParams(params)}`);
}

const ns = (t: bigint) => String(t);
const byLevel = (l: Line): Labels => (l.labels.level ? { level: l.labels.level } : {});
const labelsOf = (l: Line): Labels => ({ ...l.labels, ...l.metadata });

/**
 * The queries, each answer checked against the lines (so the answers of the
 * states agree, up to the order in which floating-point sums add up).
 */
async function runCases(url: string, state: string): Promise<void> {
  const range = async (query: string, start: bigint, end: bigint, step: string | undefined) => {
    const params: Record<string, string> = { query, start: ns(start), end: ns(end) };
    if (step !== undefined) params.step = step;
    return answerOf(await get(url, "/loki/api/v1/query_range", params), "matrix");
  };
  const instant = async (query: string, time: bigint) => {
    return answerOf(await get(url, "/loki/api/v1/query", { query, time: ns(time) }), "vector");
  };
  const start = T0 + 30n * S;
  const end = T0 + 1230n * S;
  const minute = steps(start, end, 60n * S);

  assertClose(
    await range('count_over_time({app="web"}[1m])', start, end, "60"),
    expected(
      minute,
      60n * S,
      (l) => (l.labels.app === "web" ? labelsOf(l) : undefined),
      (ls) => ls.length,
    ),
    `${state}: count_over_time per series`,
  );
  assertClose(
    await range('sum by (level) (rate({app=~".+"}[5m]))', start, end, "1m"),
    expected(
      minute,
      300n * S,
      byLevel,
      (ls) => ls.length / 300,
    ),
    `${state}: sum by (level) (rate)`,
  );
  assertClose(
    await range('sum(rate({app=~".+"} |= "timeout" [5m]))', start, end, "60000ms"),
    expected(
      minute,
      300n * S,
      (l) => (l.line.includes("timeout") ? {} : undefined),
      (ls) => ls.length / 300,
    ),
    `${state}: sum(rate(|= timeout))`,
  );
  const halfMinute = steps(start, end, 30n * S);
  assertClose(
    await range(
      'sum without (level) (bytes_over_time({app="api"} != "timeout" [2m]))',
      start,
      end,
      "30s",
    ),
    expected(
      halfMinute,
      120n * S,
      (l) => {
        if (l.labels.app !== "api" || l.line.includes("timeout")) return undefined;
        const { level: _, ...rest } = labelsOf(l);
        return rest;
      },
      (ls) => ls.reduce((n, l) => n + new TextEncoder().encode(l.line).length, 0),
    ),
    `${state}: sum without (level) (bytes_over_time)`,
  );
  // Grafana's logs volume query, and its default step: floor(range / 250) seconds.
  const defaultStep = (end - start) / S / 250n * S;
  assertClose(
    await range(
      'sum by (level, detected_level) (count_over_time({app=~".+"} | drop __error__[1m]))',
      start,
      end,
      undefined,
    ),
    expected(
      steps(start, end, defaultStep),
      60n * S,
      (l) => ({
        ...(l.labels.level ? { level: l.labels.level } : {}),
        ...(l.metadata ? { detected_level: l.metadata.detected_level } : {}),
      }),
      (ls) => ls.length,
    ),
    `${state}: logs volume`,
  );
  // Binary operators: a ratio of two aggregations, and a comparison with a number.
  assertClose(
    await range(
      'sum by (app) (count_over_time({app=~".+"} |= "timeout" [2m])) / sum by (app) (count_over_time({app=~".+"}[2m])) > 0.2',
      start,
      end,
      "60",
    ),
    Object.fromEntries(
      Object.entries(
        expected(
          minute,
          120n * S,
          (l) => ({ app: l.labels.app }),
          (ls) => ls.filter((l) => l.line.includes("timeout")).length / ls.length,
        ),
      ).map(([k, pairs]) => [k, pairs.filter(([, v]) => v > 0.2)]).filter(([, pairs]) =>
        pairs.length > 0
      ),
    ),
    `${state}: ratio > 0.2`,
  );
  // topk: the app with the most lines in each 10 minutes (the fixture alternates: equal counts
  // break ties by labels, api first).
  const tenMinutes = steps(start, end, 300n * S);
  const perApp = expected(tenMinutes, 600n * S, (l) => ({ app: l.labels.app }), (ls) => ls.length);
  const top: Answer = {};
  tenMinutes.forEach((t) => {
    const at = Object.entries(perApp).flatMap(([k, pairs]) =>
      pairs.filter(([time]) => time === seconds(t)).map(([, v]) => [k, v] as const)
    ).sort(([ka, a], [kb, b]) => b - a || (ka < kb ? -1 : 1));
    if (at.length > 0) (top[at[0][0]] ??= []).push([seconds(t), at[0][1]]);
  });
  assertClose(
    await range('topk(1, sum by (app) (count_over_time({app=~".+"}[10m])))', start, end, "300"),
    top,
    `${state}: topk`,
  );
  // Instant queries: a vector at the time.
  const at = T0 + 900n * S;
  assertClose(
    await instant('sum by (level) (count_over_time({app=~".+"}[10m]))', at),
    expected(
      [at],
      600n * S,
      byLevel,
      (ls) => ls.length,
    ),
    `${state}: instant sum by (level)`,
  );
  assertClose(
    await instant(
      'avg_over_time({app="api"} | logfmt | unwrap duration(took) [15m]) by (path)',
      at,
    ),
    expected(
      [at],
      900n * S,
      (l) => (l.labels.app === "api" ? { path: /path=(\S+)/.exec(l.line)![1] } : undefined),
      (ls) => ls.reduce((n, l) => n + l.took / 1000, 0) / ls.length,
    ),
    `${state}: instant avg_over_time unwrap`,
  );
}

Deno.test("metric queries answer the same, and right, from the head and flush files, flush files, and segments", async () => {
  // Ten payloads of 60 lines into one bucket that flushes at 170: three flush files, 60 in memory.
  let server = await startServer({
    args: [
      ...["--compact-interval", "0", "--buckets", "1"],
      ...["--payload-size", "170", "--flush-interval", "1h", "--flush-coalesce", "0"],
      // Two flush workers, as the file count needs: one would write batches queued behind its
      // current file into one.
      ...["--flush-workers", "2"],
    ],
  });
  const dir = server.dir;
  try {
    for (let i = 0; i < LINES.length; i += 60) {
      await push(server.url, LINES.slice(i, i + 60).map(row));
    }
    await waitFor("flush files", async () => (await stats(server.url)).flush_files === 3);
    assert.equal((await stats(server.url)).rows_in_memory, 60);
    await runCases(server.url, "head and flush files");

    assert.equal(await server.stop(), 0);
    server = await startServer({ dir, args: ["--compact-interval", "0"] });
    assert.equal((await stats(server.url)).rows_in_memory, 0);
    await runCases(server.url, "flush files");

    assert.equal(await server.stop(), 0);
    server = await startServer({
      dir,
      args: ["--compact-interval", "200ms", "--compact-min-files", "2"],
    });
    await waitCompacted(dir);
    const compacted = await stats(server.url);
    assert.equal(compacted.flush_files, 0);
    assert.equal(compacted.rows_total, LINES.length);
    await runCases(server.url, "segments");
  } finally {
    await server.stop().catch(() => {});
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("Grafana's health check: vector(1)+vector(1) at time=4000000000 answers one sample of 2", () =>
  withServer(async ({ url }) => {
    const r = await call(
      url,
      "/loki/api/v1/query?direction=backward&query=vector%281%29%2Bvector%281%29&time=4000000000",
    );
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.body.data.resultType, "vector");
    assert.deepEqual(r.body.data.result, [{ metric: {}, value: [4000000000, "2"] }]);
    assert.deepEqual(Object.keys(r.body.data), ["resultType", "result", "stats"]);
    const scalar = await get(url, "/loki/api/v1/query", {
      query: "2 * 3.5",
      time: "1700000000.25",
    });
    assert.deepEqual(scalar.body.data.result, [1700000000.25, "7"]);
    // A number over a range: one series without labels at every step.
    const matrix = await get(url, "/loki/api/v1/query_range", {
      query: "1/0",
      start: "1700000000",
      end: "1700000020",
      step: "10",
    });
    assert.deepEqual(matrix.body.data, {
      ...matrix.body.data,
      resultType: "matrix",
      result: [{
        metric: {},
        values: [[1700000000, "NaN"], [1700000010, "NaN"], [1700000020, "NaN"]],
      }],
    });
  }));

Deno.test("metric query errors are Loki's plain-text 400s", () =>
  withServer(async ({ url }) => {
    await push(url, LINES.slice(0, 20).map(row));
    const window = { start: ns(T0), end: ns(T0 + 600n * S) };
    const cases: [Record<string, string>, RegExp][] = [
      [{ query: 'sum(rate({app="web"}[5m])' }, /^parse error at line 1, col 26: expected "\)"\n$/],
      [
        { query: 'count_over_time({app="web"} | json [1m])' },
        /^pipeline error: 'JSONParserErr' for series: /,
      ],
      [
        { query: 'rate({app="web"}[1m])', step: "0.01" },
        /^exceeded maximum resolution of 11,000 points/,
      ],
      [{ query: 'rate({app="web"}[1m])', step: "-1" }, /^zero or negative query resolution step/],
      [
        { query: 'sum_over_time({app="web"}[1m])' },
        /^parse error at line 1, col 1: invalid aggregation sum_over_time without unwrap/,
      ],
      [
        { query: 'rate({app="web"}[1m]) + on (app) rate({app=~".+"}[1m])' },
        /^found duplicate series on the right hand-side of "\+"/,
      ],
    ];
    for (const [params, message] of cases) {
      const r = await get(url, "/loki/api/v1/query_range", { ...window, ...params });
      assert.equal(r.status, 400, `${params.query}: ${r.text}`);
      assert.equal(r.headers.get("content-type"), "text/plain; charset=utf-8");
      assert.match(r.text, message, params.query);
    }
  }));
