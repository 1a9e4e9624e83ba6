import assert from "node:assert/strict";
import { open } from "node:fs/promises";
import { join } from "node:path";
import { readCached } from "../../libc.ts";
import { openFileSource } from "./file.ts";

/** Drops a synced file's pages from the page cache (`POSIX_FADV_DONTNEED`). */
async function evict(path: string): Promise<void> {
  const libc = Deno.dlopen(
    "libc.so.6",
    {
      posix_fadvise: { parameters: ["i32", "i64", "i64", "i32"], result: "i32" },
    } as const,
  );
  const file = await open(path, "r");
  try {
    assert.equal(libc.symbols.posix_fadvise(file.fd, 0n, 0n, 4), 0);
  } finally {
    await file.close();
    libc.close();
  }
}

/** A range bigger than the kernel's readahead after a read of its first page. */
const RANGE = 512 * 1024;

Deno.test({
  name: "a file source reads the same bytes from the page cache, from the disk and from both",
  ignore: Deno.build.os !== "linux",
  async fn() {
    const dir = await Deno.makeTempDir();
    try {
      const path = join(dir, "l1-1.loge");
      const bytes = crypto.getRandomValues(new Uint8Array(64 * 1024)).map((b, i) => b ^ i);
      const all = new Uint8Array(1 << 20);
      for (let at = 0; at < all.length; at += bytes.length) all.set(bytes, at);
      all.set(crypto.getRandomValues(new Uint8Array(4096)), 300_000);
      const file = await Deno.open(path, { write: true, create: true });
      await file.write(all);
      await file.sync();
      file.close();
      const source = await openFileSource(path);
      const expect = (offset: number, length: number) => all.subarray(offset, offset + length);
      try {
        // Just written: in the page cache.
        assert.deepEqual(await source.read(299_000, 8192), expect(299_000, 8192));
        await evict(path);
        const probe = await open(path, "r");
        try {
          // Evicted: nothing is cached, so the read below waits for the disk.
          assert.equal(readCached(probe.fd, new Uint8Array(4096), 600_000), 0);
          assert.deepEqual(await source.read(600_000, 70_000), expect(600_000, 70_000));
          // The first page and the kernel's readahead are cached again, the rest of the range not.
          await source.read(0, 4096);
          const cached = readCached(probe.fd, new Uint8Array(RANGE), 0);
          assert.ok(cached >= 4096 && cached < RANGE, `${cached} bytes cached`);
        } finally {
          await probe.close();
        }
        assert.deepEqual(await source.read(0, RANGE), expect(0, RANGE));
        assert.deepEqual(await source.read(all.length - 10, 10), expect(all.length - 10, 10));
        await assert.rejects(source.read(all.length - 10, 11), RangeError);
      } finally {
        await source.close();
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
