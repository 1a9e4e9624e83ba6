/**
 * The `| regexp "(?P<name>re)…"` parser: the named groups of the pattern's
 * first match in the line as parsed labels (a group that did not take part
 * gives `""`); no match adds nothing. RE2 semantics, linear time (`re2js`).
 *
 * @module
 */

import { RE2JS } from "re2js";
import type { RegexpParser } from "../ast.ts";
import type { Stage } from "./mod.ts";
import { checkTestCost } from "../re2.ts";

/**
 * The named groups of an RE2 `pattern`, in order of appearance.
 *
 * @example
 * ```ts
 * import { namedGroups } from "./regexp.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual(namedGroups("(?P<a>x)(y)(?P<b>z)"), ["a", "b"]);
 * ```
 */
export function namedGroups(pattern: string): string[] {
  const groups = RE2JS.compile(pattern).namedGroups() as Record<string, number>;
  return Object.entries(groups).sort(([, a], [, b]) => a - b).map(([name]) => name);
}

/**
 * The stage of `parser` (the pattern was checked by the LogQL parser).
 *
 * @example
 * ```ts
 * import { regexpStage } from "./regexp.ts";
 * import { LabelsBuilder } from "./labels.ts";
 * import assert from "node:assert/strict";
 * const stage = regexpStage({ kind: "regexp", pattern: "(?P<method>[A-Z]+) (?P<path>\\S+)" });
 * const labels = new LabelsBuilder({ key: "{}", labels: {} });
 * stage({ line: "x GET /a 200", labels });
 * assert.deepEqual(labels.final(new Map()).parsed, { method: "GET", path: "/a" });
 * ```
 */
export function regexpStage(parser: RegexpParser): Stage {
  const re = RE2JS.compile(parser.pattern);
  const names = namedGroups(parser.pattern);
  const threads = re.programSize();
  return (entry) => {
    checkTestCost(entry.line.length, threads);
    const m = re.matcher(entry.line);
    if (!m.find()) return true;
    for (const name of names) entry.labels.setParsed(name, m.group(name) ?? "");
    return true;
  };
}
