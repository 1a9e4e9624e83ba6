/**
 * The command-line helpers the bench's commands share: their mistakes are
 * {@linkcode UsageError}s, which each command prints with its name before
 * exiting with code 2.
 *
 * @module
 */

import { parseArgs, type ParseArgsOptionsConfig } from "node:util";

/** A command-line mistake: the command prints it and exits with code 2. */
export class UsageError extends Error {}

/**
 * `parseArgs` of `args`, strict and without positionals; a mistake is a
 * {@linkcode UsageError} (Node's advice about `--`, which does not apply, cut).
 *
 * @example
 * ```ts
 * import { parseFlags } from "./flags.ts";
 * const { values } = parseFlags(["--lines", "5"], { lines: { type: "string" } });
 * console.log(values.lines); // 5
 * ```
 * @throws {UsageError} For an unknown flag, a missing value or a positional argument.
 */
export function parseFlags<T extends ParseArgsOptionsConfig>(args: string[], options: T) {
  try {
    return parseArgs({ args, options, strict: true, allowPositionals: false });
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    throw new UsageError(message.replace(/\. To specify a positional argument.*$/s, ""));
  }
}

/**
 * The integer `value` of `--flag`, at least `min`.
 *
 * @example
 * ```ts
 * import { intFlag } from "./flags.ts";
 * console.log(intFlag("rounds", "3", 1)); // 3
 * ```
 * @throws {UsageError} Naming the flag, if `value` is not such an integer.
 */
export function intFlag(flag: string, value: string, min: number): number {
  const n = Number(value);
  if (!/^-?\d+$/.test(value) || !Number.isSafeInteger(n) || n < min) {
    throw new UsageError(`Invalid --${flag} "${value}": expected an integer >= ${min}`);
  }
  return n;
}
