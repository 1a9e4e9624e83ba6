/**
 * `loge serve` (the default command): the ingest and query HTTP server.
 *
 * @module
 */

import { log } from "../log.ts";
import { Ingester } from "../ingest/ingester.ts";
import { createHandler } from "../server/app.ts";
import { QueryEngine } from "../query/engine.ts";
import { Catalog } from "../storage/catalog.ts";
import { SegmentCache } from "../storage/segment_cache.ts";
import { Quarantine } from "../storage/quarantine.ts";
import { COMPACTION_DEFAULTS, Compactor } from "../storage/compactor.ts";
import { COMPRESSION_LEVELS } from "../storage/segment_format.ts";
import { flagHelp, type FlagSpec, parseFlags, UsageError } from "./flags.ts";

/** The flags of `loge serve`. */
export const SERVE_FLAGS = {
  port: { kind: "int", default: "3000", min: 0, help: "HTTP server port (0 picks a free one)" },
  buckets: { kind: "int", default: "4", help: "number of in-memory buckets that batch pushes" },
  "payload-size": {
    kind: "int",
    default: "1000",
    help: "rows a bucket batches before a forced flush",
  },
  "output-path": {
    kind: "string",
    default: "tmp/",
    help: "directory for the WAL, segment files and catalog",
  },
  "flush-interval": {
    kind: "duration",
    default: "1s",
    help: "how often a bucket flushes a non-empty batch",
  },
  "flush-compression": {
    kind: "enum",
    default: "fastest",
    values: Object.keys(COMPRESSION_LEVELS),
    help: "zstd level of flush files (compaction recompresses them)",
  },
  "flush-workers": {
    kind: "int",
    default: "0",
    min: 0,
    help: "flush worker threads (0 = max(buckets/2, 2))",
  },
  "flush-queue": {
    kind: "int",
    default: "0",
    min: 0,
    help: "batches waiting to be written before pushes wait (0 = 4 × buckets)",
  },
  "compact-interval": {
    kind: "duration",
    default: "30s",
    help: "how often to merge flush files into segments (0 disables)",
  },
  "compact-min-files": {
    kind: "int",
    default: "8",
    help: "minimum flush files before a compaction pass runs",
  },
  "compact-unit-bytes": {
    kind: "bytes",
    default: `${COMPACTION_DEFAULTS.unitBytes / (1024 * 1024)}MiB`,
    help: "raw bytes merged in one compaction step (committed before the next; a kill loses one)",
  },
  "compact-unit-files": {
    kind: "int",
    default: String(COMPACTION_DEFAULTS.unitFiles),
    help: "files merged in one compaction step",
  },
  durable: {
    kind: "bool",
    default: "true",
    help: "fsync each payload to the write-ahead log before acknowledging",
  },
  "checkpoint-interval": {
    kind: "duration",
    default: "2s",
    help: "how often to prune the write-ahead log",
  },
  "drop-on-backpressure": {
    kind: "bool",
    default: "false",
    help:
      "drop pushes (503) instead of waiting when the flush pipeline is full (ignored when --durable)",
  },
  "query-concurrency": {
    kind: "int",
    default: "8",
    help: "files opened and blocks read in parallel by a query",
  },
  "api-key": {
    kind: "string",
    default: "",
    env: "LOGE_API_KEY",
    help:
      "bearer token required by the read endpoints and the UI's data calls; empty disables auth",
  },
  "max-body-size": {
    kind: "bytes",
    default: "10MiB",
    help: "largest accepted push body, before and after gzip",
  },
  "read-timeout": {
    kind: "duration",
    default: "30s",
    help: "how long a push body may take to arrive before the push is refused (408)",
  },
} satisfies Record<string, FlagSpec>;

/** Help text of `loge serve`. */
export const SERVE_HELP = `Usage: loge [serve] [flags]

Runs the loge server: Loki-style push API, queries, web UI.

Flags:
${flagHelp(SERVE_FLAGS)}
`;

/**
 * Runs the server until SIGINT or SIGTERM, then shuts down cleanly: stops
 * accepting, flushes every batch, closes the WAL.
 */
export async function serve(args: string[]): Promise<void> {
  const { flags, positionals, help } = parseFlags(args, SERVE_FLAGS);
  if (help) return void console.log(SERVE_HELP);
  if (positionals.length > 0) {
    throw new UsageError(`unexpected argument "${positionals[0]}" for serve`);
  }
  // Listen for signals first: a stop requested during start-up waits for it.
  const { promise: stopped, resolve: stop } = Promise.withResolvers<void>();
  const signals: Deno.Signal[] = ["SIGINT", "SIGTERM"];
  const onSignal = () => stop();
  for (const s of signals) Deno.addSignalListener(s, onSignal);
  const buckets = flags.buckets as number;
  const catalog = await Catalog.open(flags["output-path"] as string);
  const ingester = await Ingester.open(catalog, {
    buckets,
    payloadSize: flags["payload-size"] as number,
    flushIntervalMs: flags["flush-interval"] as number,
    flushZstdLevel:
      COMPRESSION_LEVELS[flags["flush-compression"] as keyof typeof COMPRESSION_LEVELS],
    flushWorkers: (flags["flush-workers"] as number) || Math.max(Math.floor(buckets / 2), 2),
    flushQueue: (flags["flush-queue"] as number) || 4 * buckets,
    durable: flags.durable as boolean,
    checkpointIntervalMs: flags["checkpoint-interval"] as number,
    dropOnBackpressure: flags["drop-on-backpressure"] as boolean,
  });
  const cache = new SegmentCache(catalog.opener);
  const quarantine = new Quarantine(catalog, cache);
  const compactor = new Compactor(
    catalog,
    {
      intervalMs: flags["compact-interval"] as number,
      minFiles: flags["compact-min-files"] as number,
      ...COMPACTION_DEFAULTS,
      unitBytes: flags["compact-unit-bytes"] as number,
      unitFiles: flags["compact-unit-files"] as number,
    },
    cache,
    quarantine,
  );
  compactor.start();
  const engine = new QueryEngine({
    catalog,
    cache,
    head: () => ingester.head(),
    concurrency: flags["query-concurrency"] as number,
    quarantine,
  });
  const handler = createHandler({
    ingester,
    engine,
    catalog,
    quarantine,
    maxBodyBytes: flags["max-body-size"] as number,
    readTimeoutMs: flags["read-timeout"] as number,
    apiKey: flags["api-key"] as string,
  });
  const server = Deno.serve({
    port: flags.port as number,
    onListen: ({ port }) =>
      console.log(`loge listening on http://localhost:${port} (data in ${catalog.dir})`),
  }, handler);

  await stopped;
  for (const s of signals) Deno.removeSignalListener(s, onSignal);
  // A second signal during shutdown ends the process at once.
  for (const s of signals) Deno.addSignalListener(s, () => Deno.exit(130));
  log("shutting down");
  await server.shutdown();
  await compactor.stop();
  await quarantine.close();
  await ingester.close();
  await cache.close();
  catalog.close();
  log("stopped");
}
