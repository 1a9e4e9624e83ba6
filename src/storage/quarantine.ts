/**
 * Damaged segment files are moved aside, never deleted (an operator may still
 * want the bytes): into `<data>/quarantine/`, under their own name. Their
 * catalog row goes, and when the index is still readable the blocks that
 * still decode are salvaged into a new segment that takes the row's place.
 *
 * Blocks are verified only when a read fails (a query or a compaction pass):
 * at start {@linkcode Catalog.open} runs only the cheap checks (size, footer,
 * index checksum), since reading every block of a large folder would hold up
 * the start for minutes.
 *
 * @module
 */

import { log } from "../log.ts";
import { join } from "node:path";
import type { Catalog, CatalogEntry } from "./catalog.ts";
import type { SalvageJob, SalvageResult } from "./salvage_worker.ts";
import type { SegmentCache } from "./segment_cache.ts";
import { mergePartOf, partitionedName, segmentName } from "./segment_name.ts";
import { COMPRESSION_LEVELS } from "./segment_format.ts";
import { syncDir } from "./durable_file.ts";
import { WorkerPool } from "./worker_pool.ts";

/** The folder, inside the data folder, that damaged files are moved into. */
export const QUARANTINE_DIR = "quarantine";

/**
 * Moves `dir/name` into the quarantine folder, durably (both directories
 * fsynced), and returns its new path. A file of the same name already there
 * (quarantined before) is kept: the newcomer gets a time suffix.
 */
export async function moveToQuarantine(dir: string, name: string): Promise<string> {
  const aside = join(dir, QUARANTINE_DIR);
  await Deno.mkdir(aside, { recursive: true });
  let target = join(aside, name);
  try {
    await Deno.lstat(target);
    target = `${target}.${Date.now()}`;
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  await Deno.rename(join(dir, name), target);
  syncDir(aside);
  syncDir(dir);
  return target;
}

/** Figures of `/api/v1/stats`. */
export interface QuarantineStats {
  /** Damaged files moved into the quarantine folder since start (start-up checks included). */
  quarantined_files: number;
  /** Lines of intact blocks rewritten into salvage segments. */
  salvaged_lines: number;
  /** Blocks of damaged files that could not be read (unknown for an unreadable index). */
  lost_blocks: number;
  /** Lines of damaged files that could not be salvaged (as far as known: a file without a catalog row has no count). */
  lost_lines: number;
}

// Salvage is rare and salvaged segments small: speed over ratio (compaction
// recompresses level-0 output anyway).
const SALVAGE_ZSTD_LEVEL = COMPRESSION_LEVELS.default;

/**
 * A fresh name for the salvage of `entry`. A merge's segment keeps its
 * partition, as a merge of its own: the salvage holds lines of that partition
 * only (see `held_lines.ts`).
 */
function salvageNameOf(entry: CatalogEntry): string {
  const name = segmentName(entry.level);
  const part = mergePartOf(entry.name);
  if (part === undefined) return name;
  const period = part.to - part.from;
  return partitionedName(name, part.from / period, period, 1);
}

/**
 * Handles segment files found damaged while serving: verifies each reported
 * file once, on a worker, off the request path, then quarantines it and
 * catalogs what could be salvaged.
 *
 * @example
 * ```ts
 * import { Quarantine } from "./quarantine.ts";
 * import { BlockBuilder } from "./block_codec.ts";
 * import { Catalog } from "./catalog.ts";
 * import { SegmentCache } from "./segment_cache.ts";
 * import { SegmentWriter } from "./segment_writer.ts";
 * import { setLogSink } from "../log.ts";
 * import assert from "node:assert/strict";
 * const dir = await Deno.makeTempDir();
 * const catalog = await Catalog.open(dir);
 * const w = new SegmentWriter(dir, "l0-a-00000001.loge", { level: 0, zstdLevel: 3 });
 * for (const app of ["api", "web"]) {
 *   const b = new BlockBuilder();
 *   b.addString(1n, `hello from ${app}`);
 *   w.writeBlock(w.stream(`{"app":"${app}"}`), b);
 * }
 * const entry = catalog.add(w.finish([[1, 1]]));
 * const file = await Deno.open(`${dir}/${entry.name}`, { read: true, write: true });
 * await file.seek(12, Deno.SeekMode.Start); // inside the first block's frame
 * await file.write(new Uint8Array([0xff, 0xff, 0xff, 0xff]));
 * file.close();
 * const restore = setLogSink(() => {});
 * const quarantine = new Quarantine(catalog, new SegmentCache(catalog.opener));
 * quarantine.report(entry, "block at 8 is corrupt");
 * await quarantine.close();
 * restore();
 * assert.equal(quarantine.stats.quarantined_files, 1);
 * assert.equal(quarantine.stats.salvaged_lines, 1); // the other block's line
 * assert.equal(quarantine.stats.lost_lines, 1);
 * catalog.close();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export class Quarantine {
  readonly stats: QuarantineStats;
  readonly #catalog: Catalog;
  readonly #cache: SegmentCache;
  /** Files being verified, by name: a file is handled once however often it is reported. */
  readonly #busy = new Map<string, Promise<void>>();

  /** Creates the handler; files quarantined by {@linkcode Catalog.open} are counted. */
  constructor(catalog: Catalog, cache: SegmentCache) {
    this.#catalog = catalog;
    this.#cache = cache;
    this.stats = {
      quarantined_files: catalog.quarantined.length,
      salvaged_lines: 0,
      lost_blocks: 0,
      lost_lines: catalog.quarantined.reduce((n, q) => n + q.rows, 0),
    };
  }

  /**
   * Reports that reading `entry` failed for `reason`; the file is verified and,
   * when damaged, quarantined and salvaged in the background.
   */
  report(entry: CatalogEntry, reason: string): void {
    if (this.#busy.has(entry.name) || !this.#catalog.has(entry)) return;
    this.#busy.set(
      entry.name,
      this.#handle(entry, reason)
        .catch((error) => log(`quarantine of ${entry.name} failed: ${(error as Error).message}`))
        .finally(() => this.#busy.delete(entry.name)),
    );
  }

  async #handle(entry: CatalogEntry, reason: string): Promise<void> {
    const dir = this.#catalog.dir;
    // A worker per file: salvage decompresses and recompresses every block.
    const pool = new WorkerPool<SalvageJob, SalvageResult>(
      new URL("./salvage_worker.ts", import.meta.url),
      1,
    );
    let result: SalvageResult;
    try {
      result = await pool.run({
        dir,
        name: entry.name,
        salvageName: salvageNameOf(entry),
        zstdLevel: SALVAGE_ZSTD_LEVEL,
      });
    } finally {
      pool.terminate();
    }
    if (result.damage === undefined) {
      log(
        `segment ${entry.name} failed a read (${reason}) but every block reads back intact; kept`,
      );
      return;
    }
    if (!this.#catalog.has(entry)) {
      // Replaced meanwhile (compacted away): its salvage is not needed.
      if (result.info) await Deno.remove(join(dir, result.info.name));
      return;
    }
    // The salvage carries the damaged file's WAL sequences (see salvage_worker.ts),
    // not every line: an upload of the damaged file may be their one intact copy.
    if (result.info) this.#catalog.replace([entry], [result.info], { salvage: true });
    else this.#catalog.remove([entry]);
    // Queries that planned with the file finish reading it first.
    await this.#catalog.whenUnused(entry);
    this.#cache.evict(entry.name);
    const aside = await moveToQuarantine(dir, entry.name);
    const lostLines = result.lostLines ?? entry.rows;
    this.stats.quarantined_files++;
    this.stats.salvaged_lines += result.info?.rows ?? 0;
    this.stats.lost_blocks += result.lostBlocks ?? 0;
    this.stats.lost_lines += lostLines;
    log(
      `segment ${entry.name} is damaged (${result.damage}); moved to ${aside}; ` +
        (result.info
          ? `${result.info.rows} lines salvaged into ${result.info.name}, ` +
            `${lostLines} lines of ${result.lostBlocks} damaged blocks lost`
          : result.lostBlocks === undefined
          ? `index unreadable: its ${lostLines} lines are lost unless the write-ahead log still holds them`
          : `no block readable: its ${lostLines} lines are lost unless the write-ahead log still holds them`),
    );
  }

  /** Waits for the verifications under way. */
  async close(): Promise<void> {
    await Promise.all(this.#busy.values());
  }
}
