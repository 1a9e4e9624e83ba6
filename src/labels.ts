/**
 * The label-name rule, shared by push validation, the LogQL parser and the
 * read API: Prometheus' and Loki's `[a-zA-Z_][a-zA-Z0-9_]*`.
 *
 * @module
 */

const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** The rule as error messages state it. */
export const LABEL_NAME_RULE = "must match [a-zA-Z_][a-zA-Z0-9_]*";

/**
 * Reports whether `name` is a valid label name: `[a-zA-Z_][a-zA-Z0-9_]*`.
 *
 * @example Usage
 * ```ts
 * import { isValidLabelName } from "./labels.ts";
 * import assert from "node:assert/strict";
 * assert.equal(isValidLabelName("service_name"), true);
 * assert.equal(isValidLabelName("service-name"), false);
 * ```
 *
 * @param name The candidate label name.
 * @returns `true` if the name is valid.
 */
export function isValidLabelName(name: string): boolean {
  return LABEL_NAME.test(name);
}
