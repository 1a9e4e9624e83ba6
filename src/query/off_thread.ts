/**
 * Running lines off the event loop: a line whose test could hold the thread
 * that serves every request (a regex on `re2js` over a long line can take
 * seconds, and no test can be stopped half way), be it a line filter the
 * scan leaves (`LineMatcher.costly` in `line_scan.ts`) or a stage of the
 * pipeline (`CostlyTestError` in `re2.ts`), runs on a worker of a
 * {@linkcode LineTester}: the running query's own ({@linkcode testLinesOffThread},
 * {@linkcode processLine}), or a live tail's.
 * Pushes and other requests go on meanwhile. Queries and tails each have
 * {@linkcode MAX_LINE_TEST_WORKERS} workers at most alive at once, so tails
 * that never stop cannot hold queries back; a tester that needs one more
 * waits for its turn (a query within its deadline).
 *
 * @module
 */

import type { LineFilter } from "./ast.ts";
import { awaitOffThread, queryScoped } from "./deadline.ts";
import type { LineJob, ReplaceJob } from "./line_test_worker.ts";
import type { Replacement } from "./metric/label_replace.ts";
import type { Labels } from "./metric/series.ts";
import type { Unwrap } from "./metric/ast.ts";
import type { UnwrappedSample, Unwrapper } from "./metric/unwrap.ts";
import type { FinalLabels } from "./pipeline/labels.ts";
import type { PipelineResult, StreamPipeline } from "./pipeline/mod.ts";
import { boundTests, CostlyTestError } from "./re2.ts";
import { WorkerPool } from "../storage/worker_pool.ts";

/** Most line-test workers alive at once, for queries and for tails each: ~30 MB and a core each. */
export const MAX_LINE_TEST_WORKERS = 2;

/** How long a tester's worker lives without a line to test. */
export const LINE_TEST_IDLE_MS = 2000;

/**
 * Most lines, and characters, sent to a worker in one round trip (~0.25 ms):
 * the costly lines that follow one another go together, as a scan and a
 * tail send them.
 */
export const OFF_THREAD_LINES = 64;
export const OFF_THREAD_CHARS = 1024 * 1024;

/** What a job answers ({@linkcode runLineJob}). */
type JobResult = boolean | PipelineResult | UnwrappedSample | Labels;

type LineTestPool = WorkerPool<readonly (LineJob | ReplaceJob)[], JobResult[]>;

const WORKER = new URL("./line_test_worker.ts", import.meta.url);

/** Turns to run a worker: at most {@linkcode MAX_LINE_TEST_WORKERS} alive at once. */
export class WorkerSlots {
  #alive = 0;
  readonly #waiting: (() => void)[] = [];

  /** A started worker, once fewer than the most are alive. */
  async start(): Promise<LineTestPool> {
    if (this.#alive < MAX_LINE_TEST_WORKERS) this.#alive++;
    else await new Promise<void>((resolve) => this.#waiting.push(resolve)); // a slot handed over
    return new WorkerPool<readonly (LineJob | ReplaceJob)[], JobResult[]>(WORKER, 1);
  }

  /** Stops a worker of {@linkcode start} and hands its slot to the next waiting. */
  stop(pool: LineTestPool): void {
    pool.terminate();
    const next = this.#waiting.shift();
    if (next) next();
    else this.#alive--;
  }
}

/** The slots of queries' testers. */
const QUERY_SLOTS = new WorkerSlots();

/**
 * Tests lines on a worker of its own: started at its first line, stopped
 * after {@linkcode LINE_TEST_IDLE_MS} (by default) without a test under way (so that it
 * holds no slot meanwhile), at {@linkcode close}, and at the running query's
 * deadline, which ends a test under way.
 *
 * @example
 * ```ts
 * import { LineTester } from "./off_thread.ts";
 * import assert from "node:assert/strict";
 * const tester = new LineTester();
 * const filters = [{ kind: "line_filter" as const, op: "|~" as const, value: "[a-z]{3}9" }];
 * assert.deepEqual(await tester.test(filters, ["abc9", "ab9"]), [true, false]);
 * tester.close();
 * ```
 */
export class LineTester {
  readonly #slots: WorkerSlots;
  readonly #idleMs: number;
  #started?: Promise<LineTestPool>;
  #idle?: ReturnType<typeof setTimeout>;
  #testing = 0;

  /**
   * A tester whose worker takes one of `slots` (the queries' by default),
   * and stops after `idleMs` without a test under way.
   */
  constructor(slots: WorkerSlots = QUERY_SLOTS, idleMs = LINE_TEST_IDLE_MS) {
    this.#slots = slots;
    this.#idleMs = idleMs;
  }

  /**
   * Whether each of `lines` passes every filter of `filters`, in one round
   * trip.
   *
   * @throws {QueryTimeoutError} when the running query's deadline passes first.
   */
  async test(filters: readonly LineFilter[], lines: readonly string[]): Promise<boolean[]> {
    const outs = await this.#run(lines.map((line) => ({ filters, line })));
    return outs.map((out) => out === true);
  }

  /**
   * What each of `jobs` makes of its line, in one round trip: its filters,
   * then its pipeline (then the sample of its unwrap, when it has one);
   * `undefined` when one of them drops it.
   *
   * @throws {QueryTimeoutError} when the running query's deadline passes first.
   */
  async process<T extends PipelineResult | UnwrappedSample = PipelineResult>(
    jobs: readonly Required<LineJob>[],
  ): Promise<(T | undefined)[]> {
    const outs = await this.#run(jobs);
    return outs.map((out) => typeof out === "object" ? out as T : undefined);
  }

  /**
   * Each of `labels` with `expr`'s replacement made (`label_replace`), in one
   * round trip.
   *
   * @throws {QueryTimeoutError} when the running query's deadline passes first.
   */
  async replace(expr: Replacement, labels: readonly Labels[]): Promise<Labels[]> {
    return await this.#run(labels.map((l) => ({ replace: expr, labels: l }))) as Labels[];
  }

  async #run(job: readonly (LineJob | ReplaceJob)[]): Promise<JobResult[]> {
    clearTimeout(this.#idle);
    this.#testing++;
    const started = this.#started ??= this.#slots.start();
    try {
      const pool = await awaitOffThread(started, () => {});
      return await awaitOffThread(pool.run(job), () => pool.terminate());
    } finally {
      if (--this.#testing === 0 && this.#started === started) {
        this.#idle = setTimeout(() => this.close(), this.#idleMs);
        Deno.unrefTimer(this.#idle);
      }
    }
  }

  /** Stops the worker, if one is started (or as soon as its turn comes). */
  close(): void {
    clearTimeout(this.#idle);
    const slots = this.#slots;
    void this.#started?.then((pool) => slots.stop(pool));
    this.#started = undefined;
  }
}

const QUERY_TESTER = {};

/**
 * The tester of scans outside a query (a live tail's replay, `loge search`
 * on a local folder): one for all of them, so a worker is not started for
 * each line.
 */
const DETACHED = new LineTester();

/**
 * Whether each of `lines` passes every filter of `filters`, tested on the
 * running query's {@linkcode LineTester}, closed when the query ends
 * (outside a query, on one shared by all scans, stopped when idle).
 *
 * @example
 * ```ts
 * import { testLinesOffThread } from "./off_thread.ts";
 * import assert from "node:assert/strict";
 * const filters = [{ kind: "line_filter" as const, op: "|~" as const, value: "[a-z]{3}9" }];
 * assert.deepEqual(await testLinesOffThread(filters, ["abc9"]), [true]);
 * ```
 *
 * @throws {QueryTimeoutError} when the query's deadline passes first.
 */
export async function testLinesOffThread(
  filters: readonly LineFilter[],
  lines: readonly string[],
): Promise<boolean[]> {
  return await queryTester().test(filters, lines);
}

/**
 * Each of `labels` with `expr`'s replacement made (`label_replace`), on the
 * running query's {@linkcode LineTester}: for series whose `src` value the
 * regex would take long to match on the event loop.
 *
 * @example
 * ```ts
 * import { replaceLabelsOffThread } from "./off_thread.ts";
 * import assert from "node:assert/strict";
 * const expr = { dst: "app", replacement: "$1", src: "pod", regex: "(.*)-[0-9]+" };
 * assert.deepEqual(await replaceLabelsOffThread(expr, [{ pod: "web-1" }]), [{ app: "web", pod: "web-1" }]);
 * ```
 *
 * @throws {QueryTimeoutError} when the query's deadline passes first.
 */
export async function replaceLabelsOffThread(
  expr: Replacement,
  labels: readonly Labels[],
): Promise<Labels[]> {
  return await queryTester().replace(expr, labels);
}

/** The running query's tester, closed when it ends; outside a query, {@linkcode DETACHED}. */
function queryTester(): LineTester {
  const scoped = queryScoped(QUERY_TESTER, () => new LineTester(), (tester) => tester.close());
  return scoped ?? DETACHED;
}

/**
 * Runs `line` of `run`'s stream, with its `metadata` JSON, through `run`
 * and gives what comes out to `take`: here, or, when a regex of the pipeline
 * would hold the event loop ({@linkcode CostlyTestError}), on the running query's
 * {@linkcode LineTester}; the promise is then that of the line's turn, to be
 * awaited before the next line is run (`scanColumns` in `scan.ts` does).
 *
 * @example
 * ```ts
 * import { processLine } from "./off_thread.ts";
 * import { compilePipeline } from "./pipeline/mod.ts";
 * import assert from "node:assert/strict";
 * const run = compilePipeline([
 *   { kind: "logfmt", strict: false, keepEmpty: false },
 *   { kind: "line_filter", op: "|~", value: "[a-z]{1000}[a-z]{1000}[a-z]{1000}9" },
 * ]).forStream({ key: '{"app":"web"}', labels: { app: "web" } });
 * const kept: string[] = [];
 * assert.equal(processLine(run, "x=1", undefined, (out) => kept.push(out.line)), undefined);
 * // Seconds of re2js: the line goes to a worker, and the promise is its turn.
 * const long = "x=" + "a".repeat(5000) + "9";
 * const turn = processLine(run, long, undefined, (out) => kept.push(out.line));
 * assert.ok(turn instanceof Promise);
 * await turn;
 * assert.deepEqual(kept, [long]);
 * ```
 *
 * @throws {QueryTimeoutError} when the query's deadline passes first.
 */
export function processLine(
  run: StreamPipeline,
  line: string,
  metadata: string | undefined,
  take: (out: PipelineResult) => void,
): Promise<void> | undefined {
  return runLine(run, line, metadata, undefined, take, (out) => out);
}

/** A metric query's unwrap: as written (for the worker), and compiled. */
export interface Unwrapping {
  readonly unwrap: Unwrap;
  readonly unwrapper: Unwrapper;
}

/**
 * Runs `line` through `run` and then `unwrapping`, and gives its sample to
 * `take`, as {@linkcode processLine} gives its result: the label filters
 * after the unwrap are bounded with the pipeline's stages, and a line that
 * one of them finds costly runs on the worker, pipeline and unwrap.
 *
 * @throws {QueryTimeoutError} when the query's deadline passes first.
 */
export function processSample(
  run: StreamPipeline,
  line: string,
  metadata: string | undefined,
  unwrapping: Unwrapping,
  take: (sample: UnwrappedSample) => void,
): Promise<void> | undefined {
  return runLine(run, line, metadata, unwrapping, take, (sample) => sample.labels);
}

/**
 * The work of {@linkcode processLine} and {@linkcode processSample}: `labelsOf`
 * finds the final labels in what comes out, whose stream is made the query's
 * own object again when it comes back from the worker.
 */
function runLine<T extends PipelineResult | UnwrappedSample>(
  run: StreamPipeline,
  line: string,
  metadata: string | undefined,
  unwrapping: Unwrapping | undefined,
  take: (out: T) => void,
  labelsOf: (out: T) => FinalLabels,
): Promise<void> | undefined {
  const labels = metadata === undefined ? undefined : JSON.parse(metadata);
  let result: T | undefined;
  try {
    result = runHere(run, line, labels, unwrapping) as T | undefined;
  } catch (error) {
    if (!(error instanceof CostlyTestError)) throw error;
    const { stream } = run;
    const job = {
      filters: [],
      line,
      pipeline: { stages: run.stages, stream, metadata: labels, unwrap: unwrapping?.unwrap },
    };
    return queryTester().process<T>([job]).then(([out]) => {
      if (out === undefined) return;
      // The same stream, not a copy of it: what is keyed by it stays one entry.
      const final = labelsOf(out);
      if (final.stream.key === stream.key) final.stream = stream;
      take(out);
    });
  }
  if (result !== undefined) take(result);
  return undefined;
}

/**
 * A line run here, bounded: its pipeline, then its unwrap, whose filters go
 * on with the steps the pipeline's tests left the line (all of them when it
 * has no stage, and ran none).
 *
 * @throws {CostlyTestError} When the line's tests would pass their bound.
 */
function runHere(
  run: StreamPipeline,
  line: string,
  labels: Record<string, string> | undefined,
  unwrapping: Unwrapping | undefined,
): PipelineResult | UnwrappedSample | undefined {
  const out = run.process(line, labels);
  if (out === undefined || unwrapping === undefined) return out;
  const outer = boundTests(true, run.stages.length === 0);
  try {
    return unwrapping.unwrapper.sample(out);
  } finally {
    boundTests(outer, false);
  }
}
