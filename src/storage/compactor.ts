/**
 * The compactor: every interval, when enough flush files exist, merges them
 * (oldest first, in groups bounded by size) into time-local level-1 segments
 * on a worker. The new segment and its catalog row are durable before the
 * sources' rows go (one transaction) and before their files are deleted.
 *
 * @module
 */

import { basename, join } from "node:path";
import type { Catalog, CatalogEntry } from "./catalog.ts";
import type { CompactJob } from "./compact_worker.ts";
import type { SegmentInfo } from "./segment_writer.ts";
import { WorkerPool } from "./worker_pool.ts";
import { segmentName } from "./segment_name.ts";
import type { SegmentCache } from "./segment_cache.ts";
import type { Quarantine } from "./quarantine.ts";
import { parseSegmentFormatError } from "./segment_format.ts";

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
  /** Target uncompressed bytes per block. */
  blockBytes: number;
  /** Upper bound on uncompressed bytes merged into one segment. */
  segmentBytes: number;
}

/** Default compaction settings besides interval and minimum file count. */
export const COMPACTION_DEFAULTS = {
  // The strongest level costs ~2 MB/s of one core: worth it while the backlog
  // is small, too slow to keep up with a large one.
  zstdLevels: [
    { upTo: 256 * 1024 * 1024, level: 19 },
    { upTo: 1024 * 1024 * 1024, level: 12 },
    { upTo: Infinity, level: 6 },
  ],
  // Small enough that a query reading the newest block of each of many streams
  // decompresses little; large enough to compress well.
  blockBytes: 128 * 1024,
  segmentBytes: 512 * 1024 * 1024,
} as const;

/**
 * Runs compaction passes in the background.
 *
 * @example
 * ```ts ignore
 * const compactor = new Compactor(catalog, { intervalMs: 30_000, minFiles: 8, ...COMPACTION_DEFAULTS });
 * compactor.start();
 * await compactor.stop();
 * ```
 */
export class Compactor {
  readonly #catalog: Catalog;
  readonly #options: CompactorOptions;
  readonly #cache?: SegmentCache;
  readonly #quarantine?: Quarantine;
  #pool?: WorkerPool<CompactJob, SegmentInfo>;
  #timer?: ReturnType<typeof setInterval>;
  #running?: Promise<number>;
  #stopped = false;

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

  /** Starts the timer (unless compaction is disabled). */
  start(): void {
    if (this.#options.intervalMs <= 0) return;
    this.#timer = setInterval(() => {
      if (!this.#running) {
        this.compactNow().catch((e) => console.error(`loge: compaction failed: ${e.message}`));
      }
    }, this.#options.intervalMs);
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
   * What to merge now: flush files, once at least `minFiles` exist; and small
   * segments (under an eighth of the segment bound), once as many exist, so
   * segments made while ingest was slow grow into large, better-compressed ones.
   * Each kind is merged oldest first, in groups bounded by size.
   */
  #groups(): CatalogEntry[][] {
    const local = [...this.#catalog.entries()].filter((e) => e.location === "local");
    const small = this.#options.segmentBytes / 8;
    const candidates = [
      local.filter((e) => e.level === 0),
      local.filter((e) => e.level === 1 && e.rawBytes < small),
    ];
    const groups: CatalogEntry[][] = [];
    for (const entries of candidates) {
      if (entries.length < this.#options.minFiles) continue;
      entries.sort((a, b) => (a.minTs < b.minTs ? -1 : a.minTs > b.minTs ? 1 : a.id - b.id));
      let group: CatalogEntry[] = [];
      let bytes = 0;
      for (const e of entries) {
        if (bytes + e.rawBytes > this.#options.segmentBytes && group.length > 0) {
          groups.push(group);
          group = [];
          bytes = 0;
        }
        group.push(e);
        bytes += e.rawBytes;
      }
      // A lone small segment has nothing to merge with.
      if (group.length > 1 || group[0]?.level === 0) groups.push(group);
    }
    return groups;
  }

  async #pass(): Promise<number> {
    const groups = this.#groups();
    if (groups.length === 0) return 0;
    const backlog = groups.flat().reduce((n, e) => n + e.rawBytes, 0);
    const zstdLevel = this.#options.zstdLevels.find((l) => backlog <= l.upTo)!.level;
    // A worker per pass: its heap is gone between passes.
    const pool = this.#pool = new WorkerPool(new URL("./compact_worker.ts", import.meta.url), 1);
    let merged: number;
    try {
      merged = await this.#merge(groups, pool, zstdLevel);
    } finally {
      pool.terminate();
      this.#pool = undefined;
    }
    return merged;
  }

  async #merge(
    groups: CatalogEntry[][],
    pool: WorkerPool<CompactJob, SegmentInfo>,
    zstdLevel: number,
  ): Promise<number> {
    let merged = 0;
    for (const sources of groups) {
      if (this.#stopped) break;
      let info: SegmentInfo;
      try {
        info = await pool.run({
          dir: this.#catalog.dir,
          sources: sources.map((s) => s.name),
          name: segmentName(1),
          zstdLevel,
          blockBytes: this.#options.blockBytes,
        });
      } catch (error) {
        // A source quarantined meanwhile (moved away under the worker): the
        // next pass regroups without it.
        if (sources.some((s) => !this.#catalog.has(s))) continue;
        // A damaged source would fail every pass: it goes to the quarantine,
        // and its unit waits for a later pass.
        const damage = parseSegmentFormatError((error as Error).message);
        const source = damage && sources.find((s) => s.name === basename(damage.file));
        if (!source || !this.#quarantine) throw error;
        this.#quarantine.report(source, damage.reason);
        continue;
      }
      this.#catalog.replace(sources, info);
      for (const s of sources) {
        // Queries that planned with a source finish reading it first.
        await this.#catalog.whenUnused(s);
        this.#cache?.evict(s.name);
        await Deno.remove(join(this.#catalog.dir, s.name)).catch((e) => {
          if (!(e instanceof Deno.errors.NotFound)) throw e;
        });
      }
      merged += sources.length;
    }
    return merged;
  }

  /**
   * Stops: no new pass or merge starts, and a merge under way is abandoned
   * (its temporary file is removed at the next start; its sources stay).
   */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearInterval(this.#timer);
    this.#pool?.terminate();
    await this.#running?.catch(() => {});
  }
}
