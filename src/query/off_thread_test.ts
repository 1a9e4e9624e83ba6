import assert from "node:assert/strict";
import type { LineFilter } from "./ast.ts";
import { QueryTimeoutError, withDeadline } from "./deadline.ts";
import {
  LINE_TEST_IDLE_MS,
  LineTester,
  MAX_LINE_TEST_WORKERS,
  testLineOffThread,
} from "./off_thread.ts";
import { workersMemory } from "../storage/worker_pool.ts";
import { COSTLY_PATTERN, letters } from "../../testing/costly_regex.ts";

/** Seconds over a long line of letters (see `testing/costly_regex.ts`). */
const COSTLY: LineFilter[] = [{ kind: "line_filter", op: "|~", value: COSTLY_PATTERN }];

const lineTestWorkers = () => [...workersMemory().keys()].filter((n) => n.startsWith("line_test"));

Deno.test("testLineOffThread() answers as the filters do, with at most MAX_LINE_TEST_WORKERS workers over all queries", async () => {
  const lines = [`${letters(3500)}9`, `${letters(2000)}9${letters(1500)}9`, `${letters(3200)}9`];
  const expected = lines.map((line) => /[a-z]{3000}9/.test(line));
  let most = 0;
  const sampler = setInterval(() => most = Math.max(most, lineTestWorkers().length), 5);
  try {
    // Each query tests its lines on its own worker; one of the three waits for a turn.
    const answers = await Promise.all(
      [0, 1, 2].map(() =>
        withDeadline(0, () => Promise.all(lines.map((line) => testLineOffThread(COSTLY, line))))
      ),
    );
    for (const got of answers) assert.deepEqual(got, expected);
  } finally {
    clearInterval(sampler);
  }
  assert.ok(most >= 1 && most <= MAX_LINE_TEST_WORKERS, `${most} workers at once`);
  assert.deepEqual(lineTestWorkers(), []); // each stopped with its query
});

Deno.test("testLineOffThread() stops at the query's deadline, mid-line, with its worker", async () => {
  // Seconds of re2js: up to 3,003 threads alive at each of 100,000 characters.
  const line = `${letters(100_000)}9`;
  const started = performance.now();
  await assert.rejects(withDeadline(300, () => testLineOffThread(COSTLY, line)), QueryTimeoutError);
  const tookMs = performance.now() - started;
  assert.ok(tookMs < 2000, `stopped after ${tookMs} ms`);
  assert.deepEqual(lineTestWorkers(), []);
  // The slots are free again.
  const answers = await Promise.all(
    Array.from(
      { length: MAX_LINE_TEST_WORKERS + 1 },
      () => withDeadline(0, () => testLineOffThread(COSTLY, "abc9")),
    ),
  );
  assert.deepEqual(answers, [false, false, false]);
});

Deno.test("a LineTester stops its worker after LINE_TEST_IDLE_MS without a line, and starts one again", async () => {
  const tester = new LineTester();
  try {
    assert.equal(await tester.test(COSTLY, `${letters(3000)}9`), true);
    assert.equal(lineTestWorkers().length, 1);
    await new Promise((r) => setTimeout(r, LINE_TEST_IDLE_MS + 300));
    assert.deepEqual(lineTestWorkers(), []);
    assert.equal(await tester.test(COSTLY, `${letters(2999)}9`), false);
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
        return await testLineOffThread(COSTLY, `${letters(3000)}9`);
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
      tester.test(COSTLY, `${letters(3000)}9`),
      tester.test(COSTLY, long),
    ]);
    assert.deepEqual([quick, slow], [true, false]);
    const tookMs = performance.now() - started;
    assert.ok(tookMs > 4 * idleMs, `the long test took ${tookMs} ms`);
  } finally {
    tester.close();
  }
});

Deno.test("outside a query, lines are tested on one shared worker, stopped once idle", async () => {
  const lines = Array.from({ length: 5 }, (_, i) => `${letters(2990 + 4 * i)}9`);
  const answers = [];
  for (const line of lines) answers.push(await testLineOffThread(COSTLY, line));
  assert.deepEqual(answers, lines.map((line) => /[a-z]{3000}9/.test(line)));
  // Still there for the next line, not one worker a line.
  assert.equal(lineTestWorkers().length, 1);
  await new Promise((r) => setTimeout(r, LINE_TEST_IDLE_MS + 300));
  assert.deepEqual(lineTestWorkers(), []);
});
