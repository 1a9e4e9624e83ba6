/**
 * One live tail: the lines of its query that become visible after it
 * subscribed, in arrival order, delivered to its client in batches, after
 * the stored lines it replays (when it asked for some). The connection is a
 * {@linkcode TailSink} (a WebSocket, a stream of server-sent events); the
 * tail decides what goes out and when.
 *
 * Memory stays bounded whatever the client does: lines wait in a bounded
 * queue ({@linkcode TailQueue}), a batch goes out only while the connection
 * holds less than `highWater` bytes the client has not taken, and lines
 * that do not fit are dropped and reported in the next batch. A client
 * that takes nothing for `stallMs` while lines wait is cut off: told so
 * after what it was sent, since a connection cannot be torn down while it
 * holds unsent bytes; until the client reads or goes away, its tail keeps
 * its place among the server's tails, so stuck clients cannot pile up.
 *
 * @module
 */

import type { PushStream } from "../ingest/payload.ts";
import { log } from "../log.ts";
import {
  LineTester,
  OFF_THREAD_CHARS,
  OFF_THREAD_LINES,
  WorkerSlots,
} from "../query/off_thread.ts";
import type { LogEntry } from "../query/top_entries.ts";
import type { StreamLabels } from "../storage/catalog.ts";
import { TailFilter, type TailSelection } from "./filter.ts";
import { type DroppedLine, TailQueue, type TailQueueLimits } from "./queue.ts";

/** What a tail sends its client at once. */
export interface TailBatch {
  /** Lines, oldest arrival first (by time when the tail delays lines). */
  readonly entries: LogEntry[];
  /** Lines dropped since the previous batch (up to a bound). */
  readonly dropped: DroppedLine[];
  /** How many lines were dropped since the previous batch (all of them). */
  readonly droppedCount: number;
  /** The lines are stored ones the tail replays, not new ones. */
  readonly replay: boolean;
  /**
   * What the replay could not read (damaged or unreachable files), or that
   * its size bound cut it short, in its first batch.
   */
  readonly warnings?: string[];
  /**
   * In the first batch of a replay that `--max-response-size` cut short:
   * older stored lines were left out before its first line.
   */
  readonly truncated?: boolean;
}

/** Why the server ends a tail. */
export interface TailEnd {
  /**
   * `slow`: the client took nothing for too long, or the query tests lines
   * slower than they arrive; `shutdown`; `failed`: the replay failed.
   */
  readonly reason: "slow" | "shutdown" | "failed";
  readonly message: string;
}

/** A tail's connection to its client. */
export interface TailSink {
  /**
   * Bytes handed to the connection that the client has not taken yet
   * (`Infinity` while the connection is not open).
   */
  backlog(): number;
  /** Sends a batch. */
  send(batch: TailBatch): void;
  /**
   * Ends the connection after what was sent, telling the client why. The
   * sink calls {@linkcode Tail.disconnected} once the connection is gone.
   */
  close(end: TailEnd): void;
}

/** How a tail batches and bounds its lines. */
export interface TailOptions {
  /** Bounds of the lines waiting for the client. */
  readonly queue: TailQueueLimits;
  /** Bytes the client may leave untaken in the connection before batches wait. */
  readonly highWater: number;
  /** Most lines in a batch. */
  readonly batchLines: number;
  /** Most bytes of lines in a batch (a longer line goes alone). */
  readonly batchBytes: number;
  /** How long a line may wait for others to join its batch (ms). */
  readonly batchMs: number;
  /** How long a client may take nothing while lines wait before it is cut off (ms). */
  readonly stallMs: number;
  /** How long lines wait after arriving, to be sent in time order (ms; 0: arrival order). */
  readonly delayMs: number;
}

/** Figures of a server's tails, shared by them. */
export interface TailCounters {
  /** Lines sent to clients (replayed ones too). */
  linesSent: number;
  /** Lines dropped because their client fell behind. */
  linesDropped: number;
  /** Tails cut off because their client took nothing for too long. */
  cutOff: number;
}

/** The defaults of {@linkcode TailOptions}, `delayMs` aside. */
export const TAIL_DEFAULTS: Omit<TailOptions, "delayMs"> = {
  queue: { lines: 10_000, bytes: 4 << 20, dropped: 1000 },
  highWater: 1 << 20,
  batchLines: 1000,
  batchBytes: 1 << 20,
  batchMs: 100,
  stallMs: 10_000,
};

/** The slots of tails' line testers, apart from the queries'. */
const TAIL_SLOTS = new WorkerSlots();

/**
 * How many times its queue's bytes of lines may wait for a tail behind lines
 * tested off the push's path.
 */
const DEFERRED_QUEUES = 16;

/** The UTF-16 code units of lines `[from, to)` of `pushed`. */
function charsOf(pushed: PushStream, from: number, to: number): number {
  let n = 0;
  for (let i = from; i < to; i++) n += pushed.lines[i].length;
  return n;
}

/**
 * A subscribed tail. Lines offered before the replay is given wait behind
 * it, so the replay (what was visible when the tail subscribed) goes out
 * first and nothing is sent twice.
 *
 * @example
 * ```ts
 * import { TAIL_DEFAULTS, Tail, type TailBatch } from "./tail.ts";
 * import assert from "node:assert/strict";
 * const sent: TailBatch[] = [];
 * const sink = { backlog: () => 0, send: (b: TailBatch) => void sent.push(b), close() {} };
 * const tail = new Tail(
 *   { matchers: [], pushdown: [], pipeline: [] },
 *   sink,
 *   { ...TAIL_DEFAULTS, delayMs: 0 },
 *   { linesSent: 0, linesDropped: 0, cutOff: 0 },
 *   () => {},
 * );
 * const stream = { key: "{}", labels: {} };
 * tail.offer(stream, { key: "{}", ts: [2n], lines: ["new"] });
 * tail.replayed([{ ts: 1n, line: "stored", stream }]);
 * tail.pump();
 * assert.deepEqual(sent.map((b) => [b.replay, b.entries.map((e) => e.line)]), [
 *   [true, ["stored"]],
 *   [false, ["new"]],
 * ]);
 * tail.disconnected();
 * ```
 */
export class Tail {
  readonly #filter: TailFilter;
  readonly #sink: TailSink;
  readonly #options: TailOptions;
  readonly #onGone: () => void;
  readonly #counters: TailCounters;
  readonly #queue: TailQueue;
  /** Stored lines still to send, oldest first; `undefined` until the replay is given. */
  #replay?: LogEntry[];
  #warnings?: string[];
  /** Whether the replay's first batch is still to say it was cut short. */
  #truncated = false;
  #timer?: ReturnType<typeof setTimeout>;
  #timerAt = 0;
  #stalledSince?: number;
  #stalledBacklog = 0;
  #ended = false;
  #gone = false;
  /** Payloads whose lines wait, in order, behind a line tested off the push's path. */
  readonly #deferred: {
    stream: StreamLabels;
    pushed: PushStream;
    from: number;
    /** Whether the line at `from` is known to need the worker (the push's path stopped at it). */
    costly: boolean;
  }[] = [];
  /** The UTF-16 code units of the lines waiting there. */
  #deferredChars = 0;
  /** Tests the lines too costly for the push's path; started by the first. */
  #tester?: LineTester;

  /**
   * A tail of `selection` sending to `sink`, counting in `counters`;
   * `onGone` is called once its connection is gone, whichever side ended
   * it. It waits for {@linkcode replayed} before sending anything.
   */
  constructor(
    selection: TailSelection,
    sink: TailSink,
    options: TailOptions,
    counters: TailCounters,
    onGone: () => void,
  ) {
    this.#filter = new TailFilter(selection);
    this.#sink = sink;
    this.#options = options;
    this.#counters = counters;
    this.#onGone = onGone;
    this.#queue = new TailQueue(options.queue);
  }

  /** Whether the tail has ended. */
  get ended(): boolean {
    return this.#ended;
  }

  /**
   * Takes the lines of `stream` in a payload that just became visible. It
   * runs on the push's path: a failure ends this tail, never the push.
   */
  offer(stream: StreamLabels, pushed: PushStream): void {
    if (this.#ended) return;
    if (this.#deferred.length > 0) {
      if (this.#filter.selects(stream)) this.#defer(stream, pushed, 0, false);
      return;
    }
    try {
      const left = this.#filter.run(stream, pushed, this.#take);
      // Sending what it kept can end the tail (a client cut off).
      if (left < pushed.lines.length && !this.#ended) {
        this.#defer(stream, pushed, left, true);
        void this.#testDeferred();
      }
    } catch (error) {
      this.#fail(error);
    }
  }

  /** Queues a kept line for sending. */
  readonly #take = (entry: LogEntry): void => {
    if (!this.#queue.push(entry, Date.now())) this.#counters.linesDropped++;
    // A large payload goes out batch by batch while the client keeps up.
    else if (this.#queue.length >= this.#options.batchLines) this.pump();
  };

  /**
   * Queues `pushed`'s lines from `from` on behind a line tested off the
   * push's path. A tail whose query tests lines slower than they arrive is
   * cut off once the lines waiting outgrow {@linkcode DEFERRED_QUEUES} times
   * its queue's bytes.
   */
  #defer(stream: StreamLabels, pushed: PushStream, from: number, costly: boolean): void {
    const chars = charsOf(pushed, from, pushed.lines.length);
    const most = DEFERRED_QUEUES * this.#options.queue.bytes;
    if (this.#deferredChars + chars > most) {
      this.#counters.cutOff++;
      return this.end({
        reason: "slow",
        message: `the query tests lines slower than they arrive: lines of ` +
          `${Math.round(this.#deferredChars / 2 ** 20)} MiB waited behind lines its regexes ` +
          "take long to test",
      });
    }
    this.#deferred.push({ stream, pushed, from, costly });
    this.#deferredChars += chars;
  }

  /**
   * Runs the waiting lines in order: on the event loop up to a line too
   * costly for it, which a worker tests ({@linkcode LineTester}), and so on
   * until none waits.
   */
  async #testDeferred(): Promise<void> {
    try {
      while (this.#deferred.length > 0 && !this.#ended) {
        const next = this.#deferred[0];
        const { stream, pushed } = next;
        // A line the push's path stopped at is not run there again.
        const costly = next.costly
          ? next.from
          : this.#filter.run(stream, pushed, this.#take, next.from);
        this.#deferredChars -= charsOf(pushed, next.from, costly);
        next.from = costly;
        next.costly = false;
        if (this.#ended) return;
        if (costly < pushed.lines.length) {
          // The lines that follow go along, whatever they cost: one round trip for them all.
          const jobs = [];
          let chars = 0;
          for (let i = costly; i < pushed.lines.length && jobs.length < OFF_THREAD_LINES; i++) {
            chars += pushed.lines[i].length;
            if (jobs.length > 0 && chars > OFF_THREAD_CHARS) break;
            jobs.push(this.#filter.job(stream, pushed, i));
          }
          const tester = this.#tester ??= new LineTester(TAIL_SLOTS);
          const outs = await tester.process(jobs);
          if (this.#ended) return;
          outs.forEach((out, k) => {
            if (out) this.#take({ ts: pushed.ts[costly + k], ...out });
          });
          this.#deferredChars -= charsOf(pushed, costly, costly + jobs.length);
          next.from += jobs.length;
        }
        if (next.from === pushed.lines.length) this.#deferred.shift();
        this.offered();
      }
    } catch (error) {
      // Ending the tail stops its worker, and a test under way with it.
      if (!this.#ended) this.#fail(error);
    }
  }

  /** After a payload's lines were offered: sends a full batch now, or soon. */
  offered(): void {
    if (this.#ended || this.#replay === undefined) return;
    if (this.#queue.length >= this.#options.batchLines) this.pump();
    else if (this.#queue.length > 0 || this.#queue.droppedCount > 0) {
      this.#schedule(this.#options.batchMs + this.#options.delayMs);
    }
  }

  /**
   * Gives the stored lines to replay (oldest first), what the replay could
   * not read, and whether its size bound left older lines out; sending starts.
   */
  replayed(entries: LogEntry[], warnings: string[] = [], truncated = false): void {
    if (this.#ended) return;
    this.#replay = entries;
    if (warnings.length > 0) this.#warnings = warnings;
    this.#truncated = truncated;
    this.pump();
  }

  /**
   * Sends what is due while the client keeps up; otherwise checks whether
   * it is stuck, and looks again soon. Sinks call it when the connection
   * opens or drains.
   */
  pump(): void {
    if (this.#ended || this.#replay === undefined) return;
    const o = this.#options;
    const now = Date.now();
    while (this.#due(now)) {
      const backlog = this.#sink.backlog();
      if (backlog >= o.highWater) return this.#stalled(now, backlog);
      this.#stalledSince = undefined;
      try {
        const batch = this.#nextBatch(now);
        this.#sink.send(batch);
        this.#counters.linesSent += batch.entries.length;
      } catch (error) {
        return this.#fail(error);
      }
    }
    this.#stalledSince = undefined;
    const first = this.#queue.firstArrival;
    if (first !== undefined) this.#schedule(Math.max(first + o.delayMs - now, 0));
  }

  /** The server ends the tail: nothing more is sent, and the client is told why. */
  end(end: TailEnd): void {
    if (this.#ended) return;
    this.#stop();
    try {
      this.#sink.close(end);
    } catch (error) {
      log(`live tail: closing its connection failed: ${(error as Error)?.message}`);
    }
  }

  /** The client's connection is gone (the client left, or the server ended it). */
  disconnected(): void {
    this.#stop();
    if (this.#gone) return;
    this.#gone = true;
    this.#onGone();
  }

  #stop(): void {
    this.#ended = true;
    clearTimeout(this.#timer);
    this.#tester?.close();
    this.#deferred.length = 0;
  }

  /** Ends the tail on an error of its own (a bug): logged, and the client told. */
  #fail(error: unknown): void {
    log(`live tail failed: ${(error as Error)?.stack ?? error}`);
    this.end({ reason: "failed", message: `live tail failed: ${(error as Error)?.message}` });
  }

  /** Whether a batch is due: stored lines, lines that waited long enough, or drops to report. */
  #due(now: number): boolean {
    const first = this.#queue.firstArrival;
    return this.#replay!.length > 0 || this.#warnings !== undefined ||
      this.#queue.droppedCount > 0 ||
      (first !== undefined && first + this.#options.delayMs <= now);
  }

  #nextBatch(now: number): TailBatch {
    const o = this.#options;
    const { lines: dropped, count: droppedCount } = this.#queue.takeDropped();
    const warnings = {
      ...(this.#warnings === undefined ? {} : { warnings: this.#warnings }),
      ...(this.#truncated ? { truncated: true } : {}),
    };
    this.#warnings = undefined;
    this.#truncated = false;
    const replay = this.#replay!;
    if (replay.length > 0) {
      let bytes = 0;
      let n = 0;
      while (n < replay.length && n < o.batchLines && (n === 0 || bytes < o.batchBytes)) {
        bytes += replay[n++].line.length;
      }
      return { entries: replay.splice(0, n), dropped, droppedCount, replay: true, ...warnings };
    }
    const entries = this.#queue.take(o.batchLines, o.batchBytes, now - o.delayMs);
    // Delayed lines go out in time order (a stable sort keeps arrival order within a time).
    if (o.delayMs > 0) entries.sort((a, b) => (a.ts < b.ts ? -1 : a.ts > b.ts ? 1 : 0));
    return { entries, dropped, droppedCount, replay: false, ...warnings };
  }

  /** The client has not taken enough of what it was sent: cut it off once it made no progress for `stallMs`. */
  #stalled(now: number, backlog: number): void {
    if (this.#stalledSince === undefined || backlog < this.#stalledBacklog) {
      this.#stalledSince = now;
      this.#stalledBacklog = backlog;
    } else if (now - this.#stalledSince >= this.#options.stallMs) {
      const dropped = this.#queue.droppedCount;
      this.#counters.cutOff++;
      return this.end({
        reason: "slow",
        message: `client too slow: it took nothing for ${this.#options.stallMs / 1000}s ` +
          `while ${this.#queue.length} lines waited; ${dropped} more were dropped`,
      });
    }
    this.#schedule(this.#options.batchMs);
  }

  /** Pumps in `ms`, unless a pump is already due by then. */
  #schedule(ms: number): void {
    const at = Date.now() + ms;
    if (this.#timer !== undefined) {
      if (this.#timerAt <= at) return;
      clearTimeout(this.#timer);
    }
    this.#timerAt = at;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.pump();
    }, ms);
  }
}
