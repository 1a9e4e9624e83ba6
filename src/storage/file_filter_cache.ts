/**
 * The file content filters the query planner has read from the catalog,
 * kept for the next query: bounded by bytes, least recently used first out.
 * A file's filter takes about a byte a stored line, so a folder of months
 * holds gigabytes of them; kept without a bound, every file an all-time line
 * filter ever touched would stay in memory.
 *
 * @module
 */

/** Bytes of file filters the catalog keeps by default. */
export const FILE_FILTER_CACHE_BYTES = 32 * 1024 * 1024;

/**
 * A bounded LRU of file filters by file id; a filter larger than the whole
 * bound is returned but not kept.
 *
 * @example
 * ```ts
 * import { FileFilterCache } from "./file_filter_cache.ts";
 * import assert from "node:assert/strict";
 * let loads = 0;
 * const load = (id: number) => (loads++, new Uint8Array(id));
 * const cache = new FileFilterCache(10);
 * cache.get(4, load);
 * cache.get(6, load);
 * cache.get(4, load); // held: no load, and now the most recently used
 * cache.get(3, load); // 13 bytes: 6, the least recently used, goes
 * assert.deepEqual({ loads, bytes: cache.bytes }, { loads: 3, bytes: 7 });
 * cache.get(6, load);
 * assert.equal(loads, 4);
 * ```
 */
export class FileFilterCache {
  readonly #maxBytes: number;
  readonly #filters = new Map<number, Uint8Array>();
  #bytes = 0;

  /** Keeps at most `maxBytes` of filters. */
  constructor(maxBytes: number = FILE_FILTER_CACHE_BYTES) {
    this.#maxBytes = maxBytes;
  }

  /** Bytes of the filters held. */
  get bytes(): number {
    return this.#bytes;
  }

  /** The filter of file `id`, held or read with `load` (it becomes the most recently used). */
  get(id: number, load: (id: number) => Uint8Array): Uint8Array {
    const held = this.#filters.get(id);
    if (held !== undefined) {
      this.#filters.delete(id);
      this.#filters.set(id, held);
      return held;
    }
    const filter = load(id);
    if (filter.byteLength > this.#maxBytes) return filter;
    this.#filters.set(id, filter);
    this.#bytes += filter.byteLength;
    for (const [oldest, f] of this.#filters) {
      if (this.#bytes <= this.#maxBytes) break;
      this.#filters.delete(oldest);
      this.#bytes -= f.byteLength;
    }
    return filter;
  }

  /** Forgets file `id` (it left the catalog). */
  delete(id: number): void {
    const filter = this.#filters.get(id);
    if (filter === undefined) return;
    this.#filters.delete(id);
    this.#bytes -= filter.byteLength;
  }
}
