/**
 * Decoded blocks of remote segments, kept so that repeated queries over cold
 * data do not fetch and decompress the same frames again: bounded by a count
 * of blocks (`--s3-frame-cache-size`), least recently used first out.
 * Segments are immutable, so an entry never goes stale.
 *
 * @module
 */

import type { Block } from "./block_codec.ts";

/**
 * A bounded LRU of decoded blocks, keyed by segment and block offset.
 *
 * @example
 * ```ts
 * import { BlockCache } from "./block_cache.ts";
 * import { BlockBuilder, decodeBlock } from "./block_codec.ts";
 * import assert from "node:assert/strict";
 * const b = new BlockBuilder();
 * b.addString(1n, "hello");
 * const block = decodeBlock(b.finish().raw);
 * const cache = new BlockCache(1);
 * cache.set("s3/a.loge", 8, block);
 * assert.equal(cache.get("s3/a.loge", 8), block);
 * cache.set("s3/a.loge", 99, block); // evicts the first
 * assert.equal(cache.get("s3/a.loge", 8), undefined);
 * assert.deepEqual({ hits: cache.hits, misses: cache.misses }, { hits: 1, misses: 1 });
 * ```
 */
export class BlockCache {
  readonly #max: number;
  readonly #blocks = new Map<string, Block>();
  /** Lookups that found their block. */
  hits = 0;
  /** Lookups that did not. */
  misses = 0;

  /** Keeps at most `max` blocks (0 keeps none). */
  constructor(max: number) {
    this.#max = max;
  }

  /** Blocks held. */
  get size(): number {
    return this.#blocks.size;
  }

  /** The block of `segment` at `offset`, if held (it becomes the most recently used). */
  get(segment: string, offset: number): Block | undefined {
    const key = `${segment}@${offset}`;
    const block = this.#blocks.get(key);
    if (block === undefined) {
      this.misses++;
      return undefined;
    }
    this.hits++;
    this.#blocks.delete(key);
    this.#blocks.set(key, block);
    return block;
  }

  /** Holds `block` of `segment` at `offset`, dropping the least recently used beyond the bound. */
  set(segment: string, offset: number, block: Block): void {
    if (this.#max === 0) return;
    const key = `${segment}@${offset}`;
    this.#blocks.delete(key);
    this.#blocks.set(key, block);
    for (const oldest of this.#blocks.keys()) {
      if (this.#blocks.size <= this.#max) break;
      this.#blocks.delete(oldest);
    }
  }
}
