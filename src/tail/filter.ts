/**
 * A live tail's query, compiled once: its stream matchers (decided once per
 * stream), its pushed-down line filters and the rest of its pipeline (built
 * once per stream), applied to lines as they are pushed, with the query
 * engine's own compilers, so a tail keeps exactly the lines a query would.
 *
 * @module
 */

import type { PushStream } from "../ingest/payload.ts";
import { compileLineFilters } from "../query/matchers.ts";
import { compilePipeline, type Pipeline } from "../query/pipeline/mod.ts";
import { type Selection, streamFilter } from "../query/plan.ts";
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
  readonly #test?: (line: string) => boolean;
  readonly #pipeline: Pipeline;

  /** Compiles `selection` (its regexes were checked when it was parsed). */
  constructor(selection: TailSelection) {
    this.#selects = streamFilter(selection.matchers);
    this.#test = compileLineFilters(selection.pushdown);
    this.#pipeline = compilePipeline(selection.pipeline);
  }

  /** Whether the query selects `stream` at all. */
  selects(stream: StreamLabels): boolean {
    return this.#selects(stream);
  }

  /**
   * Calls `emit` with each line of `pushed` (the lines of `stream` in one
   * payload) that the query keeps, as the pipeline leaves it, in order.
   */
  run(stream: StreamLabels, pushed: PushStream, emit: (entry: LogEntry) => void): void {
    if (!this.#selects(stream)) return;
    const run = this.#pipeline.forStream(stream);
    const test = this.#test;
    const { ts, lines, metadata } = pushed;
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i];
      if (test && !test(line)) continue;
      const meta = metadata?.[i];
      const out = run.process(line, meta === undefined ? undefined : JSON.parse(meta));
      if (out) emit({ ts: ts[i], ...out });
    }
  }
}
