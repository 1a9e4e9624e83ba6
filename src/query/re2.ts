/**
 * RE2 regexes (what LogQL users write), compiled so that they never
 * backtrack without bound.
 *
 * As in Loki, label regexes (`=~`, `!~`) are fully anchored (`^(?:…)$`) and
 * line filter regexes (`|~`, `!~`) search anywhere in the line.
 * {@linkcode compileRegex} runs each pattern on one of two engines:
 *
 * - V8's `RegExp` (fast, but backtracking), only for patterns whose
 *   backtracking is provably bounded: without `*`, `+` or `{n,}`, and whose
 *   ways through the pattern (each `|` and `?` multiplies them) times the
 *   most characters one matches (`x{n}` matches n of `x`) are at most
 *   {@linkcode MAX_BACKTRACKING_STEPS}. From each start position V8 then
 *   takes at most that many steps, so matching takes time linear in the line.
 *   `timeout`, `(?i)error|warn` and `" 5[0-9]{2} "` run here. Linear, but
 *   2,048 steps from each start of a 256 KiB line take 1.5 s: a search whose
 *   steps could pass the bound of a line on the event loop is costly there
 *   too ({@linkcode V8_STEPS_PER_THREAD_STEP}).
 * - `re2js`, a port of RE2 (linear time whatever the pattern), for every
 *   other pattern, such as `err.*timeout` or `(a+)+$`. Linear, but a
 *   pattern of many counted repeats (`[a-z]{1000}` a few times over) may
 *   cost milliseconds a line: a query past its deadline stops at the next
 *   line it tests.
 *
 * RE2 decides which patterns are valid (it rejects backreferences and
 * lookaround); one the translation to V8 syntax (below) cannot express runs
 * on `re2js` whatever its shape.
 * Patterns longer than {@linkcode MAX_REGEX_LENGTH} are refused before
 * compiling, and error messages quote at most the first 100 characters of a
 * pattern.
 *
 * For V8, patterns are compiled with the `u` flag so that they work on code
 * points like RE2 does (`.` matches one character, not half a surrogate pair;
 * `\p{L}` works; `(?i)` folds Unicode case). Because `u` makes JavaScript
 * strict about escapes, RE2 constructs that differ are first rewritten:
 *
 * - a leading flag group `(?i)`, `(?s)`, `(?m)` (or a combination) becomes
 *   the JS flag (`(?U)` has none: such a pattern runs on `re2js`);
 * - escaped punctuation (`\-`, `\_`, `\:`, `\"`, …) and literal `{`, `}`,
 *   `]` that are not part of a quantifier or class are escaped the way `u`
 *   accepts;
 * - `.` without `(?s)` becomes `[^\n]` (RE2 excludes only `\n`; JS would also
 *   exclude `\r`, U+2028 and U+2029);
 * - `\A`, `\z`, `\Q…\E`, `\x{…}`, `\pL`, `\p{Greek}` (scripts), `(?P<name>…)`
 *   and POSIX classes such as `[[:alpha:]]` map to their JS equivalents.
 *
 * Remaining differences from RE2 on the V8 engine: `(?s:…)` does not widen
 * `.`, which is already translated, and `\s` also matches Unicode spaces.
 *
 * @module
 */

import { RE2JS, RE2JSException, RE2JSSyntaxException } from "re2js";
import { checkDeadline } from "./deadline.ts";

/**
 * The longest regex pattern accepted, in UTF-16 code units. Loki sets no
 * limit, but RE2 bounds its compiled program; a limit on the text keeps
 * compiling cheap (a pattern of this length compiles in milliseconds).
 */
export const MAX_REGEX_LENGTH = 16 * 1024;

/**
 * The most steps V8 may take from one start position of a pattern (its ways
 * through it times the most characters one matches; see the module
 * documentation) for which V8's backtracking `RegExp` is used; patterns with
 * more run on `re2js`.
 */
export const MAX_BACKTRACKING_STEPS = 2048;

/**
 * The most steps (threads times characters) a test on `re2js` may take on
 * the thread that serves requests. Where `re2js` keeps every thread alive it
 * takes 14–45 ns a step (measured on texts of 3 KB to 256 KB), so 4–12 ms at
 * most; most tests keep far fewer alive and take microseconds.
 */
export const MAX_STEPS_ON_THREAD = 1 << 18;

/**
 * The most steps a test on `re2js` of a text of `length` UTF-16 code units
 * may take, by a program that keeps up to `threads` threads alive at a
 * character ({@linkcode CompiledRegex.threads}): each character, times the
 * lesser of the threads and the characters.
 *
 * @example Usage
 * ```ts
 * import { testSteps } from "./re2.ts";
 * import assert from "node:assert/strict";
 * assert.equal(testSteps(512, 3003), 512 * 512);
 * assert.equal(testSteps(100_000, 2), 200_000);
 * ```
 */
export function testSteps(length: number, threads: number): number {
  return length * Math.min(length, threads);
}

/**
 * Whether a test of a text of `length` by a program of `threads` may take
 * more than {@linkcode MAX_STEPS_ON_THREAD} steps ({@linkcode testSteps}).
 *
 * @example Usage
 * ```ts
 * import { costlyOnThread } from "./re2.ts";
 * import assert from "node:assert/strict";
 * assert.equal(costlyOnThread(512, 3003), false); // 512 × 512 steps at most
 * assert.equal(costlyOnThread(513, 3003), true);
 * assert.equal(costlyOnThread(100_000, 2), false);
 * ```
 */
export function costlyOnThread(length: number, threads: number): boolean {
  return testSteps(length, threads) > MAX_STEPS_ON_THREAD;
}

/**
 * Thrown instead of running a test that would take the tests of a line past
 * their bound, while tests are bounded ({@linkcode boundTests}): what runs
 * the line then runs it elsewhere.
 */
export class CostlyTestError extends Error {
  constructor() {
    super("a regex test too costly for the thread that serves requests");
    this.name = "CostlyTestError";
  }
}

/**
 * The most milliseconds the tests that run in steps (the finds of
 * `regexReplaceAll` and `count`, each bounded before it runs, each of which
 * may scan the rest of the text) may take on the thread that serves
 * requests, all those of a line together ({@linkcode checkTestTime}).
 */
export const MAX_TEST_MS_ON_THREAD = 10;

let bounded = false;
/** The steps the tests of the current line may still take. */
let stepsLeft = 0;
/** When the current line's first step of a test that runs in steps began: `NaN` before. */
let firstStepAt = NaN;

/**
 * Makes tests throw {@linkcode CostlyTestError} rather than run when they
 * are costly for the line they are testing (`on`: a line begins), or run
 * whatever their cost; returns the previous setting, to restore. A query's
 * pipeline runs each line bounded on the event loop, and unbounded on the
 * worker it sends a costly line to. Turning the bound on starts the line's
 * steps afresh unless `fresh` is false: then the tests go on with what the
 * line's earlier tests left (a metric query's unwrap after its pipeline).
 *
 * @example Usage
 * ```ts
 * import { boundTests, compileRegex, CostlyTestError } from "./re2.ts";
 * import assert from "node:assert/strict";
 * const re = compileRegex(".*[a-z]{1000}9");
 * const text = "a".repeat(2000) + "9";
 * const outer = boundTests(true);
 * try {
 *   assert.throws(() => re.test(text), CostlyTestError);
 * } finally {
 *   boundTests(outer);
 * }
 * assert.equal(re.test(text), true);
 * ```
 */
export function boundTests(on: boolean, fresh: boolean = on): boolean {
  const was = bounded;
  bounded = on;
  if (fresh) {
    stepsLeft = MAX_STEPS_ON_THREAD;
    firstStepAt = NaN;
  }
  return was;
}

/**
 * Throws {@linkcode CostlyTestError} when tests are bounded and one of a text
 * of `length` by a program of `threads` ({@linkcode CompiledRegex.threads})
 * would take the tests of the line past {@linkcode MAX_STEPS_ON_THREAD}
 * steps: called before every test on `re2js` of a pipeline's stages, those
 * of {@linkcode compileRegex} (searching on V8 too), of the `regexp` parser
 * and of template functions.
 *
 * @throws {CostlyTestError} When the line must be tested elsewhere.
 */
export function checkTestCost(length: number, threads: number): void {
  if (!bounded) return;
  stepsLeft -= testSteps(length, threads);
  if (stepsLeft < 0) throw new CostlyTestError();
}

/**
 * Throws {@linkcode CostlyTestError} when tests are bounded and the steps of
 * the line's tests that run in steps took more than
 * {@linkcode MAX_TEST_MS_ON_THREAD} since the first: called before each step.
 *
 * @throws {CostlyTestError} When the line must be tested elsewhere.
 */
export function checkTestTime(): void {
  if (!bounded) return;
  const now = performance.now();
  if (Number.isNaN(firstStepAt)) firstStepAt = now;
  else if (now - firstStepAt > MAX_TEST_MS_ON_THREAD) throw new CostlyTestError();
}

/**
 * How many steps of V8's backtracking count as one step of a `re2js` thread
 * against {@linkcode MAX_STEPS_ON_THREAD}. Measured, V8 takes 2.5–2.9 ns a
 * step (`[a-z]{1000}[a-z]{1000}9`, 2,001 steps from each start, takes 1.5 s
 * on a line of 262,144 letters) and `re2js` 14–45 ns: at 32, a line tests on
 * the event loop for ~25 ms at most, and the bound is a worst case that
 * common patterns never come near (an IP-address pattern, 1,215 steps from
 * each start, takes microseconds on a 2 KB line), so lines of up to 6,898
 * characters stay on the event loop for it; 8 sent its 2 KB lines to the
 * worker one by one (a query of 5,000 of them took 672 ms, not 17).
 */
export const V8_STEPS_PER_THREAD_STEP = 32;

/** How much of a pattern error messages quote. */
const QUOTED_PATTERN_LENGTH = 100;

/**
 * Shortens a pattern for an error message: the first 100 characters, then
 * `…` if there were more, so that a huge pattern is not echoed back.
 *
 * @example Usage
 * ```ts
 * import { abbreviatePattern } from "./re2.ts";
 * import assert from "node:assert/strict";
 * assert.equal(abbreviatePattern("a+b"), "a+b");
 * assert.equal(abbreviatePattern("x".repeat(500)), "x".repeat(100) + "…");
 * ```
 *
 * @param pattern The pattern as written.
 * @returns The pattern, or its first 100 characters followed by `…`.
 */
export function abbreviatePattern(pattern: string): string {
  if (pattern.length <= QUOTED_PATTERN_LENGTH) return pattern;
  let end = QUOTED_PATTERN_LENGTH;
  // Do not cut a surrogate pair in half.
  if (/[\uD800-\uDBFF]/.test(pattern[end - 1])) end--;
  return pattern.slice(0, end) + "…";
}

/**
 * Thrown when a regex cannot be compiled. The message reads
 * `invalid regex "<pattern>": <detail>`, with the pattern shortened by
 * {@linkcode abbreviatePattern}.
 *
 * @example Usage
 * ```ts
 * import { compileRegex, InvalidRegexError } from "./re2.ts";
 * import assert from "node:assert/strict";
 * assert.throws(() => compileRegex("a("), (e: unknown) =>
 *   e instanceof InvalidRegexError && e.pattern === "a(" &&
 *   e.message === 'invalid regex "a(": Unterminated group');
 * ```
 */
export class InvalidRegexError extends Error {
  /** The pattern as the user wrote it. */
  readonly pattern: string;
  /** Why it is invalid (an engine's reason, or ours). */
  readonly detail: string;

  /**
   * Creates the error.
   *
   * @param pattern The pattern as written.
   * @param detail Why it is invalid.
   * @param options Standard error options, e.g. a `cause`.
   */
  constructor(pattern: string, detail: string, options?: ErrorOptions) {
    super(`invalid regex "${abbreviatePattern(pattern)}": ${detail}`, options);
    this.name = "InvalidRegexError";
    this.pattern = pattern;
    this.detail = detail;
  }
}

/** Options for {@linkcode compileRegex}. */
export interface CompileRegexOptions {
  /**
   * Match the whole string (`^(?:…)$`), as label regexes do in LogQL,
   * instead of searching anywhere in it, as line filter regexes do.
   *
   * @default {false}
   */
  anchored?: boolean;
}

/** A compiled regex: a stateless test of a string. */
export interface CompiledRegex {
  /**
   * Reports whether the regex matches the text (the whole text when anchored).
   *
   * @param text The text to test.
   * @returns `true` on a match.
   */
  test(text: string): boolean;
  /**
   * What a character of the text may cost a test at most, in steps of one
   * `re2js` thread, so that a test costs up to the text's length times the
   * lesser of this and that length ({@linkcode costlyOnThread}). On `re2js`,
   * its program's instructions: the most threads it keeps alive at a
   * character. On V8, searching, its steps from each start (at most
   * {@linkcode MAX_BACKTRACKING_STEPS}) over {@linkcode V8_STEPS_PER_THREAD_STEP};
   * anchored, 0: V8 tries the one start, so a test costs its steps alone.
   */
  readonly threads: number;
  /** The engine that runs it (see the module documentation). */
  readonly engine: "v8" | "re2js";
}

/**
 * Compiles an RE2 pattern into a stateless matcher that runs in time linear
 * in the text, on V8's `RegExp` or on `re2js` (see the module
 * documentation for which, and for the translated constructs).
 *
 * @example Usage
 * ```ts
 * import { compileRegex } from "./re2.ts";
 * import assert from "node:assert/strict";
 * assert.equal(compileRegex("err.*", { anchored: true }).test("xerror"), false);
 * assert.equal(compileRegex("(?i)timeout").test("read TIMEOUT after 5s"), true);
 * assert.equal(compileRegex(String.raw`\d+\-\d+`).test("1-2"), true); // RE2 escapes work
 * assert.equal(compileRegex("(a+)+$").test("a".repeat(100) + "!"), false); // at once
 * ```
 *
 * @param pattern The pattern in RE2 syntax.
 * @param options Whether to anchor the pattern.
 * @returns The compiled regex.
 * @throws {InvalidRegexError} If the pattern is too long, invalid, or uses an unsupported feature.
 */
export function compileRegex(pattern: string, options: CompileRegexOptions = {}): CompiledRegex {
  if (pattern.length > MAX_REGEX_LENGTH) {
    throw new InvalidRegexError(
      pattern,
      `pattern of ${pattern.length} characters is longer than the limit of ${MAX_REGEX_LENGTH}`,
    );
  }
  // What RE2 accepts and the translation cannot express (a flag group amid
  // the pattern, `abc(?i)def`; `(?U)`) runs on re2js alone: RE2 decides.
  let v8: RegExp | undefined;
  let v8Error: InvalidRegexError | undefined;
  let source = "";
  try {
    let flags: string;
    ({ source, flags } = translateRe2(pattern));
    // With the m flag "^" and "$" also match at line breaks: anchor to the text's ends instead.
    const body = !options.anchored
      ? source
      : flags.includes("m")
      ? `(?<![\\s\\S])(?:${source})(?![\\s\\S])`
      : `^(?:${source})$`;
    v8 = new RegExp(body, flags);
  } catch (e) {
    if (e instanceof InvalidRegexError) v8Error = e;
    else {
      const message = e instanceof Error ? e.message : String(e);
      // V8: "Invalid regular expression: /<source>/<flags>: <reason>"; keep the reason,
      // since <source> is our translation, not what the user wrote.
      const detail = message.replace(/^Invalid regular expression: \/.*\/[a-z]*: /s, "");
      v8Error = new InvalidRegexError(pattern, detail, { cause: e });
    }
  }
  let re2: RE2JS;
  try {
    re2 = RE2JS.compile(pattern);
  } catch (e) {
    if (!(e instanceof RE2JSException)) throw e;
    // Both refuse it: V8's reason names the place more plainly.
    if (v8Error) throw v8Error;
    // RE2 quotes the offending part of the pattern, which may be all of it.
    const detail = e instanceof RE2JSSyntaxException
      ? e.error + (e.input ? ` \`${abbreviatePattern(e.input)}\`` : "")
      : e.message;
    throw new InvalidRegexError(pattern, detail, { cause: e });
  }
  const steps = v8 === undefined ? Infinity : backtrackingSteps(source);
  if (v8 !== undefined && steps <= MAX_BACKTRACKING_STEPS) {
    const re = v8;
    if (options.anchored) return { test: (text) => re.test(text), threads: 0, engine: "v8" };
    const threads = Math.ceil(steps / V8_STEPS_PER_THREAD_STEP);
    const test = (text: string) => (checkTestCost(text.length, threads), re.test(text));
    return { test, threads, engine: "v8" };
  }
  const threads = re2.programSize();
  const test = options.anchored
    ? (text: string) => (checkDeadline(), checkTestCost(text.length, threads), re2.testExact(text))
    : (text: string) => (checkDeadline(), checkTestCost(text.length, threads), re2.test(text));
  // re2js is several times slower than V8: most lines fail a native search
  // for a literal that every match contains, and never reach it.
  const literal = requiredLiteral(pattern);
  return {
    test: literal ? (text) => text.includes(literal) && test(text) : test,
    threads,
    engine: "re2js",
  };
}

/** Characters with a meaning in RE2 syntax outside a class. */
const RE2_META = new Set([..."\\.+*?()|[]{}^$"]);

/**
 * The longest run of literal characters that every match of the RE2 `pattern`
 * contains, or `undefined` when none is found. Conservative: only literals
 * outside groups and classes count, and any top-level `|`, case-insensitive
 * flag or `\Q…\E` gives up. A literal directly followed by `?`, `*` or
 * `{0…}` is optional and ends the run; one followed by `+` or `{n…}` is
 * required once but ends the run too.
 *
 * @example Usage
 * ```ts
 * import { requiredLiteral } from "./re2.ts";
 * import assert from "node:assert/strict";
 * assert.equal(requiredLiteral("err.*timeout"), "timeout");
 * assert.equal(requiredLiteral(String.raw`latency=\d+ms`), "latency=");
 * assert.equal(requiredLiteral("colou?r"), "colo");
 * assert.equal(requiredLiteral("a|timeout"), undefined);
 * assert.equal(requiredLiteral("(?i)timeout"), undefined);
 * ```
 *
 * @param pattern The pattern in RE2 syntax (valid).
 * @returns A substring of every matching text, or `undefined`.
 */
export function requiredLiteral(pattern: string): string | undefined {
  let i = 0;
  const lead = /^\(\?([a-zA-Z]+)\)/.exec(pattern);
  if (lead) {
    if (lead[1].includes("i")) return undefined;
    i = lead[0].length;
  }
  let best = "";
  let run = "";
  const endRun = () => {
    if (run.length > best.length) best = run;
    run = "";
  };
  /** Skips a quantifier at `i`; returns its minimum count, or -1 when there is none. */
  const quantifier = (): number => {
    const c = pattern[i];
    let min = -1;
    if (c === "?" || c === "*") min = 0;
    else if (c === "+") min = 1;
    else if (c === "{") {
      const q = /^\{(\d+)(?:,\d*)?\}/.exec(pattern.slice(i, i + 30));
      if (!q) return -1;
      i += q[0].length - 1;
      min = Number(q[1]);
    } else return -1;
    i++;
    if (pattern[i] === "?") i++;
    return min;
  };
  /** Skips a class starting at `i` (on "["). */
  const skipClass = () => {
    i++;
    if (pattern[i] === "^") i++;
    if (pattern[i] === "]") i++;
    while (i < pattern.length && pattern[i] !== "]") {
      if (pattern[i] === "\\") i++;
      else if (pattern.startsWith("[:", i)) i = pattern.indexOf(":]", i + 2) + 1;
      i++;
    }
    i++;
  };
  while (i < pattern.length) {
    const c = pattern[i];
    let literal: string | undefined;
    if (c === "|") return undefined;
    // A flag group amid the pattern may fold the case of what follows.
    if (/^\(\?[a-zA-Z-]*\)/.test(pattern.slice(i, i + 12))) break;
    if (c === "\\") {
      const d = pattern[i + 1];
      if (d === "Q") return undefined;
      if (/[!-\/:-@\[-`{-~]/.test(d)) literal = d;
      i += 2;
      // The rest of a class or code escape: \pL, \p{Greek}, \x41, \x{263a}, \101.
      if ((d === "p" || d === "P" || d === "x") && pattern[i] === "{") {
        i = pattern.indexOf("}", i) + 1;
      } else if (d === "p" || d === "P") i++;
      else if (d === "x") i += 2;
      else if (d >= "0" && d <= "7") { while (i < pattern.length && /[0-7]/.test(pattern[i])) i++; }
    } else if (c === "(") {
      // A group may be optional or hold alternatives: skip it whole.
      let depth = 0;
      for (; i < pattern.length; i++) {
        if (pattern[i] === "\\") i++;
        else if (pattern[i] === "[") {
          skipClass();
          i--;
        } else if (pattern[i] === "(") depth++;
        else if (pattern[i] === ")" && --depth === 0) break;
      }
      i++;
    } else if (c === "[") skipClass();
    else if (RE2_META.has(c)) i++;
    else {
      literal = String.fromCodePoint(pattern.codePointAt(i)!);
      i += literal.length;
    }
    const min = quantifier();
    if (literal === undefined || min === 0) endRun();
    else if (min > 0) {
      run += literal;
      endRun();
    } else run += literal;
  }
  endRun();
  return best === "" ? undefined : best;
}

/** The ways through part of a pattern, and the most characters one of them matches. */
interface Paths {
  ways: number;
  length: number;
}

/**
 * The most steps V8 may take from one start position of a translated
 * (`u`-mode) pattern when it backtracks: its ways through the pattern times
 * the most characters one matches. Alternatives add their ways, a sequence
 * multiplies them, `x{n,m}` sums the powers of `x`'s ways from n to m (so
 * `x?` is one more than `x`) and matches m times `x`'s length, and `*`, `+`
 * and `{n,}` are unbounded. The source is valid (V8 compiled it). An
 * overestimate is harmless: it only sends a pattern to `re2js`.
 */
function backtrackingSteps(source: string): number {
  let i = 0;
  const alternation = (): Paths => {
    const paths = sequence();
    while (source[i] === "|") {
      i++;
      const next = sequence();
      paths.ways += next.ways;
      paths.length = Math.max(paths.length, next.length);
    }
    return paths;
  };
  const sequence = (): Paths => {
    const paths = { ways: 1, length: 0 };
    while (i < source.length && source[i] !== "|" && source[i] !== ")") {
      const next = repeated(atom());
      paths.ways *= next.ways;
      paths.length += next.length;
    }
    return paths;
  };
  const atom = (): Paths => {
    const c = source[i];
    if (c === "(") {
      // Skip the group's prefix: "(?:", "(?=", "(?!", "(?<=", "(?<!", "(?<name>", "(?i:".
      if (source[i + 1] === "?") {
        const prefix = /^\(\?(?:<[=!]|<[^>]*>|[^:=!<]*:|[=!])/.exec(source.slice(i, i + 300));
        i += prefix ? prefix[0].length : 2;
      } else {
        i++;
      }
      const paths = alternation();
      i++; // ")"
      return paths;
    }
    if (c === "[") {
      for (i++; i < source.length && source[i] !== "]"; i++) {
        if (source[i] === "\\") i++;
      }
      i++; // "]"
      return { ways: 1, length: 1 };
    }
    if (c === "\\") {
      const d = source[i + 1];
      i += 2;
      // "\u{…}", "\p{…}" and "\P{…}" name one character or class.
      if ((d === "u" || d === "p" || d === "P") && source[i] === "{") {
        i = source.indexOf("}", i) + 1;
      }
      return { ways: 1, length: 1 };
    }
    i++;
    return { ways: 1, length: 1 };
  };
  const repeated = (paths: Paths): Paths => {
    const c = source[i];
    let min: number;
    let max: number;
    if (c === "*" || c === "+" || c === "?") {
      i++;
      min = c === "+" ? 1 : 0;
      max = c === "?" ? 1 : Infinity;
    } else if (c === "{") {
      // Literal braces are escaped by the translation, so this is a quantifier.
      const quantifier = /^\{(\d+)(?:(,)(\d*))?\}/.exec(source.slice(i, i + 30))!;
      i += quantifier[0].length;
      min = Number(quantifier[1]);
      max = quantifier[2] === undefined
        ? min
        : quantifier[3] === ""
        ? Infinity
        : Number(quantifier[3]);
    } else {
      return paths;
    }
    if (source[i] === "?") i++; // lazy: the same ways, tried in another order
    if (max === Infinity) return { ways: Infinity, length: Infinity };
    let ways = 0;
    for (let n = min; n <= max && ways <= MAX_BACKTRACKING_STEPS; n++) ways += paths.ways ** n;
    return { ways, length: paths.length * max };
  };
  const { ways, length } = alternation();
  return ways * Math.max(length, 1);
}

/** The ASCII punctuation that `u`-mode JS accepts after a backslash outside a class. */
const JS_SYNTAX_CHARS = "^$\\.*+?()[]{}|/";

const POSIX_CLASSES: Readonly<Record<string, string>> = {
  alnum: "0-9A-Za-z",
  alpha: "A-Za-z",
  ascii: "\\x00-\\x7F",
  blank: "\\t ",
  cntrl: "\\x00-\\x1F\\x7F",
  digit: "0-9",
  graph: "!-~",
  lower: "a-z",
  print: " -~",
  punct: "!-\\/:-@\\[-`{-~",
  space: "\\t\\n\\v\\f\\r ",
  upper: "A-Z",
  word: "0-9A-Za-z_",
  xdigit: "0-9A-Fa-f",
};

/** Escapes one ASCII punctuation character so `u`-mode JS reads it literally. */
function escapePunct(c: string, inClass: boolean): string {
  if (JS_SYNTAX_CHARS.includes(c) || (inClass && c === "-")) return "\\" + c;
  return "\\x" + c.charCodeAt(0).toString(16).padStart(2, "0");
}

/** Escapes text quoted with `\Q…\E`. */
function escapeLiteral(text: string, inClass: boolean): string {
  let out = "";
  for (const c of text) {
    out += /[\x21-\x2f\x3a-\x40\x5b-\x60\x7b-\x7e]/.test(c) ? escapePunct(c, inClass) : c;
  }
  return out;
}

/** Maps an RE2 Unicode class name to a JS property name (scripts need `Script=`). */
function unicodeProperty(name: string): string {
  try {
    new RegExp(`\\p{${name}}`, "u");
    return name;
  } catch {
    return `Script=${name}`;
  }
}

/** Rewrites RE2 syntax into `u`-mode JavaScript syntax (see the module docs). */
function translateRe2(pattern: string): { source: string; flags: string } {
  let flags = "u";
  let i = 0;
  const lead = /^\(\?([a-zA-Z]+)\)/.exec(pattern);
  if (lead) {
    for (const f of lead[1]) {
      if (f !== "i" && f !== "m" && f !== "s") {
        throw new InvalidRegexError(
          pattern,
          `unsupported flag "${f}" in "${lead[0]}" (supported: i, m, s)`,
        );
      }
      if (!flags.includes(f)) flags += f;
    }
    i = lead[0].length;
  }
  const dotAll = flags.includes("s");
  let out = "";
  let inClass = false;
  while (i < pattern.length) {
    const c = pattern[i];
    if (c === "\\") {
      const d = pattern[i + 1];
      if (d === undefined) {
        throw new InvalidRegexError(pattern, "trailing backslash");
      }
      if (d === "Q") {
        const end = pattern.indexOf("\\E", i + 2);
        const stop = end < 0 ? pattern.length : end;
        out += escapeLiteral(pattern.slice(i + 2, stop), inClass);
        i = end < 0 ? pattern.length : end + 2;
      } else if (d === "A" && !inClass) {
        out += "(?<![\\s\\S])";
        i += 2;
      } else if (d === "z" && !inClass) {
        out += "(?![\\s\\S])";
        i += 2;
      } else if (d === "x" && pattern[i + 2] === "{") {
        const end = pattern.indexOf("}", i + 3);
        if (end < 0) throw new InvalidRegexError(pattern, 'missing "}" after "\\x{"');
        out += `\\u{${pattern.slice(i + 3, end)}}`;
        i = end + 1;
      } else if ((d === "p" || d === "P") && pattern[i + 2] !== undefined) {
        let name: string;
        if (pattern[i + 2] === "{") {
          const end = pattern.indexOf("}", i + 3);
          if (end < 0) throw new InvalidRegexError(pattern, `missing "}" after "\\${d}{"`);
          name = pattern.slice(i + 3, end);
          i = end + 1;
        } else {
          name = pattern[i + 2];
          i += 3;
        }
        out += `\\${d}{${unicodeProperty(name)}}`;
      } else if (/[\x21-\x2f\x3a-\x40\x5b-\x60\x7b-\x7e]/.test(d)) {
        out += escapePunct(d, inClass);
        i += 2;
      } else {
        out += "\\" + d;
        i += 2;
      }
      continue;
    }
    if (inClass) {
      if (c === "[" && pattern[i + 1] === ":") {
        const posix = /^\[:([a-z]+):\]/.exec(pattern.slice(i));
        if (posix && posix[1] in POSIX_CLASSES) {
          out += POSIX_CLASSES[posix[1]];
          i += posix[0].length;
          continue;
        }
      }
      if (c === "]") inClass = false;
      out += c;
      i++;
      continue;
    }
    if (c === "[") {
      inClass = true;
      out += "[";
      i++;
      if (pattern[i] === "^") {
        out += "^";
        i++;
      }
      if (pattern[i] === "]") {
        // RE2: a "]" right after "[" or "[^" is a literal.
        out += "\\]";
        i++;
      }
      continue;
    }
    if (c === "{") {
      const quantifier = /^\{\d+(?:,\d*)?\}/.exec(pattern.slice(i));
      if (quantifier) {
        out += quantifier[0];
        i += quantifier[0].length;
      } else {
        out += "\\{";
        i++;
      }
      continue;
    }
    if (c === "(" && pattern.startsWith("(?P<", i)) {
      out += "(?<";
      i += 4;
      continue;
    }
    if (c === "." && !dotAll) out += "[^\\n]";
    else if (c === "}" || c === "]") out += "\\" + c;
    else out += c;
    i++;
  }
  return { source: out, flags };
}
