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

/** The line of a {@linkcode LineJob} goes through these stages of its query's pipeline. */
export interface PipelineJob {
  stages: readonly PipelineStage[];
  stream: StreamLabels;
  /** The line's structured metadata. */
  metadata?: Record<string, string>;
}

/** A line to run: its line filters, then perhaps the rest of its query's pipeline. */
export interface LineJob {
  filters: readonly LineFilter[];
  line: string;
  pipeline?: PipelineJob;
}

let filtersCompiled: { key: string; test: (line: string) => boolean } | undefined;
let pipelineCompiled:
  | { key: string; pipeline: Pipeline; streams: Map<string, StreamLabels> }
  | undefined;

/**
 * Runs `job`: `false` when its line fails the filters or the pipeline drops
 * it; the pipeline's result when it has a pipeline; `true` when it passes
 * the filters and has none. Every test runs, whatever it costs.
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
export function runLineJob(job: LineJob): boolean | PipelineResult {
  const filtersKey = JSON.stringify(job.filters);
  if (filtersCompiled?.key !== filtersKey) {
    const test = compileLineFilters(job.filters)?.test ?? (() => true);
    filtersCompiled = { key: filtersKey, test };
  }
  if (!filtersCompiled.test(job.line)) return false;
  if (job.pipeline === undefined) return true;
  const { stages, stream, metadata } = job.pipeline;
  const pipelineKey = JSON.stringify(stages);
  if (pipelineCompiled?.key !== pipelineKey) {
    const pipeline = compilePipeline(stages, { bounded: false });
    pipelineCompiled = { key: pipelineKey, pipeline, streams: new Map() };
  }
  // A stream arrives as a copy with each job: one object per stream, as the pipeline keeps them.
  const { streams } = pipelineCompiled;
  let same = streams.get(stream.key);
  if (same === undefined) streams.set(stream.key, same = stream);
  return pipelineCompiled.pipeline.forStream(same).process(job.line, metadata) ?? false;
}

if (import.meta.main) serveJobs(runLineJob);
