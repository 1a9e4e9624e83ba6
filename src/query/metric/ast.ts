/**
 * The syntax tree of LogQL metric queries, what `parse.ts` produces and
 * `evaluate.ts` consumes (Loki's `pkg/logql/syntax` `SampleExpr` kinds): range
 * aggregations over a log selection, vector aggregations, binary operations
 * with vector matching, number literals, `vector(…)` and `label_replace`.
 * Types only.
 *
 * @module
 */

import type { LabelMatcher, LabelPredicate, PipelineStage } from "../ast.ts";

/** A range aggregation function: `count_over_time`, `rate`, … */
export type RangeOp =
  | "count_over_time"
  | "rate"
  | "bytes_over_time"
  | "bytes_rate"
  | "absent_over_time"
  | "sum_over_time"
  | "avg_over_time"
  | "min_over_time"
  | "max_over_time"
  | "first_over_time"
  | "last_over_time"
  | "stddev_over_time"
  | "stdvar_over_time"
  | "quantile_over_time"
  | "rate_counter";

/** A vector aggregation operator. */
export type VectorOp =
  | "sum"
  | "avg"
  | "min"
  | "max"
  | "count"
  | "stddev"
  | "stdvar"
  | "topk"
  | "bottomk"
  | "sort"
  | "sort_desc";

/** An arithmetic operator. */
export type ArithmeticOp = "+" | "-" | "*" | "/" | "%" | "^";
/** A comparison operator. */
export type ComparisonOp = "==" | "!=" | ">" | ">=" | "<" | "<=";
/** A set operator. */
export type SetOp = "and" | "or" | "unless";
/** A binary operator. */
export type BinaryOp = ArithmeticOp | ComparisonOp | SetOp;

/**
 * `by (a, b)` or `without (a, b)`. `by ()` (and no grouping at all on a
 * vector aggregation) keeps no label; `without ()` keeps every one.
 */
export interface Grouping {
  readonly without: boolean;
  readonly labels: readonly string[];
}

/**
 * `| unwrap latency`, `| unwrap duration(took)`, `| unwrap bytes(size)`, then
 * label filters on the result (`| __error__=""`).
 */
export interface Unwrap {
  /** The label whose value becomes the sample. */
  readonly label: string;
  /** How the value is read: a float, a Go duration in seconds, or a byte size. */
  readonly conversion: "float" | "duration" | "bytes";
  /** Label filters applied after the conversion. */
  readonly filters: readonly LabelPredicate[];
}

/**
 * `rate({app="web"} |= "timeout" [5m] offset 1h)`: one sample per line (or
 * per unwrapped value) of the selection, aggregated over the `range` before
 * each step.
 */
export interface RangeAggregation {
  readonly kind: "range_aggregation";
  readonly op: RangeOp;
  /** `quantile_over_time`'s φ. */
  readonly param?: number;
  readonly matchers: readonly LabelMatcher[];
  readonly pipeline: readonly PipelineStage[];
  readonly unwrap?: Unwrap;
  /** The range, in nanoseconds (positive). */
  readonly range: bigint;
  /** How far back the ranges are moved, in nanoseconds (0n: none). */
  readonly offset: bigint;
  /** `avg_over_time(… | unwrap x [1m]) by (a)`: samples grouped before aggregating. */
  readonly grouping?: Grouping;
}

/** `sum by (level) (…)`, `topk(5, …)`. */
export interface VectorAggregation {
  readonly kind: "vector_aggregation";
  readonly op: VectorOp;
  /** `topk`'s and `bottomk`'s k. */
  readonly param?: number;
  /** Absent grouping is `by ()`: one series without labels. */
  readonly grouping: Grouping;
  readonly expr: MetricExpr;
}

/** How the samples of two vectors are paired (`on`, `ignoring`, `group_left`, `group_right`). */
export interface VectorMatching {
  /** `on (…)`: match on these labels only; otherwise on all but the `ignoring (…)` ones. */
  readonly on: boolean;
  readonly labels: readonly string[];
  readonly card: "one-to-one" | "many-to-one" | "one-to-many";
  /** Labels `group_left (…)`/`group_right (…)` copy from the "one" side. */
  readonly include: readonly string[];
}

/** `a + b`, `a > bool 5`, `a and on (x) b`. */
export interface BinaryExpr {
  readonly kind: "binary";
  readonly op: BinaryOp;
  /** `bool`: comparisons answer 0 or 1 instead of filtering. */
  readonly bool: boolean;
  readonly matching: VectorMatching;
  readonly left: MetricExpr;
  readonly right: MetricExpr;
}

/** A number: a scalar that pairs with every sample of a vector. */
export interface NumberLiteral {
  readonly kind: "number";
  readonly value: number;
}

/** `vector(1)`: one sample without labels at every step. */
export interface VectorLiteral {
  readonly kind: "vector";
  readonly value: number;
}

/** `label_replace(expr, "dst", "$1", "src", "(.*)")`. */
export interface LabelReplace {
  readonly kind: "label_replace";
  readonly expr: MetricExpr;
  readonly dst: string;
  readonly replacement: string;
  readonly src: string;
  /** The RE2 pattern, matched against the whole value. */
  readonly regex: string;
}

/**
 * A metric query.
 *
 * @example Usage
 * ```ts
 * import type { MetricExpr } from "./ast.ts";
 * import { parseMetricQuery } from "./parse.ts";
 * import assert from "node:assert/strict";
 * const two: MetricExpr = { kind: "number", value: 2 };
 * assert.deepEqual(parseMetricQuery("1 + 1"), two);
 * ```
 */
export type MetricExpr =
  | RangeAggregation
  | VectorAggregation
  | BinaryExpr
  | NumberLiteral
  | VectorLiteral
  | LabelReplace;
