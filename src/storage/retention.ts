/**
 * Retention: whole segment files are deleted once every line they hold is
 * older than `--retention-age`, and, with `--retention-size`, the oldest
 * local ones while the data folder is over it, until it is under
 * `--retention-target`. Local files and the cold tier's objects alike.
 *
 * What must stay, stays: a file a query is reading is deleted once the query
 * is done (its row goes first, so no new query plans with it). The WAL
 * sequences of deleted files stay covered in the catalog (retired) while the
 * WAL may hold them, so a replay never brings their lines back. A compaction merging a deleted file
 * drops its merge (the compactor checks its sources are still cataloged).
 *
 * Retention works on whole files: a file that holds a line younger than the
 * age stays whole, so lines a little older than the age may be kept a while.
 *
 * @module
 */

import { join } from "node:path";
import { log } from "../log.ts";
import type { Catalog, CatalogEntry } from "./catalog.ts";
import type { SegmentCache } from "./segment_cache.ts";
import { LOCAL } from "./source/opener.ts";

/** What retention keeps. */
export interface RetentionOptions {
  /** Files whose lines are all older than this go, in ms; 0: no age limit. */
  ageMs: number;
  /** When local files take more than this many bytes, the oldest go; 0: no size limit. */
  sizeBytes: number;
  /** ...until they take at most this many (at most `sizeBytes`). */
  targetBytes: number;
  /** The lowest WAL sequence a replay could bring back: retired ones below it are forgotten. */
  walFloor: () => number;
  /** Deletes a file of the cold tier (its object); absent without a tier. */
  deleteRemote?: (entry: CatalogEntry) => Promise<void>;
}

/** What retention deleted since start, for `/api/v1/stats`. */
export interface RetentionCounters {
  files_deleted: number;
  bytes_deleted: number;
  lines_deleted: number;
}

/**
 * Deletes what the options say is expired, from `catalog` and its folder.
 *
 * @example
 * ```ts ignore
 * const retention = new Retention(catalog, cache, { ageMs: 30 * 86_400_000, sizeBytes: 0, targetBytes: 0, walFloor: () => Infinity });
 * await retention.run(); // every minute, from the server
 * ```
 */
export class Retention {
  readonly counters: RetentionCounters = {
    files_deleted: 0,
    bytes_deleted: 0,
    lines_deleted: 0,
  };
  readonly #catalog: Catalog;
  readonly #cache: SegmentCache;
  readonly #o: RetentionOptions;

  constructor(catalog: Catalog, cache: SegmentCache, options: RetentionOptions) {
    this.#catalog = catalog;
    this.#cache = cache;
    this.#o = options;
  }

  /** The files due now: expired by age, then the oldest local ones over the size. */
  due(nowMs = Date.now()): CatalogEntry[] {
    const { ageMs, sizeBytes, targetBytes } = this.#o;
    const entries = [...this.#catalog.entries()];
    const due = new Set<CatalogEntry>();
    if (ageMs > 0) {
      const cutoff = BigInt(nowMs - ageMs) * 1_000_000n;
      for (const e of entries) if (e.maxTs < cutoff) due.add(e);
    }
    if (sizeBytes > 0) {
      const local = entries.filter((e) => e.location === LOCAL);
      let bytes = local.reduce((n, e) => n + e.bytes, 0);
      if (bytes > sizeBytes) {
        for (
          const e of local.sort((a, b) => (a.maxTs < b.maxTs ? -1 : a.maxTs > b.maxTs ? 1 : 0))
        ) {
          if (bytes <= Math.min(targetBytes, sizeBytes)) break;
          due.add(e);
          bytes -= e.bytes;
        }
      }
    }
    return [...due];
  }

  /** Deletes the files due now; resolves once they are gone. */
  async run(nowMs = Date.now()): Promise<number> {
    this.#catalog.pruneRetired(this.#o.walFloor());
    const due = this.due(nowMs);
    if (due.length === 0) return 0;
    // Rows first: no query plans with them from now on.
    this.#catalog.retire(due);
    for (const e of due) {
      await this.#catalog.whenUnused(e);
      this.#cache.evict(e.name);
      if (e.location === LOCAL) {
        await Deno.remove(join(this.#catalog.dir, e.name)).catch((error) => {
          if (!(error instanceof Deno.errors.NotFound)) throw error;
        });
      } else await this.#o.deleteRemote?.(e);
      this.counters.files_deleted++;
      this.counters.bytes_deleted += e.bytes;
      this.counters.lines_deleted += e.rows;
    }
    const bytes = due.reduce((n, e) => n + e.bytes, 0);
    const rows = due.reduce((n, e) => n + e.rows, 0);
    log(`retention: deleted ${due.length} files (${rows} lines, ${bytes} bytes)`);
    return due.length;
  }
}
