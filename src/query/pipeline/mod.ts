/**
 * The log pipeline: the stages of a query after its pushed-down line
 * filters, compiled once per query and instantiated once per stream, as in
 * Loki's `pkg/logql/log`. A stage sees each line with the labels it has
 * so far and keeps it (perhaps rewritten, perhaps with other labels) or drops
 * it. One file per stage kind: `line_filter.ts` today; parsers, label
 * filters and formatters join it.
 *
 * @module
 */

import type { StreamLabels } from "../../storage/catalog.ts";
import type { LineFilter, PipelineStage } from "../ast.ts";
import { lineFilterStage } from "./line_filter.ts";

/** A line on its way through a stream's stages. */
export interface PipelineLine {
  line: string;
  /** The labels so far: the stream's, then what stages add, change or drop. */
  labels: StreamLabels;
}

/** One compiled stage: keeps `entry` (changing it in place) or drops it (false). */
export type Stage = (entry: PipelineLine) => boolean;

/** The stages of one stream. */
export interface StreamPipeline {
  /** Runs `line` of the stream through every stage; `undefined` when a stage drops it. */
  process(line: string): PipelineLine | undefined;
}

/** A compiled pipeline. */
export interface Pipeline {
  /** No stage: every line passes unchanged with its stream's labels. */
  readonly identity: boolean;
  /** The pipeline of `stream` (built once per stream and kept). */
  forStream(stream: StreamLabels): StreamPipeline;
}

/**
 * Splits a query's stages into the line filters pushed down to the scan
 * (where content filters prune blocks and a native search finds candidate
 * lines) and the rest, which runs per line through {@linkcode compilePipeline}.
 * The pushdown is the line filters before the first stage of another kind:
 * a stage that rewrites lines would change what a later filter sees.
 *
 * @example
 * ```ts
 * import { splitPushdown } from "./mod.ts";
 * import assert from "node:assert/strict";
 * const f = { kind: "line_filter", op: "|=", value: "timeout" } as const;
 * assert.deepEqual(splitPushdown([f]), { pushdown: [f], pipeline: [] });
 * ```
 */
export function splitPushdown(
  stages: readonly PipelineStage[],
): { pushdown: LineFilter[]; pipeline: PipelineStage[] } {
  let n = 0;
  while (n < stages.length && stages[n].kind === "line_filter") n++;
  return { pushdown: stages.slice(0, n), pipeline: stages.slice(n) };
}

function compileStage(stage: PipelineStage): Stage {
  switch (stage.kind) {
    case "line_filter":
      return lineFilterStage(stage);
  }
}

/**
 * Compiles `stages` once for a query.
 *
 * @example
 * ```ts
 * import { compilePipeline } from "./mod.ts";
 * import assert from "node:assert/strict";
 * const pipeline = compilePipeline([{ kind: "line_filter", op: "!=", value: "debug" }]);
 * const stream = { key: '{"app":"web"}', labels: { app: "web" } };
 * const run = pipeline.forStream(stream);
 * assert.equal(run.process("debug: x"), undefined);
 * assert.deepEqual(run.process("error: y"), { line: "error: y", labels: stream });
 * ```
 */
export function compilePipeline(stages: readonly PipelineStage[]): Pipeline {
  const compiled = stages.map(compileStage);
  const streams = new Map<StreamLabels, StreamPipeline>();
  return {
    identity: compiled.length === 0,
    forStream(stream) {
      let run = streams.get(stream);
      if (!run) {
        run = {
          process(line) {
            const entry: PipelineLine = { line, labels: stream };
            for (const stage of compiled) if (!stage(entry)) return undefined;
            return entry;
          },
        };
        streams.set(stream, run);
      }
      return run;
    },
  };
}
