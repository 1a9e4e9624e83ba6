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
 * Parses a pattern into literals and captures (`_` for `<_>`), as `| pattern`
 * takes it: at least one named capture.
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
  const parts = splitPattern(pattern);
  if (!parts.some((p) => "capture" in p && p.capture !== "_")) {
    throw new PatternError("at least one named capture (<name>) is required");
  }
  return parts;
}

/** Literals and captures of `pattern`; consecutive or duplicate named captures are refused. */
function splitPattern(pattern: string): Part[] {
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
  return parts;
}

/**
 * The test of a pattern line filter (`|> "<_> GET <_> 500"`): `<_>` stands for
 * any non-empty text, the literals must follow one another in the line, and
 * the line must end where the pattern does — Loki's `pattern.Matcher.Test`,
 * quirks included (a leading literal need not start the line).
 *
 * @example
 * ```ts
 * import { linePatternTest } from "./pattern.ts";
 * import assert from "node:assert/strict";
 * const test = linePatternTest("<_> bar <_>");
 * assert.equal(test("foo bar baz"), true);
 * assert.equal(test(" bar "), false); // captures may not be empty
 * assert.equal(linePatternTest("<_> baz")("foo bar baz"), true);
 * assert.equal(linePatternTest("<_> bar")("foo bar baz"), false);
 * assert.throws(() => linePatternTest("<ip> <_>"), /named captures are not allowed/);
 * ```
 *
 * @throws {PatternError} For a named capture (line filters only skip text), or consecutive captures.
 */
export function linePatternTest(pattern: string): (line: string) => boolean {
  const parts = splitPattern(pattern);
  const named = parts.find((p) => "capture" in p && p.capture !== "_");
  if (named) {
    throw new PatternError(
      `named captures are not allowed in line filter patterns: found <${
        (named as { capture: string }).capture
      }>`,
    );
  }
  const endsOnCapture = parts.length > 0 && "capture" in parts[parts.length - 1];
  return (line) => {
    if (line === "" || parts.length === 0) return line === "" && parts.length === 0;
    let at = 0;
    for (let i = 0; i < parts.length; i++) {
      const part = parts[i];
      if (!("literal" in part)) continue;
      const j = line.indexOf(part.literal, at);
      if (j < 0) return false;
      // A literal right where the last one ended leaves an empty capture between.
      if (i !== 0 && j === at) return false;
      at = j + part.literal.length;
    }
    return endsOnCapture === (at !== line.length);
  };
}

/**
 * The literals of a pattern line filter: text every matching line holds.
 *
 * @example
 * ```ts
 * import { patternLiterals } from "./pattern.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual(patternLiterals("<_> GET <_> 500"), [" GET ", " 500"]);
 * ```
 */
export function patternLiterals(pattern: string): string[] {
  return splitPattern(pattern).flatMap((p) => ("literal" in p ? [p.literal] : []));
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
