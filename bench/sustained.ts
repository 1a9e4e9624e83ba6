/**
 * The sustained-load phase of the benchmark (issue 12), also a command of its own:
 * `deno task bench:sustained --minutes 10 [--clients 2 --concurrency 4]`.
 *
 * A fresh server (default flags) on a fresh folder takes JSON pushes at full speed for `minutes`
 * from separate client processes (`sustained_client.ts`, which cycle through a bounded pool of
 * bodies with their timestamps moved forward). Every second the harness samples the server's
 * `VmRSS` and the compaction backlog of `/api/v1/stats` (flush files, their raw bytes, whether a
 * pass runs; a stats call slower than a second delays the next sample), and sends a cheap query probe ({@linkcode PROBE_TITLE}); a probe slower than a
 * second delays the next, which then starts as it ends. Once the clients stop, sampling goes on
 * until the folder is final (every line in a file, no compaction pass running, none waiting) or
 * {@linkcode FINAL_TIMEOUT_MS} has passed, then for {@linkcode IDLE_MS} of idle server.
 *
 * The command prints a curve table (one row per 30 s) and the phase's report rows, and writes
 * every figure, samples and probes included, to `bench/results/<UTC time>-<commit>-sustained.json`.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { intFlag } from "./flags.ts";
import { join } from "node:path";
import { ClientProcess } from "./client_process.ts";
import { dataDirUsage } from "./data_dir.ts";
import { environment } from "./environment.ts";
import {
  type SustainedFigure,
  type SustainedProbe,
  sustainedRows,
  type SustainedSample,
  TARGETS,
} from "./figures.ts";
import { readProcMemory, RssSampler } from "./proc_status.ts";
import { epochMs } from "./push_worker.ts";
import { QUERY_LIMIT, queryBody, runQuery } from "./queries.ts";
import { formatInt, markdownTable, reportTable } from "./report.ts";
import {
  killAllServers,
  killServer,
  launchServer,
  serverStats,
  stderrLines,
  stopServer,
  waitCompacted,
} from "./server_control.ts";
import { round, summarize } from "./stats.ts";
import type {
  SustainedClientOptions,
  SustainedCounts,
  SustainedDone,
  SustainedProgress,
  SustainedReady,
} from "./sustained_client.ts";

const CLIENT = new URL("./sustained_client.ts", import.meta.url);

/** The probe's stream selector: one app of the corpus, a cheap query. */
export const PROBE_QUERY = '{app="web"}';
/** The probe as the report names it. */
export const PROBE_TITLE = `${PROBE_QUERY}, limit ${QUERY_LIMIT}, last 5 minutes of pushed time`;
/** Batches in each client's pool: 128 000 lines, some 50 MB of JSON per client. */
export const POOL_BATCHES = 128;
/**
 * Lines per second of log time: the ingest target, so that log time keeps up with the clock
 * when the server does.
 */
export const LOG_RATE = TARGETS.durableLinesPerSec;
/** The longest wait for the folder to be final once the clients stop. */
export const FINAL_TIMEOUT_MS = 300_000;
/** How long the server is left idle before its memory is read. */
export const IDLE_MS = 10_000;

/** Options of {@linkcode sustainedPhase}. */
export interface SustainedOptions {
  /** Data folder of the phase's server (created empty). */
  dir: string;
  /** Minutes of full ingest. */
  minutes: number;
  /** Client processes, requests in flight per client, lines per request. */
  clients: number;
  concurrency: number;
  batch: number;
  /** Batches of each client's pool (default {@linkcode POOL_BATCHES}). */
  poolBatches?: number;
  /** Corpus seed. */
  seed: number;
  /** Longest wait for a final folder (default {@linkcode FINAL_TIMEOUT_MS}). */
  finalTimeoutMs?: number;
  /** Idle time before the last memory reading (default {@linkcode IDLE_MS}). */
  idleMs?: number;
  progress: (message: string) => void;
  /** Where the server's stderr lines go. */
  serverStderr: string[];
}

/** The figures {@linkcode summarizeSamples} derives from the samples and probes. */
export type SampleSummary = Pick<
  SustainedFigure,
  | "flushFilesAt60s"
  | "flushFilesAtEnd"
  | "maxFlushFiles"
  | "maxFlushFilesAt"
  | "maxFlushRawBytes"
  | "queryMs"
  | "probeErrors"
>;

/**
 * Flush files after 60 s of an ingest of `ingestSeconds`, at its end and at most; the largest
 * backlog; the latency of the probes answered.
 *
 * @example
 * ```ts
 * import { summarizeSamples } from "./sustained.ts";
 * const sample = { ingesting: true, linesAcked: 0, rowsInFiles: 0, rssMB: 90, flushRawBytes: 0,
 *   unitsWaiting: 0, compacting: false, statsMs: 3 };
 * const s = summarizeSamples(
 *   [{ ...sample, t: 1, flushFiles: 3 }, { ...sample, t: 2, flushFiles: 2 }],
 *   [{ t: 1, ms: 12, hits: 100 }, { t: 2, ms: 900, error: "HTTP 503" }],
 *   2.5,
 * );
 * console.log(s.flushFilesAtEnd, s.maxFlushFiles, s.queryMs?.p50, s.probeErrors); // 2 3 12 1
 * ```
 * @throws {Error} If no sample was taken during the ingest.
 */
export function summarizeSamples(
  samples: readonly SustainedSample[],
  probes: readonly SustainedProbe[],
  ingestSeconds: number,
): SampleSummary {
  const during = samples.filter((s) => s.ingesting);
  if (during.length === 0) throw new Error("No sample of the server was taken during the ingest");
  let most = samples[0];
  for (const s of samples) if (s.flushFiles > most.flushFiles) most = s;
  const answered = probes.filter((p) => p.hits !== undefined).map((p) => p.ms);
  return {
    // The clients stop right at their deadline: a one-minute run may have no sample during it
    // at or past 60 s, and the first one after is as good.
    flushFilesAt60s: ingestSeconds >= 60
      ? samples.find((s) => s.t >= 60)?.flushFiles ?? null
      : null,
    flushFilesAtEnd: during[during.length - 1].flushFiles,
    maxFlushFiles: most.flushFiles,
    maxFlushFilesAt: most.t,
    maxFlushRawBytes: Math.max(...samples.map((s) => s.flushRawBytes)),
    queryMs: answered.length > 0 ? summarize(answered) : null,
    probeErrors: probes.length - answered.length,
  };
}

/**
 * The curves of a run as a Markdown table, one row per `stepSeconds` window: lines per second
 * acknowledged in it (over its part of the ingest, if a second or more), the server's RSS, flush files and backlog at its last sample, and the p50
 * of the probes sent in it.
 *
 * @example
 * ```ts
 * import { curveTable } from "./sustained.ts";
 * const sample = { ingesting: true, linesAcked: 0, rowsInFiles: 0, rssMB: 90, flushFiles: 4,
 *   flushRawBytes: 2e6, unitsWaiting: 0, compacting: false, statsMs: 3 };
 * console.log(curveTable({
 *   seconds: 2, linesPerSecond: [1000, 3000], samples: [{ ...sample, t: 0.5 }],
 *   probes: [{ t: 0.5, ms: 7, hits: 100 }],
 * }, 2));
 * // | t (s) | lines/s | RSS MB | flush files | backlog MB | query p50 ms |
 * // |-------|---------|--------|-------------|------------|--------------|
 * // | 2     | 2,000   | 90.0   | 4           | 2.0        | 7.0          |
 * ```
 */
export function curveTable(
  f: Pick<SustainedFigure, "seconds" | "linesPerSecond" | "samples" | "probes">,
  stepSeconds = 30,
): string {
  const rows: string[][] = [];
  const end = Math.max(f.seconds, ...f.samples.map((s) => s.t));
  for (let from = 0; from < end; from += stepSeconds) {
    const to = from + stepSeconds;
    const inWindow = <T extends { t: number }>(xs: readonly T[]) =>
      xs.filter((x) => x.t >= from && x.t < to);
    const last = inWindow(f.samples).at(-1);
    if (last === undefined) continue;
    const ingestSeconds = Math.min(to, f.seconds) - from;
    const lines = f.linesPerSecond.slice(from, to).reduce((a, n) => a + n, 0);
    const probeMs = inWindow(f.probes).filter((p) => p.hits !== undefined).map((p) => p.ms);
    rows.push([
      String(Math.min(to, Math.ceil(end))),
      // A sliver of a second at the end of the ingest gives no rate worth a row.
      ingestSeconds >= 1 ? formatInt(lines / ingestSeconds) : "—",
      last.rssMB.toFixed(1),
      formatInt(last.flushFiles),
      (last.flushRawBytes / 1e6).toFixed(1),
      probeMs.length > 0 ? summarize(probeMs, 1).p50.toFixed(1) : "—",
    ]);
  }
  return markdownTable(
    ["t (s)", "lines/s", "RSS MB", "flush files", "backlog MB", "query p50 ms"],
    rows,
  );
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Runs `fn` every second while `going()` says so; a run longer than a second delays the next,
 * which starts as it ends. Resolves to the first error instead of rejecting, so that a loop left
 * running while other work is awaited cannot reject unhandled.
 */
async function everySecond(going: () => boolean, fn: () => Promise<void>): Promise<unknown> {
  try {
    while (going()) {
      const t0 = performance.now();
      await fn();
      const wait = t0 + 1000 - performance.now();
      if (wait > 0 && going()) await sleep(wait);
    }
    return undefined;
  } catch (err) {
    return err;
  }
}

const toMB = (kib: number) => round((kib * 1024) / 1e6, 2);
const messageOf = (err: unknown) => err instanceof Error ? err.message : String(err);

/**
 * Runs the phase: the server, the clients for `minutes`, the samples and probes, the wait for a
 * final folder and the idle wait; the server is stopped after.
 *
 * @example
 * ```ts ignore
 * import { sustainedPhase } from "./sustained.ts";
 * const figure = await sustainedPhase({
 *   dir: "/tmp/sustained", minutes: 1, clients: 2, concurrency: 4, batch: 1000, seed: 42,
 *   progress: console.error, serverStderr: [],
 * });
 * console.log(figure.linesPerSec, figure.flushFilesAt60s, figure.finalSeconds);
 * ```
 * @throws {Error} If a client or the server fails, or stats cannot be read.
 */
export async function sustainedPhase(o: SustainedOptions): Promise<SustainedFigure> {
  const poolBatches = o.poolBatches ?? POOL_BATCHES;
  const idleMs = o.idleMs ?? IDLE_MS;
  const server = await launchServer(o.dir, []);
  const clients: ClientProcess[] = [];
  // Both loops below stop when these turn false, on success or failure alike.
  let ingesting = true;
  let sampling = true;
  try {
    const url = server.url;
    const pid = server.process.pid;
    const start = BigInt(Date.now()) * 1_000_000n;
    for (let client = 0; client < o.clients; client++) {
      const options: SustainedClientOptions = {
        addr: url,
        seed: o.seed,
        start: start.toString(),
        rate: LOG_RATE,
        batch: o.batch,
        poolBatches,
        client,
        clients: o.clients,
        concurrency: o.concurrency,
        durationMs: Math.round(o.minutes * 60_000),
        timeoutMs: 120_000,
      };
      clients.push(ClientProcess.spawn(CLIENT, options));
    }
    o.progress(
      `sustained: ${o.clients} clients encode ${formatInt(poolBatches * o.batch)} lines each`,
    );
    const ready = await Promise.all(clients.map((c) => c.expect<SustainedReady>("ready")));
    o.progress(
      `sustained: ${o.minutes} min of full ingest, samples and a probe of ${PROBE_TITLE} ` +
        `every second`,
    );

    const latest: SustainedCounts[] = clients.map(() => ({
      lines: 0,
      requests: 0,
      errors: 0,
      lastTs: "0",
    }));
    const acked = () => latest.reduce((a, c) => a + c.lines, 0);
    const pushedEnd = () =>
      latest.reduce((a, c) => (BigInt(c.lastTs) > a ? BigInt(c.lastTs) : a), start);
    const samples: SustainedSample[] = [];
    const probes: SustainedProbe[] = [];
    const ingestPeak = new RssSampler(pid);
    const startMs = epochMs();
    const since = () => (epochMs() - startMs) / 1000;
    ingestPeak.start();
    await Promise.all(clients.map((c) => c.go()));

    let nextReport = 30;
    const sampler = everySecond(() => sampling, async () => {
      const t = since();
      // Memory first: /proc answers at once, a busy server's stats may take seconds.
      const memory = await readProcMemory(pid);
      const t0 = performance.now();
      const stats = await serverStats(url);
      const statsMs = round(performance.now() - t0, 2);
      const c = stats.compaction;
      if (c === null || c === undefined) {
        throw new Error("GET /api/v1/stats: no compaction figures");
      }
      if (memory === undefined) throw new Error("The server exited during the sustained load");
      const sample: SustainedSample = {
        t: round(t, 2),
        ingesting,
        linesAcked: acked(),
        rowsInFiles: stats.rows_total - stats.rows_in_memory,
        rssMB: toMB(memory.rssKiB),
        flushFiles: c.flush_files,
        flushRawBytes: c.flush_raw_bytes,
        unitsWaiting: c.units_waiting,
        compacting: c.running,
        statsMs,
      };
      samples.push(sample);
      if (t >= nextReport) {
        nextReport += 30;
        o.progress(
          `sustained: ${t.toFixed(0)} s, ${formatInt(sample.linesAcked)} lines acknowledged, ` +
            `RSS ${sample.rssMB.toFixed(0)} MB, ${sample.flushFiles} flush files ` +
            `(${(sample.flushRawBytes / 1e6).toFixed(0)} MB raw)`,
        );
      }
    });
    const prober = everySecond(() => ingesting, async () => {
      const t = round(since(), 2);
      // Through the newest acknowledged line: the end is a whole millisecond past it.
      const body = queryBody(
        { query: PROBE_QUERY, window: "last5m" },
        Number(pushedEnd() / 1_000_000n) + 1,
      );
      const t0 = performance.now();
      try {
        const answer = await runQuery(url, body);
        probes.push({ t, ms: round(answer.ms, 2), hits: answer.hits });
      } catch (err) {
        probes.push({ t, ms: round(performance.now() - t0, 2), error: messageOf(err) });
      }
    });

    const done = await Promise.all(clients.map(async (c, i) => {
      for (;;) {
        const message = await c.expect<SustainedProgress | SustainedDone>("progress", "done");
        latest[i] = message;
        if (message.type === "done") return message;
      }
    }));
    ingesting = false;
    const ingestEndMs = Math.max(...done.map((d) => d.endMs));
    const peak = await ingestPeak.stop();
    const afterPeak = new RssSampler(pid);
    afterPeak.start();
    const proberError = await prober;
    if (proberError !== undefined) throw proberError;
    await Promise.all(clients.map((c) => c.finish()));

    const lines = done.reduce((a, d) => a + d.lines, 0);
    const seconds = (ingestEndMs - startMs) / 1000;
    o.progress(
      `sustained: ${formatInt(lines)} lines in ${seconds.toFixed(1)} s; waiting for a final ` +
        `folder (at most ${FINAL_TIMEOUT_MS / 1000} s)`,
    );
    let finalSeconds: number | null = null;
    let notFinal: string | null = null;
    try {
      await waitCompacted(url, lines, o.finalTimeoutMs ?? FINAL_TIMEOUT_MS);
      finalSeconds = round((epochMs() - ingestEndMs) / 1000, 2);
    } catch (err) {
      notFinal = messageOf(err);
    }
    const folderAtFinal = finalSeconds === null ? null : await dataDirUsage(o.dir);
    o.progress(
      finalSeconds === null
        ? `sustained: not final: ${notFinal}`
        : `sustained: final ${finalSeconds.toFixed(1)} s after the ingest; idle for ` +
          `${idleMs / 1000} s`,
    );
    await sleep(idleMs);
    const idle = await readProcMemory(pid);
    sampling = false;
    const samplerError = await sampler;
    if (samplerError !== undefined) throw samplerError;
    const after = await afterPeak.stop();
    const stopped = await stopServer(server);
    if (stopped.code !== 0) {
      throw new Error(`the sustained server exited with code ${stopped.code}`);
    }

    const statuses: Record<string, number> = {};
    for (const d of done) {
      for (const [s, n] of Object.entries(d.statuses)) statuses[s] = (statuses[s] ?? 0) + n;
    }
    const linesPerSecond: number[] = [];
    for (const d of done) {
      d.linesPerSecond.forEach((n, s) => linesPerSecond[s] = (linesPerSecond[s] ?? 0) + n);
    }
    return {
      minutes: o.minutes,
      serverArgs: [],
      clients: o.clients,
      concurrency: o.concurrency,
      batch: o.batch,
      poolLines: ready.reduce((a, r) => a + r.lines, 0),
      rate: LOG_RATE,
      probeQuery: PROBE_TITLE,
      lines,
      requests: done.reduce((a, d) => a + d.requests, 0),
      errors: done.reduce((a, d) => a + d.errors, 0),
      firstError: done.find((d) => d.firstError !== null)?.firstError ?? null,
      statuses,
      bytes: done.reduce((a, d) => a + d.bytes, 0),
      seconds: round(seconds, 3),
      linesPerSec: seconds > 0 ? Math.round(lines / seconds) : 0,
      linesPerSecond: Array.from(linesPerSecond, (n) => n ?? 0),
      ...summarizeSamples(samples, probes, seconds),
      peakRssMB: toMB(peak.peakKiB),
      peakRssAfterMB: toMB(after.peakKiB),
      finalSeconds,
      notFinal,
      folderAtFinal,
      rssAfterIdleMB: idle === undefined ? null : toMB(idle.rssKiB),
      idleSeconds: idleMs / 1000,
      samples,
      probes,
    };
  } finally {
    ingesting = false;
    sampling = false;
    for (const c of clients) c.kill();
    o.serverStderr.push(...stderrLines("sustained server", server));
    await killServer(server);
  }
}

/**
 * A `--minutes`-like flag: a number of minutes, decimals allowed, at least `min`.
 *
 * @example
 * ```ts
 * import { parseMinutes } from "./sustained.ts";
 * console.log(parseMinutes("minutes", "0.25", 0)); // 0.25
 * ```
 * @throws {Error} If `value` is not such a number.
 */
export function parseMinutes(flag: string, value: string, min: number): number {
  const n = Number(value);
  if (!/^\d+(\.\d+)?$/.test(value) || n < min) {
    throw new Error(`Invalid --${flag} "${value}": expected a number of minutes >= ${min}`);
  }
  return n;
}

const HELP = `Usage: deno task bench:sustained [flags]

Runs a fresh loge server (default flags) under full JSON ingest for some minutes, from client
processes that cycle through a pool of ${formatInt(POOL_BATCHES)} batches each with their
timestamps moved forward; every second it samples the server's RSS and compaction backlog and
times the probe ${PROBE_TITLE}. Then it waits until the data folder is final (at most
${FINAL_TIMEOUT_MS / 1000} s) and ${IDLE_MS / 1000} s more of idle server. Prints the curves
(one row per 30 s) and the figures against their targets; writes JSON to
bench/results/<UTC time>-<commit>-sustained.json. Exits 1 if the phase fails (never because of a
missed target).

Flags:
  --minutes N       minutes of full ingest (default 10; decimals allowed)
  --clients N       client processes (default 2)
  --concurrency N   requests in flight per client (default 4)
  --batch N         lines per push request (default 1000)
  --seed N          corpus seed (default 42)
  --keep            keep the data folder and print its path
  -h, --help        show this help`;

async function main(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    strict: true,
    options: {
      minutes: { type: "string", default: "10" },
      clients: { type: "string", default: "2" },
      concurrency: { type: "string", default: "4" },
      batch: { type: "string", default: "1000" },
      seed: { type: "string", default: "42" },
      keep: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  const options = {
    minutes: parseMinutes("minutes", values.minutes, 0.01),
    clients: intFlag("clients", values.clients, 1),
    concurrency: intFlag("concurrency", values.concurrency, 1),
    batch: intFlag("batch", values.batch, 1),
    seed: intFlag("seed", values.seed, Number.MIN_SAFE_INTEGER),
  };
  const started = performance.now();
  const progress = (message: string) =>
    console.error(`[${((performance.now() - started) / 1000).toFixed(1).padStart(6)}s] ${message}`);
  const repo = new URL("../", import.meta.url).pathname;
  const env = await environment(repo);
  const dir = await Deno.makeTempDir({ prefix: "loge-sustained-" });
  const serverStderr: string[] = [];
  const onSignal = () => {
    killAllServers().finally(() => Deno.exit(130));
  };
  Deno.addSignalListener("SIGINT", onSignal);
  let figure: SustainedFigure;
  try {
    figure = await sustainedPhase({ dir, ...options, progress, serverStderr });
  } finally {
    Deno.removeSignalListener("SIGINT", onSignal);
    await killAllServers();
    if (values.keep) progress(`kept ${dir}`);
    else await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
  const date = new Date().toISOString();
  const stamp = date.replace(/[-:]/g, "").replace(/\.\d+Z$/, "Z");
  const results = new URL("./results/", import.meta.url).pathname;
  const file = join(results, `${stamp}-${env.commit.slice(0, 7)}-sustained.json`);
  const result = {
    commit: env.commit,
    dirty: env.dirty,
    date,
    command: `deno task bench:sustained ${args.join(" ")}`.trim(),
    environment: env,
    options,
    figure,
    serverStderr,
  };
  await Deno.mkdir(results, { recursive: true });
  await Deno.writeTextFile(file, JSON.stringify(result, null, 2) + "\n");
  console.log(curveTable(figure));
  console.log();
  console.log(reportTable(sustainedRows(figure)));
  progress(`wrote ${file}`);
  return 0;
}

if (import.meta.main) {
  try {
    Deno.exit(await main(Deno.args));
  } catch (err) {
    console.error(`bench:sustained: ${messageOf(err)}`);
    Deno.exit(1);
  }
}
