/**
 * Writes that outlive a power cut: a file's bytes and its name reach the disk
 * before the write is said done.
 *
 * @module
 */

import { dirname } from "node:path";

/**
 * Flushes a directory's entries (a rename, a new or removed file) to disk.
 *
 * @example
 * ```ts
 * import { syncDir } from "./durable_file.ts";
 * syncDir(Deno.cwd());
 * ```
 */
export function syncDir(dir: string): void {
  const f = Deno.openSync(dir, { read: true });
  try {
    f.syncSync();
  } finally {
    f.close();
  }
}

/**
 * Replaces the file at `path` with `data`, whole or not at all, durably: the
 * bytes go to a temporary file beside it (`tmp`; writers that may race over
 * one path each pass their own), which is fsynced, renamed over it, and its
 * folder fsynced.
 *
 * @example
 * ```ts
 * import { writeFileDurably } from "./durable_file.ts";
 * import assert from "node:assert/strict";
 * const dir = await Deno.makeTempDir();
 * await writeFileDurably(`${dir}/state.json`, new TextEncoder().encode("{}"));
 * assert.equal(await Deno.readTextFile(`${dir}/state.json`), "{}");
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function writeFileDurably(
  path: string,
  data: Uint8Array,
  tmp = `${path}.tmp`,
): Promise<void> {
  const file = await Deno.open(tmp, { write: true, create: true, truncate: true });
  try {
    for (let done = 0; done < data.length;) done += await file.write(data.subarray(done));
    await file.sync();
  } finally {
    file.close();
  }
  await Deno.rename(tmp, path);
  // Not syncDir: callers run on the event loop (queries, harvesters), which must not wait on disk.
  const dir = await Deno.open(dirname(path), { read: true });
  try {
    await dir.sync();
  } finally {
    dir.close();
  }
}
