/**
 * Compiles LogQL label matchers and line filters into predicates (regexes
 * through {@linkcode compileRegex}, which never backtracks without bound).
 *
 * @module
 */

import type { LabelMatcher, LineFilter } from "./ast.ts";
import { linePatternTest, patternLiterals } from "./pipeline/pattern.ts";
import { compileRegex } from "./re2.ts";

/**
 * Compiles stream label matchers into one predicate that holds when every
 * matcher holds. A label missing from the stream counts as the empty
 * string, so `env=""` matches streams without `env` and `env!=""` requires it.
 * No matchers: every stream matches.
 *
 * @example Usage
 * ```ts
 * import { compileLabelMatchers } from "./matchers.ts";
 * import assert from "node:assert/strict";
 * const match = compileLabelMatchers([{ name: "level", op: "=~", value: "err.*" }]);
 * assert.equal(match({ level: "error" }), true);
 * assert.equal(match({ level: "xerror" }), false); // label regexes are anchored
 * ```
 *
 * @param matchers The matchers, e.g. from `parseLogQL(...).matchers`.
 * @returns A predicate over a stream's labels.
 * @throws {InvalidRegexError} If a regex matcher does not compile.
 */
export function compileLabelMatchers(
  matchers: readonly LabelMatcher[],
): (labels: Record<string, string>) => boolean {
  const tests = matchers.map(compileLabelMatcher);
  if (tests.length === 0) return () => true;
  if (tests.length === 1) return tests[0];
  return (labels) => {
    for (const test of tests) if (!test(labels)) return false;
    return true;
  };
}

function compileLabelMatcher(m: LabelMatcher): (labels: Record<string, string>) => boolean {
  const { name, value } = m;
  // Object.hasOwn: a stream without a "constructor" label must not see Object.prototype's.
  const get = (labels: Record<string, string>) => Object.hasOwn(labels, name) ? labels[name] : "";
  switch (m.op) {
    case "=":
      return (labels) => get(labels) === value;
    case "!=":
      return (labels) => get(labels) !== value;
    case "=~": {
      const re = compileRegex(value, { anchored: true });
      return (labels) => re.test(get(labels));
    }
    case "!~": {
      const re = compileRegex(value, { anchored: true });
      return (labels) => !re.test(get(labels));
    }
    default:
      throw new TypeError(`Cannot compile label matcher: unknown operator "${m.op as string}"`);
  }
}

/** Line filters compiled: see {@linkcode compileLineFilters}. */
export interface LineTest {
  /** Whether a line passes every filter. */
  readonly test: (line: string) => boolean;
  /**
   * What a character of a line may cost the filters' regexes at most, in
   * steps of one `re2js` thread (`CompiledRegex.threads` in `re2.ts`),
   * summed, since a line may run them all (0: no regex): a test costs up to
   * a line's length times the lesser of this and that length.
   */
  readonly threads: number;
}

/**
 * Compiles line filters into one test that holds when every filter holds.
 * `|=` and `!=` are case-sensitive substring tests; `|~` and `!~` search the
 * line with an unanchored regex (use `(?i)` for case-insensitive). With `or`
 * values, `|=` and `|~` hold when any value matches, `!=` and `!~` when none
 * does.
 *
 * @example Usage
 * ```ts
 * import { compileLineFilters } from "./matchers.ts";
 * import assert from "node:assert/strict";
 * const keep = compileLineFilters([
 *   { kind: "line_filter", op: "|=", value: "timeout" },
 *   { kind: "line_filter", op: "!~", value: "(?i)retrying" },
 * ]);
 * assert.equal(keep?.test("db timeout, giving up"), true);
 * assert.equal(keep?.test("db timeout, Retrying"), false);
 * assert.equal(keep?.threads, 1); // V8 runs "(?i)retrying": 8 steps from each start
 * assert.equal(compileLineFilters([]), undefined);
 * ```
 *
 * @param filters The line filters, in query order.
 * @returns The test, or `undefined` when there are no filters.
 * @throws {InvalidRegexError} If a regex filter does not compile.
 */
export function compileLineFilters(filters: readonly LineFilter[]): LineTest | undefined {
  if (filters.length === 0) return undefined;
  const compiled = filters.map(compileLineFilter);
  if (compiled.length === 1) return compiled[0];
  const threads = compiled.reduce((sum, c) => sum + c.threads, 0);
  const tests = compiled.map((c) => c.test);
  return {
    test(line) {
      for (const test of tests) if (!test(line)) return false;
      return true;
    },
    threads,
  };
}

function compileLineFilter(f: LineFilter): LineTest {
  if (f.or) {
    // `|= "a" or "b"` keeps a line matching any value; `!= "a" or "b"` one matching none.
    const positive = f.op === "|=" || f.op === "!="
      ? "|="
      : f.op === "|>" || f.op === "!>"
      ? "|>"
      : "|~";
    const compiled = [f.value, ...f.or].map((value) =>
      compileLineFilter({ kind: "line_filter", op: positive, value })
    );
    const tests = compiled.map((c) => c.test);
    const any = (line: string) => tests.some((test) => test(line));
    const threads = compiled.reduce((sum, c) => sum + c.threads, 0);
    const keepsAny = f.op === "|=" || f.op === "|~" || f.op === "|>";
    return { test: keepsAny ? any : (line) => !any(line), threads };
  }
  const { value } = f;
  switch (f.op) {
    case "|=":
      return { test: (line) => line.includes(value), threads: 0 };
    case "!=":
      return { test: (line) => !line.includes(value), threads: 0 };
    case "|~": {
      const re = compileRegex(value);
      return { test: (line) => re.test(line), threads: re.threads };
    }
    case "!~": {
      const re = compileRegex(value);
      return { test: (line) => !re.test(line), threads: re.threads };
    }
    case "|>":
      return { test: linePatternTest(value), threads: 0 };
    case "!>": {
      const test = linePatternTest(value);
      return { test: (line) => !test(line), threads: 0 };
    }
    default:
      throw new TypeError(`Cannot compile line filter: unknown operator "${f.op as string}"`);
  }
}

/**
 * Returns the substrings every matching line must contain: the values of
 * all `|=` filters without `or` and the literals of `|>` patterns without
 * `or`, without duplicates and without the empty string (which every line
 * contains). Useful to prune blocks with content filters.
 *
 * @example Usage
 * ```ts
 * import { requiredLineTerms } from "./matchers.ts";
 * import assert from "node:assert/strict";
 * const terms = requiredLineTerms([
 *   { kind: "line_filter", op: "|=", value: "timeout" },
 *   { kind: "line_filter", op: "!=", value: "debug" },
 * ]);
 * assert.deepEqual(terms, ["timeout"]);
 * ```
 *
 * @param filters The line filters.
 * @returns The required substrings, in query order.
 */
export function requiredLineTerms(filters: readonly LineFilter[]): string[] {
  const terms = new Set<string>();
  for (const f of filters) {
    if (f.or) continue;
    if (f.op === "|=" && f.value !== "") terms.add(f.value);
    // Every literal of a pattern filter is in every line it keeps.
    if (f.op === "|>") { for (const literal of patternLiterals(f.value)) terms.add(literal); }
  }
  return [...terms];
}
