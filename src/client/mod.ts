/**
 * A batching logger for Deno and Node that ships to loge, or to Loki: it
 * speaks Loki's push API (`POST /loki/api/v1/push`, JSON).
 *
 * Calls never block and never throw: lines go to a bounded queue (the oldest
 * are dropped, and counted, when it is full), and a background loop sends
 * them in batches, every `flushIntervalMs` or as soon as `batchLines` wait.
 * A batch that fails for a reason worth retrying (no connection, 429, 5xx)
 * is sent again with exponential backoff, keeping its place; one the server
 * refuses (another 4xx) is dropped and reported to `onError`. `flush()`
 * waits until everything queued so far is sent; `close()` flushes and stops.
 * In Deno the logger flushes when the event loop runs dry (`beforeunload`),
 * in Node on `beforeExit`, for at most {@linkcode EXIT_FLUSH_MS}; otherwise its
 * timers never keep a process alive.
 *
 * @example
 * ```ts ignore
 * import { Loge } from "@loge/loge/client";
 * const log = new Loge({ url: "http://localhost:3000", labels: { app: "checkout" } });
 * log.info("order placed", { order_id: "o-17", user_id: "u-3" });
 * log.error("payment failed", { code: "E42" });
 * await log.close();
 * ```
 *
 * @module
 */

/** Levels, as Loki and Grafana name them. */
export type Level = "debug" | "info" | "warn" | "error" | "critical";

/** Fields of a line: structured metadata with `lines: "text"`, or keys of the JSON line. */
export type Fields = Record<string, string | number | boolean | null | undefined>;

/** How a {@linkcode Loge} sends. */
export interface LogeOptions {
  /** The server's base URL, e.g. `http://localhost:3000` (loge) or Loki's. */
  url: string;
  /** Labels of every line (a stream per level: `level` is added). */
  labels?: Record<string, string>;
  /**
   * `json` (default): each line is `{"level","msg",...fields}`; `text`: the
   * message is the line and the fields its structured metadata.
   */
  lines?: "json" | "text";
  /** Sent as `Authorization: Bearer <apiKey>` (loge's `--push-api-key`). */
  apiKey?: string;
  /** Sent as `X-Scope-OrgID` (a tenant of `--multi-tenant`, or Loki's). */
  tenant?: string;
  /** Lines a batch holds at most (default 1000). */
  batchLines?: number;
  /** Longest wait before a batch goes, in ms (default 1000). */
  flushIntervalMs?: number;
  /** Lines the queue holds at most; beyond, the oldest are dropped (default 100,000). */
  maxQueueLines?: number;
  /** Longest wait between retries, in ms (default 30,000). */
  maxBackoffMs?: number;
  /** Lines below this level are not sent (default `debug`: all). */
  minLevel?: Level;
  /** Hears of batches dropped (refused by the server) and of lines dropped (queue full). */
  onError?: (error: Error) => void;
}

/** What the logger did so far. */
export interface LogeStats {
  /** Lines the server acknowledged. */
  sent: number;
  /** Lines waiting. */
  queued: number;
  /** Lines dropped: the queue was full, or the server refused their batch. */
  dropped: number;
  /** Requests sent again after a failure. */
  retries: number;
}

const LEVELS: readonly Level[] = ["debug", "info", "warn", "error", "critical"];

/** How long a process about to exit waits for the queue to be sent. */
export const EXIT_FLUSH_MS = 5000;

interface Entry {
  level: Level;
  ts: bigint;
  line: string;
  metadata?: Record<string, string>;
}

/** A batching, retrying logger: see the module's documentation. */
export class Loge {
  readonly #o: Required<Omit<LogeOptions, "apiKey" | "tenant" | "onError" | "labels">> & {
    labels: Record<string, string>;
    apiKey?: string;
    tenant?: string;
    onError: (error: Error) => void;
  };
  readonly #queue: Entry[] = [];
  readonly #stats: LogeStats = { sent: 0, queued: 0, dropped: 0, retries: 0 };
  #lastTs = 0n;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #sending: Promise<void> | undefined;
  #closed = false;
  /** Callers waiting in {@linkcode Loge.flush}: while any do, retry timers keep the process alive. */
  #keepAlive = 0;
  #backoffTimer: ReturnType<typeof setTimeout> | undefined;
  /**
   * Whether an exit flush gave up with lines still queued: Node fires
   * beforeExit each time the loop empties, and a retry must not keep the
   * process alive for ever.
   */
  #gaveUp = false;
  readonly #onExit = () => {
    if (this.#gaveUp || this.#queue.length === 0 || this.#keepAlive > 0) return;
    void this.flush(EXIT_FLUSH_MS).then(() => this.#gaveUp = this.#queue.length > 0);
  };

  constructor(options: LogeOptions) {
    let url: URL;
    try {
      url = new URL(
        "loki/api/v1/push",
        options.url.endsWith("/") ? options.url : `${options.url}/`,
      );
    } catch {
      throw new TypeError(
        `Loge: url must be a URL such as http://localhost:3000, got ${JSON.stringify(options.url)}`,
      );
    }
    this.#o = {
      url: url.href,
      labels: { ...options.labels },
      lines: options.lines ?? "json",
      apiKey: options.apiKey,
      tenant: options.tenant,
      batchLines: options.batchLines ?? 1000,
      flushIntervalMs: options.flushIntervalMs ?? 1000,
      maxQueueLines: options.maxQueueLines ?? 100_000,
      maxBackoffMs: options.maxBackoffMs ?? 30_000,
      minLevel: options.minLevel ?? "debug",
      onError: options.onError ?? (() => {}),
    };
    const g = globalThis as {
      addEventListener?: (type: string, f: () => void) => void;
      process?: { on?: (event: string, f: () => void) => void };
    };
    if (typeof g.process?.on === "function") g.process.on("beforeExit", this.#onExit);
    else g.addEventListener?.("beforeunload", this.#onExit);
  }

  debug(message: string, fields?: Fields): void {
    this.log("debug", message, fields);
  }
  info(message: string, fields?: Fields): void {
    this.log("info", message, fields);
  }
  warn(message: string, fields?: Fields): void {
    this.log("warn", message, fields);
  }
  error(message: string, fields?: Fields): void {
    this.log("error", message, fields);
  }
  critical(message: string, fields?: Fields): void {
    this.log("critical", message, fields);
  }

  /** Queues a line at `level`; never blocks, never throws. */
  log(level: Level, message: string, fields: Fields = {}): void {
    if (this.#closed || LEVELS.indexOf(level) < LEVELS.indexOf(this.#o.minLevel)) return;
    // Nanoseconds from the clock's milliseconds, kept increasing so lines keep their order.
    let ts = BigInt(Date.now()) * 1_000_000n;
    if (ts <= this.#lastTs) ts = this.#lastTs + 1n;
    this.#lastTs = ts;
    const text = this.#o.lines === "text";
    const kept: Record<string, string> = {};
    for (const [k, v] of Object.entries(fields)) {
      if (v !== undefined && v !== null) kept[k] = String(v);
    }
    const entry: Entry = text
      ? { level, ts, line: message, metadata: Object.keys(kept).length > 0 ? kept : undefined }
      : { level, ts, line: JSON.stringify({ level, msg: message, ...fields }) };
    this.#queue.push(entry);
    if (this.#queue.length > this.#o.maxQueueLines) {
      const over = this.#queue.length - this.#o.maxQueueLines;
      this.#queue.splice(0, over);
      this.#stats.dropped += over;
      this.#o.onError(new Error(`Loge: the queue is full: ${over} oldest lines dropped`));
    }
    this.#schedule(this.#queue.length >= this.#o.batchLines ? 0 : this.#o.flushIntervalMs);
  }

  /** What the logger did so far. */
  get stats(): LogeStats {
    return { ...this.#stats, queued: this.#queue.length };
  }

  /**
   * Resolves once every line queued is sent (or dropped), or after
   * `timeoutMs` (default: no limit) with the rest still queued.
   */
  async flush(timeoutMs = Infinity): Promise<void> {
    this.#keepAlive++;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = Number.isFinite(timeoutMs)
      ? new Promise<void>((resolve) => timer = setTimeout(resolve, timeoutMs))
      : undefined;
    try {
      while (this.#queue.length > 0 || this.#sending) {
        if (!this.#sending) this.#sending = this.#drain();
        if (late) {
          if (await Promise.race([this.#sending.then(() => false), late.then(() => true)])) return;
        } else await this.#sending;
      }
    } finally {
      clearTimeout(timer);
      this.#keepAlive--;
      if (this.#keepAlive === 0 && this.#backoffTimer !== undefined) unref(this.#backoffTimer);
    }
  }

  /** Flushes, then stops: later lines are ignored. */
  async close(): Promise<void> {
    await this.flush();
    this.#closed = true;
    clearTimeout(this.#timer);
    const g = globalThis as {
      removeEventListener?: (type: string, f: () => void) => void;
      process?: { off?: (event: string, f: () => void) => void };
    };
    g.process?.off?.("beforeExit", this.#onExit);
    g.removeEventListener?.("beforeunload", this.#onExit);
  }

  #schedule(delayMs: number): void {
    if (this.#sending) return; // the running drain takes what arrives
    if (this.#timer !== undefined && delayMs > 0) return;
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#sending ??= this.#drain();
    }, delayMs);
    unref(this.#timer);
  }

  /** Sends batches until the queue is empty, retrying failures with backoff. */
  async #drain(): Promise<void> {
    try {
      let backoff = 250;
      while (this.#queue.length > 0) {
        const batch = this.#queue.slice(0, this.#o.batchLines);
        const outcome = await this.#send(batch);
        if (outcome === "retry") {
          this.#stats.retries++;
          await new Promise<void>((resolve) => {
            this.#backoffTimer = setTimeout(resolve, backoff * (0.5 + Math.random()));
            if (this.#keepAlive === 0) unref(this.#backoffTimer);
          });
          this.#backoffTimer = undefined;
          backoff = Math.min(backoff * 2, this.#o.maxBackoffMs);
          continue;
        }
        backoff = 250;
        // The queue only grows at its end or drops its oldest: the batch is
        // its first lines unless some were dropped meanwhile.
        const at = this.#queue.indexOf(batch[0]);
        const done = at < 0 ? 0 : Math.min(batch.length, this.#queue.length - at);
        const gone = at < 0 ? batch.length : batch.length - done;
        this.#queue.splice(Math.max(at, 0), done);
        if (outcome === "sent") this.#stats.sent += batch.length - gone;
        else this.#stats.dropped += batch.length - gone;
      }
    } finally {
      this.#sending = undefined;
    }
  }

  async #send(batch: readonly Entry[]): Promise<"sent" | "refused" | "retry"> {
    const streams = new Map<Level, [string, string, Record<string, string>?][]>();
    for (const e of batch) {
      let values = streams.get(e.level);
      if (!values) streams.set(e.level, values = []);
      values.push(e.metadata ? [String(e.ts), e.line, e.metadata] : [String(e.ts), e.line]);
    }
    const body = JSON.stringify({
      streams: [...streams].map(([level, values]) => ({
        stream: { ...this.#o.labels, level },
        values,
      })),
    });
    const headers: Record<string, string> = { "content-type": "application/json" };
    if (this.#o.apiKey) headers.authorization = `Bearer ${this.#o.apiKey}`;
    if (this.#o.tenant) headers["x-scope-orgid"] = this.#o.tenant;
    let res: Response;
    try {
      res = await fetch(this.#o.url, { method: "POST", headers, body });
    } catch {
      return "retry"; // no connection: the server is restarting, say
    }
    const text = await res.text().catch(() => "");
    if (res.ok) return "sent";
    if (res.status === 429 || res.status >= 500) return "retry";
    this.#o.onError(
      new Error(
        `Loge: the server refused ${batch.length} lines: ${res.status} ${text.slice(0, 200)}`,
      ),
    );
    return "refused";
  }
}

/** Keeps a timer from holding the process open (Deno's numbers, Node's objects). */
function unref(timer: ReturnType<typeof setTimeout>): void {
  const deno = (globalThis as { Deno?: { unrefTimer?: (id: number) => void } }).Deno;
  if (typeof timer === "number") deno?.unrefTimer?.(timer);
  else (timer as { unref?: () => void }).unref?.();
}
