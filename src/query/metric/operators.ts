/**
 * The arithmetic and comparison operators of LogQL on two numbers, as Loki's
 * `syntax.MergeBinOp` computes them: `/` and `%` by zero give NaN (not
 * ±Inf), `%` is Go's `math.Mod` (the sign of the dividend), `^` is
 * `math.Pow`, and a comparison gives 1 or 0.
 *
 * @module
 */

import type { ArithmeticOp, BinaryOp, ComparisonOp } from "./ast.ts";

/** Whether `op` compares (`==`, `!=`, `>`, `>=`, `<`, `<=`). */
export function isComparison(op: BinaryOp): op is ComparisonOp {
  return op === "==" || op === "!=" || op === ">" || op === ">=" || op === "<" ||
    op === "<=";
}

/** Whether `op` is a set operator (`and`, `or`, `unless`). */
export function isSetOp(op: BinaryOp): op is "and" | "or" | "unless" {
  return op === "and" || op === "or" || op === "unless";
}

/** Go's `math.Pow`, where JavaScript differs: `1 ** ±Inf` and `1 ** NaN` are 1, `(-1) ** ±Inf` is 1. */
function pow(a: number, b: number): number {
  if (a === 1) return 1;
  if (a === -1 && !Number.isFinite(b) && !Number.isNaN(b)) return 1;
  return a ** b;
}

/**
 * `left op right` for an arithmetic or comparison operator (comparisons
 * give 1 when they hold, else 0).
 *
 * @example
 * ```ts
 * import { applyOp } from "./operators.ts";
 * import assert from "node:assert/strict";
 * assert.equal(applyOp("+", 1, 1), 2);
 * assert.ok(Number.isNaN(applyOp("/", 1, 0)));
 * assert.equal(applyOp("%", -7, 3), -1);
 * assert.equal(applyOp(">", 2, 1), 1);
 * ```
 */
export function applyOp(op: ArithmeticOp | ComparisonOp, left: number, right: number): number {
  switch (op) {
    case "+":
      return left + right;
    case "-":
      return left - right;
    case "*":
      return left * right;
    case "/":
      return right === 0 ? NaN : left / right;
    case "%":
      // JavaScript's % is Go's math.Mod, sign of the dividend included.
      return right === 0 ? NaN : left % right;
    case "^":
      return pow(left, right);
    case "==":
      return left === right ? 1 : 0;
    case "!=":
      return left !== right ? 1 : 0;
    case ">":
      return left > right ? 1 : 0;
    case ">=":
      return left >= right ? 1 : 0;
    case "<":
      return left < right ? 1 : 0;
    case "<=":
      return left <= right ? 1 : 0;
  }
}
