/**
 * A floor for loge's memory: the least a push server on this platform (Deno, V8, glibc) can do
 * with loge's JSON pushes, started as loge is (its V8 flags, port 0, a data folder), so that
 * `deno task bench:formats --floors` can set its peak RSS beside loge's at the same rate. It does
 * none of loge's work beyond what `--floor` names:
 *
 * - `receive`: reads each body's chunks and drops them, counting the lines in them;
 * - `parse`: reads each body whole and parses it with `JSON.parse`;
 * - `worker`: parses, gathers the lines in batches of 24,000 (the most rows of a loge flush file) and
 *   posts each batch to one worker, which joins and encodes the lines, compresses them with zstd
 *   at level 3 in frames of 256 KiB (loge's largest block, with its window) and appends them to
 *   a file: the shape of loge's flush, without its WAL, catalog,
 *   columns, filters, compaction, queries or head.
 *
 * Pushes are answered at no more than `--floor-rate` lines a second (the rate loge reached in the
 * same round), each held from its decoding to its answer as a push waits for the WAL.
 * `GET /api/v1/stats` answers `rows_total` and `rows_in_memory` (lines not yet in the file), as
 * loge does, so the harness waits for it as it waits for loge.
 *
 * ```sh
 * deno run -A bench/floor_server.ts serve --port 0 --output-path /tmp/floor --floor worker --floor-rate 300000
 * ```
 *
 * @module
 */

import { constants, zstdCompressSync } from "node:zlib";
import { intFlag, parseFlags, UsageError } from "./flags.ts";
import { frameParams } from "../src/storage/segment_writer.ts";

/** What a floor server does with a push, least first. */
export const FLOOR_MODES = ["receive", "parse", "worker"] as const;
/** One of {@linkcode FLOOR_MODES}. */
export type FloorMode = typeof FLOOR_MODES[number];

/** The path of this script, which `startServer` runs in place of loge's `main.ts`. */
export const FLOOR_SERVER: string = new URL(import.meta.url).pathname;

/** Lines a batch gathers before it goes to the worker: the most rows of a loge flush file. */
const BATCH_ROWS = 24_000;
/** A batch with fewer rows goes when no push came for this long (loge's `--flush-coalesce`). */
const IDLE_FLUSH_MS = 500;

const OPEN_BRACKET = 0x5b;
const QUOTE = 0x22;

/**
 * Lines in a chunk of a compact JSON push body (as the bench's clients send it, with no white space
 * between tokens): each `[ts, line]` pair opens with `["` and a digit, which a JSON string cannot
 * hold (its quotes are escaped). `carry` is the chunk before's last two bytes
 * as `prev2 << 8 | prev1`, so a pair split between chunks counts once; returns the count and the
 * new carry.
 *
 * @example
 * ```ts
 * import { countPairs } from "./floor_server.ts";
 * import assert from "node:assert/strict";
 * const bytes = new TextEncoder().encode('{"streams":[{"stream":{},"values":[["1","a"],["2","b ["]]}]}');
 * const first = countPairs(bytes.subarray(0, 37), 0); // splits the first `["1`
 * assert.equal(first.count + countPairs(bytes.subarray(37), first.carry).count, 2);
 * ```
 */
export function countPairs(chunk: Uint8Array, carry: number): { count: number; carry: number } {
  let count = 0;
  let prev2 = carry >> 8;
  let prev1 = carry & 0xff;
  for (let i = 0; i < chunk.length; i++) {
    const b = chunk[i];
    if (prev2 === OPEN_BRACKET && prev1 === QUOTE && b >= 0x30 && b <= 0x39) count++;
    prev2 = prev1;
    prev1 = b;
  }
  return { count, carry: prev2 << 8 | prev1 };
}

/** A JSON push body's lines, as `JSON.parse` gives them. */
function parsedLines(text: string): string[] {
  const lines: string[] = [];
  const payload = JSON.parse(text) as { streams: { values: [string, string][] }[] };
  for (const s of payload.streams) for (const [, line] of s.values) lines.push(line);
  return lines;
}

/** Answers pushes at no more than `rate` lines a second: each waits for its share of the time. */
class Pacer {
  #next = 0;
  constructor(readonly rate: number) {}

  /** Waits until `lines` more lines may be answered. */
  async take(lines: number): Promise<void> {
    const now = performance.now();
    this.#next = Math.max(this.#next, now) + (lines * 1000) / this.rate;
    const wait = this.#next - now;
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
  }
}

/** The most bytes a zstd frame holds: loge's largest block. */
const BLOCK_BYTES = 256 * 1024;
/** Level 3, as loge compresses such a block. */
const BLOCK_PARAMS = {
  [constants.ZSTD_c_compressionLevel]: 3,
  ...frameParams(BLOCK_BYTES, 3),
};

/** The worker half of `worker` mode: batches in, compressed frames appended to a file. */
function runWorker(): void {
  const scope = self as unknown as Worker;
  let file: Deno.FsFile | undefined;
  // Synchronous, so that messages are handled whole and in order.
  scope.onmessage = (e: MessageEvent<{ path: string } | string[]>) => {
    if (!Array.isArray(e.data)) {
      file = Deno.openSync(e.data.path, { create: true, append: true });
      return;
    }
    const bytes = new TextEncoder().encode(`${e.data.join("\n")}\n`);
    for (let from = 0; from < bytes.length; from += BLOCK_BYTES) {
      const frame = zstdCompressSync(bytes.subarray(from, from + BLOCK_BYTES), {
        params: BLOCK_PARAMS,
      });
      for (let at = 0; at < frame.length;) at += file!.writeSync(frame.subarray(at));
    }
    scope.postMessage(e.data.length);
  };
}

async function serve(dir: string, mode: FloorMode, rate: number): Promise<void> {
  const pacer = new Pacer(rate);
  let rowsTotal = 0;
  let rowsInMemory = 0;
  let batch: string[] = [];
  let idle: ReturnType<typeof setTimeout> | undefined;
  let worker: Worker | undefined;
  if (mode === "worker") {
    worker = new Worker(import.meta.url, { type: "module" });
    worker.postMessage({ path: `${dir}/floor.zst` });
    worker.onmessage = (e: MessageEvent<number>) => void (rowsInMemory -= e.data);
  }
  const send = () => {
    if (batch.length === 0) return;
    worker!.postMessage(batch);
    batch = [];
  };
  /** The lines of a push, read as `mode` reads them. */
  const take = async (req: Request): Promise<number> => {
    if (mode === "receive") {
      let count = 0;
      let carry = 0;
      for await (const chunk of req.body!) {
        const counted = countPairs(chunk, carry);
        count += counted.count;
        carry = counted.carry;
      }
      return count;
    }
    const lines = parsedLines(await req.text());
    if (worker !== undefined) {
      rowsInMemory += lines.length;
      for (const line of lines) batch.push(line);
      if (batch.length >= BATCH_ROWS) send();
      clearTimeout(idle);
      idle = setTimeout(send, IDLE_FLUSH_MS);
    }
    return lines.length;
  };
  const server = Deno.serve({
    port: 0,
    onListen: ({ port }) => console.log(`floor (${mode}) listening on http://localhost:${port}`),
  }, async (req) => {
    const { pathname } = new URL(req.url);
    if (req.method === "POST" && pathname === "/api/v1/push") {
      const lines = await take(req);
      rowsTotal += lines;
      await pacer.take(lines);
      return new Response(null, { status: 204 });
    }
    if (pathname === "/api/v1/stats") {
      return Response.json({ rows_total: rowsTotal, rows_in_memory: rowsInMemory });
    }
    return new Response("not found\n", { status: 404 });
  });
  Deno.addSignalListener("SIGTERM", () => void server.shutdown());
  await server.finished;
  worker?.terminate();
}

async function main(args: string[]): Promise<number> {
  try {
    const { values } = parseFlags(args.slice(args[0] === "serve" ? 1 : 0), {
      port: { type: "string", default: "0" },
      "output-path": { type: "string" },
      floor: { type: "string", default: "worker" },
      "floor-rate": { type: "string" },
    });
    const mode = values.floor as FloorMode;
    if (!FLOOR_MODES.includes(mode)) {
      throw new UsageError(
        `Invalid --floor "${values.floor}": expected one of ${FLOOR_MODES.join(", ")}`,
      );
    }
    if (values["output-path"] === undefined) throw new UsageError("Missing --output-path");
    if (values["floor-rate"] === undefined) throw new UsageError("Missing --floor-rate");
    if (values.port !== "0") throw new UsageError(`Invalid --port "${values.port}": expected 0`);
    await serve(values["output-path"], mode, intFlag("floor-rate", values["floor-rate"], 1));
    return 0;
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    console.error(`floor_server: ${err.message}`);
    return 2;
  }
}

if (import.meta.main) {
  if ("WorkerGlobalScope" in globalThis) runWorker();
  else Deno.exit(await main(Deno.args));
}
