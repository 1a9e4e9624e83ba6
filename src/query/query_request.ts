/**
 * The log query of the read API: what to select, parsed and validated from
 * the JSON body of `POST /api/v1/query` (structured matchers and `line`, or a
 * LogQL `query`, or both, which must all hold).
 *
 * @module
 */

import { type LabelMatcher, type LineFilter, LogQLParseError, parseLogQL } from "./logql.ts";
import { LabelMatcherError, validateLabelMatchers } from "./matchers.ts";

/** A validated log query. */
export interface LogQuery {
  /** Inclusive bounds in unix ns; 0n start and end mean unbounded. */
  readonly start: bigint;
  readonly end: bigint;
  readonly matchers: LabelMatcher[];
  readonly filters: LineFilter[];
  readonly limit: number;
}

/** Results when `limit` is absent. */
export const DEFAULT_LIMIT = 100;
/** Largest `limit` honoured; larger ones are capped. */
export const MAX_LIMIT = 5000;
const MAX_TS = 9_223_372_036_854_775_807n;

/** A bad query: answered with 400 and, for parse errors, the position. */
export class QueryError extends Error {
  readonly status = 400;
  readonly position?: number;

  /** Creates the error. */
  constructor(message: string, position?: number) {
    super(message);
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
 * import { parseTimeBound } from "./query_request.ts";
 * console.log(parseTimeBound("1700000000000000001", "start")); // 1700000000000000001n
 * ```
 */
export function parseTimeBound(value: unknown, field: string): bigint {
  if (value === undefined || value === null || value === "") return 0n;
  const text = typeof value === "bigint" ? value.toString() : String(value);
  if (!/^[0-9]{1,19}$/.test(text) || BigInt(text) > MAX_TS) {
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

/** Parses a LogQL selector into matchers and line filters, as a {@linkcode QueryError}. */
export function parseSelector(query: string): { matchers: LabelMatcher[]; filters: LineFilter[] } {
  try {
    const expr = parseLogQL(query);
    return {
      matchers: expr.matchers,
      filters: expr.pipeline.filter((s) => s.kind === "line_filter"),
    };
  } catch (error) {
    if (error instanceof LogQLParseError) throw new QueryError(error.message, error.position);
    throw error;
  }
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
 * import { toLogQuery } from "./query_request.ts";
 * const q = toLogQuery({ query: '{app="web"} |= "error"', limit: 10 });
 * console.log(q.matchers.length, q.filters.length, q.limit); // 1 1 10
 * ```
 */
export function toLogQuery(body: Record<string, unknown>): LogQuery {
  const { start, end } = parseBounds(body);
  const matchers: LabelMatcher[] = [];
  const filters: LineFilter[] = [];
  try {
    matchers.push(...validateLabelMatchers(body.matchers));
  } catch (error) {
    if (error instanceof LabelMatcherError || error instanceof TypeError) {
      throw new QueryError(error.message);
    }
    throw error;
  }
  if (body.line !== undefined && body.line !== null && body.line !== "") {
    if (typeof body.line !== "string") {
      throw new QueryError(`line must be a string, got ${typeof body.line}`);
    }
    filters.push({ kind: "line_filter", op: "|=", value: body.line });
  }
  if (body.query !== undefined && body.query !== null) {
    if (typeof body.query !== "string") {
      throw new QueryError(`query must be a string, got ${typeof body.query}`);
    }
    const parsed = parseSelector(body.query);
    matchers.push(...parsed.matchers);
    filters.push(...parsed.filters);
  }
  return { start, end, matchers, filters, limit: parseLimit(body.limit) };
}
