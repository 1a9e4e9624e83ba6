/**
 * The live tails of a server: at most `maxClients` at once, each hearing
 * every payload in the turn it becomes visible (the ingester's
 * `onVisible`), so a tail delivers each line that becomes visible after it
 * subscribed exactly once, in arrival order, whatever its timestamp. A tail
 * that asks for a replay subscribes first and then replays, in the same
 * turn, what was visible at that instant (`selectVisible`, `snapshot.ts`):
 * a line pushed meanwhile is in the subscription, not in the replay.
 *
 * @module
 */

import type { PushPayload } from "../ingest/payload.ts";
import type { LogQuery, SelectResult } from "../query/engine.ts";
import type { StreamLabels } from "../storage/catalog.ts";
import { ShuttingDownError } from "../ingest/ingester.ts";
import type { TailSelection } from "./filter.ts";
import { Tail, TAIL_DEFAULTS, type TailCounters, type TailOptions, type TailSink } from "./tail.ts";

/** A tail refused because `maxClients` tails are open. */
export class TailLimitError extends Error {
  /** Creates the error for the `count`-th tail over `limit`. */
  constructor(count: number, limit: number) {
    // Loki's words (loki `pkg/querier/tail/querier.go`).
    super(`max concurrent tail requests limit exceeded, count > limit (${count} > ${limit})`);
    this.name = "TailLimitError";
  }
}

/** What a tail asks for. */
export interface TailRequest extends TailSelection {
  /** Replay the newest `limit` stored lines at or after `start` first; absent: live lines only. */
  readonly replay?: { readonly start: bigint; readonly limit: number };
  /** How long lines wait to be sent in time order (ms; 0: arrival order). */
  readonly delayMs: number;
}

/** What the hub needs. */
export interface TailHubOptions {
  /** Most tails open at once. */
  readonly maxClients: number;
  /** The interned labels of a stream key (`Catalog.stream`). */
  readonly streamOf: (key: string) => StreamLabels;
  /** A log query over exactly what is visible when called (`selectVisible` of `snapshot.ts`). */
  readonly replay: (query: LogQuery) => Promise<SelectResult>;
  /** Batching and bounds of each tail (default {@linkcode TAIL_DEFAULTS}). */
  readonly tail?: Omit<TailOptions, "delayMs">;
}

/**
 * Opens tails and hands them the payloads that become visible.
 *
 * @example
 * ```ts
 * import { TailHub } from "./hub.ts";
 * import type { TailBatch } from "./tail.ts";
 * import assert from "node:assert/strict";
 * const hub = new TailHub({
 *   maxClients: 1,
 *   streamOf: (key) => ({ key, labels: JSON.parse(key) }),
 *   replay: () => Promise.resolve({ entries: [], warnings: [] }),
 * });
 * const sent: TailBatch[] = [];
 * const sink = { backlog: () => 0, send: (b: TailBatch) => void sent.push(b), close() {} };
 * const selection = { matchers: [], pushdown: [], pipeline: [], delayMs: 0 };
 * hub.open(selection, sink);
 * assert.throws(() => hub.open(selection, sink), /limit exceeded, count > limit \(2 > 1\)/);
 * hub.publish({ streams: [{ key: '{"app":"web"}', ts: [1n], lines: ["hello"] }], lines: 1 });
 * await new Promise((r) => setTimeout(r, 150)); // one batch interval
 * assert.deepEqual(sent.flatMap((b) => b.entries.map((e) => e.line)), ["hello"]);
 * hub.close();
 * ```
 */
export class TailHub {
  readonly #options: TailHubOptions;
  readonly #tails = new Set<Tail>();
  readonly #counters: TailCounters = { linesSent: 0, linesDropped: 0, cutOff: 0 };
  #opened = 0;
  #refused = 0;
  #closed = false;

  /** A hub with no tails. */
  constructor(options: TailHubOptions) {
    this.#options = options;
  }

  /** Tails open now. */
  get size(): number {
    return this.#tails.size;
  }

  /** Figures for `/api/v1/stats`. */
  stats(): Record<string, number> {
    const c = this.#counters;
    return {
      open: this.#tails.size,
      max: this.#options.maxClients,
      opened: this.#opened,
      refused: this.#refused,
      lines_sent: c.linesSent,
      lines_dropped: c.linesDropped,
      cut_off: c.cutOff,
    };
  }

  /**
   * Subscribes a tail sending to `sink` and, when it asks for one, starts
   * its replay in the same turn.
   *
   * @throws {TailLimitError} when `maxClients` tails are open.
   * @throws {ShuttingDownError} once the hub is closed.
   */
  open(request: TailRequest, sink: TailSink): Tail {
    if (this.#closed) throw new ShuttingDownError();
    const { maxClients } = this.#options;
    if (this.#tails.size >= maxClients) {
      this.#refused++;
      throw new TailLimitError(this.#tails.size + 1, maxClients);
    }
    const tail = new Tail(
      request,
      sink,
      { ...(this.#options.tail ?? TAIL_DEFAULTS), delayMs: request.delayMs },
      this.#counters,
      () => this.#tails.delete(tail),
    );
    this.#tails.add(tail);
    this.#opened++;
    const { replay } = request;
    if (!replay) {
      tail.replayed([]);
      return tail;
    }
    this.#options.replay({
      start: replay.start,
      end: 0n,
      matchers: request.matchers,
      pushdown: request.pushdown,
      pipeline: request.pipeline,
      limit: replay.limit,
      direction: "backward",
    }).then(
      ({ entries, warnings, cut }) => tail.replayed(entries.reverse(), warnings, cut !== undefined),
      (error) => tail.end({ reason: "failed", message: `replay failed: ${error?.message}` }),
    );
    return tail;
  }

  /** Hands a payload that just became visible to every tail (the ingester's `onVisible`). */
  publish(payload: PushPayload): void {
    if (this.#tails.size === 0) return;
    const { streamOf } = this.#options;
    for (const pushed of payload.streams) {
      const stream = streamOf(pushed.key);
      for (const tail of this.#tails) tail.offer(stream, pushed);
    }
    for (const tail of this.#tails) tail.offered();
  }

  /** Ends every tail, telling clients the server is shutting down; refuses new ones. */
  close(): void {
    this.#closed = true;
    for (const tail of [...this.#tails]) {
      tail.end({ reason: "shutdown", message: "server is shutting down" });
    }
  }
}
