/**
 * The benchmark's cold-tier phase: the compacted corpus rotated to S3 (a real `s3rver` on
 * loopback, from `testing/s3.ts`), then queried by restarted servers with no index cached, through
 * a proxy that counts the GETs and bytes each query costs.
 *
 * 1. `s3rver` in a temp folder and a counting proxy in front of it;
 * 2. a server on the compacted data folder with {@linkcode ROTATE_FLAGS} and its endpoint at
 *    `s3rver` itself, until every segment is in S3 and no local copy is left; SIGTERM;
 * 3. for each query of {@linkcode COLD_QUERIES}: the index cache (`<data>/cache/`, which the
 *    rotation filled) is deleted and a server restarts on the folder with its endpoint at the
 *    proxy and an hour's rotate interval (its one listing, at start, is not counted); the first
 *    run is timed and its GETs and bytes counted, then `runs` more, with the indexes on disk and
 *    the blocks in memory.
 *
 * Each query has its own restart so that both first runs find nothing cached: the needle query
 * reads the index of every segment, which would warm the label query's.
 *
 * @module
 */

import { join } from "node:path";
import { findTool, type Missing, type Tool } from "./baselines.ts";
import type { ColdQueryFigure, ColdTierFigure, FetchCost } from "./figures.ts";
import {
  type ColdQuerySpec,
  coldQuerySpecs,
  QUERY_LIMIT,
  type QueryAnswer,
  queryBody,
  runQuery,
  WINDOW_TITLES,
} from "./queries.ts";
import { formatBytes, formatMs, formatPercent } from "./report.ts";
import {
  killServer,
  launchServer,
  serverStats,
  stderrLines,
  stopServer,
  type TestServer,
} from "./server_control.ts";
import { round, summarize } from "./stats.ts";
import { type CountingProxy, type S3Server, startCountingProxy, startS3 } from "../testing/s3.ts";
import { dataDirUsage } from "./data_dir.ts";

/** The `s3rver` package that `testing/s3.ts` runs. */
const S3RVER_DIR = new URL("../tests/s3/node_modules/s3rver/", import.meta.url).pathname;

/** How to install `s3rver`. */
export const S3RVER_INSTALL_HINT = "npm ci --prefix tests/s3";

/** The bucket the phase creates. */
const BUCKET = "loge-bench";

/** The node id of the servers of the phase (the prefix of every key). */
const NODE_ID = "bench";

/** Flags of the rotating server besides the bucket, endpoint and node: rotate everything, soon. */
export const ROTATE_FLAGS: readonly string[] = [
  "--s3-rotate-age",
  "1s",
  "--s3-rotate-interval",
  "500ms",
  "--s3-rotate-grace",
  "500ms",
];

/** Flags of the restarted servers besides the bucket, endpoint and node: no listing but the first. */
export const QUERY_FLAGS: readonly string[] = ["--s3-rotate-interval", "1h"];

/**
 * `s3rver` as installed for the tests, and the `node` that runs it; {@linkcode Missing} when
 * either is absent.
 *
 * @example
 * ```ts ignore
 * import { findS3rver } from "./cold_tier.ts";
 * const s3rver = await findS3rver();
 * console.log("missing" in s3rver ? s3rver.missing : s3rver.version); // 3.7.1 (node v20.20.2)
 * ```
 */
export async function findS3rver(): Promise<Tool | Missing> {
  let version: string;
  try {
    version = JSON.parse(await Deno.readTextFile(join(S3RVER_DIR, "package.json"))).version;
  } catch {
    return { missing: `s3rver missing (${S3RVER_INSTALL_HINT})` };
  }
  const node = await findTool("node");
  if ("missing" in node) return { missing: `s3rver ${version} cannot run: node missing` };
  return {
    name: "s3rver",
    path: join(S3RVER_DIR, "bin/s3rver.js"),
    version: `${version} (node ${node.version})`,
  };
}

/** What the phase needs from the harness. */
export interface ColdTierContext {
  /** The compacted data folder; its segments end up in S3 and its index cache is deleted. */
  dataDir: string;
  /** The corpus' needle trace id. */
  needle: string;
  /** When the corpus ends (unix ms): the windowed query's window ends there. */
  corpusEndMs: number;
  /** Timed runs per query after the first. */
  runs: number;
  /** `s3rver`, from {@linkcode findS3rver}. */
  s3rver: Tool;
  /** Prints a progress line. */
  progress(message: string): void;
  /** Runs `fn`; on failure records the error and returns `null`. */
  attempt<T>(what: string, fn: () => Promise<T>): Promise<T | null>;
  /** Failures that do not stop the phase (a server's exit code). */
  errors: string[];
  /** Servers' stderr lines, each prefixed with the server's name. */
  serverStderr: string[];
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The S3 flags of a server of the phase. */
function tierFlags(s3: S3Server, endpoint: string, extra: readonly string[]): string[] {
  return [
    "--s3-bucket",
    s3.bucket,
    "--s3-endpoint",
    endpoint,
    "--s3-force-path-style",
    "--node-id",
    NODE_ID,
    ...extra,
  ];
}

/** Bytes of every file below `dir` (0 if it does not exist). */
async function folderBytes(dir: string): Promise<number> {
  let total = 0;
  try {
    for await (const e of Deno.readDir(dir)) {
      const path = join(dir, e.name);
      if (e.isDirectory) total += await folderBytes(path);
      else if (e.isFile) total += (await Deno.stat(path).catch(() => ({ size: 0 }))).size;
    }
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  return total;
}

/** The `cold_tier` object of a server's stats. */
function tierStats(stats: Record<string, unknown>): Record<string, number | string | null> {
  const tier = stats.cold_tier;
  if (tier === null || typeof tier !== "object") {
    throw new Error("GET /api/v1/stats has no cold_tier: is the tier configured?");
  }
  return tier as Record<string, number | string | null>;
}

/** The counters of `cold_tier` in the stats that the figure of a first run keeps. */
const SERVER_COUNTERS = [
  "gets",
  "bytes_fetched",
  "index_cache_hits",
  "index_cache_misses",
  "block_cache_hits",
  "block_cache_misses",
] as const;

/** What the rotation produced. */
interface Rotation {
  segments: number;
  remoteBytes: number;
  uploadedBytes: number;
  seconds: number;
}

/** Step 2: a server rotates every segment of the folder to S3; stopped once no local copy is left. */
async function rotateAll(ctx: ColdTierContext, s3: S3Server, args: string[]): Promise<Rotation> {
  const before = await dataDirUsage(ctx.dataDir);
  ctx.progress(
    `cold tier: a server rotates ${before.segments} segments ` +
      `(${formatBytes(before.segmentBytes)}) to s3rver`,
  );
  const t0 = performance.now();
  const server = await launchServer(ctx.dataDir, args, s3.env);
  try {
    const timeoutMs = 600_000 + before.segmentBytes / 1000; // 10 min + 1 s per MB
    for (;;) {
      const stats = await serverStats(server.url);
      const tier = tierStats(stats);
      const usage = await dataDirUsage(ctx.dataDir);
      if (
        stats.segments_local === 0 && (stats.segments_remote as number) > 0 &&
        stats.rows_in_memory === 0 && tier.local_copies_waiting === 0 &&
        usage.segments === 0 && usage.flushFiles === 0
      ) {
        const rotation = {
          segments: stats.segments_remote as number,
          remoteBytes: stats.bytes_remote as number,
          uploadedBytes: tier.uploaded_bytes as number,
          seconds: round((performance.now() - t0) / 1000, 2),
        };
        const stopped = await stopServer(server);
        if (stopped.code !== 0) ctx.errors.push(`rotating server exited with code ${stopped.code}`);
        return rotation;
      }
      if (performance.now() - t0 > timeoutMs) {
        throw new Error(
          `not every segment was in S3 after ${Math.round(timeoutMs / 1000)} s: ` +
            `${stats.segments_local} local, ${stats.segments_remote} remote, ` +
            `${tier.local_copies_waiting} local copies waiting, ${tier.upload_errors} upload ` +
            `errors${tier.fault ? ` (${tier.fault})` : ""}`,
        );
      }
      await sleep(250);
    }
  } finally {
    ctx.serverStderr.push(...stderrLines("rotating server", server));
    await killServer(server);
  }
}

/** Throws unless `answer` is a correct answer of `spec`. */
function check(spec: ColdQuerySpec, answer: QueryAnswer): void {
  if (answer.hits !== spec.expectHits) {
    throw new Error(`answered ${answer.hits} lines, expected ${spec.expectHits}`);
  }
  if (spec.expectText !== undefined && !answer.firstLine?.includes(spec.expectText)) {
    throw new Error(`the answer does not hold ${spec.expectText}`);
  }
}

/** Step 3 for one query: deletes the index cache, restarts, times the first run and the rest. */
async function coldQuery(
  ctx: ColdTierContext,
  s3: S3Server,
  proxy: CountingProxy,
  args: string[],
  spec: ColdQuerySpec,
  rotation: Rotation,
): Promise<{ figure: ColdQueryFigure; listeningMs: number }> {
  await Deno.remove(join(ctx.dataDir, "cache"), { recursive: true }).catch((error) => {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  });
  ctx.progress(
    `cold tier: restart with no index cached; query ${spec.key}: ${spec.query} ` +
      `(first run + ${ctx.runs} runs)`,
  );
  const t0 = performance.now();
  const server: TestServer = await launchServer(ctx.dataDir, args, s3.env);
  try {
    const listeningMs = performance.now() - t0;
    const stats = await serverStats(server.url);
    if (stats.segments_remote !== rotation.segments || stats.segments_local !== 0) {
      throw new Error(
        `the restarted server has ${stats.segments_remote} remote and ${stats.segments_local} ` +
          `local segments; expected ${rotation.segments} remote and none local`,
      );
    }
    proxy.reset();
    const first = await runQuery(server.url, queryBody(spec, ctx.corpusEndMs));
    check(spec, first);
    const firstCost = proxy.counts();
    const counters = tierStats(await serverStats(server.url));
    const firstServer = Object.fromEntries(
      SERVER_COUNTERS.map((name) => [name, Number(counters[name] ?? 0)]),
    );
    const ms: number[] = [];
    const warm: FetchCost = { gets: 0, bytes: 0 };
    for (let i = 0; i < ctx.runs; i++) {
      proxy.reset();
      const answer = await runQuery(server.url, queryBody(spec, ctx.corpusEndMs));
      check(spec, answer);
      ms.push(answer.ms);
      const cost = proxy.counts();
      warm.gets += cost.gets;
      warm.bytes += cost.bytes;
    }
    const stopped = await stopServer(server);
    if (stopped.code !== 0) {
      ctx.errors.push(`cold-tier server (${spec.key}) exited with code ${stopped.code}`);
    }
    const fraction = firstCost.bytes / rotation.remoteBytes;
    ctx.progress(
      `cold tier: ${spec.key}: first run ${formatMs(first.ms)}, ${firstCost.gets} GETs, ` +
        `${formatBytes(firstCost.bytes)} (${formatPercent(fraction)} of the bytes in S3)`,
    );
    return {
      listeningMs,
      figure: {
        title: spec.title,
        query: spec.query,
        window: WINDOW_TITLES[spec.window],
        limit: QUERY_LIMIT,
        hits: first.hits,
        expectHits: spec.expectHits,
        first: { ms: round(first.ms, 2), gets: firstCost.gets, bytes: firstCost.bytes },
        firstServer,
        firstFetchedFraction: round(fraction, 6),
        ms: summarize(ms),
        warmPerRun: {
          gets: round(warm.gets / ctx.runs, 2),
          bytes: Math.round(warm.bytes / ctx.runs),
        },
        targetP50Ms: spec.targetP50Ms,
        maxColdFetchedFraction: spec.maxColdFetchedFraction,
      },
    };
  } finally {
    ctx.serverStderr.push(...stderrLines(`cold-tier server (${spec.key})`, server));
    await killServer(server);
  }
}

/**
 * Runs the phase on `ctx.dataDir`, which must hold the compacted corpus and no running server.
 * Leaves the folder with every segment in S3 (gone with `s3rver`'s temp folder at the end) and no
 * index cache. A query that fails is recorded by `ctx.attempt` and is `null` in the figure.
 *
 * @throws {Error} If `s3rver` does not start or the rotation does not finish.
 */
export async function coldTierPhase(ctx: ColdTierContext): Promise<ColdTierFigure> {
  const t0 = performance.now();
  ctx.progress("cold tier: starting s3rver and a counting proxy in front of it");
  await using s3 = await startS3({ bucket: BUCKET });
  await using proxy = startCountingProxy(s3.endpoint);
  const rotateArgs = tierFlags(s3, s3.endpoint, ROTATE_FLAGS);
  const rotation = await rotateAll(ctx, s3, rotateArgs);
  const indexCacheBytes = await folderBytes(join(ctx.dataDir, "cache"));
  ctx.progress(
    `cold tier: ${rotation.segments} segments, ${formatBytes(rotation.uploadedBytes)} in S3 ` +
      `after ${rotation.seconds.toFixed(1)} s; ${formatBytes(indexCacheBytes)} of cached indexes`,
  );
  const queryArgs = tierFlags(s3, proxy.url, QUERY_FLAGS);
  const queries: Record<string, ColdQueryFigure | null> = {};
  const listening: number[] = [];
  for (const spec of coldQuerySpecs(ctx.needle)) {
    const done = await ctx.attempt(
      `cold tier: query ${spec.key}`,
      () => coldQuery(ctx, s3, proxy, queryArgs, spec, rotation),
    );
    queries[spec.key] = done?.figure ?? null;
    if (done !== null) listening.push(done.listeningMs);
  }
  return {
    store: `s3rver ${ctx.s3rver.version.split(" ")[0]} on loopback`,
    rotateArgs,
    queryArgs,
    segments: rotation.segments,
    remoteBytes: rotation.remoteBytes,
    uploadedBytes: rotation.uploadedBytes,
    rotationSeconds: rotation.seconds,
    indexCacheBytes,
    restartToListeningMs: listening.length === 0 ? null : round(summarize(listening).p50, 1),
    queries,
    seconds: round((performance.now() - t0) / 1000, 1),
  };
}
