/**
 * The catalog (`catalog.sqlite`, WAL mode): one row per segment file with its
 * time bounds, rows, bytes, streams, label keys, WAL sequences and content
 * filter. The query planner prunes with it before opening any file. It is
 * mirrored in memory, and rebuilt from the files themselves when it is missing
 * or corrupt.
 *
 * @module
 */

import { log } from "../log.ts";
import { DatabaseSync, type StatementSync } from "node:sqlite";
import { join } from "node:path";
import {
  FOOTER_SIZE,
  HEADER_SIZE,
  SEGMENT_SUFFIX,
  SegmentFormatError,
  type SegmentInfo,
} from "./segment_format.ts";
import { mergePartOf, segmentLevel } from "./segment_name.ts";
import { FileFilterCache } from "./file_filter_cache.ts";
import { HeldLines } from "./held_lines.ts";
import { moveToQuarantine } from "./quarantine.ts";
import { readIndexBytes, readSegmentIndex } from "./segment_reader.ts";
import { mergeRanges, type SeqRanges, SeqSet } from "./seq_ranges.ts";
import { LOCAL, SourceOpener } from "./source/opener.ts";

/** The catalog file name inside the data folder. */
export const CATALOG_FILE = "catalog.sqlite";
/**
 * Version 2 added remote rows: `indexed` (rows found by listing a bucket lack
 * streams); version 3 the zstd level of each file, `zstd_level`; version 4
 * whether its filter holds metadata terms, `filter_covers_metadata`; version
 * 5 file filters that are binary fuse filters (`fuse_filter.ts`), which a
 * build before would take for Bloom filters and so prune files wrongly: it
 * rebuilds the catalog instead, as for any newer version.
 */
const CATALOG_VERSION = 5;

/** A stream: its canonical label JSON and the parsed labels. */
export interface StreamLabels {
  readonly key: string;
  readonly labels: Readonly<Record<string, string>>;
}

/** An upload of a local file not flipped to its remote row ({@linkcode Catalog.unflippedUploads}). */
export interface UnflippedUpload {
  /** The local file uploaded. */
  readonly local: string;
  /** When the upload was noted, in ms since 1970: it started right after. */
  readonly notedMs: number;
  /**
   * Whether its lines are known to be held elsewhere or deleted on purpose:
   * a merge or retention dropped the local file's row, or another upload of
   * the file was flipped.
   */
  readonly superseded: boolean;
  /**
   * Whether a listing found the object, rather than an upload noting it
   * ({@linkcode Catalog.noteFound}): it may be a flipped copy whose local
   * file came back (a rebuilt catalog, a restored backup), so only a merge
   * or a flip of the file supersedes it; retention and a held removal forget
   * it, and the object is cataloged.
   */
  readonly found: boolean;
}

/** A catalog row, as mirrored in memory. */
export interface CatalogEntry extends Omit<SegmentInfo, "streams" | "filter"> {
  readonly id: number;
  /** The streams of the file; empty until known when {@linkcode indexed} is false. */
  readonly streams: readonly StreamLabels[];
  /**
   * Where the file lives: {@linkcode LOCAL} (the data folder) or a remote
   * tier, where {@linkcode name} is the object's key below the tier's prefix.
   */
  readonly location: string;
  /**
   * Whether {@linkcode streams} is known. A remote row rebuilt from a bucket
   * listing knows only what the key says (level, time bounds, rows) until a
   * query first opens the file's index.
   */
  readonly indexed: boolean;
  /** Whether its filter (see {@linkcode Catalog.filterOf}) holds metadata terms too. */
  readonly filterCoversMetadata: boolean;
}

/** A remote file found by listing its tier, before its index is read. */
export interface RemoteFile {
  /** The object's key below the tier's prefix. */
  readonly name: string;
  readonly level: number;
  readonly minTs: bigint;
  readonly maxTs: bigint;
  readonly rows: number;
  readonly rawBytes: number;
  readonly bytes: number;
}

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value ANY) STRICT;
  CREATE TABLE IF NOT EXISTS streams (id INTEGER PRIMARY KEY, labels TEXT UNIQUE NOT NULL) STRICT;
  CREATE TABLE IF NOT EXISTS files (
    id INTEGER PRIMARY KEY, name TEXT UNIQUE NOT NULL, level INTEGER NOT NULL,
    location TEXT NOT NULL DEFAULT 'local',
    min_ts INTEGER NOT NULL, max_ts INTEGER NOT NULL, rows INTEGER NOT NULL,
    bytes INTEGER NOT NULL, raw_bytes INTEGER NOT NULL, seqs TEXT NOT NULL,
    label_keys TEXT NOT NULL, stream_ids BLOB NOT NULL, filter BLOB NOT NULL,
    indexed INTEGER NOT NULL DEFAULT 1, zstd_level INTEGER,
    filter_covers_metadata INTEGER NOT NULL DEFAULT 0
  ) STRICT;
  CREATE INDEX IF NOT EXISTS files_time ON files (min_ts, max_ts);
`;

/** Changes from each older catalog version to the next, run in order at open. */
const MIGRATIONS: Readonly<Record<number, string>> = {
  1: "ALTER TABLE files ADD COLUMN indexed INTEGER NOT NULL DEFAULT 1",
  2: "ALTER TABLE files ADD COLUMN zstd_level INTEGER",
  3: "ALTER TABLE files ADD COLUMN filter_covers_metadata INTEGER NOT NULL DEFAULT 0",
  // Bloom file filters stay readable: the column is unchanged.
  4: "SELECT 1",
};

/** A file's count of WAL sequences. */
function seqCount(file: { seqs: SeqRanges }): number {
  return file.seqs.reduce((n, [a, b]) => n + b - a + 1, 0);
}

/** A file judged held or not: a row, or a file found without one (local). */
interface Judged {
  seqs: SeqRanges;
  level: number;
  name: string;
  location?: string;
}

/**
 * The order in which files are judged held by the ones before them: more
 * sequences first (a merge's output supersedes its sources, and what is left
 * of the sources is then found held), a cold copy before a local one (the
 * local one is then the one dropped), higher levels, then by name.
 */
function supersedingFirst(a: Judged, b: Judged): number {
  const local = (f: Judged) => f.location === undefined || f.location === LOCAL ? 1 : 0;
  return seqCount(b) - seqCount(a) || local(a) - local(b) || b.level - a.level ||
    a.name.localeCompare(b.name);
}

/**
 * The catalog of segment files in a data folder.
 *
 * @example
 * ```ts
 * import { Catalog } from "./catalog.ts";
 * import { BlockBuilder } from "./block_codec.ts";
 * import { SegmentWriter } from "./segment_writer.ts";
 * import assert from "node:assert/strict";
 * const dir = await Deno.makeTempDir();
 * const catalog = await Catalog.open(dir);
 * const w = new SegmentWriter(dir, "l0-a-00000001.loge", { level: 0, zstdLevel: 3 });
 * const b = new BlockBuilder();
 * b.addString(1n, "hello");
 * w.writeBlock(w.stream('{"app":"web"}'), b);
 * catalog.add(w.finish([[1, 1]]));
 * catalog.close();
 * const again = await Catalog.open(dir); // the entry outlives the process
 * assert.deepEqual([...again.entries()].map((e) => [e.name, e.rows]), [["l0-a-00000001.loge", 1]]);
 * assert.equal(again.covered.has(1), true);
 * again.close();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export class Catalog {
  readonly dir: string;
  /** Opens the files of this catalog's entries (and of files found in {@linkcode dir}). */
  readonly opener: SourceOpener;
  readonly #db: DatabaseSync;
  readonly #entries = new Map<number, CatalogEntry>();
  /** Bumped by every change of {@linkcode Catalog.#entries}, for cached counts. */
  #version = 0;
  #backlogAt = -1;
  #backlog = { files: 0, rawBytes: 0 };
  readonly #streams = new Map<string, { id: number; stream: StreamLabels }>();
  readonly #streamsById = new Map<number, StreamLabels>();
  readonly #filters = new FileFilterCache();
  /** Streams seen in memory before any file holds them. */
  readonly #uncataloged = new Map<string, StreamLabels>();
  #covered = new SeqSet();
  /**
   * WAL sequences of files deleted on purpose (retention): covered as if
   * still stored, so that a replay never brings their lines back, until the
   * WAL holds them no more ({@linkcode Catalog.pruneRetired}).
   */
  #retired: SeqRanges = [];
  #rebuilt = false;
  #coldSequencesUnknown = false;
  /** The highest row id that {@linkcode awaitsListing} may hold (0: none). */
  #unlistedUpTo = 0;
  #seqFloor = 0;
  #unflipped: ReadonlyMap<string, UnflippedUpload> = new Map();
  readonly #leases = new Map<number, number>();
  readonly #unused = new Map<number, (() => void)[]>();
  readonly #added: ((entries: readonly CatalogEntry[]) => void)[] = [];
  /**
   * Damaged files moved into the quarantine folder by {@linkcode Catalog.open},
   * with the lines their rows counted (0 for files without a row).
   */
  readonly quarantined: { name: string; rows: number }[] = [];

  /** Statements run per flush or per query, prepared once. */
  readonly #sql: {
    insertFile: StatementSync;
    deleteFile: StatementSync;
    insertStream: StatementSync;
    fileFilter: StatementSync;
    moveFile: StatementSync;
    insertRemote: StatementSync;
    setStreams: StatementSync;
    setSeqs: StatementSync;
    setRetired: StatementSync;
  };

  /**
   * Whether the catalog was started afresh (none was there, or it was
   * damaged and set aside) and has not met a cold tier since
   * ({@linkcode markRebuiltBesideTier}). Its rows were then made from the
   * local files, which do not say which pushes the node's files in a cold
   * tier hold, nor which of them were uploaded. Stamped in the commit that
   * creates the catalog, so a rebuild cut short still says so.
   */
  get rebuilt(): boolean {
    return this.#rebuilt;
  }

  private constructor(dir: string, db: DatabaseSync) {
    this.dir = dir;
    this.opener = new SourceOpener(dir);
    this.#db = db;
    this.#sql = {
      insertFile: db.prepare(
        `INSERT INTO files (name, level, min_ts, max_ts, rows, bytes, raw_bytes, seqs, label_keys, stream_ids, filter, zstd_level, filter_covers_metadata)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      deleteFile: db.prepare("DELETE FROM files WHERE id = ?"),
      insertStream: db.prepare("INSERT INTO streams (labels) VALUES (?)"),
      fileFilter: db.prepare("SELECT filter FROM files WHERE id = ?"),
      moveFile: db.prepare("UPDATE files SET name = ?, location = ? WHERE id = ?"),
      insertRemote: db.prepare(
        `INSERT INTO files (name, level, location, min_ts, max_ts, rows, bytes, raw_bytes, seqs, label_keys, stream_ids, filter, indexed)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, '[]', '[]', x'', x'', 0)`,
      ),
      setStreams: db.prepare(
        "UPDATE files SET stream_ids = ?, label_keys = ?, indexed = 1 WHERE id = ?",
      ),
      setSeqs: db.prepare("UPDATE files SET seqs = ? WHERE id = ?"),
      setRetired: db.prepare("INSERT OR REPLACE INTO meta VALUES ('retired', ?)"),
    };
  }

  /**
   * Opens the catalog of `dir`, creating or rebuilding it as needed, and
   * reconciles it with the segment files present (see {@linkcode reconcile}).
   * A catalog whose rows do not make sense (see {@linkcode load}) or that
   * SQLite finds malformed while loading is set aside and rebuilt from the
   * files, like an unreadable one.
   */
  static async open(dir: string): Promise<Catalog> {
    await Deno.mkdir(dir, { recursive: true });
    const path = join(dir, CATALOG_FILE);
    const catalog = new Catalog(dir, openDatabase(path));
    try {
      catalog.#load();
      await catalog.#reconcile();
      return catalog;
    } catch (error) {
      catalog.#db.close();
      if (!(error instanceof CatalogRowError) && !isSqliteCorruption(error)) throw error;
      setAside(path, (error as Error).message);
    }
    const rebuilt = new Catalog(dir, openDatabase(path));
    rebuilt.quarantined.push(...catalog.quarantined);
    rebuilt.#load();
    await rebuilt.#reconcile();
    return rebuilt;
  }

  /**
   * Mirrors the rows in memory, checking that each makes sense: SQLite's
   * checks see pages, not meaning.
   *
   * @throws {CatalogRowError} naming the first row that does not.
   */
  #load(): void {
    for (const r of this.#db.prepare("SELECT id, labels FROM streams").all()) {
      const labels = r.labels as string;
      if (!isLabelJson(labels)) throw new CatalogRowError(`streams row ${r.id}`, "bad labels");
      this.#internStream(labels, r.id as number);
    }
    const rows = this.#db.prepare(
      "SELECT id, name, level, location, min_ts, max_ts, rows, bytes, raw_bytes, seqs, stream_ids, indexed, zstd_level, filter_covers_metadata FROM files",
    );
    rows.setReadBigInts(true);
    for (const r of rows.all()) {
      const entry = this.#entryOf(r);
      this.#entries.set(entry.id, entry);
      this.#version++;
      this.#covered.addRanges(entry.seqs);
    }
    this.#rebuilt = this.#meta("rebuilt") === 1;
    this.#coldSequencesUnknown = this.#meta("cold_seqs_unknown") === 1;
    const unlisted = this.#meta("unlisted_up_to") ?? 0;
    if (!(typeof unlisted === "number" && Number.isSafeInteger(unlisted) && unlisted >= 0)) {
      throw new CatalogRowError("meta row unlisted_up_to", "not a row id");
    }
    this.#unlistedUpTo = unlisted;
    const floor = this.#meta("seq_floor") ?? 0;
    if (!(typeof floor === "number" && Number.isSafeInteger(floor) && floor >= 0)) {
      throw new CatalogRowError("meta row seq_floor", "not a sequence");
    }
    this.#seqFloor = floor;
    const unflipped = this.#meta("unflipped_uploads");
    if (unflipped !== undefined) {
      let rows: unknown;
      try {
        rows = JSON.parse(unflipped as string);
      } catch { /* named below */ }
      // Rows of three (before `notedMs`) were noted long enough ago: 0; of four, not found.
      const isRow = (r: unknown): r is [string, string, 0 | 1, number?, (0 | 1)?] =>
        Array.isArray(r) && r.length >= 3 && r.length <= 5 && typeof r[0] === "string" &&
        r[0] !== "" && typeof r[1] === "string" && r[1] !== "" && (r[2] === 0 || r[2] === 1) &&
        (r.length === 3 || (Number.isSafeInteger(r[3]) && r[3] >= 0)) &&
        (r.length < 5 || r[4] === 0 || r[4] === 1);
      if (!Array.isArray(rows) || !rows.every(isRow)) {
        throw new CatalogRowError("meta row unflipped_uploads", "not a list of uploads");
      }
      this.#unflipped = new Map(
        rows.map((
          [local, remote, superseded, notedMs = 0, found = 0],
        ) => [remote, { local, superseded: superseded === 1, notedMs, found: found === 1 }]),
      );
    }
    const retired = this.#meta("retired");
    if (retired !== undefined) {
      const seqs = parseSeqs(retired as string);
      if (!seqs) throw new CatalogRowError("meta row retired", "bad seqs");
      this.#retired = seqs;
      this.#covered.addRanges(seqs);
    }
  }

  #entryOf(r: Record<string, unknown>): CatalogEntry {
    const row = `files row ${r.id}`;
    const bad = (what: string) => new CatalogRowError(row, what);
    const count = (v: unknown, what: string, min = 0) => {
      if (typeof v !== "bigint" || v < min || v > Number.MAX_SAFE_INTEGER) throw bad(`bad ${what}`);
      return Number(v);
    };
    const name = r.name as string;
    const level = count(r.level, "level");
    const location = r.location as string;
    if (location === "") throw bad("empty location");
    // A remote name is the object's key below its tier's prefix (the tier's own format).
    const named = location === LOCAL
      ? segmentLevel(name) === level
      : name.includes("/") && name.endsWith(SEGMENT_SUFFIX);
    if (!named) throw bad(`bad file name ${JSON.stringify(name)}`);
    const indexed = r.indexed !== 0n;
    if (!indexed && location === LOCAL) throw bad("a local file without streams");
    const minTs = r.min_ts as bigint;
    const maxTs = r.max_ts as bigint;
    if (minTs > maxTs) throw bad("min_ts above max_ts");
    const seqs = parseSeqs(r.seqs as string);
    if (!seqs) throw bad("seqs are not sorted, disjoint ranges of positive integers");
    const idBytes = r.stream_ids as Uint8Array;
    if ((indexed && idBytes.length === 0) || idBytes.length % 4 !== 0) {
      throw bad("bad stream_ids");
    }
    const streams = [...new Uint32Array(idBytes.slice().buffer)].map((id) => {
      const stream = this.#streamsById.get(id);
      if (!stream) throw bad(`unknown stream id ${id}`);
      return stream;
    });
    return {
      id: Number(r.id),
      name,
      level,
      location,
      minTs,
      maxTs,
      rows: count(r.rows, "rows", 1),
      bytes: count(r.bytes, "bytes", HEADER_SIZE + FOOTER_SIZE),
      rawBytes: count(r.raw_bytes, "raw_bytes"),
      ...(r.zstd_level === null ? {} : { zstdLevel: count(r.zstd_level, "zstd_level") }),
      seqs,
      streams,
      indexed,
      filterCoversMetadata: r.filter_covers_metadata === 1n,
    };
  }

  /**
   * Makes the catalog agree with the files: a row whose file is gone is
   * dropped; a file without a row is added, unless every WAL sequence it holds
   * is already held by cataloged files (a compaction's leftover source or
   * unfinished output), in which case it is deleted so no line shows twice.
   * Temporary files of interrupted writes are deleted. A cataloged file whose
   * size differs from its row's or whose footer or index checksum fails, and
   * a file without a row whose index is unreadable, are damaged: they are
   * moved into the quarantine folder (their blocks are verified only when a
   * read fails: reading every block here would slow the start of large
   * folders). Files not named like segments are left alone.
   */
  async #reconcile(): Promise<void> {
    const present = new Set<string>();
    for await (const e of Deno.readDir(this.dir)) {
      if (!e.isFile) continue;
      if (e.name.endsWith(`${SEGMENT_SUFFIX}.tmp`)) await Deno.remove(join(this.dir, e.name));
      else if (segmentLevel(e.name) !== undefined) present.add(e.name);
    }
    const gone: CatalogEntry[] = [];
    for (const entry of this.#entries.values()) {
      if (entry.location !== LOCAL) continue;
      if (!present.delete(entry.name)) {
        log(`catalog row for missing file ${entry.name} dropped`);
        gone.push(entry);
        continue;
      }
      const damage = await this.#damageOf(entry);
      if (damage !== undefined) {
        await this.#quarantine(entry.name, entry.rows, damage);
        gone.push(entry);
      }
    }
    if (gone.length > 0) this.remove(gone);
    const orphans: SegmentInfo[] = [];
    for (const name of present) {
      const source = await this.opener.open({ name, location: LOCAL });
      let damage: string | undefined;
      try {
        const index = await readSegmentIndex(source);
        // The file filter lives in the catalog alone; a rebuilt row goes without
        // (block filters still prune once the file is open).
        orphans.push({
          ...index,
          name,
          bytes: source.size,
          streams: [...index.streams],
          filter: new Uint8Array(),
        });
      } catch (error) {
        if (!(error instanceof SegmentFormatError)) throw error;
        damage = error.reason;
      } finally {
        await source.close();
      }
      if (damage !== undefined) await this.#quarantine(name, 0, damage);
    }
    orphans.sort(supersedingFirst);
    const held = new HeldLines();
    for (const e of this.#entries.values()) held.add(e.seqs, mergePartOf(e.name));
    held.add(this.#retired);
    for (const info of orphans) {
      if (info.seqs.length > 0 && held.holds(info.seqs, info.minTs, info.maxTs)) {
        await Deno.remove(join(this.dir, info.name));
      } else {
        this.add(info);
        held.add(info.seqs, mergePartOf(info.name));
      }
    }
  }

  /** Why the local file of `entry` is damaged, by the cheap checks; `undefined` when sound. */
  async #damageOf(entry: CatalogEntry): Promise<string | undefined> {
    const source = await this.opener.open(entry);
    try {
      if (source.size !== entry.bytes) {
        return `${source.size} bytes where the catalog says ${entry.bytes}`;
      }
      await readIndexBytes(source);
      return undefined;
    } catch (error) {
      if (!(error instanceof SegmentFormatError)) throw error;
      return error.reason;
    } finally {
      await source.close();
    }
  }

  async #quarantine(name: string, rows: number, reason: string): Promise<void> {
    const aside = await moveToQuarantine(this.dir, name);
    this.quarantined.push({ name, rows });
    log(
      `segment ${name} is damaged (${reason}); moved to ${aside}, nothing salvaged ` +
        `(its lines are lost unless the write-ahead log still holds them)`,
    );
  }

  #internStream(key: string, id?: number): { id: number; stream: StreamLabels } {
    let known = this.#streams.get(key);
    if (!known) {
      if (id === undefined) {
        id = Number(
          this.#sql.insertStream.run(key).lastInsertRowid,
        );
      }
      const stream = this.#uncataloged.get(key) ?? { key, labels: JSON.parse(key) };
      this.#uncataloged.delete(key);
      known = { id, stream };
      this.#streams.set(key, known);
      this.#streamsById.set(id, known.stream);
    }
    return known;
  }

  /** The interned stream of canonical label JSON `key`, cataloged or not. */
  stream(key: string): StreamLabels {
    const known = this.#streams.get(key);
    if (known) return known.stream;
    let stream = this.#uncataloged.get(key);
    if (!stream) this.#uncataloged.set(key, stream = { key, labels: JSON.parse(key) });
    return stream;
  }

  /**
   * Flush files (level 0) in the local folder: the compaction backlog that
   * admission bounds.
   */
  get flushFiles(): number {
    return this.flushBacklog.files;
  }

  /** The flush files in the local folder and their raw bytes, counted again only after a change. */
  get flushBacklog(): { readonly files: number; readonly rawBytes: number } {
    if (this.#backlogAt !== this.#version) {
      let files = 0;
      let rawBytes = 0;
      for (const e of this.#entries.values()) {
        if (e.level !== 0 || e.location !== "local") continue;
        files++;
        rawBytes += e.rawBytes;
      }
      this.#backlog = { files, rawBytes };
      this.#backlogAt = this.#version;
    }
    return this.#backlog;
  }

  /** Every cataloged file. */
  entries(): IterableIterator<CatalogEntry> {
    return this.#entries.values();
  }

  /** Every WAL sequence held by a cataloged file. */
  get covered(): SeqSet {
    return this.#covered;
  }

  /** Whether `entry` is still cataloged (not replaced nor removed). */
  has(entry: CatalogEntry): boolean {
    return this.#entries.get(entry.id) === entry;
  }

  /**
   * Drops the rows of `entries` in one transaction; the WAL sequences only they
   * held are no longer covered. With `held` (other files hold all their
   * lines), their uploads are marked superseded ({@linkcode unflippedUploads})
   * and those found by a listing forgotten.
   */
  remove(entries: readonly CatalogEntry[], { held = false }: { held?: boolean } = {}): void {
    this.#dropRows(held ? entries : [], false, () => {
      for (const e of entries) this.#sql.deleteFile.run(e.id);
    });
    this.#forget(entries);
    this.#recover();
  }

  /** Recomputes the covered sequences: the files' and the retired ones. */
  #recover(): void {
    this.#covered = new SeqSet();
    for (const e of this.#entries.values()) this.#covered.addRanges(e.seqs);
    this.#covered.addRanges(this.#retired);
  }

  /**
   * Drops the rows of `entries`, whose files are being deleted on purpose
   * (retention), in one transaction with the record of their WAL sequences
   * as retired: still covered, so no replay brings their lines back, and a
   * file left by a crash before its deletion is deleted at the next start.
   * Their uploads are marked superseded, and those found by a listing
   * forgotten ({@linkcode UnflippedUpload.found}).
   */
  retire(entries: readonly CatalogEntry[]): void {
    const retired = mergeRanges([...this.#retired, ...entries.flatMap((e) => e.seqs)]);
    this.#dropRows(entries, false, () => {
      for (const e of entries) this.#sql.deleteFile.run(e.id);
      this.#sql.setRetired.run(JSON.stringify(retired));
    });
    this.#retired = retired;
    this.#forget(entries);
    this.#recover();
  }

  /** Forgets retired sequences below `floor`: the WAL holds none of them any more. */
  pruneRetired(floor: number): void {
    const kept = this.#retired.filter(([, last]) => last >= floor);
    if (kept.length === this.#retired.length) return;
    this.#sql.setRetired.run(JSON.stringify(kept));
    this.#retired = kept;
    this.#recover();
  }

  /** Records a new durable file. */
  add(info: SegmentInfo): CatalogEntry {
    return this.replace([], [info])[0];
  }

  /**
   * Atomically records `infos` (the segments of one merge, or one file) and
   * drops the rows of `sources` they replace, marking the uploads of those
   * superseded ({@linkcode unflippedUploads}) unless `salvage` says `infos`
   * may lack some of their lines. The in-memory mirror changes only once
   * the transaction has committed.
   */
  replace(
    sources: readonly CatalogEntry[],
    infos: readonly SegmentInfo[],
    { salvage = false }: { salvage?: boolean } = {},
  ): CatalogEntry[] {
    // Streams first, outside the transaction: a stream row without files is harmless.
    const streams = infos.map((info) => info.streams.map((key) => this.#internStream(key)));
    const { deleteFile, insertFile } = this.#sql;
    const ids: number[] = [];
    this.#dropRows(salvage ? [] : sources, true, () => {
      for (const e of sources) deleteFile.run(e.id);
      infos.forEach((info, i) => {
        ids.push(Number(
          insertFile.run(
            info.name,
            info.level,
            info.minTs,
            info.maxTs,
            info.rows,
            info.bytes,
            info.rawBytes,
            JSON.stringify(info.seqs),
            labelKeysJson(streams[i]),
            streamIdBytes(streams[i]),
            info.filter,
            info.zstdLevel ?? null,
            info.filterCoversMetadata ? 1 : 0,
          ).lastInsertRowid,
        ));
      });
    });
    this.#forget(sources);
    this.#version++;
    const added = infos.map((info, i) => {
      const entry: CatalogEntry = {
        id: ids[i],
        name: info.name,
        level: info.level,
        location: LOCAL,
        minTs: info.minTs,
        maxTs: info.maxTs,
        rows: info.rows,
        bytes: info.bytes,
        rawBytes: info.rawBytes,
        ...(info.zstdLevel === undefined ? {} : { zstdLevel: info.zstdLevel }),
        seqs: info.seqs,
        streams: streams[i].map((s) => s.stream),
        indexed: true,
        filterCoversMetadata: info.filterCoversMetadata === true,
      };
      this.#entries.set(entry.id, entry);
      this.#covered.addRanges(info.seqs);
      return entry;
    });
    for (const listener of this.#added) listener(added);
    return added;
  }

  /**
   * Calls `listener` with the entries of the local files each later flush or
   * merge records, once committed. It runs inside the recording call, so it
   * must not throw (the caller would take its commit for failed).
   */
  onAdded(listener: (entries: readonly CatalogEntry[]) => void): void {
    this.#added.push(listener);
  }

  /**
   * Records that the local file of `entry` now lives in the remote tier
   * `location` as `name`: the row keeps its id, streams, filter and WAL
   * sequences. In the same transaction its upload `name` leaves
   * {@linkcode unflippedUploads} and any other upload of the file (under a
   * former node id) is marked superseded: the row holds its lines now.
   * `undefined` when `entry` is no longer cataloged (a compaction replaced
   * it meanwhile), and nothing changes.
   */
  moveToRemote(entry: CatalogEntry, location: string, name: string): CatalogEntry | undefined {
    if (!this.has(entry)) return undefined;
    const unflipped = this.#supersededUploads([entry.name], true) ?? new Map(this.#unflipped);
    unflipped.delete(name);
    this.#transaction(false, () => {
      this.#sql.moveFile.run(name, location, entry.id);
      this.#writeUnflipped(unflipped);
    });
    this.#unflipped = unflipped;
    const moved: CatalogEntry = { ...entry, name, location };
    this.#entries.set(entry.id, moved);
    this.#version++;
    return moved;
  }

  /**
   * Adds rows for the files of remote tier `location` found by listing it,
   * whose streams are not known yet (see {@linkcode CatalogEntry.indexed});
   * files already cataloged are skipped. Their WAL sequences are not known
   * either, and need not be: they may be another node's.
   */
  addRemote(location: string, files: readonly RemoteFile[]): CatalogEntry[] {
    const known = new Set<string>();
    for (const e of this.#entries.values()) if (e.location === location) known.add(e.name);
    const added: CatalogEntry[] = [];
    this.#db.exec("BEGIN");
    try {
      for (const f of files) {
        if (known.has(f.name)) continue;
        known.add(f.name);
        const id = Number(
          this.#sql.insertRemote.run(
            f.name,
            f.level,
            location,
            f.minTs,
            f.maxTs,
            f.rows,
            f.bytes,
            f.rawBytes,
          ).lastInsertRowid,
        );
        added.push({
          id,
          ...f,
          location,
          seqs: [],
          streams: [],
          indexed: false,
          filterCoversMetadata: false,
        });
      }
      this.#db.exec("COMMIT");
    } catch (error) {
      this.#db.exec("ROLLBACK");
      throw error;
    }
    for (const e of added) this.#entries.set(e.id, e);
    this.#version++;
    return added;
  }

  #meta(key: string): unknown {
    return this.#db.prepare("SELECT value FROM meta WHERE key = ?").get(key)?.value;
  }

  #setMeta(key: string, value: number | string | undefined): void {
    if (value === undefined) this.#db.prepare("DELETE FROM meta WHERE key = ?").run(key);
    else this.#db.prepare("INSERT OR REPLACE INTO meta VALUES (?, ?)").run(key, value);
  }

  /**
   * Whether the WAL sequences that this node's files in a cold tier hold may
   * be unknown: set ({@linkcode markRebuiltBesideTier}) when a catalog
   * rebuilt from the folder meets a cold tier, cleared
   * ({@linkcode markColdSequencesKnown}) once a start has read them from the
   * index of every such file. Kept across restarts: until then, new pushes
   * take sequences from {@linkcode seqFloor} up, so none reuses one of those
   * files', and only a start learns theirs.
   */
  get coldSequencesUnknown(): boolean {
    return this.#coldSequencesUnknown;
  }

  /**
   * Whether local segment `entry` waits for a listing of the cold tier
   * before compaction may rewrite it: a catalog rebuilt beside the tier
   * ({@linkcode markRebuiltBesideTier}) made its row, and the bucket may
   * hold an object of it that no upload note names. The first listing since
   * notes such objects as found ({@linkcode noteFound}) and ends the wait of
   * every segment. Kept across restarts. Rewritten before, the segment's
   * object would be cataloged beside the rewrite's output.
   */
  awaitsListing(entry: CatalogEntry): boolean {
    return entry.id <= this.#unlistedUpTo && entry.location === LOCAL && entry.level >= 1;
  }

  /**
   * Notes that this catalog, {@linkcode rebuilt}, meets a cold tier: sets
   * {@linkcode coldSequencesUnknown}, and makes the local segments cataloged
   * so far await a listing ({@linkcode awaitsListing}), in one synced commit.
   */
  markRebuiltBesideTier(): void {
    let upTo = 0;
    for (const e of this.#entries.values()) {
      if (e.location === LOCAL && e.level >= 1) upTo = Math.max(upTo, e.id);
    }
    this.#transaction(true, () => {
      this.#setMeta("rebuilt", undefined);
      this.#setMeta("cold_seqs_unknown", 1);
      this.#setMeta("unlisted_up_to", upTo || undefined);
    });
    this.#rebuilt = false;
    this.#coldSequencesUnknown = true;
    this.#unlistedUpTo = upTo;
  }

  /**
   * Ends the wait of {@linkcode awaitsListing} without a listing: for a
   * start without the cold tier, from which none will come.
   */
  endListingWait(): void {
    if (this.#unlistedUpTo === 0) return;
    this.#setMeta("unlisted_up_to", undefined);
    this.#unlistedUpTo = 0;
  }

  /** Clears {@linkcode coldSequencesUnknown}. */
  markColdSequencesKnown(): void {
    this.#setMeta("cold_seqs_unknown", undefined);
    this.#coldSequencesUnknown = false;
  }

  /**
   * Uploads of local files to a remote tier not flipped to their remote rows,
   * by object name. Each upload is noted before it starts
   * ({@linkcode noteUpload}) and forgotten in the transaction that moves its
   * row ({@linkcode moveToRemote}): one still noted may have been stored and
   * not moved (a failure or a stop between the two). A merge or retention
   * that drops the file's row marks its uploads superseded in the same
   * transaction (the merge holds their lines, or they were deleted on
   * purpose), and so does the flip of another upload of the file: such an
   * object is to be deleted, never cataloged. A row dropped any other way
   * (its file damaged or missing) leaves the mark off: then the object may be
   * the one intact copy of its lines. Objects a listing found stored while
   * their files are local are noted too ({@linkcode noteFound}).
   */
  get unflippedUploads(): ReadonlyMap<string, UnflippedUpload> {
    return this.#unflipped;
  }

  /**
   * Notes the upload of local file `local` as object `remote`, not
   * superseded, now, durably (the commit is synced: the object must never
   * exist without its note). Call it only while `local` is cataloged: a mark
   * left from an earlier upload of it (its merge then lost, say) no longer
   * holds.
   */
  noteUpload(local: string, remote: string): void {
    const upload = { local, superseded: false, notedMs: Date.now(), found: false };
    this.#commitUnflipped(new Map(this.#unflipped).set(remote, upload), true);
  }

  /**
   * Notes what a listing found: the objects stored under this node's id, not
   * noted, while their local files are cataloged
   * ({@linkcode UnflippedUpload.found}). In one synced commit that also ends
   * the wait of {@linkcode awaitsListing}.
   */
  noteFound(objects: readonly { local: string; remote: string }[]): void {
    if (objects.length === 0 && this.#unlistedUpTo === 0) return;
    const unflipped = new Map(this.#unflipped);
    const notedMs = Date.now();
    for (const { local, remote } of objects) {
      unflipped.set(remote, { local, superseded: false, notedMs, found: true });
    }
    this.#transaction(true, () => {
      this.#writeUnflipped(unflipped);
      this.#setMeta("unlisted_up_to", undefined);
    });
    this.#unflipped = unflipped;
    this.#unlistedUpTo = 0;
  }

  /**
   * Moves the time upload `remote` was noted to now, its mark kept: it was
   * given up now, and the store may still complete it later.
   */
  renewUpload(remote: string): void {
    const upload = this.#unflipped.get(remote);
    if (!upload) return;
    const renewed = { ...upload, notedMs: Date.now() };
    this.#commitUnflipped(new Map(this.#unflipped).set(remote, renewed), false);
  }

  /** Forgets the upload `remote` (its object is gone, or a row holds it). */
  forgetUpload(remote: string): void {
    if (!this.#unflipped.has(remote)) return;
    const unflipped = new Map(this.#unflipped);
    unflipped.delete(remote);
    this.#commitUnflipped(unflipped, false);
  }

  #commitUnflipped(unflipped: ReadonlyMap<string, UnflippedUpload>, synced: boolean): void {
    this.#transaction(synced, () => this.#writeUnflipped(unflipped));
    this.#unflipped = unflipped;
  }

  /**
   * Runs `write`, which drops rows, in one transaction that marks the uploads
   * of the files `held` superseded (those found by a listing only when
   * `merged`: forgotten otherwise): synced when it marks one, as the mark
   * must not be lost while the files' unlink survives.
   */
  #dropRows(held: readonly CatalogEntry[], merged: boolean, write: () => void): void {
    const unflipped = this.#supersededUploads(held.map((e) => e.name), merged);
    this.#transaction(unflipped !== undefined, () => {
      write();
      if (unflipped) this.#writeUnflipped(unflipped);
    });
    if (unflipped) this.#unflipped = unflipped;
  }

  /**
   * The uploads with those of the files `dropped` marked superseded, those a
   * listing found forgotten unless the files were `merged` (or flipped);
   * `undefined` when none changes.
   */
  #supersededUploads(
    dropped: readonly string[],
    merged: boolean,
  ): Map<string, UnflippedUpload> | undefined {
    const names = new Set(dropped);
    let unflipped: Map<string, UnflippedUpload> | undefined;
    for (const [remote, u] of this.#unflipped) {
      if (u.superseded || !names.has(u.local)) continue;
      unflipped ??= new Map(this.#unflipped);
      if (u.found && !merged) unflipped.delete(remote);
      else unflipped.set(remote, { ...u, superseded: true });
    }
    return unflipped;
  }

  #writeUnflipped(unflipped: ReadonlyMap<string, UnflippedUpload>): void {
    // A fifth field only when found: rows of four stay readable by the build before.
    const rows = [...unflipped].map(([remote, u]) => [
      u.local,
      remote,
      u.superseded ? 1 : 0,
      u.notedMs,
      ...(u.found ? [1] : []),
    ]);
    this.#setMeta("unflipped_uploads", rows.length === 0 ? undefined : JSON.stringify(rows));
  }

  /** Runs `write` in one transaction, its commit fsynced when `synced`. */
  #transaction(synced: boolean, write: () => void): void {
    if (synced) this.#db.exec("PRAGMA synchronous = FULL");
    try {
      this.#db.exec("BEGIN");
      try {
        write();
        this.#db.exec("COMMIT");
      } catch (error) {
        this.#db.exec("ROLLBACK");
        throw error;
      }
    } finally {
      if (synced) this.#db.exec("PRAGMA synchronous = NORMAL");
    }
  }

  /** The lowest sequence a new push may take (0: any). */
  get seqFloor(): number {
    return this.#seqFloor;
  }

  /** Sets {@linkcode seqFloor} (never lowers it). */
  setSeqFloor(floor: number): void {
    if (floor <= this.#seqFloor) return;
    this.#setMeta("seq_floor", floor);
    this.#seqFloor = floor;
  }

  /**
   * Records the streams of a file whose row did not know them (see
   * {@linkcode CatalogEntry.indexed}), read from its index; with `seqs`, the
   * WAL sequences its index names too, now covered (only this node's files
   * hold sequences of its WAL: a row rebuilt from a bucket listing knows
   * none). The current entry.
   */
  setStreams(entry: CatalogEntry, keys: readonly string[], seqs?: SeqRanges): CatalogEntry {
    const current = this.#entries.get(entry.id);
    if (current === undefined) return entry;
    const seqsJson = seqs === undefined ? "[]" : JSON.stringify(seqs);
    // Checked as a row's are: a bad one would set the catalog aside at the next open.
    const newSeqs = seqs !== undefined && seqs.length > 0 && current.seqs.length === 0 &&
      parseSeqs(seqsJson) !== undefined;
    if (current.indexed && !newSeqs) return current;
    let updated = current;
    if (!current.indexed) {
      const streams = keys.map((key) => this.#internStream(key));
      this.#sql.setStreams.run(streamIdBytes(streams), labelKeysJson(streams), entry.id);
      updated = { ...updated, streams: streams.map((s) => s.stream), indexed: true };
    }
    if (newSeqs) {
      this.#sql.setSeqs.run(seqsJson, entry.id);
      updated = { ...updated, seqs: seqs! };
      this.#covered.addRanges(seqs!);
    }
    this.#entries.set(entry.id, updated);
    this.#version++;
    return updated;
  }

  /**
   * Drops the local files whose lines other cataloged files all hold, and
   * deletes them once no query reads them: what a catalog rebuilt from the
   * folder kept while the files that superseded them (a merge's output, since
   * moved to the cold tier) were not yet known. Call it once the rows of this
   * node's cold files know their sequences ({@linkcode setStreams}). In a
   * catalog that was never rebuilt, no file is held by others. Never a cold
   * file: sequences do not prove lines (a salvage carries all of its
   * damaged source's), and a cold file may be their one intact copy.
   *
   * @returns the rows dropped.
   */
  async removeSuperseded(): Promise<CatalogEntry[]> {
    const rows = [...this.#entries.values()].filter((e) => e.seqs.length > 0);
    rows.sort(supersedingFirst);
    // Only the rows' own lines: retired sequences name lines deleted on
    // purpose, which a merge's live sibling may share.
    const held = new HeldLines();
    const superseded: CatalogEntry[] = [];
    for (const e of rows) {
      if (e.location === LOCAL && held.holds(e.seqs, e.minTs, e.maxTs)) superseded.push(e);
      else held.add(e.seqs, mergePartOf(e.name));
    }
    if (superseded.length === 0) return superseded;
    this.remove(superseded, { held: true });
    for (const e of superseded) {
      await this.whenUnused(e);
      try {
        await Deno.remove(join(this.dir, e.name));
        log(`segment ${e.name} deleted: other files hold all of its lines`);
      } catch (error) {
        // Without its row the file is an orphan, deleted as held at the next start.
        if (!(error instanceof Deno.errors.NotFound)) {
          log(`segment ${e.name}, whose lines other files hold, not deleted: ${error}`);
        }
      }
    }
    return superseded;
  }

  #forget(entries: readonly CatalogEntry[]): void {
    for (const e of entries) {
      this.#entries.delete(e.id);
      this.#version++;
      this.#filters.delete(e.id);
    }
  }

  /** The content filter of a cataloged file (read on use, kept in a bounded cache). */
  filterOf(entry: CatalogEntry): Uint8Array {
    return this.#filters.get(entry.id, (id) => {
      const row = this.#sql.fileFilter.get(id);
      return (row?.filter as Uint8Array | undefined) ?? new Uint8Array();
    });
  }

  /** Marks `entries` as being read: their files stay until {@linkcode release}. */
  acquire(entries: readonly CatalogEntry[]): void {
    for (const e of entries) this.#leases.set(e.id, (this.#leases.get(e.id) ?? 0) + 1);
  }

  /** Ends a read begun with {@linkcode acquire}. */
  release(entries: readonly CatalogEntry[]): void {
    for (const e of entries) {
      const left = (this.#leases.get(e.id) ?? 1) - 1;
      if (left > 0) {
        this.#leases.set(e.id, left);
        continue;
      }
      this.#leases.delete(e.id);
      for (const resolve of this.#unused.get(e.id) ?? []) resolve();
      this.#unused.delete(e.id);
    }
  }

  /** Resolves once no reader holds `entry`, so its file can be deleted. */
  whenUnused(entry: CatalogEntry): Promise<void> {
    if (!this.#leases.has(entry.id)) return Promise.resolve();
    return new Promise((resolve) => {
      const waiting = this.#unused.get(entry.id);
      if (waiting) waiting.push(resolve);
      else this.#unused.set(entry.id, [resolve]);
    });
  }

  /** Figures of the cataloged files, for `/api/v1/stats`. */
  stats(): CatalogStats {
    const stats: CatalogStats = {
      segments_total: 0,
      segments_local: 0,
      segments_remote: 0,
      bytes_local: 0,
      bytes_remote: 0,
      flush_files: 0,
      compacted_segments: 0,
      rows: 0,
      bytes_raw: 0,
    };
    for (const e of this.#entries.values()) {
      stats.segments_total++;
      if (e.location === LOCAL) {
        stats.segments_local++;
        stats.bytes_local += e.bytes;
      } else {
        stats.segments_remote++;
        stats.bytes_remote += e.bytes;
      }
      if (e.level === 0) stats.flush_files++;
      else stats.compacted_segments++;
      stats.rows += e.rows;
      stats.bytes_raw += e.rawBytes;
      stats.span = widen(stats.span, e.minTs, e.maxTs);
    }
    return stats;
  }

  /** Bytes of every file in the data folder: segments, WAL, catalog, quarantine. */
  bytesOnDisk(): Promise<number> {
    return folderBytes(this.dir);
  }

  /** Closes the database, folding its WAL back into the file. */
  close(): void {
    this.#db.exec("PRAGMA wal_checkpoint(TRUNCATE)");
    this.#db.close();
  }
}

/**
 * Opens the catalog database. Commits are not fsynced (`synchronous =
 * NORMAL`): the files are fsynced before they are cataloged and every file
 * names the WAL sequences it holds, so a commit lost to a power cut is
 * recovered at start by {@linkcode Catalog.open}'s reconciliation, while an
 * fsync per flush would stall the event loop. One that starts empty (there
 * was none, or an empty file, or it was set aside) is stamped as rebuilt
 * ({@linkcode migrate}).
 */
function openDatabase(path: string): DatabaseSync {
  const tryOpen = () => {
    const db = new DatabaseSync(path);
    try {
      db.exec(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA journal_size_limit = 1048576;",
      );
      // Not quick_check: it misses an index entry that disagrees with its row
      // (a flipped byte in a file name), which SQLite then reports as a
      // malformed image at the first write. The catalog holds a row per file:
      // checking its indexes costs little beyond reading its pages.
      const ok = db.prepare("PRAGMA integrity_check").get()?.integrity_check;
      if (ok !== "ok") throw new CatalogUnusableError(`integrity check failed: ${ok}`);
      // Rows of compacted flush files come and go: give their pages back to the disk.
      db.exec("PRAGMA auto_vacuum = FULL");
      db.exec(SCHEMA);
      migrate(db);
      return db;
    } catch (error) {
      db.close();
      throw error;
    }
  };
  try {
    return tryOpen();
  } catch (error) {
    // A full disk or a missing permission is no damage: setting the catalog
    // aside would not cure it, and would lose what only the catalog holds
    // (the files' content filters).
    if (!(error instanceof CatalogUnusableError) && !isSqliteCorruption(error)) {
      throw new Error(`cannot open the catalog ${path}: ${(error as Error).message}`, {
        cause: error,
      });
    }
    setAside(path, (error as Error).message);
    return tryOpen();
  }
}

/**
 * A catalog this build cannot use, rebuilt from the files: SQLite's integrity
 * check finds it damaged, or a newer loge wrote it (the copy set aside keeps
 * it for that version).
 */
class CatalogUnusableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "CatalogUnusableError";
  }
}

/**
 * Brings the schema of `db` (already holding {@linkcode SCHEMA}'s tables as
 * of some version) to {@linkcode CATALOG_VERSION}, one migration at a time
 * in one transaction; a new catalog is stamped with the current version and
 * as rebuilt ({@linkcode Catalog.rebuilt}), in one commit.
 *
 * @throws {CatalogUnusableError} for a version this build does not know (a newer loge's).
 */
function migrate(db: DatabaseSync): void {
  const stamp = db.prepare("SELECT value FROM meta WHERE key = 'version'").get()?.value;
  if (stamp === undefined) {
    db.exec("BEGIN");
    db.prepare("INSERT INTO meta VALUES ('version', ?)").run(CATALOG_VERSION);
    db.exec("INSERT INTO meta VALUES ('rebuilt', 1)");
    db.exec("COMMIT");
    return;
  }
  let version = Number(stamp);
  if (!(version >= 1 && version <= CATALOG_VERSION)) {
    throw new CatalogUnusableError(
      `catalog version ${stamp} is not supported (this build knows 1 to ${CATALOG_VERSION})`,
    );
  }
  if (version === CATALOG_VERSION) return;
  db.exec("BEGIN");
  try {
    for (; version < CATALOG_VERSION; version++) db.exec(MIGRATIONS[version]);
    db.prepare("UPDATE meta SET value = ? WHERE key = 'version'").run(CATALOG_VERSION);
    db.exec("COMMIT");
  } catch (error) {
    db.exec("ROLLBACK");
    throw error;
  }
}

/** The `stream_ids` column: the ids as little-endian u32s. */
function streamIdBytes(streams: readonly { id: number }[]): Uint8Array {
  return new Uint8Array(Uint32Array.from(streams, (s) => s.id).buffer);
}

/** The `label_keys` column: every label name of the streams, sorted, as JSON. */
function labelKeysJson(streams: readonly { stream: StreamLabels }[]): string {
  const keys = new Set<string>();
  for (const s of streams) for (const k of Object.keys(s.stream.labels)) keys.add(k);
  return JSON.stringify([...keys].sort());
}

/**
 * Moves the catalog at `path` (with its WAL files) aside, so that it is
 * rebuilt from the files, which are the truth; `reason` is logged.
 */
function setAside(path: string, reason: string): void {
  const aside = `${path}.corrupt-${Date.now()}`;
  log(
    `catalog ${path} unreadable (${reason}); rebuilding from the segment files, old copy at ${aside}`,
  );
  for (const suffix of ["", "-wal", "-shm"]) {
    try {
      Deno.renameSync(path + suffix, aside + suffix);
    } catch { /* not there */ }
  }
}

/** A catalog row that does not make sense. */
class CatalogRowError extends Error {
  constructor(row: string, reason: string) {
    super(`${row}: ${reason}`);
    this.name = "CatalogRowError";
  }
}

/**
 * Whether `error` is SQLite finding the database corrupt (a malformed page met
 * while reading rows, say), not another failure such as a full disk, which a
 * rebuild would not cure. Deno's node:sqlite gives no result code: SQLite's
 * own messages for SQLITE_CORRUPT and SQLITE_NOTADB tell.
 */
function isSqliteCorruption(error: unknown): boolean {
  return (error as { code?: unknown })?.code === "ERR_SQLITE_ERROR" &&
    /database disk image is malformed|file is not a database/.test((error as Error).message);
}

/** Whether `text` is a JSON object of string label values. */
function isLabelJson(text: string): boolean {
  try {
    const labels = JSON.parse(text);
    return typeof labels === "object" && labels !== null && !Array.isArray(labels) &&
      Object.values(labels).every((v) => typeof v === "string");
  } catch {
    return false;
  }
}

/** WAL sequence ranges from their JSON, or `undefined` unless sorted, disjoint and positive. */
function parseSeqs(text: string): SeqRanges | undefined {
  let seqs: unknown;
  try {
    seqs = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!Array.isArray(seqs)) return undefined;
  let last = 0;
  for (const r of seqs) {
    if (
      !Array.isArray(r) || r.length !== 2 || !Number.isSafeInteger(r[0]) ||
      !Number.isSafeInteger(r[1]) || r[0] <= last || r[1] < r[0]
    ) return undefined;
    last = r[1];
  }
  return seqs as SeqRanges;
}

/** The times a set of lines spans (timestamp 0 is a real time: no span is `undefined`). */
export interface TimeSpan {
  readonly min: bigint;
  readonly max: bigint;
}

/**
 * `span` widened to hold `[min, max]`.
 *
 * @example
 * ```ts
 * import { widen } from "./catalog.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual(widen(widen(undefined, 5n, 9n), 0n, 6n), { min: 0n, max: 9n });
 * ```
 */
export function widen(span: TimeSpan | undefined, min: bigint, max: bigint): TimeSpan {
  if (!span) return { min, max };
  return { min: min < span.min ? min : span.min, max: max > span.max ? max : span.max };
}

/** What {@linkcode Catalog.stats} counts. */
export interface CatalogStats {
  segments_total: number;
  segments_local: number;
  segments_remote: number;
  /** Bytes of the segment files in the data folder. */
  bytes_local: number;
  /** Bytes of the segment files in remote tiers. */
  bytes_remote: number;
  flush_files: number;
  compacted_segments: number;
  rows: number;
  bytes_raw: number;
  /** Times of the cataloged lines; absent when there are none. */
  span?: TimeSpan;
}

async function folderBytes(dir: string): Promise<number> {
  let total = 0;
  for await (const e of Deno.readDir(dir)) {
    const path = join(dir, e.name);
    if (e.isDirectory) total += await folderBytes(path);
    else if (e.isFile) total += (await Deno.stat(path).catch(() => ({ size: 0 }))).size;
  }
  return total;
}
