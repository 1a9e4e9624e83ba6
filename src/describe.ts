/**
 * How error messages show a value a client sent: its kind, and short
 * strings and numbers as they are (long strings cut to 40 characters).
 *
 * @module
 */

/**
 * Describes `value` for an error message.
 *
 * @example
 * ```ts
 * import { describeValue } from "./describe.ts";
 * import assert from "node:assert/strict";
 * assert.equal(describeValue([1]), "an array");
 * assert.equal(describeValue("12ab"), '"12ab"');
 * assert.equal(describeValue(5), "number 5");
 * assert.equal(describeValue(undefined), "nothing");
 * ```
 */
export function describeValue(value: unknown): string {
  if (value === undefined) return "nothing";
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "string") {
    return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  }
  return typeof value === "object" ? "an object" : `${typeof value} ${String(value)}`;
}
