/**
 * `deno task soak [--minutes 60] [--rate 65000] [--tails 4]`: a long run at a steady part of the
 * maximum ingest, to show that nothing grows that should not.
 *
 * A fresh server (default flags) takes durable JSON pushes of the bench corpus at `rate` lines/s
 * (about half of the sustained maximum on the 2-core bench machine) while `tails` live tails
 * (server-sent events) follow error lines and read everything they get, a cheap log query probes
 * every second and a metric query (Loki's `query_range`, `sum by (level)` of `count_over_time`
 * over the last 15 minutes) every 10 seconds. Every 10 seconds the harness samples the server's
 * RSS, its open file descriptors, the flush files waiting and the folder's bytes. It prints one row
 * per minute and a verdict on flatness (the last ten minutes beside minutes 5 to 15), and writes
 * every sample to `bench/results/<UTC time>-<commit>-soak.json`.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { join } from "node:path";
import { LogGenerator } from "./generator/mod.ts";
import { createEncoder, runPush } from "./push_client.ts";
import { readProcMemory } from "./proc_status.ts";
import { environment } from "./environment.ts";
import { launchServer, serverStats, stopServer } from "./server_control.ts";
import { markdownTable } from "./report.ts";
import { percentile } from "./stats.ts";

const RESULTS = new URL("./results/", import.meta.url).pathname;
const SAMPLE_MS = 10_000;

/** One sample of the server. */
interface SoakSample {
  /** Seconds since the start. */
  t: number;
  rssMB: number;
  openFiles: number;
  linesAcked: number;
  flushFiles: number;
  diskMB: number;
  /** Probe latencies (ms) since the previous sample. */
  probeMs: number[];
  metricMs: number[];
  tailLines: number;
  /** 5xx answers and failed requests since the start. */
  failures: number;
}

async function openFiles(pid: number): Promise<number> {
  let n = 0;
  for await (const _ of Deno.readDir(`/proc/${pid}/fd`)) n++;
  return n;
}

/** A live tail that reads and counts every event until aborted. */
async function countingTail(
  url: string,
  query: string,
  signal: AbortSignal,
  counted: (lines: number) => void,
): Promise<void> {
  const res = await fetch(`${url}/api/v1/tail?${new URLSearchParams({ query })}`, { signal });
  if (res.status !== 200) throw new Error(`tail refused: ${res.status} ${await res.text()}`);
  const decoder = new TextDecoder();
  try {
    for await (const chunk of res.body!) {
      // One `"line":` per entry of each event's batch (a chunk may cut one in two: rare).
      counted(decoder.decode(chunk, { stream: true }).split('"line":').length - 1);
    }
  } catch (error) {
    if (!signal.aborted) throw error;
  }
}

/** Times `request` until `signal` aborts, every `everyMs`; each latency goes to `timed`. */
async function probe(
  everyMs: number,
  signal: AbortSignal,
  request: () => Promise<Response>,
  timed: (ms: number) => void,
  failed: () => void,
): Promise<void> {
  while (!signal.aborted) {
    const t0 = performance.now();
    try {
      const res = await request();
      await res.body?.cancel();
      if (res.status >= 500) failed();
    } catch {
      failed();
    }
    const ms = performance.now() - t0;
    timed(Math.round(ms * 10) / 10);
    await new Promise((r) => setTimeout(r, Math.max(0, everyMs - ms)));
  }
}

function median(values: number[]): number {
  return values.length === 0 ? 0 : percentile([...values].sort((a, b) => a - b), 50);
}

/** Runs the soak; returns the samples. */
export async function soak(
  o: { minutes: number; rate: number; tails: number },
  log: (line: string) => void,
): Promise<SoakSample[]> {
  const dir = await Deno.makeTempDir({ prefix: "loge-soak-" });
  const server = await launchServer(dir, []);
  const pid = server.process.pid;
  const stop = new AbortController();
  const samples: SoakSample[] = [];
  let probeMs: number[] = [];
  let metricMs: number[] = [];
  let tailLines = 0;
  let failures = 0;
  /** The tails and probes, which end when `stop` aborts. */
  const background: Promise<void>[] = [];
  try {
    const start = BigInt(Date.now()) * 1_000_000n;
    const pushing = runPush({
      addr: server.url,
      generator: new LogGenerator({ seed: 42, start, rate: o.rate }),
      encoder: await createEncoder("json"),
      rate: o.rate,
      durationMs: o.minutes * 60_000,
      lines: Infinity,
      workers: 4,
      batch: 1000,
      timeoutMs: 60_000,
    });
    background.push(...Array.from(
      { length: o.tails },
      () => countingTail(server.url, '{level="error"}', stop.signal, (n) => tailLines += n),
    ));
    const json = { "content-type": "application/json" };
    background.push(
      probe(
        1000,
        stop.signal,
        () =>
          fetch(`${server.url}/api/v1/query`, {
            method: "POST",
            headers: json,
            body: JSON.stringify({
              query: '{app="web"}',
              limit: 100,
              start: String(BigInt(Date.now() - 300_000) * 1_000_000n),
            }),
          }),
        (ms) => probeMs.push(ms),
        () => failures++,
      ),
      probe(
        10_000,
        stop.signal,
        () => {
          const end = Date.now();
          const params = new URLSearchParams({
            query: 'sum by (level) (count_over_time({app=~".+"}[1m]))',
            start: String((end - 900_000) * 1e6),
            end: String(end * 1e6),
            step: "60",
          });
          return fetch(`${server.url}/loki/api/v1/query_range?${params}`);
        },
        (ms) => metricMs.push(ms),
        () => failures++,
      ),
    );
    let acked = 0;
    const startMs = Date.now();
    const done = pushing.then((summary) => {
      acked = summary.lines;
      failures += summary.errors;
      return summary;
    });
    for (let next = SAMPLE_MS; next <= o.minutes * 60_000; next += SAMPLE_MS) {
      await new Promise((r) => setTimeout(r, Math.max(0, startMs + next - Date.now())));
      const memory = await readProcMemory(pid);
      if (memory === undefined) throw new Error("the server exited during the soak");
      const stats = await serverStats(server.url);
      const sample: SoakSample = {
        t: Math.round((Date.now() - startMs) / 1000),
        rssMB: Math.round(memory.rssKiB / 102.4) / 10,
        openFiles: await openFiles(pid),
        linesAcked: stats.rows_total,
        flushFiles: stats.compaction?.flush_files ?? 0,
        diskMB: Math.round(Number(stats.bytes_on_disk) / 1e5) / 10,
        probeMs,
        metricMs,
        tailLines,
        failures,
      };
      probeMs = [];
      metricMs = [];
      samples.push(sample);
      if (sample.t % 60 === 0) {
        log(
          `soak: ${sample.t / 60} min, ${sample.linesAcked} lines, RSS ${sample.rssMB} MB, ` +
            `${sample.openFiles} fds, probe p50 ${median(sample.probeMs)} ms, ` +
            `${sample.flushFiles} flush files, ${tailLines} lines tailed, ${failures} failures`,
        );
      }
    }
    const summary = await done;
    log(
      `soak: pushed ${summary.lines} lines at ${Math.round(summary.linesPerSec)} lines/s ` +
        `(${summary.errors} failed requests; ${acked} acknowledged)`,
    );
    return samples;
  } finally {
    stop.abort();
    // The server first: a tail waiting for lines that no longer come ends with it.
    await stopServer(server).catch(() => {});
    await Promise.allSettled(background);
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

/** One row per `every` samples: the minute's figures. */
export function soakTable(samples: readonly SoakSample[], everyMinutes: number): string {
  const rows: string[][] = [];
  const per = (everyMinutes * 60_000) / SAMPLE_MS;
  for (let i = per - 1; i < samples.length; i += per) {
    const window = samples.slice(i + 1 - per, i + 1);
    const s = samples[i];
    rows.push([
      String(s.t / 60),
      String(s.linesAcked),
      s.rssMB.toFixed(0),
      String(s.openFiles),
      String(s.flushFiles),
      s.diskMB.toFixed(0),
      median(window.flatMap((w) => w.probeMs)).toFixed(1),
      Math.max(0, ...window.flatMap((w) => w.probeMs)).toFixed(0),
      median(window.flatMap((w) => w.metricMs)).toFixed(0),
      String(s.tailLines),
      String(s.failures),
    ]);
  }
  return markdownTable(
    [
      "minute",
      "lines stored",
      "RSS MB",
      "open files",
      "flush files",
      "folder MB",
      "probe p50 ms",
      "probe max ms",
      "metric p50 ms",
      "lines tailed",
      "failures",
    ],
    rows,
  );
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      minutes: { type: "string", default: "60" },
      rate: { type: "string", default: "65000" },
      tails: { type: "string", default: "4" },
    },
  });
  const number = (flag: string, value: string, min: number) => {
    const n = Number(value);
    if (!Number.isFinite(n) || n < min) {
      console.error(
        `invalid value ${JSON.stringify(value)} for --${flag}: expected a number ≥ ${min}`,
      );
      Deno.exit(2);
    }
    return n;
  };
  const options = {
    minutes: number("minutes", values.minutes!, 1),
    rate: number("rate", values.rate!, 1),
    tails: number("tails", values.tails!, 0),
  };
  const samples = await soak(options, (line) => console.error(line));
  const env = await environment(new URL("..", import.meta.url).pathname);
  const stamp = new Date().toISOString().replace(/[-:]/g, "").replace(/\.\d+Z$/, "Z");
  const file = join(RESULTS, `${stamp}-${env.commit.slice(0, 7)}-soak.json`);
  await Deno.mkdir(RESULTS, { recursive: true });
  await Deno.writeTextFile(file, JSON.stringify({ options, env, samples }, null, 1) + "\n");
  console.log(soakTable(samples, Math.max(1, Math.round(options.minutes / 12))));
  console.error(`soak: wrote ${file}`);
}
