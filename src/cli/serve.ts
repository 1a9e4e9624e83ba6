/**
 * `loge serve` (the default command): the ingest and query HTTP server.
 *
 * @module
 */

import { join } from "node:path";
import { createPrivateKey, X509Certificate } from "node:crypto";
import { log } from "../log.ts";
import { Ingester, unusedSequence } from "../ingest/ingester.ts";
import { createHandler, MAX_CONCURRENT_QUERIES } from "../server/app.ts";
import { withCors } from "../server/cors.ts";
import { DEFAULT_PAYLOAD_LIMITS } from "../ingest/push_limits.ts";
import { OTLP_STREAM_ATTRIBUTES } from "../ingest/otlp.ts";
import { type EngineContext, MAX_ANSWER_SIZE, QueryEngine } from "../query/engine.ts";
import { selectVisible } from "../query/snapshot.ts";
import { Catalog } from "../storage/catalog.ts";
import { SegmentCache } from "../storage/segment_cache.ts";
import { Quarantine } from "../storage/quarantine.ts";
import { COMPACTION_DEFAULTS, Compactor } from "../storage/compactor.ts";
import { FILE_ROWS } from "../ingest/flush.ts";
import { COMPRESSION_LEVELS } from "../storage/segment_format.ts";
import { NO_INGEST } from "../ingest/no_ingest.ts";
import { ColdTier } from "../tier/cold_tier.ts";
import { Retention } from "../storage/retention.ts";
import { TailHub } from "../tail/hub.ts";
import { nodeIdProblem } from "../tier/remote_key.ts";
import { S3Store } from "../tier/s3_store.ts";
import { TenantRouter, type TenantStore } from "../server/tenants.ts";
import {
  envNameOf,
  flagHelp,
  type FlagSource,
  type FlagSpec,
  type FlagValue,
  parseFlags,
  UsageError,
} from "./flags.ts";
import { flagValueIn, loadConfigFile } from "./config_file.ts";
import {
  type HarvesterConfig,
  HarvesterConfigError,
  parseHarvesters,
  startHarvesters,
} from "../harvest/mod.ts";

/** Bytes of cold files' indexes kept on local disk (`<data>/cache/index`). */
const INDEX_CACHE_BYTES = 1024 * 1024 * 1024;

/** The longest lifetime of a presigned URL that S3 accepts: 7 days. */
const MAX_PRESIGN_EXPIRY_MS = 7 * 24 * 3600 * 1000;

/** The flags of `loge serve`. */
export const SERVE_FLAGS = {
  config: {
    kind: "string",
    default: "",
    help: "YAML or JSON file of settings: keys are the flag names without --",
  },
  "print-config": {
    kind: "bool",
    default: "false",
    help: "print the effective settings as JSON, each with its value and source, and exit",
  },
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
    help: "flush worker threads (0 = half the buckets, at most half the cores, at least 1)",
  },
  "flush-queue": {
    kind: "int",
    default: "0",
    min: 0,
    help:
      "batches waiting to be written before pushes wait (0 = enough for two flush files of 24,000 rows, at least 4 × buckets)",
  },
  "max-flush-files": {
    kind: "int",
    default: "48",
    min: 0,
    help:
      "flush files waiting for compaction at which pushes wait (0 = no bound; none when compaction is off)",
  },
  "flush-coalesce": {
    kind: "duration",
    default: "500ms",
    help:
      "how long full batches wait for others to make one flush file of up to 24,000 rows (0 = a file per batch)",
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
    help:
      "raw bytes merged in one compaction step (committed on its own; a kill loses those under way)",
  },
  "compact-unit-files": {
    kind: "int",
    default: String(COMPACTION_DEFAULTS.unitFiles),
    help: "files merged in one compaction step",
  },
  "compact-workers": {
    kind: "int",
    default: String(COMPACTION_DEFAULTS.idleWorkers),
    min: 1,
    help: "compaction steps run side by side while no lines arrive or pushes wait for them",
  },
  "time-partition": {
    kind: "duration",
    default: "24h",
    help:
      "each compacted segment holds lines of one such stretch of time (whole hours from the unix epoch), so retention deletes it once expired",
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
    help:
      "bearer token required by the read endpoints and the UI's data calls; empty disables auth",
  },
  "query-timeout": {
    kind: "duration",
    default: "60s",
    help:
      "how long a query may run, its wait for a turn included, before it stops (504); 0s: no limit",
  },
  "max-query-range": {
    kind: "duration",
    default: "0s",
    help:
      "longest time range a query that reads lines may cover (400 beyond; such a query needs a start); 0s: no limit",
  },
  "max-response-size": {
    kind: "bytes",
    default: `${MAX_ANSWER_SIZE / 1024 / 1024}MiB`,
    min: 0,
    help:
      'most characters of lines and labels a log query answers: the first lines that fit, with a warning and, on /api/v1/query, "truncated": true; 0: no limit',
  },
  "max-concurrent-queries": {
    kind: "int",
    default: String(MAX_CONCURRENT_QUERIES),
    min: 1,
    help: "queries run at once; as many more wait for a turn, and others are refused (429)",
  },
  "cors-origin": {
    kind: "string",
    default: "",
    help:
      "origins (comma-separated, or *) whose pages may call the API from a browser; empty: CORS off",
  },
  "metrics-open": {
    kind: "bool",
    default: "false",
    help: "serve /metrics without --api-key (for a Prometheus that holds no key)",
  },
  "push-api-key": {
    kind: "string",
    default: "",
    help:
      "bearer token (or basic-auth password) required by the push endpoints; empty leaves them open",
  },
  "tls-cert": {
    kind: "string",
    default: "",
    help: "PEM certificate chain to serve HTTPS with (needs --tls-key)",
  },
  "tls-key": {
    kind: "string",
    default: "",
    help: "PEM private key of --tls-cert",
  },
  "max-line-size": {
    kind: "bytes",
    default: "256KiB",
    min: 0,
    help: "longest line a push may carry (400 beyond, nothing stored); 0: no limit",
  },
  "max-label-names-per-series": {
    kind: "int",
    default: String(DEFAULT_PAYLOAD_LIMITS.maxLabelNames),
    help: "most labels a stream of a push may have (400 beyond, nothing stored)",
  },
  "max-body-size": {
    kind: "bytes",
    default: "10MiB",
    help: "largest accepted push body, before and after gzip",
  },
  "es-stream-fields": {
    kind: "string",
    default: "",
    help:
      "Elasticsearch bulk (POST /_bulk): comma-separated document fields that become stream labels (. becomes _)",
  },
  "es-msg-field": {
    kind: "string",
    default: "message,_msg",
    help: "Elasticsearch bulk: document fields tried in order for the log line",
  },
  "es-time-field": {
    kind: "string",
    default: "@timestamp",
    help:
      "Elasticsearch bulk: document field holding the time (RFC 3339 or unix; missing: arrival time)",
  },
  "otlp-stream-attributes": {
    kind: "string",
    default: OTLP_STREAM_ATTRIBUTES.join(","),
    help:
      "OTLP logs (POST /otlp/v1/logs, /v1/logs): comma-separated resource attributes that become stream labels (. becomes _); the others are structured metadata",
  },
  "max-tail-clients": {
    kind: "int",
    default: "100",
    help: "live tails open at once (/api/v1/tail, /loki/api/v1/tail); more get 429",
  },
  "read-timeout": {
    kind: "duration",
    default: "30s",
    help: "how long a push body may take to arrive before the push is refused (408)",
  },
  ingest: {
    kind: "bool",
    default: "true",
    help: "accept pushes; false runs a query-only node over the cold tier (pushes get 503)",
  },
  "multi-tenant": {
    kind: "bool",
    default: "false",
    help:
      "keep each X-Scope-OrgID tenant apart, in a folder of its own (requests without one: 401)",
  },
  "node-id": {
    kind: "string",
    default: "",
    help: "this node's name in the cold tier's keys (empty: the host name)",
  },
  "s3-bucket": {
    kind: "string",
    default: "",
    help: "S3 bucket of the cold tier (empty disables tiering)",
  },
  "s3-prefix": { kind: "string", default: "loge/", help: "key prefix of the cold tier's files" },
  "s3-endpoint": {
    kind: "string",
    default: "",
    help: "custom S3 endpoint, such as MinIO's (empty: AWS)",
  },
  "s3-region": { kind: "string", default: "", help: "S3 region (empty: from the AWS environment)" },
  "s3-force-path-style": {
    kind: "bool",
    default: "false",
    help: "path-style S3 addressing (MinIO and most non-AWS servers need it)",
  },
  "s3-read-url-base": {
    kind: "string",
    default: "",
    help: "public or CDN base URL to read cold files from, unsigned (empty: signed reads)",
  },
  "s3-acl": {
    kind: "string",
    default: "",
    help: "canned ACL of uploads, such as public-read (empty: the bucket's policy)",
  },
  "s3-rotate-age": {
    kind: "duration",
    default: "1h",
    help: "compacted segments written longer ago than this move to S3",
  },
  "s3-rotate-interval": {
    kind: "duration",
    default: "1m",
    help: "how often to rotate segments and list the bucket",
  },
  "s3-rotate-grace": {
    kind: "duration",
    default: "1m",
    help: "how long a rotated segment's local copy stays before it is deleted",
  },
  "s3-frame-cache-size": {
    kind: "int",
    default: "512",
    help: "decoded blocks of cold segments kept in memory",
  },
  "retention-age": {
    kind: "duration",
    default: "0s",
    help:
      "delete segment files whose lines are all older than this (local and in S3), e.g. 720h; 0s: keep",
  },
  "retention-size": {
    kind: "bytes",
    default: "0",
    min: 0,
    help:
      "when local segment files take more than this, delete the oldest (see --retention-target); 0: no limit",
  },
  "retention-target": {
    kind: "bytes",
    default: "0",
    min: 0,
    help: "with --retention-size: delete down to this size (0: to --retention-size)",
  },
  "retention-interval": {
    kind: "duration",
    default: "1m",
    help: "how often retention looks for files to delete",
  },
  "s3-presign-expiry": {
    kind: "duration",
    default: "15m",
    help: "how long the presigned URLs of /api/v1/search/plan stay valid",
  },
} satisfies Record<string, FlagSpec>;

/** Help text of `loge serve`. */
export const SERVE_HELP = `Usage: loge [serve] [flags]

Runs the loge server: Loki-style push API, queries, web UI.

Every flag may also be set by the environment variable LOGE_<NAME> (LOGE_MAX_BODY_SIZE=20MiB)
or by a key of the --config file (max-body-size: 20MiB); flags win over the environment, the
environment over the file.

Flags:
${flagHelp(SERVE_FLAGS)}
`;

/** The longest `--time-partition`: a year. */
const MAX_PARTITION_MS = 8760 * 3_600_000;

/** How long without a push before compaction counts ingest as stopped (and compresses harder). */
const INGEST_QUIET_MS = 5000;

/** How long after the first stop signal a second one ends the process at once. */
const SECOND_SIGNAL_AFTER_MS = 500;

/**
 * Runs the server until SIGINT or SIGTERM, then shuts down cleanly: stops
 * accepting, flushes every batch, closes the WAL.
 */
export async function serve(args: string[]): Promise<void> {
  const configPath = flagValueIn(args, "config") ?? Deno.env.get(envNameOf(ENV_PREFIX, "config"));
  const file = configPath ? await loadConfigFile(configPath) : undefined;
  // `harvesters` is the file's only key that is not a flag.
  const { harvesters: harvesterList, ...settingsOfFlags } = file?.settings ?? {};
  let harvesterConfigs: HarvesterConfig[] = [];
  try {
    if (harvesterList !== undefined) harvesterConfigs = parseHarvesters(harvesterList, file!.path);
  } catch (error) {
    throw error instanceof HarvesterConfigError ? new UsageError(error.message) : error;
  }
  if (file) file.settings = settingsOfFlags;
  const { flags, sources, positionals, help } = parseFlags(args, SERVE_FLAGS, {
    file,
    envPrefix: ENV_PREFIX,
  });
  if (help) return void console.log(SERVE_HELP);
  if (flags["print-config"]) return void console.log(printedConfig(flags, sources));
  if (positionals.length > 0) {
    throw new UsageError(`unexpected argument "${positionals[0]}" for serve`);
  }
  // Listen for signals first: a stop requested during start-up waits for it.
  const { promise: stopped, resolve: stop } = Promise.withResolvers<void>();
  const signals: Deno.Signal[] = ["SIGINT", "SIGTERM"];
  const onSignal = () => stop();
  for (const s of signals) Deno.addSignalListener(s, onSignal);
  const ingesting = flags.ingest as boolean;
  const node = (flags["node-id"] as string) || Deno.hostname();
  const nodeProblem = nodeIdProblem(node);
  if (nodeProblem !== undefined) {
    throw new UsageError(
      `invalid value ${JSON.stringify(node)} for --node-id${
        flags["node-id"] ? "" : " (the host name)"
      }: ${nodeProblem}`,
    );
  }
  const presignExpiry = flags["s3-presign-expiry"] as number;
  if (presignExpiry % 1000 !== 0 || presignExpiry < 1000 || presignExpiry > MAX_PRESIGN_EXPIRY_MS) {
    throw new UsageError(
      `invalid value ${presignExpiry / 1000}s for --s3-presign-expiry: ` +
        "expected whole seconds from 1s to 168h (the lifetimes S3 accepts for presigned URLs)",
    );
  }
  const timePartition = flags["time-partition"] as number;
  if (
    timePartition % 3_600_000 !== 0 || timePartition < 3_600_000 || timePartition > MAX_PARTITION_MS
  ) {
    throw new UsageError(
      `invalid value ${
        timePartition / 1000
      }s for --time-partition: expected whole hours from 1h to 8760h`,
    );
  }
  const tls = await readTls(flags["tls-cert"] as string, flags["tls-key"] as string);
  const corsOrigins = corsOriginsOf(flags["cors-origin"] as string);
  const outputPath = flags["output-path"] as string;
  const multiTenant = flags["multi-tenant"] as boolean;
  if (harvesterConfigs.length > 0 && (!ingesting || flags["multi-tenant"])) {
    throw new UsageError(
      `harvesters in ${
        file!.path
      } need a server that ingests, with one tenant (not --ingest=false or --multi-tenant)`,
    );
  }
  const settings = { flags, ingesting, node, presignExpiry };
  const root = await openStore(
    outputPath,
    { ...settings, harvesters: harvesterConfigs },
    multiTenant ? "none" : "full",
  );
  const router = multiTenant
    ? new TenantRouter(async (tenant, create) => {
      const dir = join(outputPath, "tenants", tenant);
      if (!create && !await exists(dir)) return undefined;
      return openStore(dir, settings, "full", tenant);
    }, root)
    : undefined;
  const server = Deno.serve({
    port: flags.port as number,
    ...tls,
    onListen: ({ port }) =>
      console.log(
        `loge listening on ${tls ? "https" : "http"}://localhost:${port} (data in ${outputPath}${
          multiTenant ? `, a folder per tenant in ${join(outputPath, "tenants")}` : ""
        })`,
      ),
  }, withCors(router ? (req) => router.handle(req) : root.handler, corsOrigins));

  await stopped;
  const stoppingSince = Date.now();
  for (const s of signals) Deno.removeSignalListener(s, onSignal);
  // A second signal during shutdown ends the process at once; not one that
  // comes with the first (a terminal's Ctrl-C reaches both a relaunching
  // parent, which forwards it, and this process).
  for (const s of signals) {
    Deno.addSignalListener(s, () => {
      if (Date.now() - stoppingSince >= SECOND_SIGNAL_AFTER_MS) Deno.exit(130);
    });
  }
  log("shutting down");
  // Tails never end by themselves: end them, or the server would wait for them.
  if (router) router.drain();
  else root.drain();
  await server.shutdown();
  if (router) await router.close();
  else await root.close();
  log("stopped");
}

/**
 * The certificate and key of `--tls-cert` and `--tls-key`, read and checked
 * before anything is opened: both PEM, parseable, and the key the
 * certificate's. None when both flags are empty.
 *
 * @throws {UsageError} naming the flag when one is missing, unreadable, not
 * PEM or not a pair.
 */
async function readTls(
  certPath: string,
  keyPath: string,
): Promise<{ cert: string; key: string } | undefined> {
  if (certPath === "" && keyPath === "") return undefined;
  if (certPath === "" || keyPath === "") {
    throw new UsageError(
      `--tls-cert and --tls-key go together: ${
        certPath === "" ? "--tls-cert" : "--tls-key"
      } is missing`,
    );
  }
  const read = async (flag: string, path: string, block: RegExp, what: string) => {
    let text: string;
    try {
      text = await Deno.readTextFile(path);
    } catch (error) {
      throw new UsageError(`cannot read ${flag} ${path}: ${(error as Error).message}`);
    }
    if (!block.test(text)) throw new UsageError(`${flag} ${path} holds no PEM ${what}`);
    return text;
  };
  const cert = await read("--tls-cert", certPath, /-----BEGIN CERTIFICATE-----/, "certificate");
  const key = await read("--tls-key", keyPath, /-----BEGIN [A-Z ]*PRIVATE KEY-----/, "private key");
  const parse = <T>(flag: string, path: string, f: () => T): T => {
    try {
      return f();
    } catch (error) {
      throw new UsageError(`cannot parse ${flag} ${path}: ${(error as Error).message}`);
    }
  };
  const certificate = parse("--tls-cert", certPath, () => new X509Certificate(cert));
  const privateKey = parse("--tls-key", keyPath, () => createPrivateKey(key));
  if (!certificate.checkPrivateKey(privateKey)) {
    throw new UsageError(`--tls-key ${keyPath} is not the private key of --tls-cert ${certPath}`);
  }
  return { cert, key };
}

/**
 * The origins of `--cors-origin`: `*`, or origins as browsers send them
 * (`scheme://host[:port]`, no path).
 *
 * @throws {UsageError} naming one that is not an origin.
 */
function corsOriginsOf(text: string): string[] {
  const origins = fieldList(text);
  for (const origin of origins) {
    if (origin === "*") continue;
    let parsed: URL | undefined;
    try {
      parsed = new URL(origin);
    } catch { /* not a URL */ }
    if (parsed === undefined || parsed.origin !== origin) {
      throw new UsageError(
        `invalid value ${JSON.stringify(origin)} for --cors-origin: expected an origin such as ` +
          `https://grafana.example.com (scheme, host and port; no path or trailing slash), or *`,
      );
    }
  }
  return origins;
}

/** The prefix of the environment variables that set the flags (`LOGE_PORT`). */
const ENV_PREFIX = "LOGE_";

/** Flags whose values are secrets: `--print-config` says whether they are set, never what. */
const SECRETS = new Set(["api-key", "push-api-key"]);

/**
 * The effective settings as JSON: each flag's value (durations in ms, sizes
 * in bytes; secrets as `(set)`) and its source.
 */
function printedConfig(
  flags: Record<string, FlagValue>,
  sources: Record<string, FlagSource>,
): string {
  const settings: Record<string, { value: FlagValue; source: FlagSource }> = {};
  for (const [name, value] of Object.entries(flags)) {
    if (name === "print-config") continue;
    settings[name] = {
      value: SECRETS.has(name) && value !== "" ? "(set)" : value,
      source: sources[name],
    };
  }
  return JSON.stringify(settings, null, 2);
}

/** Whether `path` exists. */
async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}

/** What every store of a server shares: the flags and what was derived from them. */
interface StoreSettings {
  flags: ReturnType<typeof parseFlags<typeof SERVE_FLAGS>>["flags"];
  ingesting: boolean;
  node: string;
  presignExpiry: number;
  /** The config file's harvesters, fed into this store. */
  harvesters?: readonly HarvesterConfig[];
}

/**
 * The flush workers of `--flush-workers 0`: half the buckets, but at most
 * half the cores, and at least one. On 2 cores a second flush worker only
 * competes with the event loop and compaction: with one, a minute of full
 * ingest took 183–197k lines/s against 171–183k with two, the cheap query
 * 26–40 ms p50 against 43–49, and 30–40 MB less memory (three runs each).
 *
 * @example
 * ```ts
 * import { defaultFlushWorkers } from "./serve.ts";
 * import assert from "node:assert/strict";
 * assert.equal(defaultFlushWorkers(4, 2), 1);
 * assert.equal(defaultFlushWorkers(4, 8), 2);
 * assert.equal(defaultFlushWorkers(16, 8), 4);
 * assert.equal(defaultFlushWorkers(1, 8), 1);
 * assert.equal(defaultFlushWorkers(4, NaN), 1);
 * ```
 */
export function defaultFlushWorkers(buckets: number, cores: number): number {
  const halfTheCores = Number.isFinite(cores) ? Math.floor(cores / 2) : 1;
  return Math.max(1, Math.min(Math.floor(buckets / 2), halfTheCores));
}

/**
 * Opens the store of data folder `dir`: its catalog, ingest pipeline (unless
 * a query-only node), compactor, cold tier (below the prefix, and the
 * tenant's folder of it for a tenant), engine, live tails and routes. `"none"`
 * opens an empty query-only store that only answers what needs no data (the
 * web page, `/ready`) under `--multi-tenant`.
 */
async function openStore(
  dir: string,
  settings: StoreSettings,
  kind: "full" | "none",
  tenant?: string,
): Promise<TenantStore> {
  const { flags, node, presignExpiry } = settings;
  const ingesting = kind !== "none" && settings.ingesting;
  const buckets = flags.buckets as number;
  const catalog = await Catalog.open(dir);
  const cache = new SegmentCache(catalog.opener);
  const bucket = kind === "none" ? "" : flags["s3-bucket"] as string;
  const store = bucket === "" ? undefined : new S3Store({
    bucket,
    endpoint: flags["s3-endpoint"] as string,
    region: flags["s3-region"] as string,
    forcePathStyle: flags["s3-force-path-style"] as boolean,
    readUrlBase: flags["s3-read-url-base"] as string,
    acl: flags["s3-acl"] as string,
  });
  const tier = store === undefined ? undefined : await ColdTier.open(catalog, cache, {
    store,
    prefix: `${flags["s3-prefix"]}${tenant === undefined ? "" : `${tenant}/`}`,
    node,
    rotate: ingesting,
    rotateAgeMs: flags["s3-rotate-age"] as number,
    rotateIntervalMs: flags["s3-rotate-interval"] as number,
    graceMs: flags["s3-rotate-grace"] as number,
    indexCacheBytes: INDEX_CACHE_BYTES,
    blockCacheSize: flags["s3-frame-cache-size"] as number,
  });
  // Rows of every node's cold files before the WAL's replay (a rebuilt catalog
  // learns which of its lines this node's cold files hold) and before the
  // first query; rotation after.
  if (tier === undefined) catalog.endListingWait();
  else if (catalog.rebuilt) catalog.markRebuiltBesideTier();
  await tier?.reconcile({ atStart: true });
  const awaiting = [...catalog.entries()].filter((e) => catalog.awaitsListing(e)).length;
  if (awaiting > 0) {
    log(
      `compaction leaves ${awaiting} segments as they are until the cold tier is listed: the ` +
        "catalog was made from the folder, and does not know which of them were uploaded",
    );
  }
  // Until this node's cold files' sequences are known, new pushes take
  // sequences above any of theirs, start after start; so do those of a
  // catalog made from the folder that has not met its tier yet (it may have
  // had one, or be given one whose bucket holds this node id's files).
  if (
    ingesting && (catalog.coldSequencesUnknown || catalog.rebuilt) && catalog.seqFloor === 0
  ) {
    catalog.setSeqFloor(unusedSequence(Date.now()));
  }
  const ingester = ingesting
    ? await Ingester.open(catalog, {
      buckets,
      payloadSize: flags["payload-size"] as number,
      flushIntervalMs: flags["flush-interval"] as number,
      flushZstdLevel:
        COMPRESSION_LEVELS[flags["flush-compression"] as keyof typeof COMPRESSION_LEVELS],
      flushWorkers: (flags["flush-workers"] as number) ||
        defaultFlushWorkers(buckets, navigator.hardwareConcurrency),
      flushQueue: (flags["flush-queue"] as number) ||
        Math.max(4 * buckets, Math.ceil((2 * FILE_ROWS) / (flags["payload-size"] as number))),
      flushCoalesceMs: flags["flush-coalesce"] as number,
      durable: flags.durable as boolean,
      checkpointIntervalMs: flags["checkpoint-interval"] as number,
      // Without compaction nothing shrinks the backlog: no bound.
      maxFlushFiles: (flags["compact-interval"] as number) > 0
        ? flags["max-flush-files"] as number
        : 0,
      dropOnBackpressure: flags["drop-on-backpressure"] as boolean,
      seqFloor: catalog.seqFloor,
    })
    : undefined;
  // A flush file's index is read as the file is cataloged: the newest lines are in it, and the
  // first query after them would pay for it. Merged files, larger and longer-lived, are left to
  // their first query (warming them too held ~37 MB more of indexes after a minute of ingest).
  catalog.onAdded((entries) => {
    for (const e of entries) if (e.level === 0) cache.warm(e);
  });
  const quarantine = new Quarantine(catalog, cache);
  const compactor = ingesting
    ? new Compactor(
      catalog,
      {
        intervalMs: flags["compact-interval"] as number,
        minFiles: flags["compact-min-files"] as number,
        ...COMPACTION_DEFAULTS,
        ingesting: () => Date.now() - ingester!.lastPushMs < INGEST_QUIET_MS,
        pushesHeld: () => ingester!.heldByCompaction,
        unitBytes: flags["compact-unit-bytes"] as number,
        unitFiles: flags["compact-unit-files"] as number,
        idleWorkers: flags["compact-workers"] as number,
        partitionNs: BigInt(flags["time-partition"] as number) * 1_000_000n,
      },
      cache,
      quarantine,
    )
    : undefined;
  compactor?.start();
  tier?.start();
  const reading: EngineContext = {
    catalog,
    cache,
    head: () => ingester?.head() ?? [],
    concurrency: flags["query-concurrency"] as number,
    quarantine,
    blockCache: tier?.blockCache,
    maxQueryRange: BigInt(flags["max-query-range"] as number) * 1_000_000n,
    maxResponseSize: flags["max-response-size"] as number,
  };
  const engine = new QueryEngine(reading);
  const tails = new TailHub({
    maxClients: flags["max-tail-clients"] as number,
    streamOf: (key) => catalog.stream(key),
    replay: (query) => selectVisible(reading, query),
  });
  ingester?.onVisible((payload) => tails.publish(payload));
  const ageMs = flags["retention-age"] as number;
  const sizeBytes = flags["retention-size"] as number;
  const retention = ingesting && (ageMs > 0 || sizeBytes > 0)
    ? new Retention(catalog, cache, {
      ageMs,
      sizeBytes,
      targetBytes: (flags["retention-target"] as number) || sizeBytes,
      walFloor: () => ingester?.walFloor ?? Infinity,
      deleteRemote: tier && ((entry) => tier.deleteRemote(entry)),
    })
    : undefined;
  let retaining: Promise<unknown> = Promise.resolve();
  const retentionTimer = retention && setInterval(() => {
    retaining = retaining.then(() => retention.run()).catch((error) =>
      log(`retention failed: ${(error as Error).message}; retrying next interval`)
    );
  }, flags["retention-interval"] as number);
  const payloadLimits = {
    maxLineBytes: flags["max-line-size"] as number,
    maxLabelNames: flags["max-label-names-per-series"] as number,
  };
  const harvesters = ingester && settings.harvesters?.length
    ? await startHarvesters(settings.harvesters, ingester, join(dir, "harvest"), payloadLimits)
    : undefined;
  const handler = createHandler({
    ingester: ingester ?? NO_INGEST,
    engine,
    catalog,
    quarantine,
    maxBodyBytes: flags["max-body-size"] as number,
    readTimeoutMs: flags["read-timeout"] as number,
    apiKey: flags["api-key"] as string,
    pushApiKey: flags["push-api-key"] as string,
    queryTimeoutMs: flags["query-timeout"] as number,
    payloadLimits,
    metricsOpen: flags["metrics-open"] as boolean,
    segmentCache: cache,
    maxConcurrentQueries: flags["max-concurrent-queries"] as number,
    compactor,
    coldTier: tier,
    tails,
    esBulk: {
      streamFields: fieldList(flags["es-stream-fields"] as string),
      msgFields: fieldList(flags["es-msg-field"] as string),
      timeField: flags["es-time-field"] as string,
    },
    otlpStreamAttributes: fieldList(flags["otlp-stream-attributes"] as string),
    harvesters,
    retention,
    searchPlan: {
      presign: tier && ((name, seconds) => tier.presign(name, seconds)),
      expirySeconds: presignExpiry / 1000,
    },
  });
  return {
    handler,
    drain() {
      ingester?.stopHoldingBack();
      tails.close();
    },
    async close() {
      clearInterval(retentionTimer);
      await retaining;
      await harvesters?.close(); // what they read goes in before the WAL closes
      await tier?.stop();
      await compactor?.stop();
      await quarantine.close();
      await ingester?.close();
      await cache.close();
      catalog.close();
    },
  };
}

/** A comma-separated list of field names, blanks dropped. */
function fieldList(text: string): string[] {
  return text.split(",").map((f) => f.trim()).filter((f) => f !== "");
}
