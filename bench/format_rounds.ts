/**
 * `deno task bench:formats`: how fast each push format goes in, from rounds that alternate them.
 * A single push of each format moves by a tenth or more from run to run on a small machine, more
 * than the formats differ; so each round pushes the same corpus in every format, each into a fresh
 * server with the default flags (and the flags the format needs, {@linkcode serverArgsFor}), and
 * the figures are medians over rounds. For each push it also reads the server's CPU by kind of
 * thread (`thread_cpu.ts`) and samples its RSS, with where the memory is at the peak
 * (`memory_map.ts`), so a gap shows where it is.
 *
 * ```sh
 * deno task bench:formats --lines 1000000 --rounds 6 --formats json,es-bulk,otlp-protobuf
 * ```
 *
 * @module
 */

import { intFlag, parseFlags, UsageError } from "./flags.ts";
import { runPushFleet } from "./push_fleet.ts";
import { PUSH_FORMATS, type PushFormat, serverArgsFor } from "./push_client.ts";
import { RssSampler } from "./proc_status.ts";
import { FLOOR_MODES, FLOOR_SERVER, type FloorMode } from "./floor_server.ts";
import type { MemoryParts } from "./memory_map.ts";
import { formatInt, markdownTable } from "./report.ts";
import {
  killAllServers,
  killServer,
  launchServer,
  stopServer,
  waitFlushed,
} from "./server_control.ts";
import { percentile, round } from "./stats.ts";
import {
  cpuBetween,
  type GroupSeconds,
  readThreadCpu,
  THREAD_GROUPS,
  type ThreadGroup,
} from "./thread_cpu.ts";

/** What a run of rounds is asked for. */
export interface RoundsOptions {
  lines: number;
  rounds: number;
  /** The formats, in the order each round pushes them; the first is what the others compare with. */
  formats: PushFormat[];
  /** The floor servers each round runs after the formats (`floor_server.ts`). */
  floors: FloorMode[];
  clients: number;
  concurrency: number;
  batch: number;
  seed: number;
}

/** One push of one round. */
export interface FormatPush {
  round: number;
  /** The format pushed to loge, or the floor server that took the JSON push. */
  format: PushFormat | `floor-${FloorMode}`;
  linesPerSec: number;
  /** The server's CPU seconds during the push and until every line was in a file, by group. */
  cpu: GroupSeconds;
  peakRssMB: number;
  /** Where the server's memory was near that peak, in MB by kind of mapping. */
  peakParts: MemoryParts;
}

/** Pushes the corpus in `format` to the server at `url` (process `pid`); its rate and the server's CPU. */
async function pushOnce(
  o: RoundsOptions,
  format: PushFormat,
  url: string,
  pid: number,
  start: bigint,
): Promise<Pick<FormatPush, "linesPerSec" | "cpu">> {
  const before = await readThreadCpu(pid);
  const fleet = await runPushFleet({
    addr: url,
    seed: o.seed,
    start,
    rate: LOG_RATE,
    lines: o.lines,
    batch: o.batch,
    clients: o.clients,
    concurrency: o.concurrency,
    format,
    timeoutMs: 120_000,
  });
  if (fleet.lines !== o.lines) {
    throw new Error(
      `${format}: ${fleet.lines} of ${o.lines} lines acknowledged: ${fleet.firstError}`,
    );
  }
  await waitFlushed(url, o.lines);
  return { linesPerSec: fleet.linesPerSec, cpu: cpuBetween(before, await readThreadCpu(pid)) };
}

/** Lines per second of log time in the pushed corpus. */
const LOG_RATE = 1000;

/** A server a round pushes into: loge with a format's flags, or a floor server. */
interface Target {
  label: FormatPush["format"];
  /** The format of the pushes. */
  format: PushFormat;
  args: string[];
  /** The script run in loge's place. */
  main?: string;
}

/**
 * Runs the rounds: in each, every format in turn pushes the corpus into a fresh server on a
 * fresh folder, which is stopped and removed after; then each floor server
 * (`floor_server.ts`) takes the JSON push at the rate loge took it in that round.
 *
 * @throws {Error} If a server fails to start or a push is not acknowledged whole, or if floors
 * are asked for without the JSON format.
 */
export async function formatRounds(
  o: RoundsOptions,
  progress: (message: string) => void = () => {},
): Promise<FormatPush[]> {
  if (o.floors.length > 0 && !o.formats.includes("json")) {
    throw new Error("floors take the JSON push at loge's rate: the formats must include json");
  }
  // The corpus's log time ends now.
  const start = (BigInt(Date.now()) - BigInt(Math.ceil(o.lines / LOG_RATE)) * 1000n) * 1_000_000n;
  const pushes: FormatPush[] = [];
  const measure = async (round: number, target: Target) => {
    const dir = await Deno.makeTempDir({ prefix: "loge-formats-" });
    const server = await launchServer(dir, target.args, undefined, target.main);
    try {
      const pid = server.process.pid;
      const sampler = new RssSampler(pid, 200, { parts: true });
      sampler.start();
      const measured = await pushOnce(o, target.format, server.url, pid, start).catch(
        async (error: unknown) => {
          await sampler.stop().catch(() => {});
          throw error;
        },
      );
      const { peakKiB, parts } = await sampler.stop();
      if (parts === undefined) {
        throw new Error(`${target.label}: the server's memory map was not read`);
      }
      // MB of 10^6 bytes, as the bench reports.
      const mb = (kiB: number) => round1((kiB * 1024) / 1e6);
      const peakParts = Object.fromEntries(
        Object.entries(parts).map(([kind, kiB]) => [kind, mb(kiB)]),
      ) as unknown as MemoryParts;
      pushes.push({
        round,
        format: target.label,
        ...measured,
        peakRssMB: mb(peakKiB),
        peakParts,
      });
      progress(`round ${round}, ${target.label}: ${formatInt(measured.linesPerSec)} lines/s`);
      await stopServer(server);
    } finally {
      await killServer(server);
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  };
  for (let round = 1; round <= o.rounds; round++) {
    for (const format of o.formats) {
      await measure(round, { label: format, format, args: serverArgsFor(format) });
    }
    const json = pushes.find((p) => p.round === round && p.format === "json");
    for (const mode of o.floors) {
      const rate = String(Math.round(json!.linesPerSec));
      await measure(round, {
        label: `floor-${mode}`,
        format: "json",
        args: ["--floor", mode, "--floor-rate", rate],
        main: FLOOR_SERVER,
      });
    }
  }
  return pushes;
}

const round1 = (x: number) => round(x, 1);

function median(xs: readonly number[]): number {
  return percentile(Float64Array.from(xs).sort(), 50);
}

/**
 * The rounds as a Markdown table, a row per format: lines/s of each round, their median and its
 * ratio to the first format's median (with the range of the per-round ratios), the server's CPU
 * a line by thread group (medians, µs), and the highest peak RSS.
 *
 * @example
 * ```ts
 * import { roundsTable } from "./format_rounds.ts";
 * const cpu = { "event loop": 4, workers: 3, "V8 helpers": 1, "file I/O": 0.2, other: 0, "ended threads": 0 };
 * const peakParts = { files: 60, v8Pages: 85, glibcMainHeap: 124, glibcThreadHeaps: 79, other: 12 };
 * console.log(roundsTable([
 *   { round: 1, format: "json", linesPerSec: 200_000, cpu, peakRssMB: 380, peakParts },
 *   { round: 1, format: "es-bulk", linesPerSec: 180_000, cpu, peakRssMB: 390, peakParts },
 * ], 1_000_000).includes("| es-bulk | 180,000 | 180,000 | 0.90× (0.90–0.90) |")); // true
 * ```
 */
export function roundsTable(pushes: readonly FormatPush[], lines: number): string {
  const formats = [...new Set(pushes.map((p) => p.format))];
  const of = (format: FormatPush["format"]) => pushes.filter((p) => p.format === format);
  const base = of(formats[0]);
  const baseMedian = median(base.map((p) => p.linesPerSec));
  const rows = formats.map((format) => {
    const own = of(format);
    const rates = own.map((p) => p.linesPerSec);
    const ratios = own.flatMap((p) => {
      const b = base.find((x) => x.round === p.round);
      return b === undefined ? [] : [p.linesPerSec / b.linesPerSec];
    });
    const perLine = (group: ThreadGroup) =>
      median(own.map((p) => (p.cpu[group] * 1e6) / lines)).toFixed(2);
    const total = median(
      own.map((p) => (THREAD_GROUPS.reduce((s, g) => s + p.cpu[g], 0) * 1e6) / lines),
    );
    return [
      format,
      rates.map(formatInt).join(" · "),
      formatInt(median(rates)),
      `${(median(rates) / baseMedian).toFixed(2)}× (${Math.min(...ratios).toFixed(2)}–${
        Math.max(...ratios).toFixed(2)
      })`,
      total.toFixed(2),
      ...THREAD_GROUPS.map(perLine),
      Math.max(...own.map((p) => p.peakRssMB)).toFixed(1),
    ];
  });
  return markdownTable(
    [
      "format",
      "lines/s by round",
      "median",
      `÷ ${formats[0]} (rounds)`,
      "server CPU µs/line",
      ...THREAD_GROUPS,
      "peak RSS MB",
    ],
    rows,
  );
}

/** The kinds of mappings {@linkcode memoryTable} shows, and their headers. */
const PART_HEADERS: [keyof MemoryParts, string][] = [
  ["files", "files (code)"],
  ["v8Pages", "V8 heap pages"],
  ["glibcMainHeap", "glibc main heap"],
  ["glibcThreadHeaps", "glibc thread heaps"],
  ["other", "other"],
];

/**
 * Where the server's memory was at each format's highest peak, as a Markdown table: a row per
 * format, the peak RSS and its MB by kind of mapping (`memory_map.ts`).
 *
 * @example
 * ```ts
 * import { memoryTable } from "./format_rounds.ts";
 * const cpu = { "event loop": 4, workers: 3, "V8 helpers": 1, "file I/O": 0.2, other: 0, "ended threads": 0 };
 * const peakParts = { files: 60, v8Pages: 85, glibcMainHeap: 124, glibcThreadHeaps: 79, other: 12 };
 * console.log(memoryTable([
 *   { round: 1, format: "json", linesPerSec: 200_000, cpu, peakRssMB: 360, peakParts },
 * ]).includes("| json | 360.0 | 60.0 | 85.0 | 124.0 | 79.0 | 12.0 |")); // true
 * ```
 */
export function memoryTable(pushes: readonly FormatPush[]): string {
  const formats = [...new Set(pushes.map((p) => p.format))];
  const rows = formats.map((format) => {
    const highest = pushes.filter((p) => p.format === format).reduce((a, b) =>
      b.peakRssMB > a.peakRssMB ? b : a
    );
    return [
      format,
      highest.peakRssMB.toFixed(1),
      ...PART_HEADERS.map(([kind]) => highest.peakParts[kind].toFixed(1)),
    ];
  });
  return markdownTable(["format", "peak RSS MB", ...PART_HEADERS.map(([, h]) => h)], rows);
}

const HELP = `Usage: deno task bench:formats [flags]

Pushes the bench corpus in each format, round after round, each push into a fresh server with the
default flags (and those its format needs), and prints a row per format: lines/s of each round,
the median and its ratio to the first format's (with the range of the rounds' ratios), the
server's CPU a line by kind of thread, and its peak RSS; then where the memory was at each
format's highest peak (MB by kind of mapping, from /proc/<pid>/smaps). Exits 1 if a push fails.

Flags:
  --lines N         lines of each push (default 1000000)
  --rounds N        rounds (default 3)
  --formats LIST    comma-separated, the first compared with (default
                    json,loki-protobuf,otlp-protobuf,es-bulk; any of ${PUSH_FORMATS.join(", ")})
  --floors LIST     comma-separated floor servers (${FLOOR_MODES.join(", ")}; default none): after
                    the formats, each round pushes the JSON corpus into each at the rate loge
                    took it, to show what this platform holds doing less than loge does
                    (bench/floor_server.ts); needs json among the formats
  --clients N       push client processes (default 2)
  --concurrency N   requests in flight per client (default 4)
  --batch N         lines per push request (default 1000)
  --seed N          corpus seed (default 42)
  --json            print every push as JSON instead of the table
  -h, --help        show this help`;

function parseOptions(args: string[]): RoundsOptions & { json: boolean } | undefined {
  const { values } = parseFlags(args, {
    lines: { type: "string", default: "1000000" },
    rounds: { type: "string", default: "3" },
    formats: { type: "string", default: "json,loki-protobuf,otlp-protobuf,es-bulk" },
    floors: { type: "string", default: "" },
    clients: { type: "string", default: "2" },
    concurrency: { type: "string", default: "4" },
    batch: { type: "string", default: "1000" },
    seed: { type: "string", default: "42" },
    json: { type: "boolean" },
    help: { type: "boolean", short: "h" },
  });
  if (values.help) return undefined;
  const formats = values.formats.split(",").map((f) => f.trim()) as PushFormat[];
  const unknown = formats.find((f) => !PUSH_FORMATS.includes(f));
  if (unknown !== undefined || formats.length === 0) {
    throw new UsageError(
      `Invalid --formats "${values.formats}": expected formats among ${PUSH_FORMATS.join(", ")}`,
    );
  }
  const floors = values.floors === ""
    ? []
    : values.floors.split(",").map((f) => f.trim()) as FloorMode[];
  if (floors.some((f) => !FLOOR_MODES.includes(f))) {
    throw new UsageError(
      `Invalid --floors "${values.floors}": expected floors among ${FLOOR_MODES.join(", ")}`,
    );
  }
  if (floors.length > 0 && !formats.includes("json")) {
    throw new UsageError(
      `Invalid --floors "${values.floors}": floors take the JSON push, so --formats must include json`,
    );
  }
  return {
    lines: intFlag("lines", values.lines, 1),
    rounds: intFlag("rounds", values.rounds, 1),
    formats,
    floors,
    clients: intFlag("clients", values.clients, 1),
    concurrency: intFlag("concurrency", values.concurrency, 1),
    batch: intFlag("batch", values.batch, 1),
    seed: intFlag("seed", values.seed, Number.MIN_SAFE_INTEGER),
    json: values.json === true,
  };
}

async function main(args: string[]): Promise<number> {
  let options;
  try {
    options = parseOptions(args);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    console.error(`bench:formats: ${err.message}\nRun "deno task bench:formats --help" for usage.`);
    return 2;
  }
  if (options === undefined) {
    console.log(HELP);
    return 0;
  }
  const started = performance.now();
  const progress = (message: string) =>
    console.error(`[${((performance.now() - started) / 1000).toFixed(1).padStart(6)}s] ${message}`);
  const onSignal = () => void killAllServers().finally(() => Deno.exit(130));
  Deno.addSignalListener("SIGINT", onSignal);
  try {
    const pushes = await formatRounds(options, progress);
    console.log(
      options.json
        ? JSON.stringify(pushes, null, 2)
        : `${roundsTable(pushes, options.lines)}\n\n${memoryTable(pushes)}`,
    );
    return 0;
  } catch (err) {
    console.error(`bench:formats: ${(err as Error).message}`);
    return 1;
  } finally {
    Deno.removeSignalListener("SIGINT", onSignal);
    await killAllServers();
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
