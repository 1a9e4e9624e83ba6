/**
 * Loki's live tail, `GET /loki/api/v1/tail` over a WebSocket, as Grafana's
 * Explore "Live" opens it (through its data-source proxy, with the data
 * source's auth headers; it sends only `query`). Parameters as Loki's
 * `ParseTailQuery` (loki `pkg/loghttp/tail.go`): `query`, `start` (default
 * an hour ago; the newest `limit` stored lines since then come first),
 * `limit` (default 100) and `delay_for` (0–5 seconds lines wait, to be sent
 * in time order). Each text frame is Loki's tail response:
 *
 * ```json
 * {"streams":[{"stream":{"app":"web"},"values":[["1700000000000000000","GET / 200"]]}],
 *  "dropped_entries":[{"labels":{"app":"web"},"timestamp":"1700000000000000001"}]}
 * ```
 *
 * `dropped_entries` lists lines dropped because the client fell behind
 * (absent when none were). Errors before the upgrade are Loki's plain text;
 * one tail too many is 429 (Loki upgrades and then closes with 1011 and
 * the same words: a browser cannot see an HTTP status, and Grafana retries
 * a failed connection every 5 s). The server ends a tail with close code
 * 1008 for a client that took nothing for too long, 1001 at shutdown,
 * 1011 when its replay failed, and the reason.
 *
 * @module
 */

import type { LogSelectorExpr } from "../../query/ast.ts";
import { splitPushdown } from "../../query/pipeline/mod.ts";
import type { TailHub } from "../../tail/hub.ts";
import type { TailBatch, TailEnd, TailSink } from "../../tail/tail.ts";
import { QueryError } from "../read_request.ts";
import { stringify } from "../respond.ts";
import { CATEGORIZE_LABELS, encodeStreams, wantsCategorized } from "./encode.ts";
import { parseDuration, parseLokiLimit, parseLokiTime } from "./params.ts";
import { parseQuery } from "./query_text.ts";

const HOUR = 3_600_000_000_000n;
/** Loki's largest `delay_for`, in seconds (`maxDelayForInTailing`). */
const MAX_DELAY_FOR = 5;
/** Seconds without a pong before the server drops a WebSocket (Loki pings every second). */
const IDLE_TIMEOUT_S = 30;
/** Longest close reason, in bytes (RFC 6455: 125 bytes of payload, 2 for the code). */
const MAX_REASON_BYTES = 123;

const CLOSE_CODES: Record<TailEnd["reason"], number> = {
  slow: 1008,
  shutdown: 1001,
  failed: 1011,
};

/** The tail's query, which must be a log query. */
function tailQuery(params: URLSearchParams): LogSelectorExpr {
  const text = params.get("query") ?? "";
  if (text.trim() === "") {
    throw new QueryError('query is required: a LogQL log query such as {app="web"}');
  }
  try {
    return parseQuery(text);
  } catch (error) {
    // A metric query starts with a word, a digit or "(": say so rather than where it fails.
    const metric = /^\s*(?:([A-Za-z_][A-Za-z0-9_]*)|[0-9(])/.exec(text);
    if (!metric) throw error;
    const construct = metric[1] ? `${metric[1]}(…)` : JSON.stringify(text.trim().slice(0, 20));
    throw new QueryError(
      `tail takes a log query ({…} with a pipeline); ${construct} is a metric query`,
      undefined,
      { cause: error },
    );
  }
}

/**
 * `start` as Loki's tail reads it: absent, `since` (default an hour) before
 * now. Unlike a query's, it may lie in the future (then nothing replays).
 *
 * @example
 * ```ts
 * import { tailStart } from "./tail.ts";
 * import assert from "node:assert/strict";
 * const now = 1700000000000000000n;
 * assert.equal(tailStart(new URLSearchParams(), now), now - 3_600_000_000_000n);
 * assert.equal(tailStart(new URLSearchParams({ since: "5m" }), now), now - 300_000_000_000n);
 * assert.equal(tailStart(new URLSearchParams({ start: "1800000000" }), now), 1800000000000000000n);
 * ```
 */
export function tailStart(params: URLSearchParams, now: bigint): bigint {
  const text = params.get("start");
  if (text) return parseLokiTime(text, "start");
  const since = params.get("since");
  const back = since ? parseDuration(since, "since") : HOUR;
  return now > back ? now - back : 0n;
}

/**
 * `delay_for`: whole seconds from 0 to 5, absent 0.
 *
 * @example
 * ```ts
 * import { parseDelayFor } from "./tail.ts";
 * import assert from "node:assert/strict";
 * assert.equal(parseDelayFor(null), 0);
 * assert.equal(parseDelayFor("2"), 2);
 * assert.throws(() => parseDelayFor("6"), /delay_for can't be greater than 5/);
 * ```
 */
export function parseDelayFor(value: string | null): number {
  if (!value) return 0;
  if (!/^[+-]?\d+$/.test(value) || Number(value) < 0) {
    throw new QueryError(
      `delay_for must be a whole number of seconds from 0 to ${MAX_DELAY_FOR}, got ${
        JSON.stringify(value)
      }`,
    );
  }
  const seconds = Number(value);
  // Loki's words (loki `pkg/loghttp/tail.go`).
  if (seconds > MAX_DELAY_FOR) {
    throw new QueryError(`delay_for can't be greater than ${MAX_DELAY_FOR}`);
  }
  return seconds;
}

/**
 * A batch as Loki's tail response frame: lines grouped into streams as a
 * query answers them (in order of each stream's first line), and the lines
 * dropped, by their stream labels and time.
 *
 * @example
 * ```ts
 * import { tailFrame } from "./tail.ts";
 * import assert from "node:assert/strict";
 * const stream = { key: '{"app":"web"}', labels: { app: "web" } };
 * const batch = {
 *   entries: [{ ts: 1700000000000000000n, line: "GET / 200", stream }],
 *   dropped: [{ stream, ts: 1700000000000000001n }],
 *   droppedCount: 1,
 *   replay: false,
 * };
 * assert.deepEqual(tailFrame(batch, false), {
 *   streams: [{ stream: { app: "web" }, values: [["1700000000000000000", "GET / 200"]] }],
 *   dropped_entries: [{ labels: { app: "web" }, timestamp: "1700000000000000001" }],
 * });
 * ```
 */
export function tailFrame(batch: TailBatch, categorize: boolean): Record<string, unknown> {
  return {
    streams: encodeStreams(batch.entries, categorize),
    ...(batch.dropped.length > 0
      ? {
        dropped_entries: batch.dropped.map((d) => ({
          labels: d.stream.labels,
          timestamp: d.ts.toString(),
        })),
      }
      : {}),
    ...(categorize ? { encodingFlags: [CATEGORIZE_LABELS] } : {}),
  };
}

const UTF8 = new TextEncoder();

/** `reason` cut to what a close frame holds. */
function closeReason(reason: string): string {
  if (UTF8.encode(reason).length <= MAX_REASON_BYTES) return reason;
  let out = reason;
  // "…" is 3 bytes.
  while (UTF8.encode(out).length > MAX_REASON_BYTES - 3) out = out.slice(0, -1);
  return `${out}…`;
}

/**
 * Opens a tail of the request's query on `hub` and upgrades the request to
 * the WebSocket that carries it.
 *
 * @throws {QueryError} for a bad parameter, or a request that is not a WebSocket upgrade.
 * @throws {TailLimitError} when the hub is full.
 */
export function handleLokiTail(req: Request, hub: TailHub): Response {
  const params = new URL(req.url).searchParams;
  const { matchers, pipeline } = tailQuery(params);
  const limit = parseLokiLimit(params.get("limit"));
  const start = tailStart(params, BigInt(Date.now()) * 1_000_000n);
  const delayFor = parseDelayFor(params.get("delay_for"));
  if (req.headers.get("upgrade")?.toLowerCase() !== "websocket") {
    throw new QueryError(
      "tail is a WebSocket endpoint: send Connection: Upgrade and Upgrade: websocket " +
        "(for curl and browsers, /api/v1/tail streams server-sent events)",
    );
  }
  // The request's headers are gone once it is upgraded.
  const categorize = wantsCategorized(req);
  // Subscribed before the upgrade: once upgraded, the request can only be answered with it.
  let socket: WebSocket | undefined;
  const sink: TailSink = {
    backlog: () => (socket?.readyState === WebSocket.OPEN ? socket.bufferedAmount : Infinity),
    send: (batch) => socket!.send(stringify(tailFrame(batch, categorize))),
    close: (end) => socket!.close(CLOSE_CODES[end.reason], closeReason(end.message)),
  };
  const tail = hub.open({
    matchers,
    ...splitPushdown(pipeline),
    replay: { start, limit },
    delayMs: delayFor * 1000,
  }, sink);
  let response: Response;
  try {
    ({ socket, response } = Deno.upgradeWebSocket(req, { idleTimeout: IDLE_TIMEOUT_S }));
  } catch (error) {
    tail.disconnected();
    throw new QueryError(`cannot upgrade to a WebSocket: ${(error as Error).message}`);
  }
  socket.onopen = () => tail.pump();
  socket.onclose = () => tail.disconnected();
  return response;
}
