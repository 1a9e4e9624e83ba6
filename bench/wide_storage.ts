/**
 * The benchmark phase "bytes, wide JSON lines": bytes on disk of a second corpus, of another
 * shape than the main one (`generator/wide_json.ts`: long JSON lines with 30–40 fields, as
 * OpenTelemetry and Kubernetes pipelines ship them), for issue 12's target on both corpora.
 *
 * The lines, ending at a given time, are written bare to a file (the input of the `zstd`
 * baselines) and pushed as JSON to `POST /api/v1/push` of a fresh server
 * ({@linkcode WIDE_BATCH}-line batches grouped by stream, {@linkcode WIDE_IN_FLIGHT} requests in
 * flight) until every line is in a file and compaction is done; a query for one trace id must
 * answer exactly its line, byte for byte. The server is stopped, then every file of its data
 * folder is counted.
 *
 * @module
 */

import { basename } from "node:path";
import { corpusRate } from "./corpus.ts";
import { dataDirUsage } from "./data_dir.ts";
import { storageFigure, type WideStorageFigure } from "./figures.ts";
import { needleIndex } from "./generator/timeline.ts";
import { WideJsonGenerator } from "./generator/wide_json.ts";
import { createEncoder, runPush } from "./push_client.ts";
import { QUERY_LIMIT, runQuery } from "./queries.ts";
import { formatInt } from "./report.ts";
import {
  killServer,
  launchServer,
  stderrLines,
  stopServer,
  waitCompacted,
} from "./server_control.ts";
import { round } from "./stats.ts";

/** Lines per push request. */
export const WIDE_BATCH = 1000;
/** Push requests in flight. */
export const WIDE_IN_FLIGHT = 4;
/** Lines generated and written per file write. */
const WRITE_CHUNK = 10_000;

/** What the phase needs. */
export interface WideStorageOptions {
  /** Data folder of the phase's server (created empty). */
  dir: string;
  /** Where the bare lines go, one a line (`wide.txt`). */
  linesFile: string;
  /** Lines of the corpus. */
  lines: number;
  /** Corpus seed. */
  seed: number;
  /** Unix ns at which the corpus ends (usually now). */
  endNs: bigint;
  /** Flags of the server besides port and folder. */
  serverArgs: string[];
  progress: (message: string) => void;
  /** Where the server's stderr lines go. */
  serverStderr: string[];
}

/** Writes lines `[0, lines)` of `generator` to `path`, each with a newline; returns the bytes. */
async function writeLines(
  generator: WideJsonGenerator,
  lines: number,
  path: string,
): Promise<number> {
  const encoder = new TextEncoder();
  let bytes = 0;
  using file = await Deno.open(path, { write: true, create: true, truncate: true });
  for (let from = 0; from < lines; from += WRITE_CHUNK) {
    const chunk: string[] = [];
    for (let i = from; i < Math.min(lines, from + WRITE_CHUNK); i++) {
      chunk.push(generator.at(i).line, "\n");
    }
    const data = encoder.encode(chunk.join(""));
    for (let at = 0; at < data.length;) at += await file.write(data.subarray(at));
    bytes += data.length;
  }
  return bytes;
}

/**
 * Runs the phase; the server is stopped after (killed on a failure). The `zstd` figures are left
 * `null`, for the harness to fill.
 *
 * @example
 * ```ts ignore
 * import { wideStoragePhase } from "./wide_storage.ts";
 * const figure = await wideStoragePhase({
 *   dir: "/tmp/data-wide", linesFile: "/tmp/wide.txt", lines: 5000, seed: 42,
 *   endNs: BigInt(Date.now()) * 1_000_000n, serverArgs: [], progress: console.error,
 *   serverStderr: [],
 * });
 * console.log(figure.bytesPerLine, figure.rawBytesPerLine);
 * ```
 * @throws {Error} If a push is refused, compaction does not finish, the trace id's query does
 * not answer exactly its line, or the server does not exit cleanly.
 */
export async function wideStoragePhase(o: WideStorageOptions): Promise<WideStorageFigure> {
  const rate = corpusRate(o.lines);
  const start = o.endNs - BigInt(Math.ceil((o.lines / rate) * 1e9));
  const generator = new WideJsonGenerator({ seed: o.seed, start, rate });
  o.progress(`wide JSON lines: ${formatInt(o.lines)} lines to ${basename(o.linesFile)}`);
  const rawBytes = await writeLines(generator, o.lines, o.linesFile);
  const index = needleIndex(o.lines, o.seed);
  const needle = { index, traceId: generator.traceIdAt(index) };
  const expected = generator.at(index).line;

  const server = await launchServer(o.dir, o.serverArgs);
  try {
    o.progress(
      `wide JSON lines: pushing ${formatInt(o.lines)} lines (${WIDE_BATCH}-line JSON batches, ` +
        `${WIDE_IN_FLIGHT} in flight), then waiting for compaction`,
    );
    const push = await runPush({
      addr: server.url,
      generator,
      encoder: await createEncoder("json"),
      rate: 0,
      durationMs: Infinity,
      lines: o.lines,
      workers: WIDE_IN_FLIGHT,
      batch: WIDE_BATCH,
      timeoutMs: 120_000,
    });
    if (push.lines !== o.lines) {
      throw new Error(`only ${push.lines} of ${o.lines} lines acknowledged: ${push.firstError}`);
    }
    const compactionSeconds = await waitCompacted(server.url, o.lines);
    const answer = await runQuery(server.url, {
      query: `|= "${needle.traceId}"`,
      limit: QUERY_LIMIT,
    });
    if (answer.hits !== 1 || answer.firstLine !== expected) {
      throw new Error(
        `|= "${needle.traceId}" answered ${answer.hits} lines, expected line ${index} alone: ` +
          (answer.firstLine ?? "").slice(0, 200),
      );
    }
    const running = await dataDirUsage(o.dir);
    const stopped = await stopServer(server);
    if (stopped.code !== 0) throw new Error(`the server exited with code ${stopped.code}`);
    const atRest = await dataDirUsage(o.dir);
    o.progress(
      `wide JSON lines: ${round(atRest.totalBytes / o.lines, 1)} B/line stored ` +
        `(${round(rawBytes / o.lines, 1)} B/line raw), compaction done ` +
        `${compactionSeconds.toFixed(1)} s after the last push`,
    );
    return {
      lines: o.lines,
      seed: o.seed,
      rawBytes,
      rawBytesPerLine: round(rawBytes / o.lines, 2),
      needle,
      push: { seconds: push.seconds, linesPerSec: push.linesPerSec, mbPerSec: push.mbPerSec },
      serverArgs: o.serverArgs,
      ...storageFigure({ atRest, running, lines: o.lines, compactionSeconds }),
    };
  } finally {
    o.serverStderr.push(...stderrLines("wide-lines server", server));
    await killServer(server);
  }
}
