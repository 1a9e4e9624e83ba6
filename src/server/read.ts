/**
 * The read endpoints: `POST /api/v1/query`, `POST /api/v1/volume`,
 * `GET /api/v1/labels`, `GET /api/v1/label/{name}/values`, `GET /api/v1/stats`.
 *
 * @module
 */

import type { LogEntry, QueryEngine } from "../query/engine.ts";
import { splitPushdown } from "../query/pipeline/mod.ts";
import {
  parseBounds,
  parseJsonBody,
  parseSelector,
  QueryError,
  toLogQuery,
} from "./read_request.ts";
import { MAX_READ_BODY, readBody } from "./body.ts";
import { json } from "./respond.ts";

const VOLUME_BUCKETS = 60;
const MAX_VOLUME_BUCKETS = 2000;

async function jsonBody(req: Request): Promise<Record<string, unknown>> {
  return parseJsonBody(new TextDecoder().decode(await readBody(req, { maxBytes: MAX_READ_BODY })));
}

function searchBounds(req: Request): { start: bigint; end: bigint } {
  const params = new URL(req.url).searchParams;
  return parseBounds({
    start: params.get("start") ?? undefined,
    end: params.get("end") ?? undefined,
  });
}

/**
 * One line of `POST /api/v1/query`'s `data` (and of a search plan's `hot`):
 * its time, line and stream labels, and its metadata and parsed labels when
 * it has some.
 */
export function entryJson(e: LogEntry): Record<string, unknown> {
  return {
    timestamp: e.ts,
    line: e.line,
    labels: e.stream.labels,
    ...(e.metadata ? { metadata: e.metadata } : {}),
    ...(e.parsed ? { parsed: e.parsed } : {}),
  };
}

/**
 * `POST /api/v1/query`: matching lines, newest first. An answer that
 * `--max-response-size` cut short of its limit says `"truncated": true`: a
 * client that pages goes on from its last line, as after a full page.
 */
export async function handleQuery(req: Request, engine: QueryEngine): Promise<Response> {
  const { entries, warnings, cut } = await engine.select(toLogQuery(await jsonBody(req)));
  return json({
    status: "success",
    data: entries.map(entryJson),
    ...(cut ? { truncated: true } : {}),
    ...(warnings.length > 0 ? { warnings } : {}),
  });
}

/**
 * `POST /api/v1/volume`: line counts per time bucket over `[start, end]`, by
 * `level`; `step` (ns) defaults to a 60th of the range. Unbounded ends take
 * the stored data's span; a range that still ends before it starts is refused.
 */
export async function handleVolume(req: Request, engine: QueryEngine): Promise<Response> {
  const body = await jsonBody(req);
  const bounds = parseBounds(body);
  if (body.query !== undefined && typeof body.query !== "string") {
    throw new QueryError("query must be a string");
  }
  const { matchers, stages } = typeof body.query === "string"
    ? parseSelector(body.query)
    : { matchers: [], stages: [] };
  const span = engine.span() ?? { min: 0n, max: 0n };
  const start = bounds.start || span.min;
  const end = bounds.end || (span.max > start ? span.max : start);
  // Only a defaulted start can pass end: parseBounds checks two given bounds.
  if (start > end) {
    throw new QueryError(
      `start defaults to the oldest stored line's time (${start}), which is after end (${end})`,
    );
  }
  let step: bigint;
  if (body.step === undefined || body.step === null) {
    step = (end - start) / BigInt(VOLUME_BUCKETS) + 1n;
  } else {
    const text = String(body.step);
    if (!/^[1-9][0-9]{0,18}$/.test(text)) {
      throw new QueryError(
        `step must be a positive integer of nanoseconds, got ${JSON.stringify(text)}`,
      );
    }
    step = BigInt(text);
  }
  if ((end - start) / step + 1n > BigInt(MAX_VOLUME_BUCKETS)) {
    throw new QueryError(
      `step ${step} makes more than ${MAX_VOLUME_BUCKETS} buckets over the range; use a larger step`,
    );
  }
  // sum by (level) (count_over_time(selector [step])), one point per bucket.
  const { warnings, ...volume } = await engine.countOverTime({
    start,
    end,
    step,
    matchers,
    ...splitPushdown(stages),
    by: ["level"],
  });
  return json({
    status: "success",
    data: volume,
    ...(warnings.length > 0 ? { warnings } : {}),
  });
}

/** `GET /api/v1/labels`: label names. */
export async function handleLabels(req: Request, engine: QueryEngine): Promise<Response> {
  const { start, end } = searchBounds(req);
  return json({ status: "success", data: await engine.labels(start, end) });
}

/** `GET /api/v1/label/{name}/values`: values of one label. */
export async function handleLabelValues(
  req: Request,
  engine: QueryEngine,
  name: string,
): Promise<Response> {
  const { start, end } = searchBounds(req);
  let label: string;
  try {
    label = decodeURIComponent(name);
  } catch {
    throw new QueryError(`label name ${JSON.stringify(name)} is not valid percent-encoding`);
  }
  return json({ status: "success", data: await engine.labelValues(label, start, end) });
}
