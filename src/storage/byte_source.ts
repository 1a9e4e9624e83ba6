/**
 * Random access to the bytes of a file: the only way readers touch segment
 * data, so a local file and (later) an object in S3 serve alike.
 *
 * @module
 */

import { open } from "node:fs/promises";

/** Random-access reads over an immutable file. */
export interface ByteSource {
  /** A name for error messages. */
  readonly name: string;
  /** Size in bytes. */
  readonly size: number;
  /** Reads exactly `length` bytes at `offset`. */
  read(offset: number, length: number): Promise<Uint8Array>;
  /** Releases the handle. */
  close(): Promise<void>;
}

/**
 * Opens a local file for positional reads (`pread`: concurrent reads never
 * race on a shared file position).
 *
 * @example
 * ```ts ignore
 * import { openFileSource } from "./byte_source.ts";
 * const src = await openFileSource("tmp/l1-1.loge");
 * const header = await src.read(0, 8);
 * await src.close();
 * ```
 */
export async function openFileSource(path: string): Promise<ByteSource> {
  const handle = await open(path, "r");
  const { size } = await handle.stat();
  return {
    name: path,
    size,
    async read(offset, length) {
      const out = new Uint8Array(length);
      let done = 0;
      while (done < length) {
        const { bytesRead } = await handle.read(out, done, length - done, offset + done);
        if (bytesRead === 0) throw new RangeError(`Unexpected end of ${path} at ${offset + done}`);
        done += bytesRead;
      }
      return out;
    },
    close: () => handle.close(),
  };
}
