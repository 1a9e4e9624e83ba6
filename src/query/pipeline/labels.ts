/**
 * The labels of a line on its way through the pipeline, in Loki's three
 * categories: its stream's labels, its structured metadata and the labels
 * parsers and `label_format` add. A stage reads a label by name whatever its
 * category (structured metadata first, then parsed labels, then the
 * stream's, as Loki's `LabelsBuilder` does), so `| trace_id="…"` filters on
 * structured metadata as on any label.
 *
 * A stage's failure (`__error__`, `__error_details__`) is kept apart from the
 * labels, as Loki keeps it: a JSON key named `__error__` is a parsed label
 * like any other and fails no line; label filters on `__error__` and
 * `| drop __error__` act on the failure; `| keep` never removes it.
 *
 * @module
 */

import type { StreamLabels } from "../../storage/catalog.ts";

/** Loki's suffix for a parsed label whose name a stream label already has. */
export const EXTRACTED_SUFFIX = "_extracted";
/** The label a failing stage sets (`JSONParserErr`, `LogfmtParserErr`, …). */
export const ERROR_LABEL = "__error__";
/** The label holding why a stage failed. */
export const ERROR_DETAILS_LABEL = "__error_details__";

/** Whether `name` is one of the labels a failure shows as. */
export function isErrorLabel(
  name: string,
): name is typeof ERROR_LABEL | typeof ERROR_DETAILS_LABEL {
  return name === ERROR_LABEL || name === ERROR_DETAILS_LABEL;
}

/** The canonical key of a label set: sorted JSON, as the catalog keys streams. */
export function streamKey(labels: Record<string, string>): string {
  return JSON.stringify(
    Object.fromEntries(Object.entries(labels).sort(([a], [b]) => a < b ? -1 : a > b ? 1 : 0)),
  );
}

/** The final labels of a line, by category. */
export interface FinalLabels {
  /** The stream-category labels (the stream's own object when no stage changed them). */
  stream: StreamLabels;
  /** Structured metadata, when there is some. */
  metadata?: Record<string, string>;
  /** Labels added by parsers and `label_format`, when there are some. */
  parsed?: Record<string, string>;
}

/**
 * The labels of one line, by category.
 *
 * @example
 * ```ts
 * import { LabelsBuilder } from "./labels.ts";
 * import assert from "node:assert/strict";
 * const stream = { key: '{"app":"web"}', labels: { app: "web" } };
 * const b = new LabelsBuilder(stream, { trace_id: "abc" });
 * assert.equal(b.get("trace_id"), "abc");
 * b.setParsed("app", "x"); // a stream label: becomes app_extracted
 * b.setParsed("trace_id", "def"); // structured metadata too
 * b.setParsed("status", "200");
 * assert.deepEqual(b.final(new Map()), {
 *   stream,
 *   metadata: { trace_id: "abc" },
 *   parsed: { app_extracted: "x", trace_id_extracted: "def", status: "200" },
 * });
 * ```
 */
export class LabelsBuilder {
  readonly #base: StreamLabels;
  #stream: Record<string, string>;
  #streamChanged = false;
  #metadata: Record<string, string>;
  #parsed: Record<string, string> = {};
  #error: string | undefined;
  #errorDetails: string | undefined;

  /**
   * The labels of a line that ended a pipeline with `final`, to go through
   * more stages (a failure among its parsed labels is a failure again).
   */
  static of(final: FinalLabels): LabelsBuilder {
    const labels = new LabelsBuilder(final.stream, final.metadata);
    for (const [name, value] of Object.entries(final.parsed ?? {})) {
      if (!isErrorLabel(name)) labels.#parsed[name] = value;
    }
    labels.#error = final.parsed?.[ERROR_LABEL];
    labels.#errorDetails = final.parsed?.[ERROR_DETAILS_LABEL];
    return labels;
  }

  /** The labels of a line of `stream` with structured `metadata`. */
  constructor(stream: StreamLabels, metadata?: Record<string, string>) {
    this.#base = stream;
    this.#stream = stream.labels;
    this.#metadata = metadata ?? {};
  }

  /** The value of label `name` (metadata, then parsed, then stream), or `undefined`. */
  get(name: string): string | undefined {
    if (Object.hasOwn(this.#metadata, name)) return this.#metadata[name];
    if (Object.hasOwn(this.#parsed, name)) return this.#parsed[name];
    if (Object.hasOwn(this.#stream, name)) return this.#stream[name];
    return undefined;
  }

  /** Whether the line's stream (before any stage) has label `name`. */
  streamHas(name: string): boolean {
    return Object.hasOwn(this.#base.labels, name);
  }

  /** Whether a stage failed on this line. */
  hasError(): boolean {
    return this.#error !== undefined;
  }

  /** Records a failure: `__error__` (the first one stays) and its details. */
  setError(error: string, details: string): void {
    if (this.hasError()) return;
    this.#error = error;
    this.#errorDetails = details;
  }

  /**
   * What the failure label `name` holds (`""` when nothing failed): the value
   * a label filter on it compares, as Loki's filters read the error alone.
   */
  errorLabel(name: typeof ERROR_LABEL | typeof ERROR_DETAILS_LABEL): string {
    return (name === ERROR_LABEL ? this.#error : this.#errorDetails) ?? "";
  }

  /** Forgets the failure label `name` (`| drop __error__`). */
  clearErrorLabel(name: typeof ERROR_LABEL | typeof ERROR_DETAILS_LABEL): void {
    if (name === ERROR_LABEL) this.#error = undefined;
    else this.#errorDetails = undefined;
  }

  /** The name a parsed label `name` gets: with `_extracted` when the stream or the metadata has it. */
  parsedName(name: string): string {
    return this.streamHas(name) || Object.hasOwn(this.#metadata, name)
      ? name + EXTRACTED_SUFFIX
      : name;
  }

  /**
   * Adds a parsed label; a name the stream or the structured metadata
   * already has gets the `_extracted` suffix, as in Loki (since 3.7 for
   * metadata: parsed labels no longer shadow it). A name already parsed on
   * this line keeps its first value (a duplicate key, or `| json | logfmt`
   * finding it twice), as Loki's parsers skip extracted names, unless
   * `replace` (`| json name="path"`, which Loki lets overwrite).
   */
  setParsed(name: string, value: string, replace = false): void {
    name = this.parsedName(name);
    if (!replace && Object.hasOwn(this.#parsed, name)) return;
    if (Object.hasOwn(this.#stream, name)) delete this.#copyStream()[name];
    this.#parsed[name] = value;
  }

  /**
   * Sets parsed label `name`, removing a stream label or metadata of that
   * name (Loki's `Set(ParsedLabel, …)`, as `label_format` sets labels).
   */
  setOver(name: string, value: string): void {
    if (Object.hasOwn(this.#metadata, name)) delete this.#copyMetadata()[name];
    if (Object.hasOwn(this.#stream, name)) delete this.#copyStream()[name];
    this.#parsed[name] = value;
  }

  /** Renames label `from` to parsed label `to`; nothing when `from` is missing. */
  rename(from: string, to: string): void {
    const value = this.get(from);
    if (value === undefined || from === to) return;
    this.delete(from);
    this.setOver(to, value);
  }

  /** Removes label `name` from every category. */
  delete(name: string): void {
    delete this.#parsed[name];
    if (Object.hasOwn(this.#metadata, name)) delete this.#copyMetadata()[name];
    if (Object.hasOwn(this.#stream, name)) delete this.#copyStream()[name];
  }

  #metadataCopied = false;

  #copyMetadata(): Record<string, string> {
    if (!this.#metadataCopied) {
      this.#metadata = { ...this.#metadata };
      this.#metadataCopied = true;
    }
    return this.#metadata;
  }

  #copyStream(): Record<string, string> {
    if (!this.#streamChanged) {
      this.#stream = { ...this.#stream };
      this.#streamChanged = true;
    }
    return this.#stream;
  }

  /** Every label name, in every category (a failure's are not among them). */
  names(): string[] {
    return [
      ...new Set([
        ...Object.keys(this.#stream),
        ...Object.keys(this.#metadata),
        ...Object.keys(this.#parsed),
      ]),
    ];
  }

  /** Every label with its value (as {@linkcode get} sees it), and the failure's. */
  all(): Record<string, string> {
    return this.#withError({ ...this.#stream, ...this.#parsed, ...this.#metadata });
  }

  /** `labels` with the failure's labels set, which win over parsed ones of their names. */
  #withError(labels: Record<string, string>): Record<string, string> {
    if (this.#error !== undefined) labels[ERROR_LABEL] = this.#error;
    if (this.#errorDetails !== undefined) labels[ERROR_DETAILS_LABEL] = this.#errorDetails;
    return labels;
  }

  /**
   * The final labels by category; a changed stream label set is looked up
   * in (or added to) `streams`, so equal sets share one object.
   */
  final(streams: Map<string, StreamLabels>): FinalLabels {
    let stream = this.#base;
    if (this.#streamChanged) {
      const key = streamKey(this.#stream);
      if (key !== stream.key) {
        let found = streams.get(key);
        if (!found) streams.set(key, found = { key, labels: this.#stream });
        stream = found;
      }
    }
    const out: FinalLabels = { stream };
    if (Object.keys(this.#metadata).length > 0) out.metadata = this.#metadata;
    const parsed = this.#error === undefined && this.#errorDetails === undefined
      ? this.#parsed
      : this.#withError({ ...this.#parsed });
    if (Object.keys(parsed).length > 0) out.parsed = parsed;
    return out;
  }
}
