/**
 * The labels of a range aggregation's samples, as Loki's sample extractors
 * give them (`pkg/logql/log/metrics_extraction.go`, `LabelsBuilder`): every
 * label a line ends the pipeline with — the stream's, its structured
 * metadata (a name the stream already has becomes `<name>_extracted`) and
 * the parsed ones — without empty values; minus the unwrapped label; reduced
 * to the grouping when there is one (`by` keeps only its labels, `without`
 * drops its labels). A line that still carries `__error__` makes the query
 * fail, as Loki refuses errors in metrics unless a label filter skips them.
 *
 * @module
 */

import type { StreamLabels } from "../../storage/catalog.ts";
import type { FinalLabels } from "../pipeline/labels.ts";
import { ERROR_LABEL, EXTRACTED_SUFFIX } from "../pipeline/labels.ts";
import type { Grouping } from "./ast.ts";
import { formatLabels, type Labels, labelsKey, labelsOf, MetricQueryError } from "./series.ts";

/** Every label of a line at the end of its pipeline, in one set (Loki's `LabelsResult.Labels`). */
export function lineLabels(final: FinalLabels): Record<string, string> {
  const stream = final.stream.labels;
  const out: Record<string, string> = { ...stream };
  for (const [name, value] of Object.entries(final.metadata ?? {})) {
    out[Object.hasOwn(stream, name) ? name + EXTRACTED_SUFFIX : name] = value;
  }
  return Object.assign(out, final.parsed);
}

/**
 * The error Loki answers for a series whose samples carry `__error__`.
 *
 * @example
 * ```ts
 * import { pipelineError } from "./sample_labels.ts";
 * import assert from "node:assert/strict";
 * const e = pipelineError({ __error__: "JSONParserErr", app: "web" });
 * assert.match(e.message, /^pipeline error: 'JSONParserErr' for series: '\{__error__="JSONParserErr", app="web"\}'/);
 * ```
 */
export function pipelineError(labels: Labels): MetricQueryError {
  const error = labels[ERROR_LABEL];
  return new MetricQueryError(
    `pipeline error: '${error}' for series: '${formatLabels(labels)}'.\n` +
      `Use a label filter to intentionally skip this error. (e.g | __error__!="${error}").\n` +
      'To skip all potential errors you can match empty errors.(e.g __error__="")\n' +
      'The label filter can also be specified after unwrap. (e.g | unwrap latency | __error__="" )',
  );
}

/** A sample's series identity: labels and their key. */
export interface SampleSeries {
  readonly labels: Labels;
  readonly key: string;
}

/**
 * Labels the samples of one range aggregation: the grouping and the
 * unwrapped label are fixed, lines vary.
 *
 * @example
 * ```ts
 * import { SampleLabeler } from "./sample_labels.ts";
 * import assert from "node:assert/strict";
 * const stream = { key: '{"app":"web","level":"info"}', labels: { app: "web", level: "info" } };
 * const byLevel = new SampleLabeler({ without: false, labels: ["level"] });
 * assert.deepEqual(byLevel.of({ stream }).labels, { level: "info" });
 * const all = new SampleLabeler(undefined, "took");
 * assert.deepEqual(all.of({ stream, parsed: { took: "5", user: "u1" } }).labels, {
 *   app: "web",
 *   level: "info",
 *   user: "u1",
 * });
 * ```
 */
export class SampleLabeler {
  readonly #grouping?: Grouping;
  readonly #dropped: ReadonlySet<string>;
  readonly #keepErrors: boolean;
  readonly #byStream = new Map<StreamLabels, SampleSeries>();

  /**
   * A labeler for `grouping` (none: every label), without the `unwrapped`
   * label; with `keepErrors`, lines carrying `__error__` are samples like
   * the others (grouped as they are) instead of failing the query.
   */
  constructor(grouping?: Grouping, unwrapped?: string, keepErrors = false) {
    this.#grouping = grouping;
    this.#keepErrors = keepErrors;
    const dropped = grouping?.without ? [...grouping.labels] : [];
    if (unwrapped !== undefined && !(grouping && !grouping.without)) dropped.push(unwrapped);
    this.#dropped = new Set(dropped);
  }

  /**
   * Whether the series of a stream's lines, without a pipeline, cannot
   * depend on their structured metadata: the grouping keeps only labels the
   * stream has (metadata of those names is renamed, not used).
   */
  streamDecides(stream: StreamLabels): boolean {
    const g = this.#grouping;
    return g !== undefined && !g.without &&
      g.labels.every((name) => Object.hasOwn(stream.labels, name));
  }

  /** The series of a line with the final labels `final`. */
  of(final: FinalLabels): SampleSeries {
    if (final.metadata === undefined && final.parsed === undefined) {
      let found = this.#byStream.get(final.stream);
      if (!found) this.#byStream.set(final.stream, found = this.#series(final.stream.labels));
      return found;
    }
    return this.#series(lineLabels(final));
  }

  #series(all: Readonly<Record<string, string>>): SampleSeries {
    if (all[ERROR_LABEL] && !this.#keepErrors) throw pipelineError(labelsOf(all));
    const g = this.#grouping;
    let picked: Record<string, string>;
    if (g && !g.without) {
      picked = {};
      for (const name of g.labels) if (Object.hasOwn(all, name)) picked[name] = all[name];
    } else if (this.#dropped.size > 0) {
      picked = {};
      for (const name of Object.keys(all)) if (!this.#dropped.has(name)) picked[name] = all[name];
    } else picked = all;
    const labels = labelsOf(picked);
    return { labels, key: labelsKey(labels) };
  }
}
