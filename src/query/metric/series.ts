/**
 * The values metric queries compute: series of samples at evaluation
 * steps. A query is evaluated at `start + k·step` for `k < count` (one step
 * for an instant query); a {@linkcode Series} has a label set and, at each
 * step, a value or none. Labels are sorted by name and never empty-valued, as
 * in Prometheus' `labels.Labels`.
 *
 * @module
 */

/** The evaluation times of a query: `start + k·step` for `k < count`. */
export interface Steps {
  readonly start: bigint;
  /** Nanoseconds between steps (0n for an instant query, whose `count` is 1). */
  readonly step: bigint;
  readonly count: number;
}

/** A label set: names sorted, no empty value. */
export type Labels = Readonly<Record<string, string>>;

/** A series: its labels and its samples by step (`present[k]` 1 where there is one). */
export interface Series {
  readonly labels: Labels;
  /** The canonical key of `labels` ({@linkcode labelsKey}). */
  readonly key: string;
  readonly values: Float64Array;
  readonly present: Uint8Array;
}

/**
 * The label set of `record`: names sorted, empty values dropped.
 *
 * @example
 * ```ts
 * import { labelsOf } from "./series.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual(Object.entries(labelsOf({ b: "1", a: "2", c: "" })), [["a", "2"], ["b", "1"]]);
 * ```
 */
export function labelsOf(record: Readonly<Record<string, string>>): Labels {
  const names = Object.keys(record).filter((name) => record[name] !== "").sort(byName);
  const out: Record<string, string> = {};
  for (const name of names) out[name] = record[name];
  return out;
}

function byName(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The canonical key of a label set (its sorted pairs). */
export function labelsKey(labels: Labels): string {
  return JSON.stringify(labels);
}

/** A series of `labels` without samples over `count` steps. */
export function emptySeries(labels: Labels, count: number): Series {
  return {
    labels,
    key: labelsKey(labels),
    values: new Float64Array(count),
    present: new Uint8Array(count),
  };
}

/**
 * Orders label sets as Prometheus' `labels.Compare`: pair by pair, by name
 * then value; a set that is a prefix of the other comes first.
 *
 * @example
 * ```ts
 * import { compareLabels } from "./series.ts";
 * import assert from "node:assert/strict";
 * assert.ok(compareLabels({ a: "1" }, { a: "2" }) < 0);
 * assert.ok(compareLabels({ a: "1" }, { a: "1", b: "0" }) < 0);
 * assert.ok(compareLabels({ b: "0" }, { a: "1", b: "0" }) > 0);
 * ```
 */
export function compareLabels(a: Labels, b: Labels): number {
  const x = Object.entries(a);
  const y = Object.entries(b);
  for (let i = 0; i < x.length && i < y.length; i++) {
    if (x[i][0] !== y[i][0]) return byName(x[i][0], y[i][0]);
    if (x[i][1] !== y[i][1]) return byName(x[i][1], y[i][1]);
  }
  return x.length - y.length;
}

/**
 * Prometheus' text form of a label set, for messages: `{a="1", b="2"}`.
 *
 * @example
 * ```ts
 * import { formatLabels } from "./series.ts";
 * import assert from "node:assert/strict";
 * assert.equal(formatLabels({ app: "web", level: "error" }), '{app="web", level="error"}');
 * ```
 */
export function formatLabels(labels: Labels): string {
  return `{${Object.entries(labels).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(", ")}}`;
}

/**
 * Thrown when a metric query cannot be answered as asked (a pipeline error
 * in a series, too many series, a binary operation that cannot match): the
 * client's query, not the server, is at fault (400).
 */
export class MetricQueryError extends Error {
  /** Creates the error. */
  constructor(message: string) {
    super(message);
    this.name = "MetricQueryError";
  }
}
