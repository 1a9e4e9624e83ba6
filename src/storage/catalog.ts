/**
 * The catalog (`catalog.sqlite`, WAL mode): one row per segment file with its
 * time bounds, rows, bytes, streams, label keys, WAL sequences and content
 * filter. The query planner prunes with it before opening any file. It is
 * mirrored in memory, and rebuilt from the files themselves when it is missing
 * or corrupt.
 *
 * @module
 */

import { DatabaseSync, type StatementSync } from "node:sqlite";
import { join } from "node:path";
import { openFileSource } from "./byte_source.ts";
import { SEGMENT_SUFFIX } from "./segment_format.ts";
import { readSegmentIndex } from "./segment_reader.ts";
import type { SegmentInfo } from "./segment_writer.ts";
import { SeqSet } from "./seq_ranges.ts";

/** The catalog file name inside the data folder. */
export const CATALOG_FILE = "catalog.sqlite";
const CATALOG_VERSION = 1;

/** A stream: its canonical label JSON and the parsed labels. */
export interface StreamLabels {
  readonly key: string;
  readonly labels: Readonly<Record<string, string>>;
}

/** A catalog row, as mirrored in memory. */
export interface CatalogEntry extends Omit<SegmentInfo, "streams" | "filter"> {
  readonly id: number;
  readonly streams: readonly StreamLabels[];
  /** Where the file lives; `local` for now, remote tiers later. */
  readonly location: string;
}

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value ANY) STRICT;
  CREATE TABLE IF NOT EXISTS streams (id INTEGER PRIMARY KEY, labels TEXT UNIQUE NOT NULL) STRICT;
  CREATE TABLE IF NOT EXISTS files (
    id INTEGER PRIMARY KEY, name TEXT UNIQUE NOT NULL, level INTEGER NOT NULL,
    location TEXT NOT NULL DEFAULT 'local',
    min_ts INTEGER NOT NULL, max_ts INTEGER NOT NULL, rows INTEGER NOT NULL,
    bytes INTEGER NOT NULL, raw_bytes INTEGER NOT NULL, seqs TEXT NOT NULL,
    label_keys TEXT NOT NULL, stream_ids BLOB NOT NULL, filter BLOB NOT NULL
  ) STRICT;
  CREATE INDEX IF NOT EXISTS files_time ON files (min_ts, max_ts);
`;

/**
 * The catalog of segment files in a data folder.
 *
 * @example
 * ```ts ignore
 * import { Catalog } from "./catalog.ts";
 * const catalog = await Catalog.open("tmp");
 * for (const e of catalog.entries()) console.log(e.name, e.rows);
 * catalog.close();
 * ```
 */
export class Catalog {
  readonly dir: string;
  readonly #db: DatabaseSync;
  readonly #entries = new Map<number, CatalogEntry>();
  readonly #streams = new Map<string, { id: number; stream: StreamLabels }>();
  readonly #streamsById = new Map<number, StreamLabels>();
  readonly #filters = new Map<number, Uint8Array>();
  /** Streams seen in memory before any file holds them. */
  readonly #uncataloged = new Map<string, StreamLabels>();
  #covered = new SeqSet();
  readonly #leases = new Map<number, number>();
  readonly #unused = new Map<number, () => void>();

  /** Statements run per flush or per query, prepared once. */
  readonly #sql: {
    insertFile: StatementSync;
    deleteFile: StatementSync;
    insertStream: StatementSync;
    fileFilter: StatementSync;
  };

  private constructor(dir: string, db: DatabaseSync) {
    this.dir = dir;
    this.#db = db;
    this.#sql = {
      insertFile: db.prepare(
        `INSERT INTO files (name, level, min_ts, max_ts, rows, bytes, raw_bytes, seqs, label_keys, stream_ids, filter)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      deleteFile: db.prepare("DELETE FROM files WHERE id = ?"),
      insertStream: db.prepare("INSERT INTO streams (labels) VALUES (?)"),
      fileFilter: db.prepare("SELECT filter FROM files WHERE id = ?"),
    };
  }

  /**
   * Opens the catalog of `dir`, creating or rebuilding it as needed, and
   * reconciles it with the segment files present (see {@linkcode reconcile}).
   */
  static async open(dir: string): Promise<Catalog> {
    await Deno.mkdir(dir, { recursive: true });
    const catalog = new Catalog(dir, openDatabase(join(dir, CATALOG_FILE)));
    catalog.#load();
    await catalog.#reconcile();
    return catalog;
  }

  #load(): void {
    for (const r of this.#db.prepare("SELECT id, labels FROM streams").all()) {
      this.#internStream(r.labels as string, r.id as number);
    }
    const rows = this.#db.prepare(
      "SELECT id, name, level, location, min_ts, max_ts, rows, bytes, raw_bytes, seqs, stream_ids FROM files",
    );
    rows.setReadBigInts(true);
    for (const r of rows.all()) {
      const ids = new Uint32Array((r.stream_ids as Uint8Array).slice().buffer);
      const entry: CatalogEntry = {
        id: Number(r.id),
        name: r.name as string,
        level: Number(r.level),
        location: r.location as string,
        minTs: r.min_ts as bigint,
        maxTs: r.max_ts as bigint,
        rows: Number(r.rows),
        bytes: Number(r.bytes),
        rawBytes: Number(r.raw_bytes),
        seqs: JSON.parse(r.seqs as string),
        streams: [...ids].map((id) => this.#streamsById.get(id)!),
      };
      this.#entries.set(entry.id, entry);
      this.#covered.addRanges(entry.seqs);
    }
  }

  /**
   * Makes the catalog agree with the files: a row whose file is gone is
   * dropped; a file without a row is added, unless every WAL sequence it holds
   * is already held by cataloged files (a compaction's leftover source or
   * unfinished output), in which case it is deleted so no line shows twice.
   * Temporary files of interrupted writes are deleted.
   */
  async #reconcile(): Promise<void> {
    const present = new Set<string>();
    for await (const e of Deno.readDir(this.dir)) {
      if (!e.isFile) continue;
      if (e.name.endsWith(`${SEGMENT_SUFFIX}.tmp`)) await Deno.remove(join(this.dir, e.name));
      else if (e.name.endsWith(SEGMENT_SUFFIX)) present.add(e.name);
    }
    for (const entry of [...this.#entries.values()]) {
      if (entry.location !== "local") continue;
      if (present.delete(entry.name)) continue;
      console.error(`loge: catalog row for missing file ${entry.name} dropped`);
      this.#sql.deleteFile.run(entry.id);
      this.#forget([entry]);
      this.#covered = new SeqSet();
      for (const e of this.#entries.values()) this.#covered.addRanges(e.seqs);
    }
    const orphans: SegmentInfo[] = [];
    for (const name of present) {
      const source = await openFileSource(join(this.dir, name));
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
        console.error(`loge: ${(error as Error).message}; removed`);
        await Deno.remove(join(this.dir, name));
      } finally {
        await source.close();
      }
    }
    // Files holding more sequences first: a compacted segment supersedes its
    // sources, and what is left of the sources is then found covered.
    const held = (info: SegmentInfo) => info.seqs.reduce((n, [a, b]) => n + b - a + 1, 0);
    orphans.sort((a, b) => held(b) - held(a) || b.level - a.level || a.name.localeCompare(b.name));
    for (const info of orphans) {
      if (info.seqs.length > 0 && this.#covered.coversAll(info.seqs)) {
        await Deno.remove(join(this.dir, info.name));
      } else {
        this.add(info);
      }
    }
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

  /** Every cataloged file. */
  entries(): IterableIterator<CatalogEntry> {
    return this.#entries.values();
  }

  /** Every WAL sequence held by a cataloged file. */
  get covered(): SeqSet {
    return this.#covered;
  }

  /** Records a new durable file. */
  add(info: SegmentInfo): CatalogEntry {
    return this.replace([], info);
  }

  /**
   * Atomically records `info` and drops the rows of `sources` it replaces. The
   * in-memory mirror changes only once the transaction has committed.
   */
  replace(sources: readonly CatalogEntry[], info: SegmentInfo): CatalogEntry {
    // Streams first, outside the transaction: a stream row without files is harmless.
    const streams = info.streams.map((key) => this.#internStream(key));
    const keys = new Set<string>();
    for (const s of streams) for (const k of Object.keys(s.stream.labels)) keys.add(k);
    const { deleteFile, insertFile } = this.#sql;
    let id: number;
    this.#db.exec("BEGIN");
    try {
      for (const e of sources) deleteFile.run(e.id);
      id = Number(
        insertFile.run(
          info.name,
          info.level,
          info.minTs,
          info.maxTs,
          info.rows,
          info.bytes,
          info.rawBytes,
          JSON.stringify(info.seqs),
          JSON.stringify([...keys].sort()),
          new Uint8Array(Uint32Array.from(streams, (s) => s.id).buffer),
          info.filter,
        ).lastInsertRowid,
      );
      this.#db.exec("COMMIT");
    } catch (error) {
      this.#db.exec("ROLLBACK");
      throw error;
    }
    this.#forget(sources);
    const entry: CatalogEntry = {
      id,
      name: info.name,
      level: info.level,
      location: "local",
      minTs: info.minTs,
      maxTs: info.maxTs,
      rows: info.rows,
      bytes: info.bytes,
      rawBytes: info.rawBytes,
      seqs: info.seqs,
      streams: streams.map((s) => s.stream),
    };
    this.#entries.set(id, entry);
    this.#covered.addRanges(info.seqs);
    return entry;
  }

  #forget(entries: readonly CatalogEntry[]): void {
    for (const e of entries) {
      this.#entries.delete(e.id);
      this.#filters.delete(e.id);
    }
  }

  /** The content filter of a cataloged file (loaded on first use). */
  filterOf(entry: CatalogEntry): Uint8Array {
    let filter = this.#filters.get(entry.id);
    if (!filter) {
      const row = this.#sql.fileFilter.get(entry.id);
      filter = (row?.filter as Uint8Array | undefined) ?? new Uint8Array();
      this.#filters.set(entry.id, filter);
    }
    return filter;
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
      this.#unused.get(e.id)?.();
      this.#unused.delete(e.id);
    }
  }

  /** Resolves once no reader holds `entry`, so its file can be deleted. */
  whenUnused(entry: CatalogEntry): Promise<void> {
    if (!this.#leases.has(entry.id)) return Promise.resolve();
    return new Promise((resolve) => this.#unused.set(entry.id, resolve));
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
 * fsync per flush would stall the event loop.
 */
function openDatabase(path: string): DatabaseSync {
  const tryOpen = () => {
    const db = new DatabaseSync(path);
    try {
      db.exec(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA journal_size_limit = 1048576;",
      );
      const ok = db.prepare("PRAGMA quick_check").get()?.quick_check;
      if (ok !== "ok") throw new Error(`integrity check failed: ${ok}`);
      // Rows of compacted flush files come and go: give their pages back to the disk.
      db.exec("PRAGMA auto_vacuum = FULL");
      db.exec(SCHEMA);
      const version = db.prepare("SELECT value FROM meta WHERE key = 'version'").get()?.value;
      if (version === undefined) {
        db.prepare("INSERT INTO meta VALUES ('version', ?)").run(CATALOG_VERSION);
      } else if (version !== CATALOG_VERSION) {
        throw new Error(`catalog version ${version} is not supported`);
      }
      return db;
    } catch (error) {
      db.close();
      throw error;
    }
  };
  try {
    return tryOpen();
  } catch (error) {
    // The files are the truth: set the unreadable catalog aside and rebuild.
    const aside = `${path}.corrupt-${Date.now()}`;
    console.error(
      `loge: catalog unreadable (${(error as Error).message}); rebuilding, old copy at ${aside}`,
    );
    for (const suffix of ["", "-wal", "-shm"]) {
      try {
        Deno.renameSync(path + suffix, aside + suffix);
      } catch { /* not there */ }
    }
    return tryOpen();
  }
}
