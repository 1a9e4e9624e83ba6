/**
 * Byte sources over the files of the cold tier: every read is one ranged GET
 * of the object, except reads of the file's tail (footer and index), which
 * come from the {@linkcode TailCache} on local disk once fetched. A store
 * that cannot be reached makes reads fail with
 * {@linkcode SourceUnavailableError}, which queries turn into warnings.
 *
 * @module
 */

import { type ByteSource, SourceUnavailableError } from "../storage/source/byte_source.ts";
import type { SegmentLocation } from "../storage/source/opener.ts";
import type { ObjectStore } from "./object_store.ts";
import type { TailCache } from "./tail_cache.ts";

/** Counters of the reads of remote files, for `/api/v1/stats`. */
export interface RemoteReadCounters {
  /** Ranged GETs sent. */
  gets: number;
  /** Bytes those GETs returned. */
  bytes_fetched: number;
  /** GETs that failed. */
  get_errors: number;
  /** Tail (index) reads answered by the local cache. */
  index_cache_hits: number;
  /** Tail (index) reads that had to be fetched. */
  index_cache_misses: number;
}

/** Zeroed {@linkcode RemoteReadCounters}. */
export function remoteReadCounters(): RemoteReadCounters {
  return { gets: 0, bytes_fetched: 0, get_errors: 0, index_cache_hits: 0, index_cache_misses: 0 };
}

/**
 * The tail of one file as known: the bytes from `start` to the end of the
 * file, loaded from the cache on first use.
 */
interface Tail {
  start: number;
  bytes: Uint8Array;
}

/**
 * A byte source of the remote file `segment`, object `key` of `store`.
 *
 * @example
 * ```ts ignore
 * const source = openRemoteSource(store, "loge/web-1/…-l1-a.loge", segment, tails, counters);
 * const footer = await source.read(source.size - 24, 24);
 * ```
 */
export function openRemoteSource(
  store: ObjectStore,
  key: string,
  segment: SegmentLocation & { bytes: number; tailBytes?: number },
  tails: TailCache,
  counters: RemoteReadCounters,
): ByteSource {
  const size = segment.bytes;
  let tail: Tail | undefined;
  let loaded = false;
  const cachedTail = async (): Promise<Tail | undefined> => {
    if (!loaded) {
      loaded = true;
      const bytes = await tails.get(segment.name);
      if (bytes !== undefined && bytes.length <= size) tail = { start: size - bytes.length, bytes };
    }
    return tail;
  };
  const fetch = async (offset: number, length: number): Promise<Uint8Array> => {
    counters.gets++;
    try {
      const bytes = await store.get(key, offset, length);
      counters.bytes_fetched += bytes.length;
      return bytes;
    } catch (error) {
      counters.get_errors++;
      throw new SourceUnavailableError(
        `cannot read ${store.name}/${key}: ${(error as Error).message}`,
        { cause: error },
      );
    }
  };
  return {
    name: `${store.name}/${key}`,
    size,
    tailHint: segment.tailBytes,
    async read(offset, length) {
      const end = offset + length;
      if (offset < 0 || end > size) {
        throw new RangeError(`read of ${length} bytes at ${offset} is outside ${size} bytes`);
      }
      const known = await cachedTail();
      if (known && offset >= known.start) {
        counters.index_cache_hits++;
        return known.bytes.subarray(offset - known.start, end - known.start);
      }
      // The tail, or what lies right before the known tail (the rest of a
      // large index): fetched once, then kept.
      const extendsTail = end === size || (known !== undefined && end === known.start);
      if (!extendsTail) return fetch(offset, length);
      counters.index_cache_misses++;
      const bytes = await fetch(offset, length);
      if (end === size) tail = { start: offset, bytes };
      else {
        const joined = new Uint8Array(length + known!.bytes.length);
        joined.set(bytes);
        joined.set(known!.bytes, length);
        tail = { start: offset, bytes: joined };
      }
      await tails.put(segment.name, tail.bytes);
      return bytes;
    },
    close: () => Promise.resolve(),
  };
}
