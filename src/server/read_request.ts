/**
 * The requests of loge's read API: the JSON body of `POST /api/v1/query`
 * (structured matchers and `line`, or a LogQL `query`, or both, which must
 * all hold) and the parameters the read endpoints share, parsed and
 * validated into what the engine takes.
 *
 * @module
 */

import type { LabelMatcher, LabelMatchOp, PipelineStage } from "../query/ast.ts";
import type { Direction, LogQuery } from "../query/engine.ts";
import { splitPushdown } from "../query/pipeline/mod.ts";
import { LogQLParseError, parseLogQL } from "../query/logql.ts";
import { abbreviatePattern, compileRegex, InvalidRegexError } from "../query/re2.ts";
import { describeValue } from "../describe.ts";
import { isValidLabelName, LABEL_NAME_RULE } from "../labels.ts";
import { isNanoseconds } from "../time.ts";

const LABEL_OPS: readonly LabelMatchOp[] = ["=", "!=", "=~", "!~"];

/** Results when `limit` is absent. */
export const DEFAULT_LIMIT = 100;
/** Largest `limit` honoured; larger ones are capped. */
export const MAX_LIMIT = 5000;

/** A bad read request; for parse errors, `position` is where in the query. */
export class QueryError extends Error {
  readonly position?: number;

  /** Creates the error. */
  constructor(message: string, position?: number, options?: ErrorOptions) {
    super(message, options);
    this.name = "QueryError";
    this.position = position;
  }
}

/**
 * Parses a time bound given as a JSON integer, a string of digits, or absent;
 * 0 or absent means unbounded.
 *
 * @example
 * ```ts
 * import { parseTimeBound } from "./read_request.ts";
 * import assert from "node:assert/strict";
 * assert.equal(parseTimeBound("1700000000000000001", "start"), 1700000000000000001n);
 * ```
 */
export function parseTimeBound(value: unknown, field: string): bigint {
  if (value === undefined || value === null || value === "") return 0n;
  const text = typeof value === "bigint" ? value.toString() : String(value);
  if (!isNanoseconds(text)) {
    throw new QueryError(
      `${field} must be a non-negative integer of unix nanoseconds, got ${
        JSON.stringify(String(value))
      }`,
    );
  }
  return BigInt(text);
}

/** Parses `limit`: absent → 100; above 5000 → 5000; not a positive integer → error. */
export function parseLimit(value: unknown): number {
  if (value === undefined || value === null || value === "") return DEFAULT_LIMIT;
  const n = typeof value === "bigint" || (typeof value === "string" && /^\d+$/.test(value))
    ? Number(value)
    : value;
  if (typeof n !== "number" || !Number.isInteger(n) || n < 1) {
    const shown = typeof value === "bigint" ? String(value) : JSON.stringify(value);
    throw new QueryError(`limit must be a positive integer, got ${shown}`);
  }
  return Math.min(n, MAX_LIMIT);
}

/** Parses a LogQL log query into matchers and pipeline stages, as a {@linkcode QueryError}. */
export function parseSelector(
  query: string,
): { matchers: LabelMatcher[]; stages: PipelineStage[] } {
  try {
    const expr = parseLogQL(query);
    return { matchers: expr.matchers, stages: expr.pipeline };
  } catch (error) {
    if (error instanceof LogQLParseError) throw new QueryError(error.message, error.position);
    throw error;
  }
}

/**
 * Parses `direction`: absent → `backward` (newest first, as Loki's default);
 * `forward` gives the oldest lines first.
 */
export function parseDirection(value: unknown): Direction {
  if (value === undefined || value === null || value === "") return "backward";
  if (value === "backward" || value === "forward") return value;
  throw new QueryError(`direction must be "backward" or "forward", got ${describeValue(value)}`);
}

/** Parses the time bounds and selector shared by the read endpoints. */
export function parseBounds(body: Record<string, unknown>): { start: bigint; end: bigint } {
  const start = parseTimeBound(body.start, "start");
  const end = parseTimeBound(body.end, "end");
  if (start !== 0n && end !== 0n && start > end) {
    throw new QueryError(`start (${start}) is after end (${end})`);
  }
  return { start, end };
}

/**
 * Parses a JSON request body, keeping integers beyond 2^53 (nanosecond
 * times) exact as bigints.
 */
export function parseJsonBody(text: string): Record<string, unknown> {
  if (text.trim() === "") return {};
  let body: unknown;
  try {
    body = JSON.parse(
      text,
      // A number that is not a safe integer keeps its exact source: digits
      // become a bigint, and a fraction such as "1700000000000000000.5" (a
      // whole float once parsed) stays text that validation refuses.
      (_key, value, context?: { source?: string }) =>
        typeof value !== "number" || Number.isSafeInteger(value) || !context?.source
          ? value
          : /^[0-9]+$/.test(context.source)
          ? BigInt(context.source)
          : Number.isInteger(value) && context.source.includes(".")
          ? context.source
          : value,
    );
  } catch (error) {
    throw new QueryError(`cannot decode JSON body: ${(error as Error).message}`);
  }
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw new QueryError("request body must be a JSON object");
  }
  return body as Record<string, unknown>;
}

/**
 * Validates the body of `POST /api/v1/query`.
 *
 * @throws {QueryError} naming the first problem.
 *
 * @example
 * ```ts
 * import { toLogQuery } from "./read_request.ts";
 * import assert from "node:assert/strict";
 * const q = toLogQuery({ query: '{app="web"} |= "error"', limit: 10 });
 * assert.deepEqual(q.matchers, [{ name: "app", op: "=", value: "web" }]);
 * assert.equal(q.limit, 10);
 * ```
 */
export function toLogQuery(body: Record<string, unknown>): LogQuery {
  const { start, end } = parseBounds(body);
  const matchers: LabelMatcher[] = validateLabelMatchers(body.matchers);
  const stages: PipelineStage[] = [];
  if (body.line !== undefined && body.line !== null && body.line !== "") {
    if (typeof body.line !== "string") {
      throw new QueryError(`line must be a string, got ${typeof body.line}`);
    }
    stages.push({ kind: "line_filter", op: "|=", value: body.line });
  }
  if (body.query !== undefined && body.query !== null) {
    if (typeof body.query !== "string") {
      throw new QueryError(`query must be a string, got ${typeof body.query}`);
    }
    const parsed = parseSelector(body.query);
    matchers.push(...parsed.matchers);
    stages.push(...parsed.stages);
  }
  return {
    start,
    end,
    matchers,
    ...splitPushdown(stages),
    limit: parseLimit(body.limit),
    direction: parseDirection(body.direction),
  };
}

/**
 * Thrown by {@linkcode validateLabelMatcher} for an invalid structured
 * matcher. The message reads `invalid matcher at index <i>: <reason>`.
 *
 * @example Usage
 * ```ts
 * import { LabelMatcherError, validateLabelMatcher } from "./read_request.ts";
 * import assert from "node:assert/strict";
 * assert.throws(
 *   () => validateLabelMatcher({ name: "app", value: "web", type: "==" }, 2),
 *   (e: unknown) =>
 *     e instanceof LabelMatcherError && e.index === 2 &&
 *     e.message === 'invalid matcher at index 2: "type" must be one of "=", "!=", "=~", "!~", got "=="',
 * );
 * ```
 */
export class LabelMatcherError extends QueryError {
  /** Index of the offending matcher in the request's `matchers` array. */
  readonly index: number;

  /**
   * Creates the error.
   *
   * @param index Index of the matcher.
   * @param reason What is wrong with it.
   * @param options Standard error options, e.g. a `cause`.
   */
  constructor(index: number, reason: string, options?: ErrorOptions) {
    super(`invalid matcher at index ${index}: ${reason}`, undefined, options);
    this.name = "LabelMatcherError";
    this.index = index;
  }
}

/**
 * Validates one structured matcher from the HTTP API,
 * `{ "name": "app", "value": "web", "type": "=" }`, and converts it to a
 * {@linkcode LabelMatcher}. Regexes are compiled to check them.
 *
 * @example Usage
 * ```ts
 * import { validateLabelMatcher } from "./read_request.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual(
 *   validateLabelMatcher({ name: "level", value: "err.*", type: "=~" }, 0),
 *   { name: "level", op: "=~", value: "err.*" },
 * );
 * ```
 *
 * @param input The decoded JSON value.
 * @param index Its index in the request's `matchers` array, for the error message.
 * @returns The matcher.
 * @throws {LabelMatcherError} If the shape, name, type or regex is invalid.
 */
export function validateLabelMatcher(input: unknown, index: number): LabelMatcher {
  if (typeof input !== "object" || input === null || Array.isArray(input)) {
    throw new LabelMatcherError(
      index,
      `expected an object {"name", "value", "type"}, got ${describeValue(input)}`,
    );
  }
  const { name, value, type } = input as Record<string, unknown>;
  if (typeof name !== "string") {
    throw new LabelMatcherError(index, `"name" must be a string, got ${describeValue(name)}`);
  }
  if (!isValidLabelName(name)) {
    throw new LabelMatcherError(
      index,
      `invalid label name ${JSON.stringify(name)}: ${LABEL_NAME_RULE}`,
    );
  }
  if (typeof value !== "string") {
    throw new LabelMatcherError(index, `"value" must be a string, got ${describeValue(value)}`);
  }
  if (typeof type !== "string" || !(LABEL_OPS as readonly string[]).includes(type)) {
    throw new LabelMatcherError(
      index,
      `"type" must be one of "=", "!=", "=~", "!~", got ${describeValue(type)}`,
    );
  }
  const op = type as LabelMatchOp;
  if (op === "=~" || op === "!~") {
    try {
      compileRegex(value, { anchored: true });
    } catch (e) {
      if (!(e instanceof InvalidRegexError)) throw e;
      throw new LabelMatcherError(
        index,
        `invalid regex "${abbreviatePattern(value)}": ${e.detail}`,
        { cause: e },
      );
    }
  }
  return { name, op, value };
}

/**
 * Validates the `matchers` field of a query request: an array of structured
 * matchers (see {@linkcode validateLabelMatcher}); `undefined` means none.
 *
 * @example Usage
 * ```ts
 * import { validateLabelMatchers } from "./read_request.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual(
 *   validateLabelMatchers([{ name: "app", value: "web", type: "=" }]),
 *   [{ name: "app", op: "=", value: "web" }],
 * );
 * ```
 *
 * @param input The decoded JSON value of `matchers`.
 * @returns The matchers.
 * @throws {QueryError} If `input` is neither an array nor `undefined`.
 * @throws {LabelMatcherError} If a matcher is invalid.
 */
export function validateLabelMatchers(input: unknown): LabelMatcher[] {
  if (input === undefined) return [];
  if (!Array.isArray(input)) {
    throw new QueryError(`invalid matchers: expected an array, got ${describeValue(input)}`);
  }
  return input.map(validateLabelMatcher);
}
