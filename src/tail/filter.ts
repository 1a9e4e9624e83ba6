/**
 * A live tail's query, compiled once: its stream matchers (decided once per
 * stream), its pushed-down line filters with the terms its pipeline implies
 * (a line without `error` cannot pass `| json | level="error"`: it is not
 * parsed) and the rest of its pipeline (built once per stream), applied to
 * lines as they are pushed, with the query engine's own compilers, so a
 * tail keeps exactly the lines a query would.
 *
 * @module
 */

import type { PushStream } from "../ingest/payload.ts";
import type { LineMatcher } from "../query/line_scan.ts";
import type { LineJob } from "../query/line_test_worker.ts";
import { compilePipeline, type Pipeline, type PipelineResult } from "../query/pipeline/mod.ts";
import { CostlyTestError } from "../query/re2.ts";
import { lineMatcherOf, type Selection, streamFilter } from "../query/plan.ts";
import type { LogEntry } from "../query/top_entries.ts";
import type { StreamLabels } from "../storage/catalog.ts";

/** What a tail selects: a log query's matchers, pushed-down line filters and pipeline. */
export type TailSelection = Pick<Selection, "matchers" | "pushdown" | "pipeline">;

/**
 * Runs pushed lines through a tail's query.
 *
 * @example
 * ```ts
 * import { TailFilter } from "./filter.ts";
 * import assert from "node:assert/strict";
 * const filter = new TailFilter({
 *   matchers: [{ name: "app", op: "=", value: "web" }],
 *   pushdown: [{ kind: "line_filter", op: "|=", value: "x" }],
 *   pipeline: [{ kind: "logfmt", strict: false, keepEmpty: false }],
 * });
 * const stream = { key: '{"app":"web"}', labels: { app: "web" } };
 * const kept: string[] = [];
 * filter.run(stream, { key: stream.key, ts: [1n, 2n], lines: ["a=1", "x=2"] }, (e) => {
 *   kept.push(`${e.line} ${JSON.stringify(e.parsed)}`);
 * });
 * assert.deepEqual(kept, ['x=2 {"x":"2"}']);
 * ```
 */
export class TailFilter {
  readonly #selects: (stream: StreamLabels) => boolean;
  readonly #matcherOf: (stream: StreamLabels, hasMetadata: boolean) => LineMatcher;
  readonly #pipeline: Pipeline;

  /** Compiles `selection` (its regexes were checked when it was parsed). */
  constructor(selection: TailSelection) {
    this.#selects = streamFilter(selection.matchers);
    this.#matcherOf = lineMatcherOf(selection);
    this.#pipeline = compilePipeline(selection.pipeline);
  }

  /** Whether the query selects `stream` at all. */
  selects(stream: StreamLabels): boolean {
    return this.#selects(stream);
  }

  /**
   * Calls `emit` with each line of `pushed` (the lines of `stream` in one
   * payload) from `from` on that the query keeps, as the pipeline leaves it,
   * in order, up to a line too costly to run on the push's path (a line
   * filter's test, `LineMatcher.costly` in `query/line_scan.ts`, or a
   * stage's, `CostlyTestError` in `query/re2.ts`). Returns that line's
   * index, to be run elsewhere as {@linkcode job} says; the number of lines
   * when all were run.
   */
  run(
    stream: StreamLabels,
    pushed: PushStream,
    emit: (entry: LogEntry) => void,
    from = 0,
  ): number {
    const { lines, metadata } = pushed;
    if (!this.#selects(stream)) return lines.length;
    const { test, costly } = this.#matcherOf(stream, metadata !== undefined);
    const run = this.#pipeline.forStream(stream);
    for (let i = from; i < lines.length; i++) {
      const line = lines[i];
      if (costly?.(line.length)) return i;
      if (test && !test(line)) continue;
      const meta = metadata?.[i];
      let out: PipelineResult | undefined;
      try {
        out = run.process(line, meta === undefined ? undefined : JSON.parse(meta));
      } catch (error) {
        if (error instanceof CostlyTestError) return i;
        throw error;
      }
      if (out) emit({ ts: pushed.ts[i], ...out });
    }
    return lines.length;
  }

  /** Line `i` of `pushed` as a job for a worker: the line filters and pipeline {@linkcode run} runs. */
  job(stream: StreamLabels, pushed: PushStream, i: number): Required<LineJob> {
    const meta = pushed.metadata?.[i];
    return {
      // Implied terms hold only for lines without metadata (a label filter sees metadata too).
      filters: this.#matcherOf(stream, pushed.metadata !== undefined).filters,
      line: pushed.lines[i],
      pipeline: {
        stages: this.#pipeline.forStream(stream).stages,
        stream,
        metadata: meta === undefined ? undefined : JSON.parse(meta),
      },
    };
  }
}
