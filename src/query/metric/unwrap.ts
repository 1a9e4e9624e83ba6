/**
 * `| unwrap x`: a label's value as the sample of a line (Loki's
 * `labelSampleExtractor`). A line without the label (or with it empty) gives
 * no sample; a value that does not convert gives 0 with `__error__` set to
 * `SampleExtractionErr` and `__error_details__` saying why; then the label
 * filters written after the unwrap run, and may drop the line
 * (`| __error__=""`).
 *
 * @module
 */

import type { FinalLabels } from "../pipeline/labels.ts";
import { LabelsBuilder } from "../pipeline/labels.ts";
import {
  labelFilterStage,
  parseBytes,
  parseDuration,
  parseNumber,
} from "../pipeline/label_filter.ts";
import type { Stage } from "../pipeline/mod.ts";
import type { StreamLabels } from "../../storage/catalog.ts";
import type { Unwrap } from "./ast.ts";
import { lineLabels } from "./sample_labels.ts";

/** The `__error__` value of a value that does not convert. */
export const SAMPLE_EXTRACTION_ERR = "SampleExtractionErr";

const CONVERSIONS: Readonly<
  Record<Unwrap["conversion"], { parse: (text: string) => number | undefined; what: string }>
> = {
  float: { parse: parseNumber, what: "a float (strconv.ParseFloat)" },
  duration: { parse: parseDuration, what: "a duration (time.ParseDuration)" },
  bytes: { parse: parseBytes, what: "a byte size (humanize.ParseBytes)" },
};

/** A line's sample: its value and its labels after the unwrap's filters. */
export interface UnwrappedSample {
  value: number;
  labels: FinalLabels;
}

/**
 * Reads the samples of an unwrap.
 *
 * @example
 * ```ts
 * import { Unwrapper } from "./unwrap.ts";
 * import assert from "node:assert/strict";
 * const stream = { key: "{}", labels: {} };
 * const took = new Unwrapper({ label: "took", conversion: "duration", filters: [] });
 * assert.equal(took.sample({ stream, parsed: { took: "250ms" } })?.value, 0.25);
 * assert.equal(took.sample({ stream, parsed: {} }), undefined);
 * const bad = took.sample({ stream, parsed: { took: "soon" } });
 * assert.equal(bad?.labels.parsed?.__error__, "SampleExtractionErr");
 * ```
 */
export class Unwrapper {
  readonly #label: string;
  readonly #conversion: (typeof CONVERSIONS)[Unwrap["conversion"]];
  readonly #filters: Stage[];
  readonly #finals = new Map<string, StreamLabels>();

  /** A reader of `unwrap`'s samples. */
  constructor(unwrap: Unwrap) {
    this.#label = unwrap.label;
    this.#conversion = CONVERSIONS[unwrap.conversion];
    this.#filters = unwrap.filters.map(labelFilterStage);
  }

  /** The sample of a line with the final labels `final`; `undefined`: none. */
  sample(final: FinalLabels): UnwrappedSample | undefined {
    const all = lineLabels(final);
    const text = Object.hasOwn(all, this.#label) ? all[this.#label] : "";
    if (text === "") return undefined;
    const parsed = this.#conversion.parse(text);
    const failed = parsed === undefined ||
      (!Number.isFinite(parsed) && !/^[-+]?(?:inf|infinity|nan)$/i.test(text));
    if (!failed && this.#filters.length === 0) return { value: parsed, labels: final };
    const labels = LabelsBuilder.of(final);
    if (failed) {
      labels.setError(
        SAMPLE_EXTRACTION_ERR,
        `cannot parse ${JSON.stringify(text)} of label ${this.#label} as ${this.#conversion.what}`,
      );
    }
    const entry = { line: "", labels };
    for (const filter of this.#filters) if (!filter(entry)) return undefined;
    return { value: failed ? 0 : parsed, labels: labels.final(this.#finals) };
  }
}
