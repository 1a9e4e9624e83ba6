/**
 * `deno task bench`: the benchmark harness of loge. One run, a generated corpus (and a second of wide JSON lines), fresh server
 * processes in a temp folder, and the baseline tools on the same data, in this order:
 *
 * 1. corpus: `lines.txt` (raw lines) and `corpus.ndjson` (lines with labels), the last line
 *    stamped now; `zstd -3` of both, the inputs of the `zstd -dc | rg` baselines;
 * 2. durable ingest (server defaults) from separate client processes that encode their payloads
 *    before the clock starts, until every line is in a file; peak server RSS meanwhile; SIGTERM;
 * 3. durable ingest of the same corpus as other systems' clients send it, each into a fresh
 *    server, measured as phase 2 (same clients, in-flight depth and batches, bodies encoded
 *    before the clock starts) and right after it, so that they meet the same machine: as Loki's
 *    clients (`logproto.PushRequest` in one snappy block to `POST /loki/api/v1/push`), as OTLP
 *    exporters (`ExportLogsServiceRequest` in protobuf to `POST /otlp/v1/logs`, the labels as
 *    resource attributes named by `--otlp-stream-attributes`) and as Filebeat (a bulk body to
 *    `POST /_bulk`, the labels as fields named by `--es-stream-fields`);
 * 4. a server on phase 2's folder with `--compact-interval 1s --compact-min-files 1`, until its
 *    `/api/v1/stats` says compaction is done (no pass running, none with work waiting);
 * 5. warm query latency, then the same work by `rg`, `grep` and `zstd -dc | rg` with the server
 *    idle; peak server RSS during the queries; SIGTERM; bytes of every file in the data folder;
 * 6. restart (default flags) on the compacted folder, to the first answer holding the needle;
 * 7. cold tier (`cold_tier.ts`): every segment of the compacted folder rotated to `s3rver` on
 *    loopback, then, for the needle and `{app="web"}` over the last hour, a restart with no index
 *    cached, reading S3 through a proxy that counts GETs and bytes: the first run, then the usual
 *    runs; reported as missing when `s3rver` is not installed (`npm ci --prefix tests/s3`);
 * 8. bytes, wide JSON lines (`wide_storage.ts`): a second corpus of another shape
 *    (`generator/wide_json.ts`, lines of ~1 kB with 30–40 fields), `min(lines / 10, 100,000)`
 *    lines written to `wide.txt` and pushed to a fresh server with the compaction flags of phase
 *    4, until compaction is done; a query for one of its trace ids must answer exactly its line;
 *    bytes of every file in the data folder, and `zstd -3` of `wide.txt`;
 * 9. live tails (`tail_latency.ts`): a fresh server with 50 tails open (Loki WebSockets and
 *    server-sent events) and a background load, probe lines pushed one at a time: the latency
 *    from each push's acknowledgement to the line's arrival at each client;
 * 10. sustained load (`sustained.ts`): a fresh server under full JSON ingest for
 *    `--sustained-minutes` from clients that cycle through a pool of bodies with their timestamps
 *    moved forward; every second its RSS, flush files and compaction backlog, and the latency of
 *    a cheap query probe; then the time until its folder is final, and its RSS once idle;
 * 11. ingest with `--durable=false` into a third fresh server;
 * 12. `zstd -19 -T1` of `lines.txt` and `wide.txt`, last, as it takes minutes on a large corpus.
 *
 * It prints a Markdown table (figure, loge, baseline, ratio, target, pass/fail) and writes every
 * figure as JSON to `bench/results/<UTC time>-<commit>.json`. It exits 1 if a figure could not be
 * produced; missed targets and missing baseline tools are printed but do not change the exit code.
 *
 * @module
 */

import { intFlag, parseFlags, UsageError } from "./flags.ts";
import { basename, join } from "node:path";
import {
  BASELINE_TOOLS,
  type BaselineCommand,
  findTool,
  INSTALL_HINT,
  MIN_BASELINE_RUNS,
  type Missing,
  runOnce,
  timeBaseline,
  type Tool,
} from "./baselines.ts";
import { coldTierPhase, findS3rver, S3RVER_INSTALL_HINT } from "./cold_tier.ts";
import { makeCorpus } from "./corpus.ts";
import { dataDirUsage } from "./data_dir.ts";
import { type Environment, environment } from "./environment.ts";
import {
  type CorpusFigure,
  emptyFigures,
  type Figures,
  FOREIGN_PUSHES,
  type ForeignPushKey,
  type IngestFigure,
  missingFigures,
  type QueryFigure,
  reportRows,
  type RestartFigure,
  setZstdBaseline,
  type SizeFigure,
  storageFigure,
} from "./figures.ts";
import { readProcMemory, RssSampler } from "./proc_status.ts";
import { type FleetResult, runPushFleet } from "./push_fleet.ts";
import { type PushFormat, serverArgsFor } from "./push_client.ts";
import { LogGenerator } from "./generator/mod.ts";
import {
  type MetricAnswer,
  metricQuerySpecs,
  pipelineExpectations,
  QUERY_LIMIT,
  queryBody,
  querySpecs,
  runMetricQuery,
  runQuery,
} from "./queries.ts";
import { formatInt, formatMB, markdownTable, type ReportRow, reportTable } from "./report.ts";
import {
  killAllServers,
  killServer,
  launchServer,
  stderrLines,
  type Stopped,
  stopServer,
  waitCompacted,
  waitFlushed,
} from "./server_control.ts";
import { summarize } from "./stats.ts";
import { parseMinutes, sustainedPhase } from "./sustained.ts";
import { TAIL_CLIENTS, tailLatencyPhase } from "./tail_latency.ts";
import { wideStoragePhase } from "./wide_storage.ts";

/** Timed runs per query in a `--quick` run. */
const QUICK_RUNS = 5;
/** Milliseconds of timed runs a baseline gets (after its warm-up), at least `MIN_BASELINE_RUNS`. */
const BASELINE_BUDGET_MS = 10_000;
/** Corpus lines of a `--quick` run. */
const QUICK_LINES = 50_000;
/** Probe lines of the live-tail phase (and of a `--quick` run). */
const TAIL_PROBES = 200;
const QUICK_TAIL_PROBES = 50;
/** Background lines per second through the tails' query during the live-tail phase. */
const TAIL_LOAD_LINES_PER_SEC = 10_000;
/** Lines of the wide JSON corpus: a tenth of the corpus, at most this many. */
const MAX_WIDE_LINES = 100_000;
/** Lines of the wide JSON corpus of a `--quick` run. */
const QUICK_WIDE_LINES = 5_000;
/** Minutes of the sustained-load phase (and of a `--quick` run). */
const SUSTAINED_MINUTES = 2;
const QUICK_SUSTAINED_MINUTES = 0.25;

const HELP = `Usage: deno task bench [flags]

Measures loge beside rg, grep and zstd on a generated corpus, with fresh server processes in a
temp folder: ingest throughput (durable JSON; durable snappy Loki protobuf, OTLP protobuf and
Elasticsearch bulk; --durable=false JSON) and push latency, bytes on disk per
line after compaction beside zstd -3/-19 (also of a second corpus of wide JSON lines, a tenth
as many, at most ${formatInt(MAX_WIDE_LINES)}), warm query latency beside rg/grep, peak server RSS,
restart to first query, queries on the corpus rotated to S3 (s3rver on loopback) after a
restart with no index cached, with the GETs and bytes they fetch, and the latency of live tails
with ${TAIL_CLIENTS} clients, and minutes of full ingest (RSS, flush files and backlog, a cheap
query's latency, time to a final folder, each second). Prints a Markdown table, writes JSON under bench/results/, and
exits 1 if a figure could not be produced (never because of a missed target).

Baseline tools: rg, grep, zstd; a missing one is reported as missing.
Install them with: ${INSTALL_HINT}
The cold-tier phase needs node and s3rver (${S3RVER_INSTALL_HINT}); without them it is reported as
missing.

Flags:
  --lines N         corpus lines (default 1000000; ${formatInt(QUICK_LINES)} with --quick)
  --quick           smoke run of a few minutes: small corpus, ${QUICK_RUNS} runs per query
  --runs N          timed runs per query and baseline (default 20; a baseline stops once its
                    runs took ${BASELINE_BUDGET_MS / 1000} s, after ${MIN_BASELINE_RUNS})
  --clients N       push client processes (default 2)
  --concurrency N   requests in flight per client (default 4)
  --batch N         lines per push request (default 1000)
  --seed N          corpus seed (default 42)
  --sustained-minutes N
                    minutes of the sustained-load phase (default ${SUSTAINED_MINUTES}; ${QUICK_SUSTAINED_MINUTES} with
                    --quick; 0 skips it, reported as missing)
  --keep            keep the temp folder (corpus and data folder, whose segments end up in S3 and
                    are gone with s3rver's folder) and print its path
  --json            print the JSON result instead of the table
  -h, --help        show this help`;

const REPO = new URL("../", import.meta.url).pathname;
const RESULTS = new URL("./results/", import.meta.url).pathname;
/** How the clients of each push in {@linkcode FOREIGN_PUSHES} send. */
const FOREIGN_FORMATS: Record<ForeignPushKey, PushFormat> = {
  lokiProtobuf: "loki-protobuf",
  otlpProtobuf: "otlp-protobuf",
  esBulk: "es-bulk",
};

/** Flags of the server that restarts on the ingested folder: compact everything, soon. */
const COMPACT_ARGS = ["--compact-interval", "1s", "--compact-min-files", "1"];

/** Command-line options. */
interface Options {
  lines: number;
  /** Lines of the wide JSON corpus. */
  wideLines: number;
  quick: boolean;
  runs: number;
  warmup: number;
  clients: number;
  concurrency: number;
  batch: number;
  seed: number;
  sustainedMinutes: number;
  keep: boolean;
  json: boolean;
}

function parseOptions(args: string[]): Options | undefined {
  const { values } = parseFlags(args, {
    lines: { type: "string" },
    quick: { type: "boolean" },
    runs: { type: "string" },
    clients: { type: "string" },
    concurrency: { type: "string" },
    batch: { type: "string" },
    seed: { type: "string" },
    "sustained-minutes": { type: "string" },
    keep: { type: "boolean" },
    json: { type: "boolean" },
    help: { type: "boolean", short: "h" },
  });
  if (values.help) return undefined;
  const int = (flag: string, value: string | undefined, fallback: number, min = 1) =>
    value === undefined ? fallback : intFlag(flag, value, min);
  const minutes = (flag: string, value: string | undefined, fallback: number) => {
    try {
      return value === undefined ? fallback : parseMinutes(flag, value, 0);
    } catch (err) {
      throw new UsageError(messageOf(err));
    }
  };
  const quick = values.quick === true;
  const lines = int("lines", values.lines, quick ? QUICK_LINES : 1_000_000, 1000);
  return {
    lines,
    wideLines: quick ? QUICK_WIDE_LINES : Math.min(Math.floor(lines / 10), MAX_WIDE_LINES),
    quick,
    runs: int("runs", values.runs, quick ? QUICK_RUNS : 20),
    warmup: quick ? 1 : 2,
    clients: int("clients", values.clients, 2),
    concurrency: int("concurrency", values.concurrency, 4),
    batch: int("batch", values.batch, 1000),
    seed: int("seed", values.seed, 42, Number.MIN_SAFE_INTEGER),
    sustainedMinutes: minutes(
      "sustained-minutes",
      values["sustained-minutes"],
      quick ? QUICK_SUSTAINED_MINUTES : SUSTAINED_MINUTES,
    ),
    keep: values.keep === true,
    json: values.json === true,
  };
}

const started = performance.now();

/** A progress line on stderr, with the time since start. */
function progress(message: string): void {
  const s = ((performance.now() - started) / 1000).toFixed(1).padStart(6);
  console.error(`[${s}s] ${message}`);
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** KiB → MB (10^6 bytes), two decimals. */
const toMB = (kib: number) => Math.round((kib * 1024) / 1e4) / 100;
const round = (x: number, digits: number) => Math.round(x * 10 ** digits) / 10 ** digits;

/** What a run gathers besides figures. */
class Run {
  readonly errors: string[] = [];
  readonly serverStderr: string[] = [];
  readonly figures: Figures = emptyFigures();
  readonly tools: Record<string, Tool | Missing> = {};

  constructor(readonly options: Options, readonly tmp: string) {}

  /** Runs `fn`; on failure records the error and returns `null`. */
  async attempt<T>(what: string, fn: () => Promise<T>): Promise<T | null> {
    try {
      return await fn();
    } catch (err) {
      this.errors.push(`${what}: ${messageOf(err)}`);
      progress(`${what} FAILED: ${messageOf(err)}`);
      return null;
    }
  }

  has(...names: string[]): boolean {
    return names.every((n) => this.tools[n] !== undefined && !("missing" in this.tools[n]));
  }

  tool(name: string): Tool {
    const t = this.tools[name];
    if (t === undefined || "missing" in t) throw new Error(`Baseline tool ${name} is missing`);
    return t;
  }

  /** Replaces tool names by their paths (found once, at the start). */
  resolve(command: BaselineCommand): BaselineCommand {
    const one = (argv: string[]) => [this.tool(argv[0]).path, ...argv.slice(1)];
    return typeof command[0] === "string"
      ? one(command as string[])
      : (command as string[][]).map(one);
  }

  /** Shows tool paths as the bare names a user types. */
  unresolve(text: string): string {
    for (const [name, t] of Object.entries(this.tools)) {
      if ("path" in t) text = text.replaceAll(t.path, name);
    }
    return text;
  }
}

/** `zstd -<level> -T1` of `input`, a file of `lines` lines; the size and time of the output. */
async function zstdSize(
  run: Run,
  level: number,
  input: string,
  output: string,
  lines: number,
): Promise<SizeFigure> {
  const t0 = performance.now();
  await runOnce([run.tool("zstd").path, `-${level}`, "-T1", "-q", "-f", input, "-o", output]);
  const seconds = (performance.now() - t0) / 1000;
  const bytes = (await Deno.stat(output)).size;
  return {
    command: `zstd -${level} -T1 ${basename(input)}`,
    bytes,
    bytesPerLine: round(bytes / lines, 2),
    seconds: round(seconds, 2),
  };
}

/** Files up to this size get the whole `zstd -19` baseline (a 1M-line corpus takes ~3 min). */
const ZSTD19_WHOLE_BYTES = 512 * 1024 * 1024;
/**
 * Slices of a larger file that `zstd -19` compresses instead, spread evenly over it. On the 2M-line
 * corpus, 3 and 5 slices both estimate the whole within 0.43%; 3 take 70 s less of a 10M-line run.
 */
const ZSTD19_SLICES = 3;
/** Bytes per slice: a few times zstd -19's 8 MiB window, so each compresses as in the whole. */
const ZSTD19_SLICE_BYTES = 32 * 1024 * 1024;

/**
 * `zstd -level` of `input` (`size` bytes, `lines` lines) estimated from
 * {@linkcode ZSTD19_SLICES} slices of {@linkcode ZSTD19_SLICE_BYTES} spread over it (cut at line
 * ends), each compressed alone (as many at once as `cores` lets), their compressed bytes scaled by
 * `size / bytes sampled`, their times added up: on 10M lines the whole takes 35 minutes; the
 * slices, a twentieth of it.
 */
async function zstdSampledSize(
  run: Run,
  level: number,
  input: string,
  output: string,
  size: number,
  lines: number,
  cores: Cores,
): Promise<SizeFigure> {
  const stride = Math.floor(size / ZSTD19_SLICES);
  const settled = await Promise.allSettled(
    Array.from({ length: ZSTD19_SLICES }, (_, k) =>
      cores.run(async () => {
        // Whole lines only: from after the first newline (but for the first slice) to the last.
        const buf = await readAt(
          input,
          k * stride,
          Math.min(ZSTD19_SLICE_BYTES, size - k * stride),
        );
        const from = k === 0 ? 0 : buf.indexOf(10) + 1;
        const to = buf.lastIndexOf(10, buf.length - 1) + 1;
        const slice = `${output}.${k}.slice`;
        try {
          await Deno.writeFile(slice, buf.subarray(from, to));
          const { bytes, seconds } = await zstdSize(run, level, slice, `${slice}.zst`, 1);
          return { sampled: to - from, compressed: bytes, seconds };
        } finally {
          await Deno.remove(slice).catch(() => {});
          await Deno.remove(`${slice}.zst`).catch(() => {});
        }
      })),
  );
  const failed = settled.find((s) => s.status === "rejected");
  if (failed) throw failed.reason;
  const slices = settled.flatMap((s) => s.status === "fulfilled" ? [s.value] : []);
  const sampled = slices.reduce((n, s) => n + s.sampled, 0);
  const bytes = Math.round(slices.reduce((n, s) => n + s.compressed, 0) * (size / sampled));
  return {
    command: `zstd -${level} -T1 of ${ZSTD19_SLICES} slices of ${basename(input)} ` +
      `(${formatMB(sampled)} sampled), scaled`,
    bytes,
    bytesPerLine: round(bytes / lines, 2),
    // One thread's time, as for a whole file: the slices' times added up.
    seconds: round(slices.reduce((n, s) => n + s.seconds, 0), 2),
  };
}

/** Up to `length` bytes of `path` from `offset`. */
async function readAt(path: string, offset: number, length: number): Promise<Uint8Array> {
  const file = await Deno.open(path);
  try {
    await file.seek(offset, Deno.SeekMode.Start);
    const buf = new Uint8Array(length);
    let got = 0;
    while (got < buf.length) {
      const n = await file.read(buf.subarray(got));
      if (n === null) break;
      got += n;
    }
    return buf.subarray(0, got);
  } finally {
    file.close();
  }
}

/**
 * Slots for one-thread jobs, one per core: the `zstd -19` baselines run at the end of a run, when
 * nothing else is measured, so they share the machine's cores instead of taking turns.
 */
class Cores {
  #free: number;
  readonly #waiting: (() => void)[] = [];

  constructor(count: number) {
    this.#free = Math.max(1, count);
  }

  /** Runs `job` once a core is free. */
  async run<T>(job: () => Promise<T>): Promise<T> {
    if (this.#free === 0) await new Promise<void>((resolve) => this.#waiting.push(resolve));
    else this.#free--;
    try {
      return await job();
    } finally {
      const next = this.#waiting.shift();
      if (next) next();
      else this.#free++;
    }
  }
}

/**
 * `zstd -19 -T1` of `input`, a file of `lines` lines: of the whole file up to
 * {@linkcode ZSTD19_WHOLE_BYTES}, else of slices ({@linkcode zstdSampledSize}).
 */
async function zstd19Size(
  run: Run,
  input: string,
  lines: number,
  cores: Cores,
): Promise<SizeFigure> {
  const out = `${input}.19.zst`;
  const size = (await Deno.stat(input)).size;
  try {
    if (size <= ZSTD19_WHOLE_BYTES) {
      progress(`zstd -19 -T1 of ${basename(input)} (one thread, for a fair comparison; slow)`);
      return await cores.run(() => zstdSize(run, 19, input, out, lines));
    }
    progress(`zstd -19 -T1 of ${ZSTD19_SLICES} slices of ${basename(input)}, scaled to the whole`);
    return await zstdSampledSize(run, 19, input, out, size, lines, cores);
  } finally {
    await Deno.remove(out).catch(() => {});
  }
}

/** Pushes the corpus from the client processes, then waits until every line is in a file. */
async function pushAndFlush(
  url: string,
  label: string,
  o: Options,
  corpus: CorpusFigure,
  format: PushFormat,
): Promise<{ fleet: FleetResult; flushSeconds: number }> {
  progress(
    `ingest (${label}): ${o.clients} clients encode ${formatInt(o.lines)} lines, then push them`,
  );
  const fleet = await runPushFleet({
    addr: url,
    seed: o.seed,
    start: BigInt(corpus.start),
    rate: corpus.rate,
    lines: o.lines,
    batch: o.batch,
    clients: o.clients,
    concurrency: o.concurrency,
    format,
    timeoutMs: 120_000,
  });
  progress(
    `ingest (${label}): ${formatInt(fleet.linesPerSec)} lines/s in ${fleet.seconds} s, ` +
      `${fleet.errors} errors; waiting until every line is in a file`,
  );
  if (fleet.lines !== o.lines) {
    throw new Error(`only ${fleet.lines} of ${o.lines} lines acknowledged: ${fleet.firstError}`);
  }
  return { fleet, flushSeconds: await waitFlushed(url, o.lines) };
}

/** One ingest measurement against a fresh server on `dir`, stopped after. */
async function ingest(
  run: Run,
  label: string,
  dir: string,
  serverArgs: string[],
  corpus: CorpusFigure,
  format: PushFormat = "json",
): Promise<{ figure: IngestFigure; peakMB: number }> {
  const server = await launchServer(dir, serverArgs);
  try {
    const sampler = new RssSampler(server.process.pid);
    sampler.start();
    const outcome = await pushAndFlush(server.url, label, run.options, corpus, format).then(
      (value) => ({ value }),
      (error: unknown) => ({ error }),
    );
    const peak = await sampler.stop();
    if ("error" in outcome) throw outcome.error;
    const stopped = await stopServer(server);
    if (stopped.code !== 0) run.errors.push(`server ${label} exited with code ${stopped.code}`);
    return {
      figure: {
        ...outcome.value.fleet,
        flushSeconds: round(outcome.value.flushSeconds, 3),
        serverArgs,
        shutdownCode: stopped.code,
        shutdownMs: Math.round(stopped.ms),
      },
      peakMB: toMB(peak.peakKiB),
    };
  } finally {
    run.serverStderr.push(...stderrLines(`server ${label}`, server));
    await killServer(server);
  }
}

/** Writes the files of `paths` that exist to disk (fsync). */
async function syncFiles(paths: string[]): Promise<void> {
  for (const path of paths) {
    let file: Deno.FsFile;
    try {
      file = await Deno.open(path);
    } catch {
      continue; // not written: zstd is missing
    }
    try {
      await file.sync();
    } finally {
      file.close();
    }
  }
}

/**
 * When `corpus` ends, in unix ms: the windowed queries ask for its last minutes, which a
 * query at that moment would ask for, whatever time the phases before them took.
 */
function corpusEndMs(corpus: CorpusFigure): number {
  return Number(BigInt(corpus.end) / 1_000_000n);
}

/** Phases 3–4: compaction, queries and baselines, bytes on disk. Returns how the server stopped. */
async function compactAndQuery(
  run: Run,
  dataDir: string,
  corpus: CorpusFigure,
): Promise<Stopped> {
  const o = run.options;
  const f = run.figures;
  const needle = corpus.needle.traceId;
  progress(`compaction: a server on the same folder with ${COMPACT_ARGS.join(" ")}`);
  const server = await launchServer(dataDir, COMPACT_ARGS);
  try {
    progress("compaction: waiting until the server's stats say it is done");
    const compactionSampler = new RssSampler(server.process.pid);
    compactionSampler.start();
    const compacted = await waitCompacted(server.url, o.lines).then(
      (value) => ({ value }),
      (error: unknown) => ({ error }),
    );
    const compactionPeak = await compactionSampler.stop();
    if ("error" in compacted) throw compacted.error;
    const compactionSeconds = compacted.value;
    f.rss.compactionMB = toMB(compactionPeak.peakKiB);
    const running = await dataDirUsage(dataDir);
    progress(
      `compaction: done ${compactionSeconds.toFixed(1)} s after the server started; ` +
        `${running.segments} segments, ${formatMB(running.totalBytes)} in the folder`,
    );

    const files = {
      lines: join(run.tmp, "lines.txt"),
      ndjson: join(run.tmp, "corpus.ndjson"),
      linesZst: join(run.tmp, "lines.txt.zst"),
      ndjsonZst: join(run.tmp, "corpus.ndjson.zst"),
    };
    const generator = new LogGenerator({
      seed: corpus.seed,
      start: BigInt(corpus.start),
      rate: corpus.rate,
    });
    const specs = querySpecs(
      needle,
      files,
      pipelineExpectations(generator, o.lines, corpus.needle.index),
    );
    const sampler = new RssSampler(server.process.pid);
    sampler.start();
    const timed = new Map<string, { ms: number[]; hits: number }>();
    for (const spec of specs) {
      progress(`query ${spec.key}: ${spec.query} (${o.warmup} warm-up + ${o.runs} runs)`);
      await run.attempt(`query ${spec.key}`, async () => {
        const ms: number[] = [];
        let hits = 0;
        for (let i = 0; i < o.warmup + o.runs; i++) {
          const answer = await runQuery(server.url, queryBody(spec, corpusEndMs(corpus)));
          hits = answer.hits;
          if (hits !== spec.expectHits) {
            throw new Error(`answered ${hits} lines, expected ${spec.expectHits}`);
          }
          if (spec.expectText !== undefined && !answer.firstLine?.includes(spec.expectText)) {
            throw new Error(`the answer does not hold ${spec.expectText}`);
          }
          if (
            spec.expectLastText !== undefined && !answer.lastLine?.includes(spec.expectLastText)
          ) {
            throw new Error(`the answer's last line does not hold ${spec.expectLastText}`);
          }
          if (i >= o.warmup) ms.push(answer.ms);
        }
        timed.set(spec.key, { ms, hits });
      });
    }
    const endNs = BigInt(corpusEndMs(corpus)) * 1_000_000n;
    for (const spec of metricQuerySpecs(generator, o.lines, endNs)) {
      progress(`query ${spec.key}: ${spec.query} (${o.warmup} warm-up + ${o.runs} runs)`);
      await run.attempt(`query ${spec.key}`, async () => {
        const ms: number[] = [];
        let answer: MetricAnswer | undefined;
        for (let i = 0; i < o.warmup + o.runs; i++) {
          answer = await runMetricQuery(server.url, spec, endNs);
          if (answer.series !== spec.expectSeries || answer.lines !== spec.expectLines) {
            throw new Error(
              `answered ${answer.series} series summing to ${answer.lines} lines, expected ` +
                `${spec.expectSeries} series summing to ${spec.expectLines}`,
            );
          }
          if (i >= o.warmup) ms.push(answer.ms);
        }
        f.metricQueries[spec.key] = {
          title: spec.title,
          query: spec.query,
          window: "last hour, step 1m",
          series: answer!.series,
          expectSeries: spec.expectSeries,
          points: answer!.points,
          lines: answer!.lines,
          expectLines: spec.expectLines,
          ms: summarize(ms),
          targetP50Ms: spec.targetP50Ms,
        };
      });
    }
    const peak = await run.attempt("RSS during queries", () => sampler.stop());
    f.rss.queriesMB = peak === null ? null : toMB(peak.peakKiB);
    const memory = await readProcMemory(server.process.pid);
    f.rss.queryServerLifetimeMB = memory === undefined ? null : toMB(memory.hwmKiB);

    for (const spec of specs) {
      const baselines: QueryFigure["baselines"] = {};
      for (const b of spec.baselines) {
        const absent = b.tools.find((t) => !run.has(t));
        if (absent !== undefined) {
          baselines[b.name] = run.tools[absent] as Missing;
          continue;
        }
        progress(`baseline ${spec.key}: ${b.name}`);
        const result = await run.attempt(
          `baseline ${spec.key}: ${b.name}`,
          () => timeBaseline(run.resolve(b.command), o.runs, o.warmup, run.tmp, BASELINE_BUDGET_MS),
        );
        if (result === null) {
          baselines[b.name] = { error: run.errors.at(-1)! };
        } else {
          result.command = run.unresolve(result.command);
          baselines[b.name] = result;
        }
      }
      const t = timed.get(spec.key);
      f.queries[spec.key] = t === undefined ? null : {
        title: spec.title,
        query: spec.query,
        window: spec.window === "all" ? "no time bound" : "last 5 minutes",
        limit: QUERY_LIMIT,
        hits: t.hits,
        expectHits: spec.expectHits,
        ms: summarize(t.ms),
        baselines,
        targetP50Ms: spec.targetP50Ms,
        targetSpeedup: spec.targetSpeedup,
        note: spec.note,
      };
    }

    const stopped = await stopServer(server);
    if (stopped.code !== 0) run.errors.push(`query server exited with code ${stopped.code}`);
    const atRest = await dataDirUsage(dataDir);
    f.storage = storageFigure({ atRest, running, lines: o.lines, compactionSeconds });
    return stopped;
  } finally {
    run.serverStderr.push(...stderrLines("query server", server));
    await killServer(server);
  }
}

/**
 * Phase 6: a server with default flags restarts on the compacted folder and is asked for the
 * needle at once; measures spawn → `listening on` and spawn → first answer holding the needle.
 */
async function restart(
  run: Run,
  dataDir: string,
  corpus: CorpusFigure,
  previous: Stopped,
): Promise<RestartFigure> {
  const needle = corpus.needle.traceId;
  progress("restart: a server on the compacted folder, asked for the needle at once");
  const t0 = performance.now();
  const server = await launchServer(dataDir, []);
  try {
    const toListeningMs = performance.now() - t0;
    for (let empty = 0;; empty++) {
      const answer = await runQuery(server.url, { query: `|= "${needle}"`, limit: QUERY_LIMIT });
      if (answer.hits > 0) {
        const figure: RestartFigure = {
          shutdownMs: Math.round(previous.ms),
          shutdownCode: previous.code,
          toListeningMs: round(toListeningMs, 1),
          toFirstQueryMs: round(performance.now() - t0, 1),
          emptyAnswersBeforeHit: empty,
        };
        const stopped = await stopServer(server);
        if (stopped.code !== 0) {
          run.errors.push(`restarted server exited with code ${stopped.code}`);
        }
        return figure;
      }
      if (performance.now() - t0 > 60_000) {
        throw new Error(`the needle was not found within 60 s of the restart`);
      }
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  } finally {
    run.serverStderr.push(...stderrLines("restarted server", server));
    await killServer(server);
  }
}

async function measure(run: Run): Promise<void> {
  const o = run.options;
  const f = run.figures;
  for (const name of BASELINE_TOOLS) {
    const tool = await findTool(name);
    run.tools[name] = tool;
    progress(`baseline tool ${"missing" in tool ? tool.missing : `${name}: ${tool.version}`}`);
  }
  const s3rver = await findS3rver();
  run.tools.s3rver = s3rver;
  progress(`cold tier: ${"missing" in s3rver ? s3rver.missing : `s3rver: ${s3rver.version}`}`);
  const linesFile = join(run.tmp, "lines.txt");
  const ndjsonFile = join(run.tmp, "corpus.ndjson");
  const dataDir = join(run.tmp, "data");
  const nonDurableDir = join(run.tmp, "data-nondurable");

  progress(`corpus: ${formatInt(o.lines)} lines, ending now`);
  const corpus = await run.attempt("corpus", () =>
    makeCorpus({
      lines: o.lines,
      seed: o.seed,
      endNs: BigInt(Date.now()) * 1_000_000n,
      linesFile,
      ndjsonFile,
    }));
  if (corpus === null) return;
  f.corpus = corpus;

  let zstd3: SizeFigure | Missing | null = run.tools.zstd as Missing;
  if (run.has("zstd")) {
    progress("zstd -3 of lines.txt and corpus.ndjson");
    zstd3 = await run.attempt(
      "zstd -3",
      () => zstdSize(run, 3, linesFile, `${linesFile}.zst`, o.lines),
    );
    await run.attempt(
      "zstd -3 of corpus.ndjson",
      () => zstdSize(run, 3, ndjsonFile, `${ndjsonFile}.zst`, o.lines),
    );
  }

  // The corpus files just written are still dirty pages: their writeback would compete with the
  // first push measured (the JSON push's WAL fsyncs) and with none of the later ones.
  await syncFiles([linesFile, ndjsonFile, `${linesFile}.zst`, `${ndjsonFile}.zst`]);
  const durable = await run.attempt(
    "ingest, durable",
    () => ingest(run, "durable", dataDir, [], corpus),
  );
  // Right after the JSON push, which they are compared with: all meet the same machine.
  for (const push of FOREIGN_PUSHES) {
    const format = FOREIGN_FORMATS[push.key];
    const serverArgs = serverArgsFor(format);
    const dir = join(run.tmp, `data-${format}`);
    const label = `durable, ${push.name}`;
    const measured = await run.attempt(
      `ingest, ${label}`,
      () => ingest(run, label, dir, serverArgs, corpus, format),
    );
    if (measured !== null) {
      f.ingest[push.key] = measured.figure;
      f.rss[push.rss] = measured.peakMB;
    }
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }

  if (durable !== null) {
    f.ingest.durable = durable.figure;
    f.rss.ingestDurableMB = durable.peakMB;
    const stopped = await run.attempt(
      "compaction and queries",
      () => compactAndQuery(run, dataDir, corpus),
    );
    if (stopped !== null) {
      f.restart = await run.attempt(
        "restart to first query",
        () => restart(run, dataDir, corpus, stopped),
      );
      // Last user of the data folder: its segments end up in S3.
      f.coldTier = "missing" in s3rver
        ? s3rver
        : await run.attempt("cold tier", () =>
          coldTierPhase({
            dataDir,
            needle: corpus.needle.traceId,
            corpusEndMs: corpusEndMs(corpus),
            runs: o.runs,
            s3rver,
            progress,
            attempt: (what, fn) => run.attempt(what, fn),
            errors: run.errors,
            serverStderr: run.serverStderr,
          }));
    }
    if (f.storage !== null) setZstdBaseline(f.storage, 3, zstd3);
  }

  const wideFile = join(run.tmp, "wide.txt");
  const wideDir = join(run.tmp, "data-wide");
  f.wideStorage = await run.attempt("bytes, wide JSON lines", () =>
    wideStoragePhase({
      dir: wideDir,
      linesFile: wideFile,
      lines: o.wideLines,
      seed: o.seed,
      endNs: BigInt(Date.now()) * 1_000_000n,
      serverArgs: COMPACT_ARGS,
      progress,
      serverStderr: run.serverStderr,
    }));
  await Deno.remove(wideDir, { recursive: true }).catch(() => {});
  const wide = f.wideStorage;
  if (wide !== null) {
    let zstd3: SizeFigure | Missing | null = run.tools.zstd as Missing;
    if (run.has("zstd")) {
      progress("zstd -3 of wide.txt");
      const out = `${wideFile}.zst`;
      zstd3 = await run.attempt(
        "zstd -3 of wide.txt",
        () => zstdSize(run, 3, wideFile, out, wide.lines),
      );
      await Deno.remove(out).catch(() => {});
    }
    setZstdBaseline(wide, 3, zstd3);
  }

  f.tail = await run.attempt("tail latency", () =>
    tailLatencyPhase({
      dir: join(run.tmp, "data-tail"),
      clients: TAIL_CLIENTS,
      probes: o.quick ? QUICK_TAIL_PROBES : TAIL_PROBES,
      loadLinesPerSec: TAIL_LOAD_LINES_PER_SEC,
      progress,
      serverStderr: run.serverStderr,
    }));
  await Deno.remove(join(run.tmp, "data-tail"), { recursive: true }).catch(() => {});

  f.sustained = o.sustainedMinutes === 0
    ? { missing: "sustained load skipped (--sustained-minutes 0)" }
    : await run.attempt("sustained load", () =>
      sustainedPhase({
        dir: join(run.tmp, "data-sustained"),
        minutes: o.sustainedMinutes,
        clients: o.clients,
        concurrency: o.concurrency,
        batch: o.batch,
        seed: o.seed,
        progress,
        serverStderr: run.serverStderr,
      }));
  await Deno.remove(join(run.tmp, "data-sustained"), { recursive: true }).catch(() => {});

  const nonDurable = await run.attempt(
    "ingest, --durable=false",
    () => ingest(run, "--durable=false", nonDurableDir, ["--durable=false"], corpus),
  );
  if (nonDurable !== null) {
    f.ingest.nonDurable = nonDurable.figure;
    f.rss.ingestNonDurableMB = nonDurable.peakMB;
  }
  await Deno.remove(nonDurableDir, { recursive: true }).catch(() => {});

  // Both baselines at once, a core each: nothing else is measured any more.
  const cores = new Cores(navigator.hardwareConcurrency);
  const [zstd19, wideZstd19] = run.has("zstd")
    ? await Promise.all([
      run.attempt("zstd -19", () => zstd19Size(run, linesFile, o.lines, cores)),
      wide === null
        ? null
        : run.attempt("zstd -19 of wide.txt", () => zstd19Size(run, wideFile, wide.lines, cores)),
    ])
    : [run.tools.zstd as Missing, run.tools.zstd as Missing];
  if (f.storage !== null) setZstdBaseline(f.storage, 19, zstd19);
  if (wide !== null) setZstdBaseline(wide, 19, wideZstd19);
}

function renderHeader(env: Environment, run: Run, seconds: number, command: string): string {
  const o = run.options;
  const tools = Object.entries(run.tools)
    .map(([name, t]) => ("missing" in t ? t.missing : `${name}: ${t.version}`))
    .join("; ");
  const corpus = run.figures.corpus;
  const wide = run.figures.wideStorage;
  return markdownTable(["run", ""], [
    ["command", command],
    ["commit", `${env.commit.slice(0, 12)}${env.dirty ? " (with uncommitted changes)" : ""}`],
    ["machine", `${env.cpus} CPUs (${env.cpuModel}), ${env.memTotalMiB} MiB, ${env.os}`],
    ["deno", env.deno],
    [
      "corpus",
      `${formatInt(o.lines)} lines, seed ${o.seed}` +
      (corpus === null
        ? ""
        : `, ${formatMB(corpus.rawBytes)} raw, ${corpus.rate.toFixed(1)} lines/s of log time`) +
      `; for bytes on disk also a second corpus of ${formatInt(o.wideLines)} wide JSON lines` +
      (wide === null ? "" : ` (~${formatInt(Math.round(wide.rawBytesPerLine))} B each)`),
    ],
    [
      "queries",
      `${o.runs} timed runs each after ${o.warmup} warm-up; baselines the same, or as many as ` +
      `take ${BASELINE_BUDGET_MS / 1000} s (at least ${MIN_BASELINE_RUNS})`,
    ],
    ["tools", tools],
    ["total time", `${seconds.toFixed(1)} s`],
  ]);
}

/** Server stderr lines that are not the routine shutdown messages. */
function unusualStderr(lines: string[]): string[] {
  return lines.filter((l) => !/: loge: (shutting down|stopped)$/.test(l));
}

async function main(args: string[]): Promise<number> {
  let options: Options | undefined;
  try {
    options = parseOptions(args);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    console.error(`bench: ${err.message}\nRun "deno task bench --help" for usage.`);
    return 2;
  }
  if (options === undefined) {
    console.log(HELP);
    return 0;
  }
  const o = options;
  const env = await environment(REPO);
  const tmp = await Deno.makeTempDir({ prefix: "loge-bench-" });
  const run = new Run(o, tmp);
  const onSignal = () => {
    console.error("bench: interrupted; killing servers");
    killAllServers()
      .then(() => o.keep ? undefined : Deno.remove(tmp, { recursive: true }))
      .finally(() => Deno.exit(130));
  };
  Deno.addSignalListener("SIGINT", onSignal);
  try {
    await run.attempt("benchmark", () => measure(run));
  } finally {
    Deno.removeSignalListener("SIGINT", onSignal);
    await killAllServers();
    if (o.keep) progress(`kept ${tmp}`);
    else await Deno.remove(tmp, { recursive: true }).catch(() => {});
  }

  const seconds = (performance.now() - started) / 1000;
  const absent = missingFigures(run.figures);
  const rows: ReportRow[] = reportRows(
    run.figures,
    `${o.clients} clients × ${o.concurrency} in flight, ${o.batch}-line JSON batches`,
  );
  const date = new Date();
  const result = {
    commit: env.commit,
    dirty: env.dirty,
    cpus: env.cpus,
    lines: o.lines,
    quick: o.quick,
    date: date.toISOString(),
    seconds: round(seconds, 1),
    command: `deno task bench ${args.join(" ")}`.trim(),
    environment: env,
    options: o,
    tools: run.tools,
    figures: run.figures,
    targets: rows.filter((r) => r.target !== undefined).map((r) => ({
      figure: r.figure.trim(),
      value: r.value || r.ratio || "",
      target: r.target,
      pass: r.pass ?? null,
    })),
    missingFigures: absent,
    errors: run.errors,
    serverStderr: run.serverStderr,
  };
  const stamp = result.date.replace(/[-:]/g, "").replace(/\.\d+Z$/, "Z");
  const file = join(RESULTS, `${stamp}-${env.commit.slice(0, 7)}.json`);
  await Deno.mkdir(RESULTS, { recursive: true });
  await Deno.writeTextFile(file, JSON.stringify(result, null, 2) + "\n");

  if (o.json) {
    console.log(JSON.stringify(result, null, 2));
  } else {
    const parts = [renderHeader(env, run, seconds, result.command), reportTable(rows)];
    const notes = Object.values(run.figures.queries)
      .filter((q) => q?.note !== undefined)
      .map((q) => `- ${q!.title}: ${q!.note}.`);
    if (notes.length > 0) parts.push(`Baseline notes:\n\n${notes.join("\n")}`);
    const stderr = unusualStderr(run.serverStderr);
    if (stderr.length > 0) {
      parts.push(
        `Server stderr (${stderr.length} lines):\n\n` +
          stderr.slice(0, 20).map((l) => `    ${l}`).join("\n"),
      );
    }
    if (run.errors.length > 0) {
      parts.push(`Errors:\n\n${run.errors.map((e) => `- ${e}`).join("\n")}`);
    }
    console.log(parts.join("\n\n"));
  }
  progress(`wrote ${file}`);
  if (absent.length > 0) {
    console.error(`bench: figures not produced: ${absent.join(", ")}`);
    return 1;
  }
  return 0;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
