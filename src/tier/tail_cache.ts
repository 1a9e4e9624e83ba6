/**
 * The tails of remote segment files (their footer and index), kept on local
 * disk so that a cold file's index is fetched once, not once per process: a
 * restart reads it from here. Bounded by bytes; the least recently used tails
 * go first. Files are immutable, so a tail never goes stale.
 *
 * One file per segment in the cache folder: `<encoded name>.tail` holds the
 * last bytes of the segment, written to a temporary name and renamed, so a
 * crash leaves whole tails or none.
 *
 * @module
 */

import { writeFileDurably } from "../storage/durable_file.ts";
import { join } from "node:path";
import { log } from "../log.ts";

const SUFFIX = ".tail";

/**
 * A bounded cache of segment tails in folder `dir`.
 *
 * @example
 * ```ts
 * import { TailCache } from "./tail_cache.ts";
 * import assert from "node:assert/strict";
 * const dir = await Deno.makeTempDir();
 * const cache = await TailCache.open(dir, 10);
 * await cache.put("web-1/a.loge", new Uint8Array([1, 2, 3, 4, 5, 6]));
 * await cache.put("web-1/b.loge", new Uint8Array([7, 8, 9, 10, 11, 12])); // a is dropped
 * assert.equal(await cache.get("web-1/a.loge"), undefined);
 * assert.deepEqual(await cache.get("web-1/b.loge"), new Uint8Array([7, 8, 9, 10, 11, 12]));
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export class TailCache {
  readonly #dir: string;
  readonly #maxBytes: number;
  /** Sizes by segment name, least recently used first. */
  readonly #sizes = new Map<string, number>();
  #bytes = 0;

  private constructor(dir: string, maxBytes: number) {
    this.#dir = dir;
    this.#maxBytes = maxBytes;
  }

  /** Opens (creating) the cache in `dir`, holding at most `maxBytes`. */
  static async open(dir: string, maxBytes: number): Promise<TailCache> {
    await Deno.mkdir(dir, { recursive: true });
    const cache = new TailCache(dir, maxBytes);
    const found: { name: string; size: number; mtime: number }[] = [];
    for await (const e of Deno.readDir(dir)) {
      if (!e.isFile) continue;
      const path = join(dir, e.name);
      if (!e.name.endsWith(SUFFIX)) {
        await Deno.remove(path).catch(() => {}); // a temporary file of an interrupted put
        continue;
      }
      const stat = await Deno.stat(path);
      found.push({
        name: decodeURIComponent(e.name.slice(0, -SUFFIX.length)),
        size: stat.size,
        mtime: stat.mtime?.getTime() ?? 0,
      });
    }
    found.sort((a, b) => a.mtime - b.mtime);
    for (const f of found) {
      cache.#sizes.set(f.name, f.size);
      cache.#bytes += f.size;
    }
    await cache.#trim();
    return cache;
  }

  #path(name: string): string {
    return join(this.#dir, encodeURIComponent(name) + SUFFIX);
  }

  /** The cached tail of segment `name`, if any. */
  async get(name: string): Promise<Uint8Array | undefined> {
    const size = this.#sizes.get(name);
    if (size === undefined) return undefined;
    try {
      const bytes = await Deno.readFile(this.#path(name));
      this.#sizes.delete(name);
      this.#sizes.set(name, size);
      return bytes;
    } catch {
      this.#forget(name);
      return undefined;
    }
  }

  /** Keeps `tail` as the tail of segment `name`; a failure to write only costs a later fetch. */
  async put(name: string, tail: Uint8Array): Promise<void> {
    if (tail.length > this.#maxBytes) return;
    const path = this.#path(name);
    const tmp = `${path}.${crypto.randomUUID()}.tmp`;
    try {
      // Durably: a power cut must not leave a torn index under its name,
      // which every later read would take for a damaged segment.
      await writeFileDurably(path, tail, tmp);
    } catch (error) {
      await Deno.remove(tmp).catch(() => {});
      log(`index cache: cannot keep the index of ${name}: ${(error as Error).message}`);
      return;
    }
    this.#forget(name);
    this.#sizes.set(name, tail.length);
    this.#bytes += tail.length;
    await this.#trim();
  }

  /** Drops segment `name` (its file is gone from the tier). */
  async delete(name: string): Promise<void> {
    if (!this.#sizes.has(name)) return;
    this.#forget(name);
    await Deno.remove(this.#path(name)).catch(() => {});
  }

  /** Bytes held. */
  get bytes(): number {
    return this.#bytes;
  }

  #forget(name: string): void {
    const size = this.#sizes.get(name);
    if (size === undefined) return;
    this.#sizes.delete(name);
    this.#bytes -= size;
  }

  async #trim(): Promise<void> {
    for (const name of [...this.#sizes.keys()]) {
      if (this.#bytes <= this.#maxBytes) break;
      this.#forget(name);
      await Deno.remove(this.#path(name)).catch(() => {});
    }
  }
}
