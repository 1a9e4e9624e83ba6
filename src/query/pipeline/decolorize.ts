/**
 * The `| decolorize` stage: strips ANSI escape sequences (colours, cursor
 * moves) from the line.
 *
 * @module
 */

import type { Stage } from "./mod.ts";

// CSI sequences (colours, cursor moves), OSC sequences (titles, links) and
// two-character escapes. Each repetition is over a class that excludes
// what follows it, so matching stays linear in the line.
const ANSI =
  // deno-lint-ignore no-control-regex
  /(?:\u001B\[|\u009B)[0-?]*[ -/]*[@-~]|\u001B\][^\u0007\u001B]*(?:\u0007|\u001B\\)|\u001B[@-Z\\^_]/g;

/**
 * The stage of `| decolorize`.
 *
 * @example
 * ```ts
 * import { decolorizeStage } from "./decolorize.ts";
 * import { LabelsBuilder } from "./labels.ts";
 * import assert from "node:assert/strict";
 * const entry = { line: "\x1b[31merror\x1b[0m done", labels: new LabelsBuilder({ key: "{}", labels: {} }) };
 * decolorizeStage()(entry);
 * assert.equal(entry.line, "error done");
 * ```
 */
export function decolorizeStage(): Stage {
  return (entry) => {
    entry.line = entry.line.replace(ANSI, "");
    return true;
  };
}
