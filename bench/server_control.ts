/**
 * The benchmark's control of real `loge serve` processes: start, stop with a deadline, read
 * `GET /api/v1/stats`, and wait until ingested lines are flushed or compacted.
 *
 * Servers are started with the end-to-end test helper ({@linkcode startServer}): port 0, a given
 * data folder, ready once the `listening on` line is printed. Every started server is tracked
 * until it stops, so the harness can kill what is left on Ctrl-C or a failure.
 *
 * @module
 */

import { startServer, type TestServer } from "../testing/server.ts";

export type { TestServer };

const running = new Set<TestServer>();

/**
 * Starts `loge serve --port 0 --output-path <dir> ...args` and waits until it listens; `env`
 * adds to the environment it inherits (e.g. the credentials of an S3 server), and `main` runs
 * another script in loge's place (`floor_server.ts`).
 *
 * @example
 * ```ts ignore
 * import { launchServer, stopServer } from "./server_control.ts";
 * const server = await launchServer("/tmp/data", ["--durable=false"]);
 * await stopServer(server);
 * ```
 * @throws {Error} If the process exits before listening.
 */
export async function launchServer(
  dir: string,
  args: string[],
  env?: Record<string, string>,
  main?: string,
): Promise<TestServer> {
  const server = await startServer({ dir, args, env, main });
  running.add(server);
  return server;
}

/** How a server stopped. */
export interface Stopped {
  /** Exit code (0 after a clean shutdown). */
  code: number;
  /** Milliseconds from SIGTERM to exit. */
  ms: number;
}

/**
 * Sends SIGTERM and waits for the exit; after `timeoutMs` the process is killed.
 *
 * @throws {Error} If the server did not exit within `timeoutMs` of SIGTERM.
 */
export async function stopServer(server: TestServer, timeoutMs = 120_000): Promise<Stopped> {
  const t0 = performance.now();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<"timeout">((resolve) => {
    timer = setTimeout(() => resolve("timeout"), timeoutMs);
  });
  try {
    const code = await Promise.race([server.stop(), timeout]);
    if (code === "timeout") {
      await server.kill();
      throw new Error(`Server did not exit within ${timeoutMs / 1000} s of SIGTERM; killed it`);
    }
    return { code, ms: performance.now() - t0 };
  } finally {
    clearTimeout(timer);
    running.delete(server);
  }
}

/** Kills `server` if it still runs (SIGKILL, no flush). */
export async function killServer(server: TestServer): Promise<void> {
  if (!running.delete(server)) return;
  await server.kill().catch(() => {});
}

/** Kills every server started by {@linkcode launchServer} that has not stopped. */
export async function killAllServers(): Promise<void> {
  await Promise.all([...running].map(killServer));
}

/**
 * The server's stderr as lines, each prefixed with `who`.
 *
 * @example
 * ```ts ignore
 * console.log(stderrLines("server durable", server)); // ["server durable: loge: stopped"]
 * ```
 */
export function stderrLines(who: string, server: TestServer): string[] {
  return server.stderr().split("\n").filter((l) => l.trim() !== "").map((l) => `${who}: ${l}`);
}

/** The figures of `GET /api/v1/stats` the harness uses. */
export interface ServerStats {
  /** Rows in cataloged files plus rows still in memory. */
  rows_total: number;
  /** Rows not yet in a file (0 when absent). */
  rows_in_memory: number;
  /** What compaction has before it and is doing (`null` on a node that does not ingest). */
  compaction?: {
    flush_files: number;
    flush_raw_bytes: number;
    small_segments: number;
    units_waiting: number;
    recompress_waiting: number;
    running: boolean;
    running_since: string | null;
    units_done: number;
    units: number;
    passes: number;
    last_pass: {
      started: string;
      duration_ms: number;
      files: number;
      raw_bytes: number;
      raw_bytes_per_second: number;
    } | null;
  } | null;
  /** Every other field, as the server sent it. */
  [field: string]: unknown;
}

/**
 * Reads `GET /api/v1/stats`.
 *
 * @throws {Error} If the request fails or `rows_total` is not a number.
 */
export async function serverStats(url: string): Promise<ServerStats> {
  const res = await fetch(`${url}/api/v1/stats`);
  const text = await res.text();
  if (!res.ok) throw new Error(`GET /api/v1/stats: HTTP ${res.status}: ${text.slice(0, 200)}`);
  const stats = JSON.parse(text) as Record<string, unknown>;
  if (typeof stats.rows_total !== "number") {
    throw new Error(`GET /api/v1/stats: no numeric rows_total in ${text.slice(0, 300)}`);
  }
  const inMemory = typeof stats.rows_in_memory === "number" ? stats.rows_in_memory : 0;
  return { ...stats, rows_total: stats.rows_total, rows_in_memory: inMemory };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Waits until `lines` rows are in files (`rows_total - rows_in_memory`); returns the seconds
 * waited.
 *
 * @throws {Error} After `timeoutMs`.
 */
export async function waitFlushed(
  url: string,
  lines: number,
  timeoutMs = 300_000,
): Promise<number> {
  const t0 = performance.now();
  for (;;) {
    const stats = await serverStats(url);
    const flushed = stats.rows_total - stats.rows_in_memory;
    if (flushed >= lines) return (performance.now() - t0) / 1000;
    if (performance.now() - t0 > timeoutMs) {
      throw new Error(`Only ${flushed} of ${lines} rows flushed after ${timeoutMs / 1000} s`);
    }
    await sleep(25);
  }
}

/**
 * Waits until every line is in a file and the server's compaction is done: no pass running, none
 * with work waiting and no segment left to recompress (`compaction` of `/api/v1/stats`); returns
 * the seconds until then.
 *
 * @throws {Error} After `timeoutMs`.
 */
export async function waitCompacted(
  url: string,
  lines: number,
  timeoutMs = 600_000,
): Promise<number> {
  const t0 = performance.now();
  for (;;) {
    const stats = await serverStats(url);
    const flushed = stats.rows_total - stats.rows_in_memory;
    const c = stats.compaction;
    if (c === null || c === undefined) throw new Error("GET /api/v1/stats: no compaction figures");
    // Segments merged under load are recompressed once lines stop (5 s without a push): until
    // then no pass has work, but the folder is not final.
    if (flushed >= lines && !c.running && c.units_waiting === 0 && c.recompress_waiting === 0) {
      return (performance.now() - t0) / 1000;
    }
    if (performance.now() - t0 > timeoutMs) {
      throw new Error(
        `Compaction not finished after ${timeoutMs / 1000} s: ${c.flush_files} flush files ` +
          `left, ${flushed} of ${lines} rows in files`,
      );
    }
    await sleep(100);
  }
}
