/**
 * A push client process of the benchmark: `deno run -A bench/push_worker.ts '<json options>'`.
 *
 * It encodes every payload of its share of the corpus first (batch `b` holds lines
 * `[b * batch, (b + 1) * batch)`, and worker `w` of `n` takes the batches with `b % n == w`, so
 * the server sees the corpus roughly in time order), prints one `ready` JSON line, waits for a `go`
 * line on stdin, then pushes the encoded bodies as fast as the server acknowledges them with
 * `concurrency` requests in flight, and prints one `done` JSON line ({@linkcode WorkerDone}).
 * Encoding never happens inside the timed part, so the client is not what is measured.
 *
 * Times are Unix epoch milliseconds with sub-millisecond precision
 * (`performance.timeOrigin + performance.now()`), so the harness can compare them across
 * processes.
 *
 * @module
 */

import { LogGenerator } from "./generator/mod.ts";
import type { LogEntry } from "./generator/mod.ts";
import {
  buildPayload,
  createEncoder,
  PUSH_FORMATS,
  type PushFormat,
  pushUrl,
} from "./push_client.ts";
import { waitForGo } from "./client_process.ts";
import { HttpPoster } from "./http_poster.ts";

/** Options of one push worker, passed as its only argument (JSON). */
export interface WorkerOptions {
  /** Base URL of the server. */
  addr: string;
  /** Corpus seed. */
  seed: number;
  /** Unix ns of line 0, as a decimal string. */
  start: string;
  /** Lines per second of log time. */
  rate: number;
  /** Lines in the whole corpus. */
  lines: number;
  /** Lines per request. */
  batch: number;
  /** This worker's index in `[0, workers)`. */
  worker: number;
  /** Number of workers sharing the corpus. */
  workers: number;
  /** Requests in flight. */
  concurrency: number;
  /** Wire format. */
  format: PushFormat;
  /** Per-request timeout in milliseconds. */
  timeoutMs: number;
}

/** The line a worker prints once its payloads are encoded. */
export interface WorkerReady {
  type: "ready";
  /** Requests it will send. */
  requests: number;
  /** Lines in them. */
  lines: number;
  /** Encoded payload bytes. */
  bytes: number;
  /** Time spent generating and encoding, in milliseconds. */
  encodeMs: number;
}

/** The line a worker prints when every request has been answered. */
export interface WorkerDone {
  type: "done";
  /** Lines in requests answered with 2xx. */
  lines: number;
  /** Payload bytes of those requests. */
  bytes: number;
  /** Requests sent. */
  requests: number;
  /** Requests that failed (non-2xx or no response). */
  errors: number;
  /** The first failure, or `null`. */
  firstError: string | null;
  /** Count of each HTTP status received, e.g. `{"200": 500}`. */
  statuses: Record<string, number>;
  /** Epoch ms when the first request was sent. */
  startMs: number;
  /** Epoch ms when the last response was read. */
  endMs: number;
  /** Latency of every answered request (response body read), in milliseconds. */
  latenciesMs: number[];
}

/** Epoch milliseconds with sub-millisecond precision. */
export function epochMs(): number {
  return performance.timeOrigin + performance.now();
}

/**
 * Validates the worker options JSON.
 *
 * @throws {Error} If a field is missing or out of range.
 */
export function parseWorkerOptions(text: string): WorkerOptions {
  const o = JSON.parse(text) as Partial<WorkerOptions>;
  const int = (name: keyof WorkerOptions, min: number) => {
    const v = o[name];
    if (typeof v !== "number" || !Number.isSafeInteger(v) || v < min) {
      throw new Error(`Invalid push worker option ${name}: expected an integer >= ${min}`);
    }
  };
  if (typeof o.addr !== "string") throw new Error("Invalid push worker option addr: not a URL");
  if (typeof o.start !== "string" || !/^\d+$/.test(o.start)) {
    throw new Error("Invalid push worker option start: expected a decimal string of ns");
  }
  if (typeof o.rate !== "number" || !(o.rate > 0)) {
    throw new Error("Invalid push worker option rate: expected a positive number");
  }
  if (!PUSH_FORMATS.includes(o.format as PushFormat)) {
    throw new Error(`Invalid push worker option format: expected ${PUSH_FORMATS.join(", ")}`);
  }
  int("seed", Number.MIN_SAFE_INTEGER);
  int("lines", 1);
  int("batch", 1);
  int("workers", 1);
  int("worker", 0);
  int("concurrency", 1);
  int("timeoutMs", 1);
  if (o.worker! >= o.workers!) {
    throw new Error(`Invalid push worker option worker: ${o.worker} is not below ${o.workers}`);
  }
  return o as WorkerOptions;
}

async function main(): Promise<void> {
  const options = parseWorkerOptions(Deno.args[0] ?? "");
  const t0 = performance.now();
  const generator = new LogGenerator({
    seed: options.seed,
    start: BigInt(options.start),
    rate: options.rate,
  });
  const encoder = await createEncoder(options.format);
  const bodies: { body: Uint8Array<ArrayBuffer>; lines: number }[] = [];
  let encodedLines = 0;
  let encodedBytes = 0;
  for (let b = options.worker; b * options.batch < options.lines; b += options.workers) {
    const from = b * options.batch;
    const count = Math.min(options.batch, options.lines - from);
    const entries: LogEntry[] = new Array(count);
    for (let i = 0; i < count; i++) entries[i] = generator.at(from + i);
    const body = encoder.encode(buildPayload(entries));
    bodies.push({ body, lines: count });
    encodedLines += count;
    encodedBytes += body.length;
  }
  const ready: WorkerReady = {
    type: "ready",
    requests: bodies.length,
    lines: encodedLines,
    bytes: encodedBytes,
    encodeMs: performance.now() - t0,
  };
  console.log(JSON.stringify(ready));
  await waitForGo();

  const url = pushUrl(options.addr, encoder);
  const done: WorkerDone = {
    type: "done",
    lines: 0,
    bytes: 0,
    requests: 0,
    errors: 0,
    firstError: null,
    statuses: {},
    startMs: epochMs(),
    endMs: 0,
    latenciesMs: [],
  };
  let next = 0;
  const loop = async () => {
    const poster = new HttpPoster(url);
    while (next < bodies.length) {
      const { body, lines } = bodies[next++];
      done.requests++;
      const t = performance.now();
      try {
        const res = await poster.post(body, encoder.contentType, options.timeoutMs);
        done.latenciesMs.push(performance.now() - t);
        done.statuses[res.status] = (done.statuses[res.status] ?? 0) + 1;
        if (res.status >= 200 && res.status < 300) {
          done.lines += lines;
          done.bytes += body.length;
        } else {
          done.errors++;
          done.firstError ??= `HTTP ${res.status}: ${res.text.slice(0, 200)}`;
        }
      } catch (err) {
        done.errors++;
        done.firstError ??= `${url}: ${err instanceof Error ? err.message : err}`;
      }
    }
    poster.close();
  };
  await Promise.all(Array.from({ length: options.concurrency }, loop));
  done.endMs = epochMs();
  console.log(JSON.stringify(done));
}

if (import.meta.main) {
  try {
    await main();
  } catch (err) {
    console.error(`push worker: ${err instanceof Error ? err.message : err}`);
    Deno.exit(1);
  }
}
