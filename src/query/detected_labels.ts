/**
 * The stream labels worth breaking logs down by, with their number of
 * distinct values, as Loki's `detected_labels` chooses them (loki
 * `pkg/querier/querier.go` `DetectedLabels`, `shouldRejectLabel`): a label
 * whose values are all identifiers (numbers or UUIDs) is left out, unless
 * it has at most two values that are all `0` or `1`, or it is one of
 * `cluster`, `namespace`, `instance` and `pod`, which are always kept.
 *
 * @module
 */

import { parseNumber } from "./pipeline/label_filter.ts";

/** One detected label. */
export interface DetectedLabel {
  readonly label: string;
  /** Distinct values among the streams. */
  readonly cardinality: number;
}

/** Labels kept whatever their values. */
const STATIC_LABELS = new Set(["cluster", "namespace", "instance", "pod"]);

/** A UUID as Go's `uuid.Parse` reads one: canonical, braced, URN or 32 bare hex digits. */
const UUID =
  /^(?:urn:uuid:)?[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$|^\{[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\}$|^[0-9a-f]{32}$/i;

/** A number (Go's `strconv.ParseFloat`) or a UUID. */
const isId = (value: string) => parseNumber(value) !== undefined || UUID.test(value);

/** Whether a label with `values` (distinct, non-empty) is left out. */
function rejected(values: readonly string[]): boolean {
  if (values.length === 0) return true;
  if (values.length <= 2 && values.every((v) => v === "0" || v === "1")) return false;
  return values.every(isId);
}

/**
 * The detected labels of the streams whose label sets are `streams`, sorted by name.
 *
 * @example
 * ```ts
 * import { detectLabels } from "./detected_labels.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual(
 *   detectLabels([
 *     { app: "web", pod: "7", user_id: "12", canary: "1" },
 *     { app: "api", pod: "8", user_id: "13", canary: "0" },
 *   ]),
 *   [
 *     { label: "app", cardinality: 2 },
 *     { label: "canary", cardinality: 2 },
 *     { label: "pod", cardinality: 2 },
 *   ],
 * );
 * ```
 */
export function detectLabels(streams: Iterable<Readonly<Record<string, string>>>): DetectedLabel[] {
  const values = new Map<string, Set<string>>();
  for (const labels of streams) {
    for (const [name, value] of Object.entries(labels)) {
      let seen = values.get(name);
      if (!seen) values.set(name, seen = new Set());
      if (value !== "") seen.add(value);
    }
  }
  return [...values]
    .filter(([name, seen]) => (STATIC_LABELS.has(name) ? seen.size > 0 : !rejected([...seen])))
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([label, seen]) => ({ label, cardinality: seen.size }));
}
