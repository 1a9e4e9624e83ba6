import assert from "node:assert/strict";
import { open } from "node:fs/promises";
import { join } from "node:path";
import { readCached } from "../../libc.ts";
import { bytesReadFromPageCache, openFileSource } from "./file.ts";

/**
 * Drops a synced file's pages from the page cache (`POSIX_FADV_DONTNEED`):
 * whether they went (a tmpfs keeps them, having no disk to read them from).
 * Pages that a readahead is still reading stay: it tries again a few times.
 */
async function evict(path: string): Promise<boolean> {
  const libc = Deno.dlopen(
    "libc.so.6",
    {
      posix_fadvise: { parameters: ["i32", "i64", "i64", "i32"], result: "i32" },
    } as const,
  );
  const file = await open(path, "r");
  try {
    const size = (await file.stat()).size;
    for (let tries = 0; tries < 10; tries++) {
      if (tries > 0) await new Promise((resolve) => setTimeout(resolve, 20));
      assert.equal(libc.symbols.posix_fadvise(file.fd, 0n, 0n, 4), 0);
      // Probed at the end, away from the ranges read: a probe may start readahead.
      if (readCached(file.fd, new Uint8Array(4096), size - 4096) === 0) return true;
    }
    return false;
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
  async fn(t) {
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
        // Just written: in the page cache, and read from it at once.
        const before = bytesReadFromPageCache();
        assert.deepEqual(await source.read(299_000, 8192), expect(299_000, 8192));
        assert.equal(bytesReadFromPageCache() - before, 8192);
        await t.step({
          name: "evicted, then partly cached again",
          ignore: !(await evict(path)),
          async fn() {
            const probe = await open(path, "r");
            try {
              let from = bytesReadFromPageCache();
              assert.deepEqual(await source.read(600_000, 70_000), expect(600_000, 70_000));
              assert.equal(bytesReadFromPageCache() - from, 0);
              // The first page and the kernel's readahead are cached again, the rest not. Under
              // load the readahead may grow to the whole range (it did once in a full run): the
              // file is evicted and read again, a few times at most.
              let cached = RANGE;
              for (let tries = 0; tries < 5 && cached >= RANGE; tries++) {
                if (tries > 0) assert.ok(await evict(path));
                await source.read(0, 4096);
                cached = readCached(probe.fd, new Uint8Array(RANGE), 0);
              }
              assert.ok(cached >= 4096 && cached < RANGE, `${cached} bytes cached`);
              from = bytesReadFromPageCache();
              assert.deepEqual(await source.read(0, RANGE), expect(0, RANGE));
              // At least what was cached (readahead may have brought more meanwhile).
              assert.ok(bytesReadFromPageCache() - from >= cached);
            } finally {
              await probe.close();
            }
            // Closing waits for a read under way, which waits for the disk.
            const second = await openFileSource(path);
            assert.ok(await evict(path));
            const reading = second.read(0, all.length);
            await second.close();
            assert.deepEqual(await reading, all);
          },
        });
        assert.deepEqual(await source.read(all.length - 10, 10), expect(all.length - 10, 10));
        await assert.rejects(source.read(all.length - 10, 11), RangeError);
        await source.close();
        await assert.rejects(source.read(0, 1), /it is closed/);
      } finally {
        await source.close();
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
