/**
 * The `| pattern "<ip> - <_> <status>"` parser: literals and captures
 * (`<name>`, or `<_>` to skip), matched as Loki does: a leading literal must
 * start the line, each capture takes the text up to the next occurrence of
 * the literal after it, a last capture takes the rest, and when a literal is
 * not found the capture before it takes the rest and matching stops.
 *
 * @module
 */

import type { PatternParser } from "../ast.ts";
import type { Stage } from "./mod.ts";

type Part = { literal: string } | { capture: string };

/** Thrown for a pattern Loki refuses. */
export class PatternError extends Error {
  /** Creates the error. */
  constructor(message: string) {
    super(message);
    this.name = "PatternError";
  }
}

/**
 * Parses a pattern into literals and captures (`_` for `<_>`).
 *
 * @example
 * ```ts
 * import { parsePattern } from "./pattern.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual(parsePattern("<ip> - <_>"), [
 *   { capture: "ip" }, { literal: " - " }, { capture: "_" },
 * ]);
 * assert.throws(() => parsePattern("<a><b>"), /consecutive captures/);
 * ```
 *
 * @throws {PatternError} Without a named capture, with consecutive or duplicate captures.
 */
export function parsePattern(pattern: string): Part[] {
  const parts: Part[] = [];
  const re = /<([A-Za-z_][A-Za-z0-9_]*)>/g;
  let at = 0;
  const seen = new Set<string>();
  for (const m of pattern.matchAll(re)) {
    if (m.index > at) parts.push({ literal: pattern.slice(at, m.index) });
    const last = parts[parts.length - 1];
    if (last && "capture" in last) {
      throw new PatternError(`consecutive captures <${last.capture}><${m[1]}> are not allowed`);
    }
    if (m[1] !== "_") {
      if (seen.has(m[1])) throw new PatternError(`duplicate capture <${m[1]}>`);
      seen.add(m[1]);
    }
    parts.push({ capture: m[1] });
    at = m.index + m[0].length;
  }
  if (at < pattern.length) parts.push({ literal: pattern.slice(at) });
  if (seen.size === 0) throw new PatternError("at least one named capture (<name>) is required");
  return parts;
}

/**
 * The stage of `parser` (the pattern was checked by the LogQL parser).
 *
 * @example
 * ```ts
 * import { patternStage } from "./pattern.ts";
 * import { LabelsBuilder } from "./labels.ts";
 * import assert from "node:assert/strict";
 * const stage = patternStage({ kind: "pattern", pattern: "<ip> - <_> <status> <size>" });
 * const labels = new LabelsBuilder({ key: "{}", labels: {} });
 * stage({ line: "1.2.3.4 - u 200 512", labels });
 * assert.deepEqual(labels.final(new Map()).parsed, { ip: "1.2.3.4", status: "200", size: "512" });
 * ```
 */
export function patternStage(parser: PatternParser): Stage {
  const parts = parsePattern(parser.pattern);
  return (entry) => {
    let rest = entry.line;
    if (rest === "") return true;
    let k = 0;
    const first = parts[0];
    if ("literal" in first) {
      if (!rest.startsWith(first.literal)) return true;
      rest = rest.slice(first.literal.length);
      k = 1;
    }
    const captures: [string, string][] = [];
    while (k < parts.length) {
      const capture = (parts[k] as { capture: string }).capture;
      if (k === parts.length - 1) {
        captures.push([capture, rest]);
        break;
      }
      const literal = (parts[k + 1] as { literal: string }).literal;
      k += 2;
      const i = rest.indexOf(literal);
      if (i < 0) {
        captures.push([capture, rest]);
        break;
      }
      captures.push([capture, rest.slice(0, i)]);
      rest = rest.slice(i + literal.length);
    }
    for (const [name, value] of captures) if (name !== "_") entry.labels.setParsed(name, value);
    return true;
  };
}
