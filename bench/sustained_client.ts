/**
 * A load client for long runs: `deno run -A bench/sustained_client.ts '<json options>'`
 * ({@linkcode SustainedClientOptions}).
 *
 * Pushing minutes of load at full speed cannot encode every body first as `push_worker.ts` does
 * (hundreds of thousands of lines a second), so this client encodes a bounded pool once and sends
 * it again and again with its timestamps moved forward ({@linkcode RollingBody}). The pool of the
 * whole fleet is lines `[0, poolLines)` of the generator, `poolLines = poolBatches × batch ×
 * clients`; client `w` of `n` takes the batches `b` with `b % n == w`, as `push_worker.ts` does.
 * The pool spans `span` ns of log time, the stamp of line `poolLines` less that of line 0, so
 * that cycle `k` of a body carries its lines at `ts + k × span`, after every line of cycle
 * `k - 1` and before every line of cycle `k + 1`: lines repeat every pool, timestamps never do.
 *
 * Each of the `concurrency` request loops owns every `concurrency`-th body of the client's pool
 * and cycles through them: a body is never rewritten while a request still sends it.
 *
 * It prints a `ready` line ({@linkcode SustainedReady}) once the pool is encoded, waits for `go`
 * on stdin, pushes until `durationMs` has passed (requests in flight then finish), printing a
 * `progress` line ({@linkcode SustainedProgress}) every second, and a `done` line
 * ({@linkcode SustainedDone}) at the end.
 *
 * @module
 */

import { LogGenerator } from "./generator/mod.ts";
import { waitForGo } from "./client_process.ts";
import { HttpPoster } from "./http_poster.ts";
import { buildPayload, createEncoder, pushUrl } from "./push_client.ts";
import { epochMs } from "./push_worker.ts";
import { RollingBody } from "./rolling_body.ts";

/** Options of one client, passed as its only argument (JSON). */
export interface SustainedClientOptions {
  /** Base URL of the server. */
  addr: string;
  /** Corpus seed. */
  seed: number;
  /** Unix ns of line 0 of the pool, as a decimal string of 19 digits. */
  start: string;
  /** Lines per second of log time. */
  rate: number;
  /** Lines per request. */
  batch: number;
  /** Batches of each client's pool. */
  poolBatches: number;
  /** This client's index in `[0, clients)`. */
  client: number;
  /** Clients sharing the pool. */
  clients: number;
  /** Requests in flight (at most `poolBatches`). */
  concurrency: number;
  /** Milliseconds from `go` after which no request starts. */
  durationMs: number;
  /** Per-request timeout in milliseconds. */
  timeoutMs: number;
}

/** The line a client prints once its pool is encoded. */
export interface SustainedReady {
  type: "ready";
  /** Lines in its pool. */
  lines: number;
  /** Bytes of its pool's bodies. */
  bytes: number;
  /** Log time of the whole fleet's pool, the step of each cycle, in ns (decimal string). */
  spanNs: string;
  /** Time spent generating and encoding, in milliseconds. */
  encodeMs: number;
}

/** What a client has had acknowledged so far. */
export interface SustainedCounts {
  /** Lines in requests answered with 2xx. */
  lines: number;
  /** Requests answered or failed. */
  requests: number;
  /** Requests that failed (non-2xx or no response). */
  errors: number;
  /** The newest timestamp acknowledged (Unix ns, decimal string), `"0"` before the first. */
  lastTs: string;
}

/** The line a client prints every second while it pushes. */
export interface SustainedProgress extends SustainedCounts {
  type: "progress";
}

/** The line a client prints when its last request is answered. */
export interface SustainedDone extends SustainedCounts {
  type: "done";
  /** Payload bytes of acknowledged requests. */
  bytes: number;
  /** The first failure, or `null`. */
  firstError: string | null;
  /** Count of each HTTP status received. */
  statuses: Record<string, number>;
  /** Epoch ms of `go` and of the last answer. */
  startMs: number;
  endMs: number;
  /** Lines acknowledged in each second after `go` (by time of acknowledgement). */
  linesPerSecond: number[];
}

/**
 * Validates the client options JSON.
 *
 * @example
 * ```ts
 * import { parseSustainedClientOptions } from "./sustained_client.ts";
 * const o = parseSustainedClientOptions(JSON.stringify({
 *   addr: "http://127.0.0.1:3100", seed: 42, start: "1795219200000000000", rate: 300000,
 *   batch: 1000, poolBatches: 128, client: 0, clients: 2, concurrency: 4, durationMs: 60000,
 *   timeoutMs: 120000,
 * }));
 * console.log(o.poolBatches); // 128
 * ```
 * @throws {Error} If a field is missing or out of range.
 */
export function parseSustainedClientOptions(text: string): SustainedClientOptions {
  const o = JSON.parse(text) as Partial<SustainedClientOptions>;
  const fail = (name: string, why: string) =>
    new Error(`Invalid sustained client option ${name}: ${why}`);
  const int = (name: keyof SustainedClientOptions, min: number) => {
    const v = o[name];
    if (typeof v !== "number" || !Number.isSafeInteger(v) || v < min) {
      throw fail(name, `expected an integer >= ${min}`);
    }
  };
  if (typeof o.addr !== "string") throw fail("addr", "not a URL");
  if (typeof o.start !== "string" || !/^[1-9]\d{18}$/.test(o.start)) {
    throw fail("start", "expected 19 decimal digits of ns");
  }
  if (typeof o.rate !== "number" || !(o.rate > 0)) throw fail("rate", "expected a positive number");
  int("seed", Number.MIN_SAFE_INTEGER);
  int("batch", 1);
  int("poolBatches", 1);
  int("clients", 1);
  int("client", 0);
  int("concurrency", 1);
  int("durationMs", 0);
  int("timeoutMs", 1);
  if (o.client! >= o.clients!) throw fail("client", `${o.client} is not below ${o.clients}`);
  if (o.concurrency! > o.poolBatches!) {
    throw fail("concurrency", `${o.concurrency} is above poolBatches ${o.poolBatches}`);
  }
  return o as SustainedClientOptions;
}

async function main(): Promise<void> {
  const o = parseSustainedClientOptions(Deno.args[0] ?? "");
  const t0 = performance.now();
  const generator = new LogGenerator({ seed: o.seed, start: BigInt(o.start), rate: o.rate });
  const poolLines = o.poolBatches * o.batch * o.clients;
  const span = generator.at(poolLines).ts - generator.start;
  const encoder = await createEncoder("json");
  const pool: RollingBody[] = [];
  for (let k = 0; k < o.poolBatches; k++) {
    const from = (k * o.clients + o.client) * o.batch;
    const payload = buildPayload(generator.entries(from, o.batch));
    pool.push(new RollingBody(encoder.encode(payload), payload));
  }
  const ready: SustainedReady = {
    type: "ready",
    lines: pool.reduce((a, b) => a + b.lines, 0),
    bytes: pool.reduce((a, b) => a + b.body.length, 0),
    spanNs: span.toString(),
    encodeMs: performance.now() - t0,
  };
  console.log(JSON.stringify(ready));
  await waitForGo();

  const url = pushUrl(o.addr, encoder);
  const startMs = epochMs();
  const deadline = performance.now() + o.durationMs;
  let lastTs = 0n;
  const done: SustainedDone = {
    type: "done",
    lines: 0,
    requests: 0,
    errors: 0,
    lastTs: "0",
    bytes: 0,
    firstError: null,
    statuses: {},
    startMs,
    endMs: 0,
    linesPerSecond: [],
  };
  const report = () => {
    const progress: SustainedProgress = {
      type: "progress",
      lines: done.lines,
      requests: done.requests,
      errors: done.errors,
      lastTs: lastTs.toString(),
    };
    console.log(JSON.stringify(progress));
  };
  const reporter = setInterval(report, 1000);
  const loop = async (first: number) => {
    const poster = new HttpPoster(url);
    for (let k = first, sent = false; performance.now() < deadline; k += o.concurrency) {
      if (k >= pool.length) {
        k = first;
        sent = true;
      }
      const body = pool[k];
      // Every body went out once before the loop came back to its first: the next cycle.
      if (sent) body.advance(span);
      try {
        const res = await poster.post(body.body, encoder.contentType, o.timeoutMs);
        done.statuses[res.status] = (done.statuses[res.status] ?? 0) + 1;
        if (res.status >= 200 && res.status < 300) {
          done.lines += body.lines;
          done.bytes += body.body.length;
          const second = Math.floor((epochMs() - startMs) / 1000);
          while (done.linesPerSecond.length <= second) done.linesPerSecond.push(0);
          done.linesPerSecond[second] += body.lines;
          if (body.lastTs > lastTs) lastTs = body.lastTs;
        } else {
          done.errors++;
          done.firstError ??= `HTTP ${res.status}: ${res.text.slice(0, 200)}`;
        }
      } catch (err) {
        done.errors++;
        done.firstError ??= `${url}: ${err instanceof Error ? err.message : err}`;
      }
      done.requests++;
    }
    poster.close();
  };
  await Promise.all(Array.from({ length: o.concurrency }, (_, i) => loop(i)));
  clearInterval(reporter);
  done.endMs = epochMs();
  done.lastTs = lastTs.toString();
  console.log(JSON.stringify(done));
}

if (import.meta.main) {
  try {
    await main();
  } catch (err) {
    console.error(`sustained client: ${err instanceof Error ? err.message : err}`);
    Deno.exit(1);
  }
}
