/**
 * The parameters of Loki's read API, parsed as Loki parses them (loki
 * `pkg/loghttp/params.go`: `parseTimestamp`, `determineBounds`, `limit`,
 * `direction`, `step`; `pkg/loghttp/query.go` `ParseRangeQuery`), with
 * loge's precise messages. They come from the URL, or from a form body
 * (`application/x-www-form-urlencoded`) for POST.
 *
 * @module
 */

import type { Direction } from "../../query/engine.ts";
import { MAX_READ_BODY, readBody } from "../body.ts";
import { MAX_LIMIT } from "../read_request.ts";
import { QueryError } from "../read_request.ts";
import { isNanoseconds, MAX_TS, parsePromDuration, parseTime } from "../../time.ts";

const SECOND = 1_000_000_000n;

/** Loki's `limit` when absent. */
export const LOKI_DEFAULT_LIMIT = 100;
/** Points a range query may have per series, as Loki (`errStepTooSmall`). */
export const MAX_POINTS = 11_000;

/**
 * The parameters of a request: the URL's, then (for a form POST) the body's.
 *
 * @example
 * ```ts
 * import { requestParams } from "./params.ts";
 * import assert from "node:assert/strict";
 * const req = new Request("http://x/loki/api/v1/query_range?limit=5", {
 *   method: "POST",
 *   headers: { "content-type": "application/x-www-form-urlencoded" },
 *   body: "query=%7Bapp%3D%22web%22%7D",
 * });
 * const params = await requestParams(req);
 * assert.equal(params.get("query"), '{app="web"}');
 * assert.equal(params.get("limit"), "5");
 * ```
 */
export async function requestParams(req: Request): Promise<URLSearchParams> {
  const params = new URLSearchParams(new URL(req.url).search);
  const type = req.headers.get("content-type")?.split(";")[0].trim().toLowerCase();
  if (req.method === "POST" && type === "application/x-www-form-urlencoded") {
    const body = new TextDecoder().decode(await readBody(req, { maxBytes: MAX_READ_BODY }));
    for (const [k, v] of new URLSearchParams(body)) params.append(k, v);
  }
  return params;
}

/**
 * Decodes a percent-encoded path segment (`what` names it in the message).
 *
 * @example
 * ```ts
 * import { pathSegment } from "./params.ts";
 * import assert from "node:assert/strict";
 * assert.equal(pathSegment("service%2Ename", "label name"), "service.name");
 * assert.throws(() => pathSegment("%E0%A4%A", "label name"), /label name "%E0%A4%A" is not valid percent-encoding/);
 * ```
 */
export function pathSegment(raw: string, what: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    throw new QueryError(`${what} ${JSON.stringify(raw)} is not valid percent-encoding`);
  }
}

/**
 * Parses a time as Loki does: a value with `.` is float seconds (rounded to
 * the millisecond, as Loki rounds), an integer of at most 10 digits is
 * seconds, a longer one nanoseconds, anything else RFC 3339 (with up to
 * nanosecond fractions).
 *
 * @example
 * ```ts
 * import { parseLokiTime } from "./params.ts";
 * import assert from "node:assert/strict";
 * assert.equal(parseLokiTime("1700000000.5", "start"), 1700000000500000000n);
 * assert.equal(parseLokiTime("1700000000", "start"), 1700000000000000000n);
 * assert.equal(parseLokiTime("1700000000000000001", "start"), 1700000000000000001n);
 * assert.equal(parseLokiTime("2023-11-14T22:13:20.000Z", "start"), 1700000000000000000n);
 * ```
 */
export function parseLokiTime(value: string, name: string): bigint {
  let ns: bigint | undefined;
  if (value.includes(".") && /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(value)) {
    const seconds = Number(value);
    const whole = Math.trunc(seconds);
    ns = BigInt(whole) * SECOND + BigInt(Math.round((seconds - whole) * 1000)) * 1_000_000n;
  } else if (/^\d+$/.test(value)) {
    ns = value.length <= 10 ? BigInt(value) * SECOND : isNanoseconds(value) ? BigInt(value) : ns;
  } else {
    ns = parseTime(value);
  }
  if (ns === undefined || ns < 0n || ns > MAX_TS) {
    throw new QueryError(
      `cannot parse ${name} ${
        JSON.stringify(value)
      }: expected float seconds, integer seconds (up to 10 digits) or nanoseconds, or RFC 3339`,
    );
  }
  return ns;
}

/**
 * Parses a Prometheus duration (`1h30m`, `15000ms`, `2d`; units y w d h m s
 * ms, largest first), as Loki's `since` and `step` take it.
 *
 * @example
 * ```ts
 * import { parseDuration } from "./params.ts";
 * import assert from "node:assert/strict";
 * assert.equal(parseDuration("1m30s", "since"), 90_000_000_000n);
 * assert.equal(parseDuration("15000ms", "step"), 15_000_000_000n);
 * ```
 */
export function parseDuration(value: string, name: string): bigint {
  const ns = parsePromDuration(value);
  if (ns === undefined) {
    throw new QueryError(
      `cannot parse ${name} ${
        JSON.stringify(value)
      }: expected a duration such as 15s, 1m30s or 15000ms (units y, w, d, h, m, s, ms)`,
    );
  }
  return ns;
}

/** A time window in nanoseconds, both ends inclusive. */
export interface Window {
  start: bigint;
  end: bigint;
}

/**
 * `start`, `end` and `since` as Loki's `determineBounds`: `end` defaults to
 * now; `start` to `since` (default `defaultSince`) before `end`, or before
 * now when `end` is in the future. Both as Loki reads them: a metric range
 * query is evaluated at `start + k·step` up to `end` included.
 *
 * @example
 * ```ts
 * import { lokiBounds } from "./params.ts";
 * import assert from "node:assert/strict";
 * const params = new URLSearchParams({ end: "1700000000", since: "1m" });
 * const now = 1700000100000000000n;
 * assert.deepEqual(lokiBounds(params, now, 3_600_000_000_000n), {
 *   start: 1699999940000000000n,
 *   end: 1700000000000000000n,
 * });
 * // An end in the future: start is `since` before now.
 * const future = new URLSearchParams({ end: "1800000000", since: "1m" });
 * assert.equal(lokiBounds(future, now, 3_600_000_000_000n).start, 1700000040000000000n);
 * ```
 */
export function lokiBounds(params: URLSearchParams, now: bigint, defaultSince: bigint): Window {
  const since = params.get("since");
  const back = since ? parseDuration(since, "since") : defaultSince;
  const endText = params.get("end");
  const end = endText ? parseLokiTime(endText, "end") : now;
  const startText = params.get("start");
  const anchor = end > now ? now : end;
  const start = startText
    ? parseLokiTime(startText, "start")
    : (anchor > back ? anchor - back : 0n);
  if (end < start) {
    throw new QueryError(`end (${end}) must not be before start (${start})`);
  }
  return { start, end };
}

/**
 * The lines a log query selects: {@linkcode lokiBounds}, where Loki's `end`
 * is exclusive: the window returned ends 1 ns before it.
 *
 * @example
 * ```ts
 * import { lokiWindow } from "./params.ts";
 * import assert from "node:assert/strict";
 * const params = new URLSearchParams({ start: "1699999940", end: "1700000000" });
 * assert.deepEqual(lokiWindow(params, 1700000100000000000n, 3_600_000_000_000n), {
 *   start: 1699999940000000000n,
 *   end: 1699999999999999999n,
 * });
 * ```
 */
export function lokiWindow(params: URLSearchParams, now: bigint, defaultSince: bigint): Window {
  const { start, end } = lokiBounds(params, now, defaultSince);
  return { start, end: end > start ? end - 1n : end };
}

/**
 * `step` as Loki's `ParseRangeQuery`: float seconds or a duration; absent,
 * `max(range / 250, 1 s)`. It must be positive and leave at most 11,000
 * points over the window. Log queries check it and do not use it.
 *
 * @example
 * ```ts
 * import { parseStep } from "./params.ts";
 * import assert from "node:assert/strict";
 * const window = { start: 0n, end: 3_600_000_000_000n };
 * assert.equal(parseStep("15000ms", window), 15_000_000_000n);
 * assert.equal(parseStep("0.5", window), 500_000_000n);
 * assert.equal(parseStep(null, window), 14_000_000_000n);
 * ```
 */
export function parseStep(value: string | null, window: Window): bigint {
  let step: bigint;
  if (!value) {
    const seconds = (window.end - window.start) / SECOND / 250n;
    step = (seconds > 1n ? seconds : 1n) * SECOND;
  } else if (/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(value)) {
    step = BigInt(Math.round(Number(value) * 1e9));
  } else {
    step = parseDuration(value, "step");
  }
  if (step <= 0n) {
    throw new QueryError(
      "zero or negative query resolution step widths are not accepted. Try a positive integer",
    );
  }
  if ((window.end - window.start) / step > BigInt(MAX_POINTS)) {
    throw new QueryError(
      "exceeded maximum resolution of 11,000 points per time series. Try increasing the value of the step parameter",
    );
  }
  return step;
}

/**
 * `limit`: absent → 100. Loki refuses a limit above its
 * `max_entries_limit_per_query` (default 5000) with a 400 rather than
 * capping it; loge does the same with its own maximum (5000), with Loki's
 * words, so a Grafana `maxLines` above it says why.
 *
 * @example
 * ```ts
 * import { parseLokiLimit } from "./params.ts";
 * import assert from "node:assert/strict";
 * assert.equal(parseLokiLimit(null), 100);
 * assert.equal(parseLokiLimit("1000"), 1000);
 * assert.throws(() => parseLokiLimit("5001"), /max entries limit per query exceeded/);
 * ```
 */
export function parseLokiLimit(value: string | null): number {
  if (!value) return LOKI_DEFAULT_LIMIT;
  if (!/^[+-]?\d+$/.test(value)) {
    throw new QueryError(`limit must be a positive integer, got ${JSON.stringify(value)}`);
  }
  const limit = Number(value);
  if (limit <= 0) throw new QueryError("limit must be a positive value");
  if (limit > MAX_LIMIT) {
    throw new QueryError(
      `max entries limit per query exceeded, limit > max_entries_limit_per_query (${value} > ${MAX_LIMIT})`,
    );
  }
  return limit;
}

/**
 * `direction`, case-insensitive as in Loki: absent → `backward`.
 *
 * @example
 * ```ts
 * import { parseLokiDirection } from "./params.ts";
 * import assert from "node:assert/strict";
 * assert.equal(parseLokiDirection(null), "backward");
 * assert.equal(parseLokiDirection("FORWARD"), "forward");
 * ```
 */
export function parseLokiDirection(value: string | null): Direction {
  if (!value) return "backward";
  const direction = value.toLowerCase();
  if (direction === "backward" || direction === "forward") return direction;
  throw new QueryError(`invalid direction ${JSON.stringify(value)}: use "backward" or "forward"`);
}
