/**
 * What a loge data folder holds on disk: every file's size, grouped by kind.
 *
 * Kinds follow the server's layout: `l0-*.loge` flush files, `l1-*.loge` compacted segments,
 * `catalog.sqlite*` (with its `-wal` and `-shm`), the write-ahead log under `wal/`, and anything
 * else.
 *
 * @module
 */

import { join, relative } from "node:path";

/** Bytes on disk of a data folder, by kind of file. Sizes are file lengths, not blocks. */
export interface DataDirUsage {
  /** Sum of every file below the folder. */
  totalBytes: number;
  /** Number of files. */
  files: number;
  /** `l1-*.loge`: compacted segments. */
  segmentBytes: number;
  /** Number of `l1-*.loge` files. */
  segments: number;
  /** `l0-*.loge`: flush files not yet compacted. */
  flushBytes: number;
  /** Number of `l0-*.loge` files. */
  flushFiles: number;
  /** `catalog.sqlite` and its `-wal`/`-shm` companions. */
  catalogBytes: number;
  /** Files under `wal/`. */
  walBytes: number;
  /** Everything else. */
  otherBytes: number;
}

/** The kind of a file, from its path relative to the data folder. */
export type FileKind = "segment" | "flush" | "catalog" | "wal" | "other";

/**
 * Classifies a file by its path relative to the data folder.
 *
 * @example
 * ```ts
 * import { fileKind } from "./data_dir.ts";
 * console.log(fileKind("l1-0001.loge"), fileKind("wal/00000001.wal")); // segment wal
 * ```
 */
export function fileKind(relativePath: string): FileKind {
  const parts = relativePath.split("/");
  const name = parts[parts.length - 1];
  if (parts[0] === "wal") return "wal";
  if (parts.length === 1 && /^l1-.*\.loge$/.test(name)) return "segment";
  if (parts.length === 1 && /^l0-.*\.loge$/.test(name)) return "flush";
  if (parts.length === 1 && /^catalog\.sqlite(-wal|-shm|-journal)?$/.test(name)) return "catalog";
  return "other";
}

/**
 * Adds up every file below `dir`, by kind. Files that vanish while walking (a compaction deleting
 * its sources) are skipped.
 *
 * @example
 * ```ts ignore
 * import { dataDirUsage } from "./data_dir.ts";
 * const usage = await dataDirUsage("/tmp/loge-data");
 * console.log(usage.totalBytes, usage.flushFiles);
 * ```
 */
export async function dataDirUsage(dir: string): Promise<DataDirUsage> {
  const usage: DataDirUsage = {
    totalBytes: 0,
    files: 0,
    segmentBytes: 0,
    segments: 0,
    flushBytes: 0,
    flushFiles: 0,
    catalogBytes: 0,
    walBytes: 0,
    otherBytes: 0,
  };
  const walk = async (at: string): Promise<void> => {
    let entries: Deno.DirEntry[];
    try {
      entries = await Array.fromAsync(Deno.readDir(at));
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) return;
      throw err;
    }
    for (const entry of entries) {
      const path = join(at, entry.name);
      if (entry.isDirectory) {
        await walk(path);
        continue;
      }
      let size: number;
      try {
        size = (await Deno.lstat(path)).size;
      } catch (err) {
        if (err instanceof Deno.errors.NotFound) continue;
        throw err;
      }
      usage.totalBytes += size;
      usage.files++;
      switch (fileKind(relative(dir, path))) {
        case "segment":
          usage.segmentBytes += size;
          usage.segments++;
          break;
        case "flush":
          usage.flushBytes += size;
          usage.flushFiles++;
          break;
        case "catalog":
          usage.catalogBytes += size;
          break;
        case "wal":
          usage.walBytes += size;
          break;
        case "other":
          usage.otherBytes += size;
          break;
      }
    }
  };
  await walk(dir);
  return usage;
}
