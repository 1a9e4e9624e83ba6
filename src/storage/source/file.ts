/**
 * Local files as {@linkcode ByteSource}s: positional reads, so concurrent
 * reads never race on a shared file position.
 *
 * @module
 */

import { close, closeSync, constants, fstatSync, openSync, read, readSync } from "node:fs";
import { readCached } from "../../libc.ts";
import type { ByteSource } from "./byte_source.ts";

/**
 * Whether `node:fs` descriptors are the system's, as {@linkcode readCached}
 * needs: checked once, on the first file opened, through `/proc/self/fd` (a
 * runtime with descriptors of its own numbering would have some other file's
 * bytes read for this one's).
 */
let systemDescriptors: boolean | undefined;

function usesSystemDescriptors(fd: number, path: string): boolean {
  if (systemDescriptors === undefined) {
    try {
      systemDescriptors = Deno.readLinkSync(`/proc/self/fd/${fd}`) === Deno.realPathSync(path);
    } catch {
      systemDescriptors = false;
    }
  }
  return systemDescriptors;
}

/** Bytes read from the page cache at once, process-wide (see {@linkcode openFileSource}). */
let fromPageCache = 0;

/** Bytes that reads of {@linkcode openFileSource} took from the page cache at once, process-wide. */
export function bytesReadFromPageCache(): number {
  return fromPageCache;
}

/**
 * Opens `path` read-only, without access-time updates where the file is the
 * process's own (a read that dirties the inode may wait on the journal).
 */
function openForReading(path: string): number {
  try {
    return openSync(path, constants.O_RDONLY | (constants.O_NOATIME ?? 0));
  } catch (error) {
    if ((error as { code?: string }).code !== "EPERM") throw error;
    return openSync(path, constants.O_RDONLY);
  }
}

/**
 * Opens a local file for positional reads (`pread`) from the event loop.
 * The open is synchronous, and so is reading what the page cache holds; the
 * rest of a read is asynchronous: on a busy server an await waits a turn of
 * the event loop behind every push being decoded, milliseconds, where a
 * cached read takes microseconds. Closing waits for the reads under way; a
 * read after it is refused (the descriptor's number may be another file's).
 *
 * @example
 * ```ts
 * import { openFileSource } from "./file.ts";
 * import assert from "node:assert/strict";
 * const dir = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${dir}/l1-1.loge`, "LOGE....rest");
 * const src = await openFileSource(`${dir}/l1-1.loge`);
 * assert.equal(src.size, 12);
 * assert.equal(new TextDecoder().decode(await src.read(8, 4)), "rest");
 * await assert.rejects(src.read(10, 4), RangeError); // past the end
 * await src.close();
 * await assert.rejects(src.read(0, 4), /is closed/);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export function openFileSource(path: string): Promise<ByteSource> {
  let fd: number;
  try {
    fd = openForReading(path);
  } catch (error) {
    return Promise.reject(error);
  }
  let size: number;
  try {
    size = fstatSync(fd).size;
  } catch (error) {
    closeSync(fd);
    return Promise.reject(error);
  }
  const cached = usesSystemDescriptors(fd, path);
  let reading = 0;
  let drained: (() => void) | undefined;
  let closing: Promise<void> | undefined;
  return Promise.resolve({
    name: path,
    size,
    async read(offset, length) {
      if (closing) throw new Error(`Cannot read ${path}: it is closed`);
      reading++;
      try {
        const out = new Uint8Array(length);
        let done = cached ? readCached(fd, out, offset) : 0;
        fromPageCache += done;
        while (done < length) {
          const bytesRead = await readAt(fd, out.subarray(done), offset + done);
          if (bytesRead === 0) {
            throw new RangeError(`Unexpected end of ${path} at ${offset + done}`);
          }
          done += bytesRead;
        }
        return out;
      } finally {
        if (--reading === 0) drained?.();
      }
    },
    close() {
      return closing ??= (async () => {
        if (reading > 0) await new Promise<void>((resolve) => drained = resolve);
        await new Promise<void>((resolve, reject) => close(fd, (e) => e ? reject(e) : resolve()));
      })();
    },
  });
}

/** Reads into `into` from `position` of `fd` on the I/O threads: the bytes read. */
function readAt(fd: number, into: Uint8Array, position: number): Promise<number> {
  return new Promise((resolve, reject) =>
    read(fd, into, 0, into.length, position, (e, n) => e ? reject(e) : resolve(n))
  );
}

/**
 * Opens a local file for synchronous reads behind the same interface (the
 * returned promises are already settled). For workers, which have a thread of
 * their own: an asynchronous read costs a round trip to the I/O pool
 * (~50 µs), most of the merge of a tiny block, of which a many-stream
 * compaction unit has tens of thousands. Not for the server's event loop.
 */
export function openFileSourceSync(path: string): ByteSource {
  const fd = openSync(path, "r");
  let size: number;
  try {
    size = fstatSync(fd).size;
  } catch (error) {
    closeSync(fd);
    throw error;
  }
  return {
    name: path,
    size,
    read(offset, length) {
      try {
        const out = new Uint8Array(length);
        // Positional reads: a seek and a read cost 34 µs a block here, a pread 8.
        for (let done = 0; done < length;) {
          const n = readSync(fd, out, done, length - done, offset + done);
          if (!n) throw new RangeError(`Unexpected end of ${path} at ${offset + done}`);
          done += n;
        }
        return Promise.resolve(out);
      } catch (error) {
        return Promise.reject(error);
      }
    },
    close() {
      closeSync(fd);
      return Promise.resolve();
    },
  };
}
