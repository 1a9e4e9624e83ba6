/**
 * `loge search --local`: a client-side search. The server's plan
 * (`GET /api/v1/search/plan`) answers the query over its hot tier and lists
 * the cold segments that may hold more lines, each with a presigned URL;
 * this machine reads those segments itself, through the query engine's own
 * planner and sink ({@linkcode selectSegments}): the segment index, block
 * pruning, the pipeline and the top-N, `concurrency` segments and blocks at
 * a time, with a cache of decoded blocks. The server's hot lines enter the
 * same top-N, so the answer is the one `POST /api/v1/query` gives. When the
 * server cut its hot lines short (`--max-response-size`), the answer stops
 * where they stop, and it holds no more than {@linkcode MAX_ANSWER_SIZE}
 * itself.
 *
 * @module
 */

import {
  cutWarning,
  type Direction,
  type LogEntry,
  MAX_ANSWER_SIZE,
  type SelectResult,
  selectSegments,
} from "../query/engine.ts";
import { streamKey } from "../query/pipeline/labels.ts";
import { toLogQuery } from "../server/read_request.ts";
import { BlockCache } from "../storage/block_cache.ts";
import { SegmentCache } from "../storage/segment_cache.ts";
import { SourceOpener } from "../storage/source/opener.ts";
import { openUrlSource } from "../storage/source/url.ts";
import { REMOTE } from "../tier/cold_tier.ts";

/** What a client-side search takes. */
export interface LocalSearchOptions {
  /**
   * GETs `/api/v1/search/plan?<params>` of the server and resolves to its
   * decoded JSON answer (timestamps as bigints); fails as plain search does
   * on a connection or server error.
   */
  fetchPlan(params: URLSearchParams): Promise<unknown>;
  /** The LogQL query, as given. */
  query: string;
  /** Inclusive time bounds in unix nanoseconds; 0n is unbounded. */
  start: bigint;
  end: bigint;
  limit: number;
  direction: Direction;
  /** Segments opened and blocks read at once. */
  concurrency: number;
  /** Decoded blocks kept in memory. */
  frameCacheSize: number;
}

/** A server's plan that does not have the shape of a plan: exit status 1. */
export class PlanError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "PlanError";
  }
}

/** One cold segment of a plan. */
interface PlanSegment {
  id: string;
  url: string;
  bytes: number;
}

/**
 * Runs a client-side search: fetches the plan, reads its cold segments
 * here, and merges the server's hot lines in.
 *
 * @returns the lines in the query's direction, and the warnings of the
 * server and of the segments that could not be read.
 * @throws {PlanError} when the plan does not have the shape of one.
 */
export async function searchLocal(options: LocalSearchOptions): Promise<SelectResult> {
  const { query: text, start, end, limit, direction } = options;
  const plan = await options.fetchPlan(
    new URLSearchParams({
      query: text,
      start: String(start),
      end: String(end),
      limit: String(limit),
      direction,
    }),
  );
  const { hot, cut, segments, warnings } = planOf(plan);
  // The query the server ran, parsed by the same code.
  const query = toLogQuery({ query: text, start, end, limit, direction });
  const urls = new Map(segments.map((s) => [s.id, s.url]));
  // Every segment of a plan is a cold one: no local files are read.
  const opener = new SourceOpener("", {
    [REMOTE]: (segment) =>
      Promise.resolve(
        openUrlSource(urls.get(segment.name)!, segment.bytes!, `cold segment ${segment.name}`),
      ),
  });
  const cache = new SegmentCache(opener);
  try {
    const result = await selectSegments(
      {
        cache,
        concurrency: options.concurrency,
        blockCache: new BlockCache(options.frameCacheSize),
        maxResponseSize: MAX_ANSWER_SIZE,
      },
      query,
      segments.map((s) => ({ name: s.id, location: REMOTE, bytes: s.bytes })),
      hot,
      cut,
    );
    // The server's warning of its cut counts its hot lines alone: this answer's replaces it.
    const serverCut = cut && cutWarning(hot.length, limit);
    const all = [...warnings.filter((w) => w !== serverCut), ...result.warnings];
    return { entries: result.entries, warnings: all, cut: result.cut };
  } finally {
    await cache.close();
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isStrings(value: unknown): value is Record<string, string> {
  return isObject(value) && Object.values(value).every((v) => typeof v === "string");
}

/** The parts of a decoded plan, checked. */
function planOf(
  plan: unknown,
): { hot: LogEntry[]; cut?: LogEntry; segments: PlanSegment[]; warnings: string[] } {
  const bad = (what: string) => new PlanError(`the server's search plan is malformed: ${what}`);
  if (!isObject(plan) || !Array.isArray(plan.hot) || !Array.isArray(plan.segments)) {
    throw bad("expected an object with hot and segments arrays");
  }
  const entryOf = (e: unknown, what: string): LogEntry => {
    if (
      !isObject(e) || typeof e.timestamp !== "bigint" || typeof e.line !== "string" ||
      !isStrings(e.labels) || (e.metadata !== undefined && !isStrings(e.metadata)) ||
      (e.parsed !== undefined && !isStrings(e.parsed))
    ) {
      throw bad(`${what} is not {timestamp, line, labels[, metadata][, parsed]}`);
    }
    return {
      ts: e.timestamp,
      line: e.line,
      // The key orders ties as the server's engine does: the canonical label JSON.
      stream: { key: streamKey(e.labels), labels: e.labels },
      ...(e.metadata ? { metadata: e.metadata } : {}),
      ...(e.parsed ? { parsed: e.parsed } : {}),
    };
  };
  const hot = plan.hot.map((e, i) => entryOf(e, `hot entry ${i}`));
  const cut = plan.cut === undefined ? undefined : entryOf(plan.cut, "the cut entry");
  const segments = plan.segments.map((s, i): PlanSegment => {
    if (
      !isObject(s) || typeof s.id !== "string" || typeof s.url !== "string" ||
      !Number.isSafeInteger(s.bytes) || (s.bytes as number) < 0
    ) {
      throw bad(`segment ${i} is not {id, url, bytes}`);
    }
    return { id: s.id, url: s.url, bytes: s.bytes as number };
  });
  const warnings = Array.isArray(plan.warnings) ? plan.warnings.map(String) : [];
  return { hot, cut, segments, warnings };
}
