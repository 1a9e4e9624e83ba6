/**
 * Worker: runs lines that would hold the event loop (`off_thread.ts`): lines
 * whose line filters a scan leaves too costly to test there
 * (`LineMatcher.costly` in `line_scan.ts`), and lines whose pipeline met a
 * regex too costly to run there (`CostlyTestError` in `re2.ts`). The filters
 * and pipeline of a job are compiled once for all the jobs that bring them.
 *
 * @module
 */

import type { LineFilter, PipelineStage } from "./ast.ts";
import { compileLineFilters } from "./matchers.ts";
import { compilePipeline, type Pipeline, type PipelineResult } from "./pipeline/mod.ts";
import type { StreamLabels } from "../storage/catalog.ts";
import { serveJobs } from "../storage/worker_pool.ts";
import type { Unwrap } from "./metric/ast.ts";
import { type UnwrappedSample, Unwrapper } from "./metric/unwrap.ts";
import { replaceLabels, type Replacement } from "./metric/label_replace.ts";
import type { Labels } from "./metric/series.ts";
import { RE2JS } from "re2js";

/** The line of a {@linkcode LineJob} goes through these stages of its query's pipeline. */
export interface PipelineJob {
  stages: readonly PipelineStage[];
  stream: StreamLabels;
  /** The line's structured metadata. */
  metadata?: Record<string, string>;
  /** A metric query's unwrap, and the label filters after it: the job answers the sample. */
  unwrap?: Unwrap;
}

/** A line to run: its line filters, then perhaps the rest of its query's pipeline. */
export interface LineJob {
  filters: readonly LineFilter[];
  line: string;
  pipeline?: PipelineJob;
}

/** A series' labels to replace as `label_replace` does, its regex costly on them. */
export interface ReplaceJob {
  replace: Replacement;
  labels: Labels;
}

/**
 * Filters and pipelines compiled, by their JSON, at most {@linkcode KEPT} of
 * each: a query's pushed-down filters and its pipeline (whose jobs bring no
 * filters) alternate, and each side of a binary query brings its own; compiling
 * a large regex again, and its first test, take tens of milliseconds.
 */
const filterTests = new Map<string, (line: string) => boolean>();
const pipelines = new Map<string, { pipeline: Pipeline; streams: Map<string, StreamLabels> }>();
const unwrappers = new Map<string, Unwrapper>();
const replaceRegexes = new Map<string, RE2JS>();
const KEPT = 8;

/** The entry of `key` in `cache`, made by `make` if missing (the cache emptied when full). */
function kept<T>(cache: Map<string, T>, key: string, make: () => T): T {
  let found = cache.get(key);
  if (found === undefined) {
    if (cache.size >= KEPT) cache.clear();
    cache.set(key, found = make());
  }
  return found;
}

/**
 * Runs `job`: `false` when its line fails the filters or the pipeline (or
 * the filters after its unwrap) drops it; the pipeline's result when it has a
 * pipeline, or its sample when it has an unwrap; `true` when it passes the
 * filters and has none. Every test runs, whatever it costs. The worker
 * takes jobs in batches, one round trip for the costly lines that follow one
 * another ({@linkcode runLineJobs}).
 *
 * @example
 * ```ts
 * import { runLineJob } from "./line_test_worker.ts";
 * import assert from "node:assert/strict";
 * const filters = [{ kind: "line_filter" as const, op: "|~" as const, value: "[a-z]{3}9" }];
 * assert.equal(runLineJob({ filters, line: "abc9" }), true);
 * const stream = { key: '{"app":"web"}', labels: { app: "web" } };
 * const stages = [{ kind: "logfmt" as const, strict: false, keepEmpty: false }];
 * assert.deepEqual(runLineJob({ filters, line: "x=abc9", pipeline: { stages, stream } }), {
 *   line: "x=abc9", stream, parsed: { x: "abc9" },
 * });
 * assert.equal(runLineJob({ filters, line: "ab9", pipeline: { stages, stream } }), false);
 * ```
 */
export function runLineJob(job: LineJob): boolean | PipelineResult | UnwrappedSample {
  const test = kept(
    filterTests,
    JSON.stringify(job.filters),
    () => compileLineFilters(job.filters)?.test ?? (() => true),
  );
  if (!test(job.line)) return false;
  if (job.pipeline === undefined) return true;
  const { stages, stream, metadata, unwrap } = job.pipeline;
  const { pipeline, streams } = kept(pipelines, JSON.stringify(stages), () => ({
    pipeline: compilePipeline(stages, { bounded: false }),
    streams: new Map(),
  }));
  // A stream arrives as a copy with each job: one object per stream, as the pipeline keeps them.
  let same = streams.get(stream.key);
  if (same === undefined) streams.set(stream.key, same = stream);
  const out = pipeline.forStream(same).process(job.line, metadata);
  if (out === undefined) return false;
  if (unwrap === undefined) return out;
  return kept(unwrappers, JSON.stringify(unwrap), () => new Unwrapper(unwrap)).sample(out) ?? false;
}

/**
 * Runs a batch of jobs in order: lines ({@linkcode runLineJob}), or a
 * series' labels to replace ({@linkcode ReplaceJob}).
 *
 * @example
 * ```ts
 * import { runLineJobs } from "./line_test_worker.ts";
 * import assert from "node:assert/strict";
 * const filters = [{ kind: "line_filter" as const, op: "|~" as const, value: "[a-z]{3}9" }];
 * assert.deepEqual(runLineJobs([{ filters, line: "abc9" }, { filters, line: "ab9" }]), [true, false]);
 * ```
 */
export function runLineJobs(
  jobs: readonly (LineJob | ReplaceJob)[],
): (boolean | PipelineResult | UnwrappedSample | Labels)[] {
  return jobs.map((job) =>
    "replace" in job
      ? replaceLabels(
        job.labels,
        job.replace,
        kept(replaceRegexes, job.replace.regex, () => RE2JS.compile(job.replace.regex)),
      )
      : runLineJob(job)
  );
}

if (import.meta.main) serveJobs(runLineJobs);
