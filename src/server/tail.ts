/**
 * `GET /api/v1/tail`: a live tail as server-sent events, for curl and
 * browsers. Parameters: `query` (LogQL log query; empty: every stream),
 * `start` (unix ns; when given, the newest `limit` stored lines at or after
 * it come first) and `limit` (default 100, at most 5000). Each event is one
 * batch of lines, its JSON in `data:`:
 *
 * ```text
 * data: {"entries":[{"timestamp":1700000000000000000,"line":"…","labels":{…}}]}
 * ```
 *
 * entries as `POST /api/v1/query` writes them, in arrival order; `"replay":
 * true` marks the stored lines of `start`, `"dropped": N` counts the lines
 * dropped since the previous event because the client fell behind, and
 * `"warnings"` says what the replay could not read. When the server ends
 * the tail it sends `event: end` with `{"status":"error","error":"…"}`.
 *
 * @module
 */

import type { TailHub } from "../tail/hub.ts";
import type { Tail, TailBatch, TailEnd, TailSink } from "../tail/tail.ts";
import { entryJson } from "./read.ts";
import { toLogQuery } from "./read_request.ts";
import { stringify } from "./respond.ts";

/** How often an idle stream sends a comment, so proxies and dead peers notice it. */
const HEARTBEAT_MS = 15_000;

const UTF8 = new TextEncoder();

/** One event: `data:` lines of `json`, after an `event:` line when `name` is given. */
function event(json: unknown, name?: string): Uint8Array {
  // JSON text holds no raw newline: one data line.
  return UTF8.encode(`${name ? `event: ${name}\n` : ""}data: ${stringify(json)}\n\n`);
}

/** The `data` of a batch. */
function batchJson(batch: TailBatch): Record<string, unknown> {
  return {
    entries: batch.entries.map(entryJson),
    ...(batch.replay ? { replay: true } : {}),
    ...(batch.droppedCount > 0 ? { dropped: batch.droppedCount } : {}),
    ...(batch.warnings ? { warnings: batch.warnings } : {}),
    ...(batch.truncated ? { truncated: true } : {}),
  };
}

/**
 * Opens a tail of the request's query on `hub`, answering its lines as a
 * stream of server-sent events.
 *
 * @throws {QueryError} for a bad parameter.
 * @throws {TailLimitError} when the hub is full.
 */
export function handleTail(req: Request, hub: TailHub): Response {
  const params = new URL(req.url).searchParams;
  const start = params.get("start");
  const query = toLogQuery({
    query: params.get("query") ?? "",
    start: start ?? undefined,
    limit: params.get("limit") ?? undefined,
  });
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  // Bytes the client has not taken: with a high-water mark of 0, the
  // stream's desired size is minus what it holds.
  const backlog = () => -(controller.desiredSize ?? 0);
  /** The end to send once the client has taken what it was sent. */
  let ending: TailEnd | undefined;
  const heartbeat = setInterval(() => {
    if (backlog() === 0 && !ending) controller.enqueue(UTF8.encode(":\n\n"));
  }, HEARTBEAT_MS);
  // Once the stream holds nothing else: the end event, and the tail's place is free.
  const finish = () => {
    clearInterval(heartbeat);
    controller.enqueue(event({ status: "error", error: ending!.message }, "end"));
    controller.close();
    tail.disconnected();
  };
  const sink: TailSink = {
    backlog: () => (ending ? Infinity : backlog()),
    send: (batch) => controller.enqueue(event(batchJson(batch))),
    close(end) {
      ending = end;
      if (backlog() === 0) finish();
    },
  };
  const body = new ReadableStream<Uint8Array>({
    start(c) {
      controller = c;
    },
    // The client took what the stream held.
    pull() {
      if (ending) return finish();
      tail.pump();
    },
    cancel() {
      clearInterval(heartbeat);
      tail.disconnected();
    },
  }, new ByteLengthQueuingStrategy({ highWaterMark: 0 }));
  let tail: Tail;
  try {
    tail = hub.open({
      matchers: query.matchers,
      pushdown: query.pushdown,
      pipeline: query.pipeline,
      replay: start ? { start: query.start, limit: query.limit } : undefined,
      delayMs: 0,
    }, sink);
  } catch (error) {
    clearInterval(heartbeat);
    throw error;
  }
  return new Response(body, {
    headers: {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-cache",
      // Proxies such as nginx would otherwise buffer the stream.
      "x-accel-buffering": "no",
    },
  });
}
