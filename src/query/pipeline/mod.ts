/**
 * The log pipeline: the stages of a query after its pushed-down line
 * filters, compiled once per query and instantiated once per stream, as in
 * Loki's `pkg/logql/log`. A stage sees each line with the labels it has
 * so far and keeps it (perhaps rewritten, perhaps with other labels) or drops
 * it. Labels come in Loki's three categories (`labels.ts`): the stream's,
 * the line's structured metadata and parsed labels. One file per stage kind.
 *
 * @module
 */

import type { StreamLabels } from "../../storage/catalog.ts";
import type { LineFilter, PipelineStage } from "../ast.ts";
import { decolorizeStage } from "./decolorize.ts";
import { dropStage } from "./drop.ts";
import { jsonStage } from "./json.ts";
import { keepStage } from "./keep.ts";
import { labelFilterStage } from "./label_filter.ts";
import { labelFormatStage } from "./label_format.ts";
import { type FinalLabels, LabelsBuilder } from "./labels.ts";
import { lineFilterStage } from "./line_filter.ts";
import { lineFormatStage } from "./line_format.ts";
import { logfmtStage } from "./logfmt.ts";
import { patternStage } from "./pattern.ts";
import { compileProbe } from "./probe.ts";
import { regexpStage } from "./regexp.ts";
import { unpackStage } from "./unpack.ts";
import { boundTests } from "../re2.ts";

/** A line on its way through a stream's stages. */
export interface PipelineLine {
  line: string;
  /** The labels so far: the stream's and the line's metadata, then what stages add, change or drop. */
  labels: LabelsBuilder;
}

/** A line that came through: its final text and labels. */
export interface PipelineResult extends FinalLabels {
  line: string;
}

/** One compiled stage: keeps `entry` (changing it in place) or drops it (false). */
export type Stage = (entry: PipelineLine) => boolean;

/** The stages of one stream. */
export interface StreamPipeline {
  /** The stream. */
  readonly stream: StreamLabels;
  /** The stages it runs (those of the query's pipeline). */
  readonly stages: readonly PipelineStage[];
  /**
   * Runs `line` of the stream, with its structured `metadata`, through every
   * stage; `undefined` when a stage drops it.
   *
   * @throws {CostlyTestError} When the pipeline is bounded and a stage's regex
   * would take this line's tests past their bound (`checkTestCost` in
   * `re2.ts`): the line is to be run on a worker (`processLine` in
   * `off_thread.ts`), where the pipeline is not bounded.
   */
  process(line: string, metadata?: Record<string, string>): PipelineResult | undefined;
}

/** A compiled pipeline. */
export interface Pipeline {
  /** No stage: every line passes unchanged with its stream's labels. */
  readonly identity: boolean;
  /** The pipeline of `stream` (built once per stream and kept). */
  forStream(stream: StreamLabels): StreamPipeline;
}

/** Options of {@linkcode compilePipeline}. */
export interface PipelineOptions {
  /**
   * Whether a line whose regex test would be costly throws
   * `CostlyTestError` instead of being tested (`boundTests` in `re2.ts`):
   * so on the event loop; a worker that such lines are sent to runs them all.
   *
   * @default {true}
   */
  bounded?: boolean;
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
  const pushdown: LineFilter[] = [];
  for (const stage of stages) {
    if (stage.kind !== "line_filter") break;
    pushdown.push(stage);
  }
  return { pushdown, pipeline: stages.slice(pushdown.length) };
}

function compileStage(stage: PipelineStage): Stage {
  switch (stage.kind) {
    case "line_filter":
      return lineFilterStage(stage);
    case "json":
      return jsonStage(stage);
    case "logfmt":
      return logfmtStage(stage);
    case "unpack":
      return unpackStage();
    case "regexp":
      return regexpStage(stage);
    case "pattern":
      return patternStage(stage);
    case "label_filter":
      return labelFilterStage(stage.predicate);
    case "line_format":
      return lineFormatStage(stage);
    case "label_format":
      return labelFormatStage(stage);
    case "drop":
      return dropStage(stage);
    case "keep":
      return keepStage(stage);
    case "decolorize":
      return decolorizeStage();
  }
}

/**
 * Lines a stream's probe ({@linkcode compileProbe}) looks at before it is kept
 * only if it dropped half of them or more: a line that passes is scanned
 * twice.
 */
const PROBE_TRIAL = 256;

/**
 * Compiles `stages` once for a query.
 *
 * @example
 * ```ts
 * import { compilePipeline } from "./mod.ts";
 * import { CostlyTestError } from "../re2.ts";
 * import assert from "node:assert/strict";
 * const pipeline = compilePipeline([{ kind: "line_filter", op: "!=", value: "debug" }]);
 * const stream = { key: '{"app":"web"}', labels: { app: "web" } };
 * const run = pipeline.forStream(stream);
 * assert.equal(run.process("debug: x"), undefined);
 * assert.deepEqual(run.process("error: y"), { line: "error: y", stream });
 * const parsed = compilePipeline([{ kind: "logfmt", strict: false, keepEmpty: false }]);
 * assert.deepEqual(parsed.forStream(stream).process("status=502", { trace: "t1" }), {
 *   line: "status=502", stream, metadata: { trace: "t1" }, parsed: { status: "502" },
 * });
 * // A regex that could hold the event loop for seconds on this line is not run here.
 * const costly = compilePipeline([
 *   { kind: "logfmt", strict: false, keepEmpty: false },
 *   { kind: "line_filter", op: "|~", value: "[a-z]{1000}[a-z]{1000}[a-z]{1000}9" },
 * ]);
 * const long = "x=" + "a".repeat(5000) + "9";
 * assert.throws(() => costly.forStream(stream).process(long), CostlyTestError);
 * ```
 */
export function compilePipeline(
  stages: readonly PipelineStage[],
  options: PipelineOptions = {},
): Pipeline {
  const bounded = options.bounded ?? true;
  const compiled = stages.map(compileStage);
  const probe = compileProbe(stages);
  const streams = new Map<StreamLabels, StreamPipeline>();
  // Changed stream label sets, shared by every stream of the query.
  const finals = new Map<string, StreamLabels>();
  return {
    identity: compiled.length === 0,
    forStream(stream) {
      let run = streams.get(stream);
      if (!run) {
        let probing = probe !== undefined;
        let looks = 0;
        let drops = 0;
        run = {
          stream,
          stages,
          process(line, metadata) {
            if (compiled.length === 0) {
              return metadata && Object.keys(metadata).length > 0
                ? { line, stream, metadata }
                : { line, stream };
            }
            const outer = boundTests(bounded);
            try {
              if (probing) {
                const dropped = !probe!(line, stream, metadata);
                if (dropped) drops++;
                if (++looks === PROBE_TRIAL) probing = drops * 2 >= looks;
                if (dropped) return undefined;
                // The stages test again what the probe tested: their tests get the whole bound.
                boundTests(bounded);
              }
              const entry: PipelineLine = { line, labels: new LabelsBuilder(stream, metadata) };
              for (const stage of compiled) if (!stage(entry)) return undefined;
              return { line: entry.line, ...entry.labels.final(finals) };
            } finally {
              boundTests(outer);
            }
          },
        };
        streams.set(stream, run);
      }
      return run;
    },
  };
}
