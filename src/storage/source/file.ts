/**
 * Local files as {@linkcode ByteSource}s: positional reads, so concurrent
 * reads never race on a shared file position.
 *
 * @module
 */

import { open } from "node:fs/promises";
import type { ByteSource } from "./byte_source.ts";

/**
 * Opens a local file for asynchronous positional reads (`pread`).
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
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function openFileSource(path: string): Promise<ByteSource> {
  const handle = await open(path, "r");
  try {
    const { size } = await handle.stat();
    return {
      name: path,
      size,
      async read(offset, length) {
        const out = new Uint8Array(length);
        let done = 0;
        while (done < length) {
          const { bytesRead } = await handle.read(out, done, length - done, offset + done);
          if (bytesRead === 0) {
            throw new RangeError(`Unexpected end of ${path} at ${offset + done}`);
          }
          done += bytesRead;
        }
        return out;
      },
      close: () => handle.close(),
    };
  } catch (error) {
    await handle.close();
    throw error;
  }
}

/**
 * Opens a local file for synchronous reads behind the same interface (the
 * returned promises are already settled). For workers, which have a thread of
 * their own: an asynchronous read costs a round trip to the I/O pool
 * (~50 µs), most of the merge of a tiny block, of which a many-stream
 * compaction unit has tens of thousands. Not for the server's event loop.
 */
export function openFileSourceSync(path: string): ByteSource {
  const file = Deno.openSync(path, { read: true });
  let size: number;
  try {
    size = file.statSync().size;
  } catch (error) {
    file.close();
    throw error;
  }
  return {
    name: path,
    size,
    read(offset, length) {
      try {
        const out = new Uint8Array(length);
        file.seekSync(offset, Deno.SeekMode.Start);
        for (let done = 0; done < length;) {
          const n = file.readSync(out.subarray(done));
          if (!n) throw new RangeError(`Unexpected end of ${path} at ${offset + done}`);
          done += n;
        }
        return Promise.resolve(out);
      } catch (error) {
        return Promise.reject(error);
      }
    },
    close() {
      file.close();
      return Promise.resolve();
    },
  };
}
