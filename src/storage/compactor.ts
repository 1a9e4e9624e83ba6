/**
 * The compactor: every interval, when enough flush files exist, merges them
 * (oldest first) into time-local level-1 segments on a worker, one segment
 * per time partition the lines fall in (`time_partition.ts`). The new segment
 * and its catalog row are durable before the sources' rows go (one
 * transaction) and before their files are deleted.
 *
 * Incremental compaction. A pass is a list of bounded units of work, each at
 * most `unitBytes` of raw lines and `unitFiles` source files, run one after
 * the other (two side by side while no lines arrive or pushes wait for the
 * backlog, `idleWorkers`): a unit
 * writes its segment and commits its catalog replace on its own. A stop or a
 * kill loses at most the units under way (their `.tmp` files are removed at
 * the next start; their sources are still cataloged, and the segments of the
 * units before hold their lines exactly once, since their sources' rows went
 * in the same transaction that added them). Segments
 * still grow: a segment under half the unit bound is "small", and small
 * segments are merged (oldest first, in units under the same bounds) once
 * `minFiles` of them exist, so the tail units of passes made while ingest was
 * slow become full-sized segments with fuller, better-compressed blocks. The
 * zstd level is chosen per unit by the backlog still waiting (the rest of
 * the pass, or all the flush files waiting when more arrived since it was
 * planned), lower while lines keep arriving, and capped per block by its size
 * (see `blockZstdLevel` in `segment_writer.ts`).
 *
 * Recompression. A segment written at a busy level (level 3 while a backlog
 * is long) costs ~8% more bytes than one of level 9 (the bench corpus, coded
 * lines). Once no lines arrive and nothing is left to merge, each segment
 * below the level an idle pass would pick ({@linkcode recompressionLevel})
 * is rewritten on its own, its blocks compressed again at the idle level
 * its backlog picks, lines untouched (none is decoded), and replaces its
 * source like a merge.
 *
 * Keeping up. A pass starts every interval, or as soon as `urgentFiles` flush
 * files wait, and goes on with whatever arrived while it ran until too little
 * is left to merge; admission holds pushes while too many flush files wait
 * (`Ingester`), so ingest runs no faster than compaction follows. Held
 * pushes count as arriving lines (fast levels), and while they wait every
 * lane merges: ingest has left its cores idle.
 *
 * @module
 */

import { log } from "../log.ts";
import { basename, join } from "node:path";
import type { Catalog, CatalogEntry } from "./catalog.ts";
import type { CompactJob } from "./compact_worker.ts";
import type { SegmentInfo } from "./segment_format.ts";
import { WorkerPool } from "./worker_pool.ts";
import { rewriteName, segmentName } from "./segment_name.ts";
import type { SegmentCache } from "./segment_cache.ts";
import type { Quarantine } from "./quarantine.ts";
import { parseSegmentFormatError } from "./segment_format.ts";
import { DAY_NS, partitionOf, spansPartitions } from "./time_partition.ts";

/** Compactor settings. */
export interface CompactorOptions {
  /** Milliseconds between passes; 0 disables compaction. */
  intervalMs: number;
  /** Flush files needed before a pass merges anything. */
  minFiles: number;
  /**
   * zstd level of compacted segments, by backlog: the first level whose
   * backlog bound (uncompressed bytes of flush files waiting) is not exceeded.
   */
  zstdLevels: readonly { upTo: number; level: number }[];
  /**
   * The same while lines keep arriving ({@linkcode CompactorOptions.ingesting}):
   * compaction then shares the machine with ingest and must follow it.
   */
  busyZstdLevels: readonly { upTo: number; level: number }[];
  /** Whether lines are arriving now; compaction is idle-paced without it. */
  ingesting?: () => boolean;
  /**
   * Whether pushes are waiting for this backlog to shrink: they are arriving
   * lines too (the busy levels), and as ingest then leaves its cores idle,
   * every lane merges.
   */
  pushesHeld?: () => boolean;
  /**
   * Flush files at which a pass starts without waiting for the interval:
   * under full ingest they arrive by the second.
   */
  urgentFiles: number;
  /** Target uncompressed bytes per block. */
  blockBytes: number;
  /**
   * Upper bound on the uncompressed bytes of one unit of work (one merge into
   * one segment, committed before the next starts). A single source larger
   * than this is a unit on its own.
   */
  unitBytes: number;
  /** Upper bound on the source files of one unit of work. */
  unitFiles: number;
  /**
   * Length of a time partition, in ns (whole hours): each segment holds the
   * lines of one (see `time_partition.ts`), so retention deletes a partition
   * once its newest line has expired.
   */
  partitionNs: bigint;
  /**
   * Units merged side by side, each on a worker of its own, while no lines
   * arrive or pushes wait for the backlog; one at a time while lines arrive
   * (ingest has the other cores).
   */
  idleWorkers: number;
}

/**
 * Units of work: source files merged into new segments, or one segment
 * recompressed ({@linkcode Compactor}).
 */
interface Unit {
  readonly sources: CatalogEntry[];
  readonly recompress: boolean;
}

/**
 * The level segments are recompressed to: the highest idle level whose
 * backlog bound holds every segment written below it. Segments merged while
 * lines arrived (level 3, or 9 for a small backlog) reach the level an idle
 * pass would have merged them at, and a segment moves up at most once a
 * level: once its level is reached, nothing below it waits.
 *
 * @example
 * ```ts
 * import { COMPACTION_DEFAULTS, recompressionLevel } from "./compactor.ts";
 * import assert from "node:assert/strict";
 * const MiB = 1024 * 1024;
 * const { zstdLevels } = COMPACTION_DEFAULTS;
 * const at = (zstdLevel: number, rawBytes: number) => ({ zstdLevel, rawBytes });
 * assert.equal(recompressionLevel([at(9, 40 * MiB), at(9, 40 * MiB)], zstdLevels), 17);
 * assert.equal(recompressionLevel([at(3, 300 * MiB), at(17, 40 * MiB)], zstdLevels), 9);
 * assert.equal(recompressionLevel([at(9, 300 * MiB)], zstdLevels), 9); // nothing below 9 waits
 * ```
 */
export function recompressionLevel(
  segments: readonly { zstdLevel?: number; rawBytes: number }[],
  ladder: CompactorOptions["zstdLevels"],
): number {
  const levels = [...new Set(ladder.map((l) => l.level))].sort((a, b) => b - a);
  for (const level of levels) {
    let below = 0;
    for (const e of segments) {
      if (e.zstdLevel !== undefined && e.zstdLevel < level) below += e.rawBytes;
    }
    if (ladder.find((l) => below <= l.upTo)!.level >= level) return level;
  }
  return levels[levels.length - 1];
}

/** How often the timer looks for an urgent backlog. */
const URGENT_CHECK_MS = 250;

/** Default compaction settings besides interval and minimum file count. */
export const COMPACTION_DEFAULTS = {
  // Level 17 runs at ~9 MB/s of one core and compresses within 1% of 19
  // (7.42 against 7.37 MB for 33 MB of the bench corpus), which runs at ~2.4:
  // worth it while the backlog is small (128 MiB: ~7 s on two cores), too slow
  // for a long burst's; level 9 runs at ~30 MB/s and is within 6% of it.
  zstdLevels: [
    { upTo: 128 * 1024 * 1024, level: 17 },
    { upTo: 1024 * 1024 * 1024, level: 9 },
    { upTo: Infinity, level: 6 },
  ],
  // Under ingest a unit must take about as long as its lines took to arrive.
  // Up to level 6 the merge itself (filters, JS) costs more than zstd
  // (~40 MB/s of one core); level 17 is 4 times slower.
  busyZstdLevels: [
    { upTo: 32 * 1024 * 1024, level: 9 },
    { upTo: Infinity, level: 3 },
  ],
  urgentFiles: 16,
  // Small enough that a query reading the newest block of each of many streams
  // decompresses little; large enough to compress well. zstd picks its
  // parameters by size class, and past 256 KiB level 17 is slow: on the bench
  // corpus blocks of 384 KiB took compaction 2.7 times as long for 0.8 B/line
  // less, and 128 KiB took 1.4 B/line more.
  blockBytes: 256 * 1024,
  // About 8 s of one core at level 17, two or less at lower levels:
  // what a stop or kill can lose. Large enough that with a few hundred streams
  // most blocks are full (the bench corpus's 138 streams: 109 KiB a block on
  // average at 32 MiB, 150 at 64).
  unitBytes: 64 * 1024 * 1024,
  // Each source is open, its index in memory, while its unit runs.
  unitFiles: 256,
  // With both cores a backlog left by a burst is final in half the time.
  idleWorkers: 2,
  // Days, as VictoriaLogs' partitions and Loki's index periods.
  partitionNs: DAY_NS,
} as const;

/** The last finished pass, for {@linkcode CompactionStats}. */
export interface CompactionPass {
  /** When it started, unix ms. */
  startedMs: number;
  /** How long it took, ms. */
  durationMs: number;
  /** Source files merged. */
  files: number;
  /** Raw bytes of the lines merged. */
  rawBytes: number;
}

/**
 * What compaction has before it and is doing: what `/api/v1/stats` shows, and
 * how the bench knows the folder is final.
 */
export interface CompactionStats {
  /** Flush files waiting to be merged. */
  flushFiles: number;
  /** Raw bytes of the lines in them. */
  flushRawBytes: number;
  /** Small segments that a pass will merge (once `minFiles` of them exist). */
  smallSegments: number;
  /**
   * Segments left as they are until a listing of the cold tier
   * (`Catalog.awaitsListing`: a catalog rebuilt beside it, not listed since);
   * not counted in `unitsWaiting` or `recompressWaiting`.
   */
  awaitingListing: number;
  /**
   * Units of work the next pass would run now (segments to recompress too,
   * while no lines arrive): 0 when not running means the folder is final
   * until more lines arrive.
   */
  unitsWaiting: number;
  /**
   * Segments written at a busy level that are to be recompressed once no
   * lines arrive (`ingesting` false): the folder is final only when this and
   * `unitsWaiting` are 0 and no pass runs. Counted whether or not lines arrive.
   */
  recompressWaiting: number;
  /** Whether a pass is running. */
  running: boolean;
  /** When the running pass started, unix ms (`null` when none runs). */
  runningSinceMs: number | null;
  /** Units of work of the running pass done, and in all (0 when none runs). */
  unitsDone: number;
  units: number;
  /** Units being merged now, side by side ({@linkcode CompactorOptions.idleWorkers}). */
  unitsRunning: number;
  /** Passes finished since start (those that merged something). */
  passes: number;
  /** The last pass that merged something, or `null`. */
  lastPass: CompactionPass | null;
}

/**
 * Runs compaction passes in the background.
 *
 * @example
 * ```ts
 * import { COMPACTION_DEFAULTS, Compactor } from "./compactor.ts";
 * import { BlockBuilder } from "./block_codec.ts";
 * import { Catalog } from "./catalog.ts";
 * import { SegmentWriter } from "./segment_writer.ts";
 * import assert from "node:assert/strict";
 * const dir = await Deno.makeTempDir();
 * const catalog = await Catalog.open(dir);
 * for (const seq of [1, 2]) { // two flush files
 *   const w = new SegmentWriter(dir, `l0-a-0000000${seq}.loge`, { level: 0, zstdLevel: 3 });
 *   const b = new BlockBuilder();
 *   b.addString(BigInt(seq), `line ${seq}`);
 *   w.writeBlock(w.stream('{"app":"web"}'), b);
 *   catalog.add(w.finish([[seq, seq]]));
 * }
 * const compactor = new Compactor(catalog, { intervalMs: 30_000, minFiles: 2, ...COMPACTION_DEFAULTS });
 * compactor.start();
 * assert.equal(await compactor.compactNow(), 2); // without waiting for the timer
 * await compactor.stop();
 * const entries = [...catalog.entries()];
 * assert.deepEqual(entries.map((e) => [e.level, e.rows]), [[1, 2]]);
 * catalog.close();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export class Compactor {
  readonly #catalog: Catalog;
  readonly #options: CompactorOptions;
  readonly #cache?: SegmentCache;
  readonly #quarantine?: Quarantine;
  /** The workers of the pass under way: lane `i` merges on `#pools[i]`. */
  #pools: WorkerPool<CompactJob, SegmentInfo[]>[] = [];
  #timer?: ReturnType<typeof setInterval>;
  #running?: Promise<number>;
  #stopped = false;
  #runningSinceMs: number | null = null;
  #unitsDone = 0;
  #unitCount = 0;
  #unitsRunning = 0;
  #passes = 0;
  #lastPass: CompactionPass | null = null;
  /** Whether the last plan was made while lines arrived (it left recompression out). */
  #plannedWhileIngesting = false;

  /** Creates a compactor over `catalog`; `cache` is told of files it deletes. */
  constructor(
    catalog: Catalog,
    options: CompactorOptions,
    cache?: SegmentCache,
    quarantine?: Quarantine,
  ) {
    this.#catalog = catalog;
    this.#options = options;
    this.#cache = cache;
    this.#quarantine = quarantine;
  }

  /**
   * Starts the timer (unless compaction is disabled): a pass every interval,
   * or sooner once {@linkcode CompactorOptions.urgentFiles} flush files wait,
   * or once lines stop arriving after a pass planned while they arrived: its
   * plan left out recompression, which then need not wait for the interval.
   */
  start(): void {
    const { intervalMs, urgentFiles } = this.#options;
    if (intervalMs <= 0) return;
    let due = Date.now() + intervalMs;
    this.#timer = setInterval(() => {
      if (this.#running) return;
      const stopped = this.#plannedWhileIngesting && !this.#options.ingesting?.();
      if (Date.now() < due && this.#catalog.flushFiles < urgentFiles && !stopped) return;
      due = Date.now() + intervalMs;
      this.compactNow().catch((e) => {
        // A stop ends the unit under way on purpose (its worker is terminated).
        if (!this.#stopped) log(`compaction failed: ${e.message}`);
      });
    }, Math.min(intervalMs, URGENT_CHECK_MS));
  }

  /**
   * Runs one pass now: merges flush files if at least `minFiles` exist.
   *
   * @returns how many source files were merged.
   */
  compactNow(): Promise<number> {
    this.#running ??= this.#pass().finally(() => this.#running = undefined);
    return this.#running;
  }

  /**
   * The units of work of a pass: flush files, once at least `minFiles` exist;
   * then small segments (under half the unit bound), once as many exist, and
   * segments that span time partitions (written before partitions, or with a
   * longer one), to be split. Flush files are merged oldest first; segments
   * with the others of their partition. Units are bounded by bytes and file
   * count. While no lines arrive, the segments left that were written below
   * {@linkcode recompressionLevel} follow, each a unit to recompress.
   */
  #units(
    { merges, recompressions } = this.#plan(),
    ingesting = this.#options.ingesting?.() ?? false,
  ): Unit[] {
    return ingesting ? merges : [...merges, ...recompressions];
  }

  /** {@linkcode Compactor.#units} for a pass, which notes whether lines arrived as it planned. */
  #passUnits(): Unit[] {
    const ingesting = this.#options.ingesting?.() ?? false;
    this.#plannedWhileIngesting = ingesting;
    return this.#units(this.#plan(), ingesting);
  }

  /**
   * The merges of {@linkcode Compactor.#units}, and the segments to recompress
   * once no lines arrive, whether or not lines arrive now.
   */
  #plan(): { merges: Unit[]; recompressions: Unit[] } {
    const { unitBytes, unitFiles, minFiles, partitionNs } = this.#options;
    const local = [...this.#catalog.entries()].filter((e) => e.location === "local");
    const spans = (e: CatalogEntry) => spansPartitions(e.minTs, e.maxTs, partitionNs);
    const rewritable = (e: CatalogEntry) => e.level === 1 && !this.#catalog.awaitsListing(e);
    const segments = local.filter((e) => rewritable(e) && (e.rawBytes < unitBytes / 2 || spans(e)));
    const candidates = [
      local.filter((e) => e.level === 0),
      ...Map.groupBy(segments, (e) => partitionOf(e.minTs, partitionNs)).values(),
    ];
    const merges: CatalogEntry[][] = [];
    for (const entries of candidates) {
      if (entries.length < minFiles && !entries.some(spans)) continue;
      entries.sort((a, b) => (a.minTs < b.minTs ? -1 : a.minTs > b.minTs ? 1 : a.id - b.id));
      let unit: CatalogEntry[] = [];
      let bytes = 0;
      for (const e of entries) {
        if (unit.length > 0 && (bytes + e.rawBytes > unitBytes || unit.length >= unitFiles)) {
          merges.push(unit);
          unit = [];
          bytes = 0;
        }
        unit.push(e);
        bytes += e.rawBytes;
      }
      if (unit.length > 0) merges.push(unit);
    }
    // A lone small segment of its partition has nothing to merge with.
    const units = merges.filter((u) => u.length > 1 || u[0].level === 0 || spans(u[0]))
      .map((sources) => ({ sources, recompress: false }));
    const merging = new Set(units.flatMap((u) => u.sources));
    const recompressible = local.filter((e) =>
      rewritable(e) && e.zstdLevel !== undefined && !merging.has(e) && !spans(e)
    );
    const level = recompressionLevel(recompressible, this.#options.zstdLevels);
    const recompressions = recompressible.filter((e) => e.zstdLevel! < level)
      .map((e) => ({ sources: [e], recompress: true }));
    return { merges: units, recompressions };
  }

  /**
   * What waits and what runs.
   *
   * @example
   * ```ts
   * import { COMPACTION_DEFAULTS, Compactor } from "./compactor.ts";
   * import { Catalog } from "./catalog.ts";
   * import assert from "node:assert/strict";
   * const dir = await Deno.makeTempDir();
   * const catalog = await Catalog.open(dir);
   * const compactor = new Compactor(catalog, { intervalMs: 0, minFiles: 2, ...COMPACTION_DEFAULTS });
   * assert.deepEqual(compactor.stats().flushFiles, 0);
   * assert.equal(compactor.stats().running, false);
   * catalog.close();
   * await Deno.remove(dir, { recursive: true });
   * ```
   */
  stats(): CompactionStats {
    const { files, rawBytes } = this.#catalog.flushBacklog;
    let smallSegments = 0;
    let awaitingListing = 0;
    for (const e of this.#catalog.entries()) {
      if (e.location === "local" && e.level === 1 && e.rawBytes < this.#options.unitBytes / 2) {
        smallSegments++;
      }
      if (this.#catalog.awaitsListing(e)) awaitingListing++;
    }
    const plan = this.#plan();
    return {
      flushFiles: files,
      flushRawBytes: rawBytes,
      smallSegments,
      awaitingListing,
      unitsWaiting: this.#runningSinceMs === null ? this.#units(plan).length : 0,
      recompressWaiting: plan.recompressions.length,
      running: this.#runningSinceMs !== null,
      runningSinceMs: this.#runningSinceMs,
      unitsDone: this.#unitsDone,
      units: this.#unitCount,
      unitsRunning: this.#unitsRunning,
      passes: this.#passes,
      lastPass: this.#lastPass,
    };
  }

  async #pass(): Promise<number> {
    const units = this.#passUnits();
    if (units.length === 0) return 0;
    const startedMs = Date.now();
    this.#runningSinceMs = startedMs;
    try {
      let files = 0;
      let rawBytes = 0;
      // Whatever arrived meanwhile is merged by the same pass.
      for (let plan = units; plan.length > 0 && !this.#stopped;) {
        this.#unitsDone = 0;
        this.#unitCount = plan.length;
        const merged = await this.#merge(plan);
        files += merged.files;
        rawBytes += merged.rawBytes;
        if (merged.files === 0) break; // nothing could be merged: wait for the next tick
        plan = this.#passUnits();
      }
      if (files > 0) {
        this.#passes++;
        this.#lastPass = { startedMs, durationMs: Date.now() - startedMs, files, rawBytes };
      }
      return files;
    } finally {
      for (const pool of this.#pools) pool.terminate();
      this.#pools = [];
      this.#runningSinceMs = null;
      this.#unitsDone = this.#unitCount = 0;
    }
  }

  /**
   * The worker of lane `id`, started on the lane's first unit of the pass: a
   * lane's worker serves the whole pass, and its heap is gone after it.
   */
  #pool(id: number): WorkerPool<CompactJob, SegmentInfo[]> {
    return this.#pools[id] ??= new WorkerPool(new URL("./compact_worker.ts", import.meta.url), 1);
  }

  /**
   * Merges `units` in lanes that take the next unit as they finish one: lane 0
   * always, the others only while no lines arrive or pushes wait for the
   * backlog. Units share no source, and each commits its own catalog replace.
   */
  async #merge(units: Unit[]): Promise<{ files: number; rawBytes: number }> {
    let merged = 0;
    let mergedBytes = 0;
    let backlog = units.flatMap((u) => u.sources).reduce((n, e) => n + e.rawBytes, 0);
    let flushBytesRunning = 0;
    let next = 0;
    const held = () => this.#options.pushesHeld?.() ?? false;
    // Held pushes are arriving lines: taken for quiet, they got the strongest
    // (slowest) level and waited longer.
    const ingesting = () => held() || (this.#options.ingesting?.() ?? false);
    // Lanes waiting for a core wake when no unit is left or a lane failed.
    let laneFailed = false;
    const napping = new Set<() => void>();
    const wakeAll = () => napping.forEach((wake) => wake());
    const nap = () =>
      new Promise<void>((resolve) => {
        const wake = () => {
          clearTimeout(timer);
          napping.delete(wake);
          resolve();
        };
        const timer = setTimeout(wake, URGENT_CHECK_MS);
        napping.add(wake);
      });
    const lane = async (id: number) => {
      while (next < units.length && !this.#stopped && !laneFailed) {
        if (id > 0 && ingesting() && !held()) {
          // Ingest has this core for now; it may be held back by the backlog soon.
          await nap();
          continue;
        }
        // Recompression waits for a machine that lines leave idle: the rest
        // of the plan is recompression (it follows the merges), so it ends for
        // every lane (one napping would wait for it for ever), and the next
        // plan leaves it out while lines arrive.
        if (units[next].recompress && ingesting()) {
          next = units.length;
          wakeAll();
          break;
        }
        const unit = units[next++];
        const { sources } = unit;
        if (next === units.length) wakeAll();
        const bytes = sources.reduce((n, e) => n + e.rawBytes, 0);
        const flushBytes = sources.reduce((n, e) => n + (e.level === 0 ? e.rawBytes : 0), 0);
        backlog -= bytes;
        flushBytesRunning += flushBytes;
        // What waits after this unit: the rest of the plan, or more when flush
        // files arrived since it was made.
        const waiting = Math.max(
          backlog,
          this.#catalog.flushBacklog.rawBytes - flushBytesRunning,
        );
        const levels = ingesting() ? this.#options.busyZstdLevels : this.#options.zstdLevels;
        const zstdLevel = levels.find((l) => waiting <= l.upTo)!.level;
        this.#unitsRunning++;
        try {
          if (await this.#mergeUnit(unit, zstdLevel, this.#pool(id))) {
            merged += sources.length;
            mergedBytes += bytes;
          }
        } catch (error) {
          laneFailed = true;
          wakeAll();
          throw error;
        } finally {
          this.#unitsRunning--;
          flushBytesRunning -= flushBytes;
        }
        this.#unitsDone++;
      }
    };
    const lanes = Math.max(1, Math.min(this.#options.idleWorkers, units.length));
    // Every lane ends before the pass does, even when one fails.
    const ended = await Promise.allSettled(Array.from({ length: lanes }, (_, id) => lane(id)));
    const failed = ended.find((e) => e.status === "rejected");
    if (failed) throw failed.reason;
    return { files: merged, rawBytes: mergedBytes };
  }

  /**
   * Merges one unit into segments (one per partition), or recompresses its
   * segment, and replaces its sources with them; whether it did.
   */
  async #mergeUnit(
    { sources, recompress }: Unit,
    zstdLevel: number,
    pool: WorkerPool<CompactJob, SegmentInfo[]>,
  ): Promise<boolean> {
    let infos: SegmentInfo[];
    try {
      infos = await pool.run({
        dir: this.#catalog.dir,
        sources: sources.map((s) => s.name),
        name: recompress ? rewriteName(sources[0].name) : segmentName(1),
        zstdLevel,
        blockBytes: this.#options.blockBytes,
        partitionNs: this.#options.partitionNs,
        recompress: recompress ? { filter: this.#catalog.filterOf(sources[0]) } : undefined,
      });
    } catch (error) {
      // A source quarantined meanwhile (moved away under the worker): the
      // next pass regroups without it.
      if (sources.some((s) => !this.#catalog.has(s))) return false;
      // A damaged source would fail every pass: it goes to the quarantine,
      // and its unit waits for a later pass.
      const damage = parseSegmentFormatError((error as Error).message);
      const source = damage && sources.find((s) => s.name === basename(damage.file));
      if (!source || !this.#quarantine) throw error;
      this.#quarantine.report(source, damage.reason);
      return false;
    }
    // A source rotated to the cold tier while the worker ran: its row lives
    // on there, so the merge would hold its lines twice.
    if (sources.some((s) => !this.#catalog.has(s))) {
      for (const info of infos) {
        await Deno.remove(join(this.#catalog.dir, info.name)).catch(() => {});
      }
      return false;
    }
    this.#catalog.replace(sources, infos);
    for (const s of sources) {
      // Queries that planned with a source finish reading it first.
      await this.#catalog.whenUnused(s);
      this.#cache?.evict(s.name);
      await Deno.remove(join(this.#catalog.dir, s.name)).catch((e) => {
        if (!(e instanceof Deno.errors.NotFound)) throw e;
      });
    }
    return true;
  }

  /**
   * Stops: no new pass or unit starts, and the unit under way is abandoned
   * (its temporary file is removed at the next start; its sources stay). The
   * units committed before it are kept.
   */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearInterval(this.#timer);
    for (const pool of this.#pools) pool.terminate();
    await this.#running?.catch(() => {});
  }
}
