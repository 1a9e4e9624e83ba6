/**
 * `deno task loadgen`: generates realistic web-access and structured JSON app logs, and either
 * writes them as a corpus file or pushes them to a loge server's `/api/v1/push`.
 *
 * ```sh
 * deno task loadgen corpus --lines 1000000 --seed 42 --out corpus.ndjson --raw-out lines.txt
 * deno task loadgen push --addr http://localhost:3000 --rate 50000 --duration 30s --json
 * ```
 *
 * Exit codes: 0 done, 1 failed (nothing acknowledged, unwritable output, missing schema),
 * 2 bad command line.
 *
 * @module
 */

import { parseDuration } from "@loge/loge";
import { parseFlags, UsageError } from "./flags.ts";
import { DEFAULT_START_NS, LogGenerator, pickNeedle } from "./generator/mod.ts";
import {
  createEncoder,
  formatSummary,
  PUSH_FORMATS,
  type PushFormat,
  runPush,
} from "./push_client.ts";

const MAIN_HELP = `Usage: deno task loadgen <mode> [flags]

Generates realistic logs (nginx/gateway access lines and JSON app lines over ~140 streams),
deterministic from a seed.

Modes:
  corpus   write a corpus file (NDJSON, optionally raw lines)
  push     push batches to a loge server's POST /api/v1/push

Run "deno task loadgen <mode> --help" for the flags of a mode.`;

const CORPUS_HELP = `Usage: deno task loadgen corpus --out FILE [flags]

Writes one JSON object per line: {"ts":"<unix ns>","labels":{...},"line":"..."}.
Prints a summary (with a needle: a trace id that occurs in exactly one line) to stderr,
or as one JSON object to stdout with --json.

Flags:
  --out FILE       NDJSON output file, "-" for stdout (required)
  --raw-out FILE   also write just the lines, one per line (for rg/zstd baselines)
  --lines N        number of lines (default 1000000)
  --seed N         seed, any integer (default 42)
  --start TIME     time of line 0: RFC 3339 (2026-11-21T00:00:00Z) or unix ns
                   (default 2026-11-21T00:00:00Z)
  --rate N         lines per second of log time (default 200, i.e. 1M lines span ~83 min)
  --json           print the summary as one JSON object
  -h, --help       show this help`;

const PUSH_HELP = `Usage: deno task loadgen push [flags]

Pushes generated lines to {addr}/api/v1/push, grouped by label set, with --workers requests
in flight, until --duration or --lines is reached (whichever comes first). Lines are stamped
from --start at --rate lines/s (1e6 lines/s when --rate is 0), so they track the wall clock.
Prints lines sent, lines/s, MB/s of payload, errors and p50/p99 latency. Exits 1 if
requests were made and none was acknowledged. Ctrl-C stops early and still prints the summary.

Flags:
  --addr URL          server base URL (default http://localhost:3000)
  --rate N            target lines per second, 0 = as fast as possible (default 0)
  --duration D        stop after D: 500ms, 2s, 1.5m, 1h (default 10s)
  --lines N           stop after N lines (default: no limit)
  --workers N         concurrent requests in flight (default 4)
  --batch N           lines per request (default 1000)
  --format F          ${PUSH_FORMATS.join(" | ")}
                      (default json; otlp-* and es-bulk need the flags bench.ts gives the server)
  --seed N            seed, any integer (default 42)
  --start TIME        time of the first line: RFC 3339 or unix ns (default now)
  --timeout D         per-request timeout (default 30s)
  --json              print the summary as one JSON object
  -h, --help          show this help`;

function positiveInt(flag: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n < 1) {
    throw new UsageError(`Invalid --${flag} "${value}": expected a positive integer`);
  }
  return n;
}

function seedOf(value: string | undefined): number {
  if (value === undefined) return 42;
  const n = Number(value);
  if (!/^-?\d+$/.test(value) || !Number.isSafeInteger(n)) {
    throw new UsageError(`Invalid --seed "${value}": expected an integer`);
  }
  return n;
}

function rateOf(value: string | undefined, fallback: number, allowZero: boolean): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (value.trim() === "" || !Number.isFinite(n) || n < 0 || (n === 0 && !allowZero) || n > 1e9) {
    const range = allowZero ? "a number in [0, 1e9]" : "a number in (0, 1e9]";
    throw new UsageError(`Invalid --rate "${value}": expected ${range}`);
  }
  return n;
}

/** Milliseconds of a duration like `500ms`, `2s`, `1m30s`, `1h` (a bare number is seconds). */
function durationOf(flag: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const ms = /^\d+(\.\d+)?$/.test(value) ? Number(value) * 1000 : parseDuration(value) ?? NaN;
  if (!(ms > 0)) {
    throw new UsageError(
      `Invalid --${flag} "${value}": expected a positive duration like 500ms, 2s, 1m`,
    );
  }
  return ms;
}

/** Unix nanoseconds of `--start`: digits are nanoseconds, anything else RFC 3339. */
function startOf(value: string | undefined, fallback: bigint): bigint {
  if (value === undefined) return fallback;
  if (/^\d+$/.test(value)) return BigInt(value);
  const ms = /^\d{4}-\d\d-\d\d/.test(value) ? Date.parse(value) : NaN;
  if (Number.isNaN(ms) || ms < 0) {
    throw new UsageError(
      `Invalid --start "${value}": expected RFC 3339 (2026-11-21T00:00:00Z) or unix nanoseconds`,
    );
  }
  return BigInt(ms) * 1_000_000n;
}

async function writeAll(
  file: { write(p: Uint8Array): Promise<number> },
  bytes: Uint8Array,
): Promise<void> {
  let off = 0;
  while (off < bytes.length) off += await file.write(bytes.subarray(off));
}

async function openOut(path: string): Promise<Deno.FsFile | typeof Deno.stdout> {
  if (path === "-") return Deno.stdout;
  return await Deno.open(path, { write: true, create: true, truncate: true });
}

async function corpus(args: string[]): Promise<number> {
  const { values } = parseFlags(args, {
    out: { type: "string" },
    "raw-out": { type: "string" },
    lines: { type: "string" },
    seed: { type: "string" },
    start: { type: "string" },
    rate: { type: "string" },
    json: { type: "boolean" },
    help: { type: "boolean", short: "h" },
  });
  if (values.help) {
    console.log(CORPUS_HELP);
    return 0;
  }
  const lines = positiveInt("lines", values.lines, 1_000_000);
  const seed = seedOf(values.seed);
  const start = startOf(values.start, DEFAULT_START_NS);
  const rate = rateOf(values.rate, 200, false);
  if (values.out === undefined || values.out === "") {
    throw new UsageError(`Missing --out: give a file, or "-" for stdout`);
  }
  if (lines > 2 ** 32) throw new UsageError(`Invalid --lines "${lines}": at most 2^32`);
  const options = { seed, start, rate };
  const gen = new LogGenerator(options);

  const t0 = performance.now();
  const out = await openOut(values.out);
  const raw = values["raw-out"] === undefined ? undefined : await openOut(values["raw-out"]);
  const encoder = new TextEncoder();
  const labelJson = new WeakMap<object, string>();
  let bytes = 0;
  let rawBytes = 0;
  const CHUNK = 4000;
  let pending: Promise<unknown> = Promise.resolve();
  try {
    for (let from = 0; from < lines; from += CHUNK) {
      const end = Math.min(lines, from + CHUNK);
      let ndjson = "";
      let text = "";
      for (let i = from; i < end; i++) {
        const { ts, labels, line } = gen.at(i);
        let lj = labelJson.get(labels);
        if (lj === undefined) labelJson.set(labels, lj = JSON.stringify(labels));
        ndjson += `{"ts":"${ts}","labels":${lj},"line":${JSON.stringify(line)}}\n`;
        if (raw !== undefined) text += line + "\n";
      }
      // Write this chunk while the next one is generated; at most one chunk is in flight.
      await pending;
      const chunk = encoder.encode(ndjson);
      bytes += chunk.length;
      const rawChunk = raw === undefined ? undefined : encoder.encode(text);
      rawBytes += rawChunk?.length ?? 0;
      pending = Promise.all([
        writeAll(out, chunk),
        raw !== undefined && rawChunk !== undefined ? writeAll(raw, rawChunk) : undefined,
      ]);
      // No unhandled rejection while the next chunk is generated: `await pending` rethrows.
      pending.catch(() => {});
    }
    await pending;
  } finally {
    if (out !== Deno.stdout) (out as Deno.FsFile).close();
    if (raw !== undefined && raw !== Deno.stdout) (raw as Deno.FsFile).close();
  }
  const seconds = (performance.now() - t0) / 1000;
  const needle = pickNeedle(lines, options);
  const summary = {
    lines,
    seed,
    start: start.toString(),
    rate,
    bytes,
    rawBytes,
    seconds: Math.round(seconds * 1000) / 1000,
    linesPerSec: Math.round(lines / seconds),
    needle: { index: needle.index, traceId: needle.traceId, ts: needle.entry.ts.toString() },
  };
  if (values.json) {
    const text = JSON.stringify(summary);
    if (values.out === "-" || values["raw-out"] === "-") console.error(text);
    else console.log(text);
  } else {
    console.error(
      `wrote ${lines} lines (${(bytes / 1e6).toFixed(1)} MB ndjson` +
        (raw ? `, ${(rawBytes / 1e6).toFixed(1)} MB raw` : "") +
        `) in ${seconds.toFixed(2)}s, ${summary.linesPerSec} lines/s\n` +
        `needle: trace_id ${needle.traceId} occurs only in line ${needle.index} ` +
        `(ts ${needle.entry.ts})`,
    );
  }
  return 0;
}

async function push(args: string[]): Promise<number> {
  const { values } = parseFlags(args, {
    addr: { type: "string" },
    rate: { type: "string" },
    duration: { type: "string" },
    lines: { type: "string" },
    workers: { type: "string" },
    batch: { type: "string" },
    format: { type: "string" },
    seed: { type: "string" },
    start: { type: "string" },
    timeout: { type: "string" },
    json: { type: "boolean" },
    help: { type: "boolean", short: "h" },
  });
  if (values.help) {
    console.log(PUSH_HELP);
    return 0;
  }
  const addr = values.addr ?? "http://localhost:3000";
  let url: URL | undefined;
  try {
    url = new URL(addr);
  } catch {
    // Reported below.
  }
  if (url === undefined || (url.protocol !== "http:" && url.protocol !== "https:")) {
    throw new UsageError(`Invalid --addr "${addr}": expected an http:// or https:// URL`);
  }
  const rate = rateOf(values.rate, 0, true);
  const durationMs = durationOf("duration", values.duration, 10_000);
  const lines = positiveInt("lines", values.lines, Infinity);
  const workers = positiveInt("workers", values.workers, 4);
  const batch = positiveInt("batch", values.batch, 1000);
  const format = (values.format ?? "json") as PushFormat;
  if (!PUSH_FORMATS.includes(format)) {
    throw new UsageError(
      `Invalid --format "${values.format}": expected one of ${PUSH_FORMATS.join(", ")}`,
    );
  }
  const seed = seedOf(values.seed);
  const start = startOf(values.start, BigInt(Date.now()) * 1_000_000n);
  const timeoutMs = durationOf("timeout", values.timeout, 30_000);

  let encoder;
  try {
    encoder = await createEncoder(format);
  } catch (err) {
    console.error(`loadgen push: ${err instanceof Error ? err.message : err}`);
    return 1;
  }
  const controller = new AbortController();
  // First Ctrl-C: stop claiming batches and print the summary; second: quit now.
  const onSignal = () => controller.signal.aborted ? Deno.exit(130) : controller.abort();
  Deno.addSignalListener("SIGINT", onSignal);
  let summary;
  try {
    summary = await runPush({
      addr,
      generator: new LogGenerator({ seed, start, rate: rate > 0 ? rate : 1e6 }),
      encoder,
      rate,
      durationMs,
      lines,
      workers,
      batch,
      timeoutMs,
      signal: controller.signal,
    });
  } finally {
    Deno.removeSignalListener("SIGINT", onSignal);
  }
  if (values.json) {
    console.log(JSON.stringify({ addr, format, rate, workers, batch, seed, ...summary }));
  } else {
    console.log(formatSummary(summary));
  }
  return summary.lines === 0 && summary.errors > 0 ? 1 : 0;
}

async function main(args: string[]): Promise<number> {
  const [mode, ...rest] = args;
  try {
    switch (mode) {
      case "corpus":
        return await corpus(rest);
      case "push":
        return await push(rest);
      case undefined:
      case "-h":
      case "--help":
      case "help":
        if (mode === undefined) {
          console.error(MAIN_HELP);
          return 2;
        }
        console.log(MAIN_HELP);
        return 0;
      default:
        throw new UsageError(`Unknown mode "${mode}": expected "corpus" or "push"`);
    }
  } catch (err) {
    if (err instanceof UsageError) {
      console.error(`loadgen${mode && !mode.startsWith("-") ? ` ${mode}` : ""}: ${err.message}`);
      const known = mode === "push" || mode === "corpus";
      console.error(`Run "deno task loadgen ${known ? `${mode} ` : ""}--help" for usage.`);
      return 2;
    }
    console.error(`loadgen ${mode}: ${err instanceof Error ? err.message : err}`);
    return 1;
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
