/**
 * The cold tier: compacted segments older than the rotate age move to an
 * object store, and every node answers over every file there.
 *
 * - **Rotation** (ingesting nodes): a local level-1 segment sealed (written)
 *   longer ago than `rotateAgeMs` is uploaded below `<prefix><node>/` (see
 *   `remote_key.ts`), verified by size, and its catalog row flipped to the
 *   remote copy; its index goes to the local {@linkcode TailCache} on the way,
 *   so cold reads start without fetching it. The local copy is deleted
 *   `graceMs` later, once no query still reads it. A failed upload leaves the
 *   file local and cataloged: the next cycle tries again. Ingest never waits
 *   for any of it. Each upload is noted in the catalog before it starts and
 *   forgotten when its row flips (`Catalog.unflippedUploads`).
 * - **Reconcile** (every node, at start and every interval): the bucket is
 *   listed below the prefix, every node's files alike; files the catalog does
 *   not know get rows from their keys alone, and rows of files gone from the
 *   bucket are dropped. A node with an empty catalog thus answers over the
 *   whole tier after one listing. An object of an upload never flipped is not
 *   cataloged while its file is local (it is uploaded again; one not noted,
 *   as after a catalog rebuilt or restored, is noted as found then), nor once a
 *   merge or retention dropped the file's row or another upload of it was
 *   flipped (it is deleted: its lines are elsewhere, or deleted on purpose);
 *   when the row went any other way (the file damaged or missing), it may be
 *   the one intact copy, and is cataloged.
 * - **Reads**: a reader registered with the catalog's opener opens remote
 *   files as byte sources of ranged GETs (`remote_source.ts`).
 *
 * @module
 */

import { join } from "node:path";
import { inParallel } from "../in_parallel.ts";
import { log } from "../log.ts";
import { BlockCache } from "../storage/block_cache.ts";
import type { Catalog, CatalogEntry, RemoteFile } from "../storage/catalog.ts";
import type { SegmentCache } from "../storage/segment_cache.ts";
import { decodeFooter, FOOTER_SIZE } from "../storage/segment_format.ts";
import { LOCAL } from "../storage/source/opener.ts";
import type { ObjectStore } from "./object_store.ts";
import { parseRemoteName, remoteName } from "./remote_key.ts";
import { openRemoteSource, type RemoteReadCounters, remoteReadCounters } from "./remote_source.ts";
import { TailCache } from "./tail_cache.ts";

/**
 * Indexes read at once when a start learns the sequences of this node's cold
 * files: each is a GET of tens to hundreds of milliseconds, thousands of them
 * after a catalog is lost.
 */
const INDEX_READS_AT_ONCE = 16;

/** The catalog location of files in the cold tier. */
export const REMOTE = "s3";

/** Settings of the cold tier (the `--s3-*` flags). */
export interface ColdTierOptions {
  store: ObjectStore;
  /** Key prefix of every file, such as `loge/`. */
  prefix: string;
  /** This node's id: the key segment below the prefix it writes under. */
  node: string;
  /** Whether this node rotates its segments (false on a query-only node). */
  rotate: boolean;
  rotateAgeMs: number;
  rotateIntervalMs: number;
  graceMs: number;
  /** Bytes of remote indexes kept on local disk. */
  indexCacheBytes: number;
  /** Decoded blocks of remote files kept in memory (`--s3-frame-cache-size`). */
  blockCacheSize: number;
}

/** Counters of the cold tier, for `/api/v1/stats`. */
export interface ColdTierCounters extends RemoteReadCounters {
  /** Segments uploaded and flipped to remote. */
  uploads: number;
  /** Bytes uploaded. */
  uploaded_bytes: number;
  /** Uploads that failed (each is retried next cycle). */
  upload_errors: number;
  /** Local copies deleted after their grace. */
  local_copies_deleted: number;
  /** Rows added from listings of the bucket. */
  reconciled_rows: number;
  /** Rows dropped because their file left the bucket. */
  vanished_rows: number;
  /** Listings that failed. */
  list_errors: number;
  /**
   * Objects of uploads never flipped whose lines a merge holds or retention
   * deleted, deleted from the store ({@linkcode Catalog.unflippedUploads}).
   */
  unflipped_deleted: number;
}

/** The index and footer of the local segment file at `path`, of `size` bytes. */
async function readLocalTail(path: string, size: number): Promise<Uint8Array> {
  const file = await Deno.open(path);
  try {
    const read = async (offset: number, length: number) => {
      const out = new Uint8Array(length);
      await file.seek(offset, Deno.SeekMode.Start);
      for (let got = 0; got < length;) {
        const n = await file.read(out.subarray(got));
        if (n === null) throw new Error(`${path} is shorter than ${size} bytes`);
        got += n;
      }
      return out;
    };
    const footer = decodeFooter(path, await read(size - FOOTER_SIZE, FOOTER_SIZE), size);
    return await read(footer.indexOffset, size - footer.indexOffset);
  } finally {
    file.close();
  }
}

/** A rotated file's local copy, deleted once its grace has passed. */
interface LocalCopy {
  readonly entry: CatalogEntry;
  readonly after: number;
}

/**
 * The cold tier of one node.
 *
 * @example
 * ```ts ignore
 * const tier = await ColdTier.open(catalog, cache, options);
 * await tier.reconcile({ atStart: true }); // before the WAL replays and queries: every node's files
 * tier.start(); // rotation, sweeping and listing every interval
 * ```
 */
export class ColdTier {
  readonly #catalog: Catalog;
  readonly #cache: SegmentCache;
  readonly #options: ColdTierOptions;
  readonly #tails: TailCache;
  readonly counters: ColdTierCounters;
  /** Decoded blocks of remote files, for the query engine. */
  readonly blockCache: BlockCache;
  readonly #copies: LocalCopy[] = [];
  /** Local files being uploaded now, by name. */
  readonly #uploading = new Set<string>();
  /** Unflipped uploads whose object's delete failed and was logged, by object name. */
  readonly #undeleted = new Set<string>();
  #timer?: ReturnType<typeof setInterval>;
  #cycle?: Promise<void>;
  #stopped = false;
  /** The last failure that was logged, so that a lasting outage logs once. */
  #fault?: string;

  private constructor(
    catalog: Catalog,
    cache: SegmentCache,
    options: ColdTierOptions,
    tails: TailCache,
  ) {
    this.#catalog = catalog;
    this.#cache = cache;
    this.#options = options;
    this.#tails = tails;
    this.blockCache = new BlockCache(options.blockCacheSize);
    this.counters = {
      ...remoteReadCounters(),
      uploads: 0,
      uploaded_bytes: 0,
      upload_errors: 0,
      local_copies_deleted: 0,
      reconciled_rows: 0,
      unflipped_deleted: 0,
      vanished_rows: 0,
      list_errors: 0,
    };
  }

  /**
   * Sets up the tier: its index cache in `<data folder>/cache/index`, and the
   * reader of remote files registered with the catalog's opener.
   */
  static async open(
    catalog: Catalog,
    cache: SegmentCache,
    options: ColdTierOptions,
  ): Promise<ColdTier> {
    const tails = await TailCache.open(
      join(catalog.dir, "cache", "index"),
      options.indexCacheBytes,
    );
    const tier = new ColdTier(catalog, cache, options, tails);
    catalog.opener.register(REMOTE, (segment) => {
      if (segment.bytes === undefined) {
        return Promise.reject(new Error(`Cannot open ${segment.name}: its size is not known`));
      }
      return Promise.resolve(openRemoteSource(
        options.store,
        tier.#key(segment.name),
        {
          ...segment,
          bytes: segment.bytes,
          tailBytes: parseRemoteName(segment.name, segment.bytes)?.tailBytes,
        },
        tails,
        tier.counters,
      ));
    });
    return tier;
  }

  /** Runs a cycle every rotate interval: listing, rotation, sweeping. */
  start(): void {
    this.#timer = setInterval(() => {
      // A cycle that throws (its catalog write failed: a full disk) is tried again next interval.
      this.#cycle ??= this.runCycle()
        .catch((error) => this.#failed("cycle", error))
        .finally(() => this.#cycle = undefined);
    }, this.#options.rotateIntervalMs);
  }

  /** One cycle now: reconcile with the bucket, rotate what is due, delete expired local copies. */
  async runCycle(): Promise<void> {
    await this.reconcile();
    if (this.#options.rotate) await this.rotate();
    await this.sweep();
  }

  /**
   * Lists the bucket below the prefix and makes the catalog's remote rows
   * agree with it. A failed listing changes nothing.
   *
   * With `atStart` (the reconcile before the WAL is replayed), while the
   * catalog says this node's cold files' WAL sequences may be unknown
   * (`Catalog.coldSequencesUnknown`: it was rebuilt from the folder), the
   * rows of those files that know none get them from their indexes, and
   * local files whose lines they hold are deleted: otherwise the replay would
   * store their pushes again, and a merge's sources left by a crash beside
   * its cold output would show their lines twice. Once every such row knows
   * its sequences, the catalog says so. Only at start, and only while the
   * catalog says they may be unknown: since then new pushes took sequences
   * above any those files hold (`Catalog.seqFloor`), and none is taken for
   * another's.
   *
   * @returns rows added and dropped, or `undefined` when the listing failed.
   */
  async reconcile(
    { atStart = false }: { atStart?: boolean } = {},
  ): Promise<{ added: number; dropped: number } | undefined> {
    const { store, prefix } = this.#options;
    let listed;
    try {
      listed = await store.list(prefix);
      this.#recovered("listing");
    } catch (error) {
      this.counters.list_errors++;
      this.#failed("listing", error);
      return undefined;
    }
    // This node's files that are still local too (a catalog rebuilt from the
    // folder while a rotated copy waited for its grace, or a stop between
    // upload and flip) stay local: the next rotation uploads them again, under
    // the same key, and flips them. Cataloging both would show lines twice.
    const local = new Set<string>();
    for (const e of this.#catalog.entries()) if (e.location === LOCAL) local.add(e.name);
    const files = new Map<string, RemoteFile>();
    const own = new Set<string>();
    // This catalog's uploads never flipped, by object name (whatever node id it ran with).
    const unflipped = this.#catalog.unflippedUploads;
    const listedUploads = new Set<string>();
    const found: { local: string; remote: string }[] = [];
    for (const o of listed) {
      const parsed = parseRemoteName(o.key.slice(prefix.length), o.size);
      if (parsed === undefined) continue;
      const name = parsed.file.name;
      const upload = unflipped.get(name);
      if (upload !== undefined) {
        listedUploads.add(name);
        // Uploaded again and flipped later, or deleted: its lines are elsewhere.
        if (local.has(upload.local) || upload.superseded) continue;
        // Its file's row went some other way (damaged, missing): the object
        // may be the one intact copy of its lines, so it is cataloged.
      } else if (parsed.node === this.#options.node && local.has(parsed.local)) {
        // Stored, its file cataloged as local, and not noted: the catalog was
        // rebuilt or restored since. Noted as found, so a merge of the file
        // deletes the object, which would otherwise be cataloged beside the
        // merge's output once the file is gone.
        found.push({ local: parsed.local, remote: name });
        continue;
      }
      if (parsed.node === this.#options.node) own.add(name);
      files.set(name, parsed.file);
    }
    this.#catalog.noteFound(found);
    const added = this.#catalog.addRemote(REMOTE, [...files.values()]);
    for (const [name, u] of unflipped) {
      // A row holds it now, or none was stored.
      if (!u.superseded && !local.has(u.local)) this.#catalog.forgetUpload(name);
    }
    const gone = [...this.#catalog.entries()].filter((e) =>
      e.location === REMOTE && !files.has(e.name)
    );
    if (gone.length > 0) {
      this.#catalog.remove(gone);
      for (const e of gone) {
        this.#cache.evict(e.name);
        await this.#tails.delete(e.name);
      }
    }
    if (atStart && this.#catalog.coldSequencesUnknown) {
      const unknown = () =>
        [...this.#catalog.entries()].filter((e) =>
          e.location === REMOTE && e.seqs.length === 0 && own.has(e.name)
        );
      if (await this.#learnSequences(unknown()) > 0) await this.#catalog.removeSuperseded();
      if (unknown().length === 0) this.#catalog.markColdSequencesKnown();
    }
    for (const [name, u] of this.#catalog.unflippedUploads) {
      if (u.superseded) await this.#deleteUnflipped(name, listedUploads.has(name));
    }
    this.counters.reconciled_rows += added.length;
    this.counters.vanished_rows += gone.length;
    if (added.length > 0 || gone.length > 0) {
      log(
        `cold tier: ${added.length} files found in ${store.name}/${prefix}, ` +
          `${gone.length} rows of files no longer there dropped`,
      );
    }
    return { added: added.length, dropped: gone.length };
  }

  /**
   * Reads the sequences of `entries` from their indexes; how many rows
   * learned some. One whose index cannot be read keeps none: its pushes may
   * be replayed again, but nothing is taken for stored that is not.
   */
  async #learnSequences(entries: readonly CatalogEntry[]): Promise<number> {
    let learned = 0;
    await inParallel(entries, INDEX_READS_AT_ONCE, async (entry) => {
      try {
        const { index, release } = await this.#cache.open(entry);
        try {
          const updated = this.#catalog.setStreams(entry, index.streams, index.seqs);
          if (updated.seqs.length > 0) learned++;
        } finally {
          release();
        }
      } catch (error) {
        this.#failed(`index read of ${entry.name}`, error);
      }
    });
    return learned;
  }

  /**
   * Uploads the local segments due for rotation, one at a time; stops at the
   * first failure (the store is likely down: the next cycle tries again).
   *
   * @returns how many were rotated.
   */
  async rotate(): Promise<number> {
    const due: CatalogEntry[] = [];
    const now = Date.now();
    for (const e of this.#catalog.entries()) {
      if (e.location !== LOCAL || e.level < 1 || this.#uploading.has(e.name)) continue;
      const stat = await Deno.stat(join(this.#catalog.dir, e.name)).catch(() => undefined);
      const sealed = stat?.mtime?.getTime();
      if (sealed !== undefined && now - sealed >= this.#options.rotateAgeMs) due.push(e);
    }
    let rotated = 0;
    for (const entry of due) {
      if (this.#stopped) break;
      if (!this.#catalog.has(entry)) continue; // compacted meanwhile
      this.#uploading.add(entry.name);
      try {
        if (!await this.#upload(entry)) break;
        rotated++;
      } finally {
        this.#uploading.delete(entry.name);
      }
    }
    return rotated;
  }

  async #upload(entry: CatalogEntry): Promise<boolean> {
    const { store, node } = this.#options;
    const path = join(this.#catalog.dir, entry.name);
    let tail: Uint8Array;
    try {
      tail = await readLocalTail(path, entry.bytes);
    } catch (error) {
      // Gone (compacted meanwhile) or damaged (the quarantine's business): not for S3.
      log(`cold tier: ${entry.name} not rotated: ${(error as Error).message}`);
      return true;
    }
    const name = remoteName(node, entry, tail.length);
    const key = this.#key(name);
    // Noted before the object can exist, with no wait since the row was seen:
    // a merge or retention that drops it later marks the note.
    if (!this.#catalog.has(entry)) return true;
    this.#catalog.noteUpload(entry.name, name);
    try {
      await store.put(key, path, entry.bytes);
      const size = await store.head(key);
      if (size !== entry.bytes) {
        throw new Error(`the store holds ${size ?? "no"} bytes of ${entry.bytes} after the upload`);
      }
      this.#recovered("upload");
    } catch (error) {
      // Given up now: the store may still complete it, so its note counts from now.
      this.#catalog.renewUpload(name);
      this.counters.upload_errors++;
      this.#failed(`upload of ${entry.name} to ${store.name}/${key}`, error);
      return false;
    }
    // The index goes to the cache now: cold reads then start without fetching it.
    await this.#tails.put(name, tail);
    const moved = this.#catalog.moveToRemote(entry, REMOTE, name);
    if (moved === undefined) {
      // Merged or retired while uploading, so marked superseded (or dropped
      // some other way: then the next listing decides).
      if (this.#catalog.unflippedUploads.get(name)?.superseded) {
        await this.#deleteUnflipped(name, true);
      }
      return true;
    }
    this.counters.uploads++;
    this.counters.uploaded_bytes += entry.bytes;
    this.#copies.push({ entry, after: Date.now() + this.#options.graceMs });
    return true;
  }

  /**
   * Deletes the object of upload `name`, never flipped and superseded
   * ({@linkcode Catalog.unflippedUploads}), whether or not the last listing
   * had it. An upload given up may still be completed by the store later, so
   * the upload is forgotten only once a delete succeeded twice the store's
   * upload deadline after it was noted or given up; until then every cycle
   * deletes it again. A failure is logged once.
   */
  async #deleteUnflipped(name: string, listed: boolean): Promise<void> {
    const { store } = this.#options;
    const where = `${store.name}/${this.#key(name)}`;
    try {
      await store.delete(this.#key(name));
    } catch (error) {
      if (!this.#undeleted.has(name)) {
        log(`cold tier: delete of ${where}, an upload never flipped, failed (retrying): ${error}`);
      }
      this.#undeleted.add(name);
      return;
    }
    this.#undeleted.delete(name);
    const upload = this.#catalog.unflippedUploads.get(name);
    // Also when noted far in the future: the clock was set back since.
    if (upload && Math.abs(Date.now() - upload.notedMs) > 2 * store.uploadDeadlineMs) {
      this.#catalog.forgetUpload(name);
    }
    await this.#tails.delete(name);
    if (!listed) return;
    this.counters.unflipped_deleted++;
    log(`cold tier: deleted ${where}, an upload never flipped: its lines were merged or retired`);
  }

  /**
   * Deletes the object of a remote file whose row is gone (retention), and
   * its cached index. A failure is logged and left: the next listing finds
   * the object without a row and catalogs it again, for a later deletion.
   */
  async deleteRemote(entry: CatalogEntry): Promise<void> {
    const key = this.#key(entry.name);
    try {
      await this.#options.store.delete(key);
    } catch (error) {
      this.#failed(`delete of ${this.#options.store.name}/${key}`, error);
    }
    await this.#tails.delete(entry.name);
  }

  /**
   * Deletes the local copies of rotated files whose grace has passed, once no
   * query reads them.
   *
   * @returns how many were deleted.
   */
  async sweep(): Promise<number> {
    const now = Date.now();
    let deleted = 0;
    while (this.#copies.length > 0 && this.#copies[0].after <= now) {
      const { entry } = this.#copies.shift()!;
      await this.#catalog.whenUnused(entry);
      this.#cache.evict(entry.name);
      await Deno.remove(join(this.#catalog.dir, entry.name)).catch((error) => {
        if (!(error instanceof Deno.errors.NotFound)) throw error;
      });
      this.counters.local_copies_deleted++;
      deleted++;
    }
    return deleted;
  }

  /** The object key of the file the catalog names `name` (see `remote_key.ts`). */
  #key(name: string): string {
    return this.#options.prefix + name;
  }

  /** A URL that reads the file the catalog names `name` without credentials, for `seconds`. */
  presign(name: string, seconds: number): Promise<string> {
    return this.#options.store.presign(this.#key(name), seconds);
  }

  /** Figures for `/api/v1/stats`. */
  stats(): Record<string, unknown> {
    return {
      store: this.#options.store.name,
      prefix: this.#options.prefix,
      node: this.#options.node,
      rotating: this.#options.rotate,
      fault: this.#fault ?? null,
      local_copies_waiting: this.#copies.length,
      unflipped_uploads: this.#catalog.unflippedUploads.size,
      index_cache_bytes: this.#tails.bytes,
      ...this.counters,
      block_cache_hits: this.blockCache.hits,
      block_cache_misses: this.blockCache.misses,
      block_cache_blocks: this.blockCache.size,
    };
  }

  #failed(what: string, error: unknown): void {
    const message = `cold tier: ${what} failed: ${(error as Error).message}`;
    if (this.#fault === undefined) log(`${message}; retrying every interval`);
    this.#fault = message;
  }

  #recovered(what: string): void {
    if (this.#fault === undefined) return;
    this.#fault = undefined;
    log(`cold tier: ${what} works again`);
  }

  /**
   * Stops the cycles (an upload under way finishes; local copies waiting are
   * deleted at the next start, when the catalog finds them held elsewhere)
   * and closes the store's connections.
   */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearInterval(this.#timer);
    await this.#cycle?.catch(() => {});
    this.#options.store.close();
  }
}
