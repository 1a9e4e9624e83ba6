/**
 * Open segment files with their decoded indexes, kept for reuse (segments are
 * immutable) up to a bound, least recently used first out.
 *
 * @module
 */

import { join } from "node:path";
import { type ByteSource, openFileSource } from "./byte_source.ts";
import { readSegmentIndex, type SegmentIndex } from "./segment_reader.ts";

/** An open segment. */
export interface OpenSegment {
  readonly source: ByteSource;
  readonly index: SegmentIndex;
}

/**
 * A bounded cache of open segments in a data folder.
 *
 * @example
 * ```ts ignore
 * const cache = new SegmentCache("tmp", 256);
 * const { index } = await cache.open("l1-abc-00000001.loge");
 * ```
 */
export class SegmentCache {
  readonly #dir: string;
  readonly #max: number;
  readonly #open = new Map<string, Promise<OpenSegment>>();

  /** Keeps at most `max` segments open in `dir`. */
  constructor(dir: string, max = 256) {
    this.#dir = dir;
    this.#max = max;
  }

  /** Opens `name` (or returns it from the cache). */
  open(name: string): Promise<OpenSegment> {
    let segment = this.#open.get(name);
    if (segment) {
      this.#open.delete(name);
      this.#open.set(name, segment);
      return segment;
    }
    segment = (async () => {
      const source = await openFileSource(join(this.#dir, name));
      try {
        return { source, index: await readSegmentIndex(source) };
      } catch (error) {
        await source.close();
        throw error;
      }
    })();
    segment.catch(() => this.#open.delete(name));
    this.#open.set(name, segment);
    while (this.#open.size > this.#max) this.evict(this.#open.keys().next().value!);
    return segment;
  }

  /** Closes `name` if open (its file is going away). */
  evict(name: string): void {
    const segment = this.#open.get(name);
    this.#open.delete(name);
    segment?.then((s) => s.source.close(), () => {});
  }

  /** Closes every open segment. */
  async close(): Promise<void> {
    const all = [...this.#open.values()];
    this.#open.clear();
    for (const s of all) await s.then((o) => o.source.close(), () => {});
  }
}
