import assert from "node:assert/strict";
import type { LineFilter } from "./ast.ts";
import { QueryTimeoutError, withDeadline } from "./deadline.ts";
import {
  LINE_TEST_IDLE_MS,
  LineTester,
  MAX_LINE_TEST_WORKERS,
  processLine,
  testLinesOffThread,
} from "./off_thread.ts";
import { parseLogQL } from "./logql.ts";
import { parseMetricQuery } from "./metric/parse.ts";
import type { QueryEngine } from "./engine.ts";
import { compilePipeline, type PipelineResult } from "./pipeline/mod.ts";
import { logQuery } from "../../testing/log_query.ts";
import { type Row, withEngine } from "../../testing/engine_fixture.ts";
import { workersMemory } from "../storage/worker_pool.ts";
import { COSTLY_PATTERN, letters } from "../../testing/costly_regex.ts";

/** Seconds over a long line of letters (see `testing/costly_regex.ts`). */
const COSTLY: LineFilter[] = [{ kind: "line_filter", op: "|~", value: COSTLY_PATTERN }];

const lineTestWorkers = () => [...workersMemory().keys()].filter((n) => n.startsWith("line_test"));

Deno.test("testLinesOffThread() answers as the filters do, with at most MAX_LINE_TEST_WORKERS workers over all queries", async () => {
  const lines = [`${letters(3500)}9`, `${letters(2000)}9${letters(1500)}9`, `${letters(3200)}9`];
  const expected = lines.map((line) => /[a-z]{3000}9/.test(line));
  let most = 0;
  const sampler = setInterval(() => most = Math.max(most, lineTestWorkers().length), 5);
  try {
    // Each query tests its lines on its own worker; one of the three waits for a turn.
    const answers = await Promise.all(
      [0, 1, 2].map(() =>
        withDeadline(
          0,
          () =>
            Promise.all(lines.map(async (line) => (await testLinesOffThread(COSTLY, [line]))[0])),
        )
      ),
    );
    for (const got of answers) assert.deepEqual(got, expected);
  } finally {
    clearInterval(sampler);
  }
  assert.ok(most >= 1 && most <= MAX_LINE_TEST_WORKERS, `${most} workers at once`);
  assert.deepEqual(lineTestWorkers(), []); // each stopped with its query
});

Deno.test("testLinesOffThread() stops at the query's deadline, mid-line, with its worker", async () => {
  // Seconds of re2js: up to 3,003 threads alive at each of 100,000 characters.
  const line = `${letters(100_000)}9`;
  const started = performance.now();
  await assert.rejects(
    withDeadline(300, () => testLinesOffThread(COSTLY, [line])),
    QueryTimeoutError,
  );
  const tookMs = performance.now() - started;
  assert.ok(tookMs < 2000, `stopped after ${tookMs} ms`);
  assert.deepEqual(lineTestWorkers(), []);
  // The slots are free again.
  const answers = await Promise.all(
    Array.from(
      { length: MAX_LINE_TEST_WORKERS + 1 },
      () => withDeadline(0, () => testLinesOffThread(COSTLY, ["abc9"])),
    ),
  );
  assert.deepEqual(answers, [[false], [false], [false]]);
});

Deno.test("a LineTester stops its worker after LINE_TEST_IDLE_MS without a line, and starts one again", async () => {
  const tester = new LineTester();
  try {
    assert.deepEqual(await tester.test(COSTLY, [`${letters(3000)}9`]), [true]);
    assert.equal(lineTestWorkers().length, 1);
    await new Promise((r) => setTimeout(r, LINE_TEST_IDLE_MS + 300));
    assert.deepEqual(lineTestWorkers(), []);
    assert.deepEqual(await tester.test(COSTLY, [`${letters(2999)}9`]), [false]);
    assert.equal(lineTestWorkers().length, 1);
  } finally {
    tester.close();
  }
  await new Promise((r) => setTimeout(r, 50));
  assert.deepEqual(lineTestWorkers(), []);
});

Deno.test("work of a query that has answered starts no worker: one side of a failed binary operation", async () => {
  let orphan: Promise<unknown> | undefined;
  await assert.rejects(
    withDeadline(0, () => {
      // As `a + b` evaluates: the left side fails the query while the right goes on.
      orphan = (async () => {
        await new Promise((r) => setTimeout(r, 50));
        return await testLinesOffThread(COSTLY, [`${letters(3000)}9`]);
      })();
      return Promise.all([Promise.reject(new Error("too many series")), orphan]);
    }),
    /too many series/,
  );
  await assert.rejects(orphan!, /the query has already answered/);
  assert.deepEqual(lineTestWorkers(), []);
});

Deno.test("a LineTester's idle time starts only once no test is under way", async () => {
  const idleMs = 50;
  const tester = new LineTester(undefined, idleMs);
  try {
    // The second line takes tenths of a second, far over idleMs; the first is done at once.
    const long = `9${letters(12_000)}`;
    const started = performance.now();
    const [quick, slow] = await Promise.all([
      tester.test(COSTLY, [`${letters(3000)}9`]),
      tester.test(COSTLY, [long]),
    ]);
    assert.deepEqual([quick, slow], [[true], [false]]);
    const tookMs = performance.now() - started;
    assert.ok(tookMs > 4 * idleMs, `the long test took ${tookMs} ms`);
  } finally {
    tester.close();
  }
});

Deno.test("outside a query, lines are tested on one shared worker, stopped once idle", async () => {
  const lines = Array.from({ length: 5 }, (_, i) => `${letters(2990 + 4 * i)}9`);
  const answers = [];
  for (const line of lines) answers.push(...await testLinesOffThread(COSTLY, [line]));
  assert.deepEqual(answers, lines.map((line) => /[a-z]{3000}9/.test(line)));
  // Still there for the next line, not one worker a line.
  assert.equal(lineTestWorkers().length, 1);
  await new Promise((r) => setTimeout(r, LINE_TEST_IDLE_MS + 300));
  assert.deepEqual(lineTestWorkers(), []);
});

Deno.test("processLine() runs a line whose pipeline is costly on the query's worker, with its metadata, and keeps its stream object", async () => {
  const stream = { key: '{"app":"web"}', labels: { app: "web" } };
  const run = compilePipeline(
    parseLogQL(`{app="web"} | logfmt | msg=~".*${COSTLY_PATTERN}"`)
      .pipeline,
  ).forStream(stream);
  const long = `msg=${letters(3500)}9`;
  const metadata = JSON.stringify({ trace_id: "t1" });
  const kept: PipelineResult[] = [];
  // A cheap line is run here, at once.
  assert.equal(
    processLine(run, `msg=${letters(40)}9`, undefined, (out) => kept.push(out)),
    undefined,
  );
  assert.equal(kept.length, 0);
  await withDeadline(0, async () => {
    const turn = processLine(run, long, metadata, (out) => kept.push(out));
    await turn;
    assert.ok(turn instanceof Promise);
    assert.equal(lineTestWorkers().length, 1);
    await processLine(
      run,
      `msg=${letters(2000)}9${letters(1500)}9`,
      undefined,
      (out) => kept.push(out),
    );
  });
  assert.deepEqual(kept, [{
    line: long,
    stream,
    metadata: { trace_id: "t1" },
    parsed: { msg: long.slice(4) },
  }]);
  assert.equal(kept[0].stream, stream);
  assert.deepEqual(lineTestWorkers(), []); // stopped with its query
});

Deno.test("a selection whose pipeline is costly on some lines answers as computed by hand, in order, both ways, from files and the head", async () => {
  // Every fourth line ends in 3,100 letters and a "9", every other is as long but ends in 1,600:
  // both are run on a worker. The rest are short and cheap.
  const rows: Row[] = Array.from({ length: 12 }, (_, i) => ({
    ts: BigInt(1000 + i),
    labels: { app: "doc" },
    line: i % 4 === 0
      ? `msg=${letters(3100, i)}9`
      : i % 4 === 2
      ? `msg=${letters(1600, i)}9${letters(1600, i)}9`
      : `msg=short${i}`,
  }));
  const keeps = (r: Row) => /[a-z]{3000}9$|=short/.test(r.line);
  const query = `{app="doc"} | logfmt | msg=~".*${COSTLY_PATTERN}" or msg=~"short.*"`;
  await withEngine(rows, { inFiles: 7, blockLines: 3 }, async (engine) => {
    for (const direction of ["backward", "forward"] as const) {
      for (const limit of [2, 1000]) {
        const { entries } = await engine.select(logQuery(query, { direction, limit }));
        const kept = rows.filter(keeps);
        const expected = (direction === "backward" ? kept.reverse() : kept).slice(0, limit);
        assert.deepEqual(
          entries.map((e) => [e.ts, e.line, e.parsed?.msg]),
          expected.map((r) => [r.ts, r.line, r.line.slice(4)]),
          `${direction} ${limit}`,
        );
      }
    }
  });
});

Deno.test("runs of lines too costly for the event loop are tested on a worker together, and answer as computed by hand", async () => {
  // Runs of three costly lines (3,100 letters, some ending in "9"), then two short cheap ones.
  const rows: Row[] = Array.from({ length: 25 }, (_, i) => ({
    ts: BigInt(1000 + i),
    labels: { app: "doc" },
    line: i % 5 < 3
      ? `msg=${i % 3 === 0 ? "keep" : "drop"}${letters(3100, i)}${i % 2 === 0 ? "9" : "x"}`
      : `msg=short${i}`,
  }));
  const cases: [string, (r: Row) => boolean][] = [
    [`{app="doc"} |~ "${COSTLY_PATTERN}" or "short"`, (r) => /[a-z]{3000}9|short/.test(r.line)],
    // The pipeline after them sends some of the lines the scan kept to the worker again.
    [
      `{app="doc"} |~ "${COSTLY_PATTERN}" or "short" | logfmt | msg=~".*${COSTLY_PATTERN}"`,
      (r) => /[a-z]{3000}9/.test(r.line),
    ],
    // Lines without the needle ("keep") are passed over within a run.
    [
      `{app="doc"} |= "keep" |~ "${COSTLY_PATTERN}"`,
      (r) => r.line.includes("keep") && /[a-z]{3000}9/.test(r.line),
    ],
  ];
  await withEngine(rows, { inFiles: 10, blockLines: 8 }, async (engine) => {
    for (const [query, keeps] of cases) {
      for (const direction of ["backward", "forward"] as const) {
        for (const limit of [3, 1000]) {
          const { entries } = await engine.select(logQuery(query, { direction, limit }));
          const kept = rows.filter(keeps);
          const expected = (direction === "backward" ? kept.reverse() : kept).slice(0, limit);
          assert.deepEqual(
            entries.map((e) => [e.ts, e.line]),
            expected.map((r) => [r.ts, r.line]),
            `${query} ${direction} ${limit}`,
          );
        }
      }
    }
  });
});

/**
 * The answer of instant metric query `query` at second 2000, and the longest
 * the event loop went without a turn meanwhile (a 5 ms ticker's widest gap).
 */
async function instantHeld(engine: QueryEngine, query: string) {
  const at = 1_000_000_000n * 2000n;
  let longest = 0;
  let last = performance.now();
  const ticker = setInterval(() => {
    const now = performance.now();
    longest = Math.max(longest, now - last);
    last = now;
  }, 5);
  try {
    const r = await engine.metric({
      expr: parseMetricQuery(query),
      instant: true,
      start: at,
      end: at,
      step: 0n,
    });
    return { series: r.series, heldMs: Math.round(Math.max(longest, performance.now() - last)) };
  } finally {
    clearInterval(ticker);
  }
}

Deno.test("label filters after an unwrap are bounded too: a costly one goes to the worker, and the sums are right", async () => {
  // Every third line's msg is 3,100 letters (a "9" ends some): the filter after the unwrap is
  // seconds of re2js on each, far past a line's bound on the event loop.
  const rows: Row[] = Array.from({ length: 12 }, (_, i) => ({
    ts: 1_000_000_000n * BigInt(1000 + i),
    labels: { app: "doc" },
    line: `n=${i + 1} msg=${i % 3 === 0 ? letters(3100, i) + (i % 2 ? "9" : "x") : `short${i}`}`,
  }));
  const keeps = (r: Row) => /[a-z]{3000}9|short/.test(r.line);
  const expected = rows.filter(keeps).reduce(
    (sum, r) => sum + Number(/n=(\d+)/.exec(r.line)![1]),
    0,
  );
  const query =
    `sum(sum_over_time({app="doc"} | logfmt | unwrap n | msg=~".*${COSTLY_PATTERN}" or msg=~"short.*" [1h]))`;
  await withEngine(rows, { inFiles: 5, blockLines: 4 }, async (engine) => {
    const { series, heldMs } = await instantHeld(engine, query);
    assert.deepEqual(series.map((s) => s.values[0]), [expected]);
    assert.ok(heldMs < 400, `the event loop was held ${heldMs} ms`);
  });
});

Deno.test("label_replace replaces on the worker where its regex is costly on a label, and answers as computed by hand", async () => {
  // Every other msg is 3,100 letters (a "9" ends half of those): seconds of re2js on each.
  const rows: Row[] = Array.from({ length: 8 }, (_, i) => ({
    ts: 1_000_000_000n * BigInt(1000 + i),
    labels: { app: "doc" },
    line: `msg=${i % 2 === 0 ? letters(3100, i) + (i % 4 ? "9" : "x") : `short${i}`}`,
  }));
  const query = `label_replace(sum by (msg) (count_over_time({app="doc"} | logfmt [1h])), ` +
    `"m", "$1$2", "msg", "(short)[0-9]|.*${COSTLY_PATTERN.slice(0, -1)}(9)")`;
  const expected = rows.map((r) => {
    const msg = r.line.slice(4);
    const m = /^(short)[0-9]$|^.*[a-z]{3000}(9)$/.exec(msg);
    return JSON.stringify(m ? { m: (m[1] ?? "") + (m[2] ?? ""), msg } : { msg });
  }).sort();
  await withEngine(rows, { inFiles: 2, blockLines: 4 }, async (engine) => {
    const { series, heldMs } = await instantHeld(engine, query);
    assert.deepEqual(series.map((s) => JSON.stringify(s.labels)).sort(), expected);
    assert.ok(heldMs < 400, `the event loop was held ${heldMs} ms`);
  });
});
