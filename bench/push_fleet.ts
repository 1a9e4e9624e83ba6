/**
 * Ingest measurement with separate client processes: spawns `clients` push workers
 * (`push_worker.ts`), waits until each has encoded its share of the corpus, starts them together,
 * and aggregates their reports into one throughput and latency figure.
 *
 * Throughput is acknowledged lines divided by the wall time from the start signal to the last
 * acknowledgement of any worker.
 *
 * @module
 */

import { summarize, type Summary } from "./stats.ts";
import { epochMs, type WorkerDone, type WorkerOptions, type WorkerReady } from "./push_worker.ts";
import type { PushFormat } from "./push_client.ts";
import { ClientProcess } from "./client_process.ts";

const WORKER = new URL("./push_worker.ts", import.meta.url);

/** Options of {@linkcode runPushFleet}. */
export interface FleetOptions {
  /** Base URL of the server. */
  addr: string;
  /** Corpus seed. */
  seed: number;
  /** Unix ns of line 0. */
  start: bigint;
  /** Lines per second of log time. */
  rate: number;
  /** Lines to push: the whole corpus. */
  lines: number;
  /** Lines per request. */
  batch: number;
  /** Client processes. */
  clients: number;
  /** Requests in flight per client. */
  concurrency: number;
  /** Wire format. */
  format: PushFormat;
  /** Per-request timeout in milliseconds. */
  timeoutMs: number;
}

/** Aggregated result of an ingest run. */
export interface FleetResult {
  /** Acknowledged lines. */
  lines: number;
  /** Requests sent. */
  requests: number;
  /** Failed requests. */
  errors: number;
  /** First failure of any client, or `null`. */
  firstError: string | null;
  /** HTTP statuses received, with counts. */
  statuses: Record<string, number>;
  /** Wall time from the start signal to the last acknowledgement, in seconds. */
  seconds: number;
  /** `lines / seconds`. */
  linesPerSec: number;
  /** Acknowledged payload bytes. */
  bytes: number;
  /** `bytes / 1e6 / seconds`. */
  mbPerSec: number;
  /** Push latency (request sent to response read), in milliseconds. */
  latencyMs: Summary;
  /** Slowest client's time to generate and encode its payloads before the start, in seconds. */
  encodeSeconds: number;
  /** Client processes, requests in flight per client, lines per request. */
  clients: number;
  concurrency: number;
  batch: number;
  format: PushFormat;
}

/**
 * Runs the ingest measurement. Client processes are killed if anything fails.
 *
 * @example
 * ```ts ignore
 * import { runPushFleet } from "./push_fleet.ts";
 * const r = await runPushFleet({
 *   addr: server.url, seed: 42, start: 1_795_219_200_000_000_000n, rate: 200, lines: 1_000_000,
 *   batch: 1000, clients: 2, concurrency: 4, format: "json", timeoutMs: 60_000,
 * });
 * console.log(r.linesPerSec, r.latencyMs.p99);
 * ```
 * @throws {Error} If a client process fails or exits without reporting.
 */
export async function runPushFleet(options: FleetOptions): Promise<FleetResult> {
  const clients: ClientProcess[] = [];
  try {
    for (let worker = 0; worker < options.clients; worker++) {
      const workerOptions: WorkerOptions = {
        addr: options.addr,
        seed: options.seed,
        start: options.start.toString(),
        rate: options.rate,
        lines: options.lines,
        batch: options.batch,
        worker,
        workers: options.clients,
        concurrency: options.concurrency,
        format: options.format,
        timeoutMs: options.timeoutMs,
      };
      clients.push(ClientProcess.spawn(WORKER, workerOptions));
    }
    const ready = await Promise.all(clients.map((c) => c.expect<WorkerReady>("ready")));
    const startMs = epochMs();
    await Promise.all(clients.map((c) => c.go()));
    const done = await Promise.all(clients.map((c) => c.expect<WorkerDone>("done")));
    await Promise.all(clients.map((c) => c.finish()));

    const endMs = Math.max(...done.map((d) => d.endMs));
    const seconds = (endMs - startMs) / 1000;
    const lines = done.reduce((a, d) => a + d.lines, 0);
    const bytes = done.reduce((a, d) => a + d.bytes, 0);
    const statuses: Record<string, number> = {};
    for (const d of done) {
      for (const [s, n] of Object.entries(d.statuses)) statuses[s] = (statuses[s] ?? 0) + n;
    }
    const latencies = done.flatMap((d) => d.latenciesMs);
    return {
      lines,
      requests: done.reduce((a, d) => a + d.requests, 0),
      errors: done.reduce((a, d) => a + d.errors, 0),
      firstError: done.find((d) => d.firstError !== null)?.firstError ?? null,
      statuses,
      seconds: Math.round(seconds * 1000) / 1000,
      linesPerSec: seconds > 0 ? Math.round(lines / seconds) : 0,
      bytes,
      mbPerSec: seconds > 0 ? Math.round((bytes / 1e6 / seconds) * 100) / 100 : 0,
      latencyMs: latencies.length > 0
        ? summarize(latencies)
        : { runs: 0, min: 0, p50: 0, p95: 0, p99: 0, max: 0, mean: 0 },
      encodeSeconds: Math.round(Math.max(...ready.map((r) => r.encodeMs))) / 1000,
      clients: options.clients,
      concurrency: options.concurrency,
      batch: options.batch,
      format: options.format,
    };
  } finally {
    for (const c of clients) c.kill();
  }
}
