/**
 * Open segment files with their decoded indexes, kept for reuse (segments are
 * immutable) up to a number of files and a number of bytes of decoded index
 * (a compacted segment's block filters take megabytes: a bound by count alone
 * let a long run fill hundreds of MB), least recently used first out. A segment in use
 * is never closed under its reader: eviction only drops it from the cache,
 * and the file closes when its last reader releases it.
 *
 * @module
 */

import type { ByteSource } from "./source/byte_source.ts";
import type { SegmentLocation, SourceOpener } from "./source/opener.ts";
import { readSegmentIndex, type SegmentIndex } from "./segment_reader.ts";

/** An open segment, held until {@linkcode OpenSegment.release}. */
export interface OpenSegment {
  readonly source: ByteSource;
  readonly index: SegmentIndex;
  /** Ends this use; the file may close once nobody uses it and it left the cache. */
  release(): void;
}

interface Slot {
  readonly opening: Promise<{ source: ByteSource; index: SegmentIndex }>;
  users: number;
  cached: boolean;
  /** Bytes its index holds, counted in the cache's total once it is loaded (0 before). */
  bytes: number;
}

/** Bytes of decoded index the cache keeps by default. */
export const SEGMENT_CACHE_BYTES = 64 * 1024 * 1024;

/**
 * About the memory a decoded index holds: its block filters, a block
 * reference's fields, and its streams' labels.
 */
export function indexBytes(index: SegmentIndex): number {
  let bytes = 0;
  for (const b of index.blocks) bytes += b.filter.byteLength + 120;
  for (const s of index.streams) bytes += 2 * (s?.length ?? 0) + 32;
  return bytes;
}

/**
 * A bounded cache of open segments, keyed by file name (names are unique
 * across locations), opened through a {@linkcode SourceOpener}.
 *
 * @example
 * ```ts
 * import { SegmentCache } from "./segment_cache.ts";
 * import { BlockBuilder } from "./block_codec.ts";
 * import { SegmentWriter } from "./segment_writer.ts";
 * import { SourceOpener } from "./source/opener.ts";
 * import assert from "node:assert/strict";
 * const dir = await Deno.makeTempDir();
 * const w = new SegmentWriter(dir, "l0-a-00000001.loge", { level: 0, zstdLevel: 3 });
 * const b = new BlockBuilder();
 * b.addString(1n, "hello");
 * w.writeBlock(w.stream('{"app":"web"}'), b);
 * w.finish([[1, 1]]);
 * const cache = new SegmentCache(new SourceOpener(dir), 256);
 * const segment = await cache.open({ name: "l0-a-00000001.loge", location: "local" });
 * try {
 *   assert.equal(segment.index.rows, 1);
 * } finally {
 *   segment.release();
 * }
 * await cache.close();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export class SegmentCache {
  readonly #opener: SourceOpener;
  readonly #max: number;
  readonly #maxBytes: number;
  readonly #slots = new Map<string, Slot>();
  /** Bytes of the loaded indexes in the cache. */
  #bytes = 0;
  /** Opens answered from the cache, and opens that read a segment's index. */
  hits = 0;
  misses = 0;

  /**
   * Keeps at most `max` unused segments open, their indexes holding at most
   * `maxBytes`, opening them with `opener`.
   */
  constructor(opener: SourceOpener, max = 256, maxBytes = SEGMENT_CACHE_BYTES) {
    this.#opener = opener;
    this.#max = max;
    this.#maxBytes = maxBytes;
  }

  /** Bytes of decoded index the cache holds. */
  get bytes(): number {
    return this.#bytes;
  }

  /**
   * Opens the segment of `entry` (a catalog entry, or its name and location)
   * or takes it from the cache; call `release()` when done.
   */
  async open(entry: SegmentLocation): Promise<OpenSegment> {
    const { name } = entry;
    let slot = this.#slots.get(name);
    if (slot) {
      this.hits++;
      this.#slots.delete(name);
      this.#slots.set(name, slot);
    } else {
      this.misses++;
      const loaded: Slot = slot = { opening: this.#load(entry), users: 0, cached: true, bytes: 0 };
      this.#slots.set(name, loaded);
      this.#trim();
      loaded.opening.then(({ index }) => {
        if (!loaded.cached) return;
        loaded.bytes = indexBytes(index);
        this.#bytes += loaded.bytes;
        this.#trim();
      }, () => {});
    }
    slot.users++;
    const taken = slot;
    try {
      const { source, index } = await taken.opening;
      let released = false;
      return {
        source,
        index,
        release: () => {
          if (released) return;
          released = true;
          this.#unuse(taken);
        },
      };
    } catch (error) {
      if (this.#slots.get(name) === taken) this.#slots.delete(name);
      taken.users--;
      throw error;
    }
  }

  /**
   * Opens `entry` into the cache ahead of its first query (a new file, say),
   * unless it is there already. A failure is left for a query to meet.
   */
  warm(entry: SegmentLocation): void {
    if (this.#slots.has(entry.name)) return;
    this.open(entry).then((segment) => segment.release(), () => {});
  }

  async #load(entry: SegmentLocation): Promise<{ source: ByteSource; index: SegmentIndex }> {
    const source = await this.#opener.open(entry);
    try {
      return { source, index: await readSegmentIndex(source) };
    } catch (error) {
      await source.close();
      throw error;
    }
  }

  #unuse(slot: Slot): void {
    slot.users--;
    if (slot.users === 0 && !slot.cached) this.#close(slot);
  }

  #close(slot: Slot): Promise<void> {
    return slot.opening.then((s) => s.source.close(), () => {});
  }

  #trim(): void {
    for (const [name, slot] of this.#slots) {
      if (this.#slots.size <= this.#max && this.#bytes <= this.#maxBytes) break;
      this.#drop(name, slot);
    }
  }

  #drop(name: string, slot: Slot): Promise<void> {
    this.#slots.delete(name);
    slot.cached = false;
    this.#bytes -= slot.bytes;
    slot.bytes = 0;
    return slot.users === 0 ? this.#close(slot) : Promise.resolve();
  }

  /** Drops `name` from the cache (its file is going away); readers keep it until they release. */
  evict(name: string): void {
    const slot = this.#slots.get(name);
    if (slot) this.#drop(name, slot);
  }

  /** Closes every cached segment (readers still holding one close it on release). */
  async close(): Promise<void> {
    await Promise.all([...this.#slots].map(([name, slot]) => this.#drop(name, slot)));
  }
}
