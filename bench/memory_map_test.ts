import assert from "node:assert/strict";
import { parseSmaps, readMemoryParts } from "./memory_map.ts";

/** A mapping's smaps lines: its header and an Rss line of `rssKiB`. */
function mapping(start: number, end: number, perms: string, path: string, rssKiB: number) {
  const hex = (n: number) => n.toString(16).padStart(12, "0");
  return [
    `${hex(start)}-${hex(end)} ${perms} 00000000 00:00 0${path ? ` ${path}` : ""}`,
    `Size:           ${(end - start) / 1024} kB`,
    `Rss:            ${rssKiB} kB`,
    "Pss:                   0 kB",
  ].join("\n");
}

const MiB = 1024 * 1024;

Deno.test("parseSmaps() sums each mapping's Rss by its kind", () => {
  const arena = 0x7f00_0000_0000; // a multiple of 64 MiB
  const text = [
    mapping(0x5555_0000_0000, 0x5555_0000_0000 + 60 * MiB, "r-xp", "/usr/bin/deno", 50_000),
    mapping(0x5555_1000_0000, 0x5555_1000_0000 + 8 * MiB, "r--p", "/usr/lib/libc.so.6", 1_000),
    mapping(0x5556_0000_0000, 0x5556_0000_0000 + 200 * MiB, "rw-p", "[heap]", 120_000),
    // A thread arena's heap grown to 30 MiB, the rest of its 64 MiB reserved.
    mapping(arena, arena + 30 * MiB, "rw-p", "", 25_000),
    mapping(arena + 30 * MiB, arena + 64 * MiB, "---p", "", 0),
    // One grown to the whole 64 MiB.
    mapping(arena + 64 * MiB, arena + 128 * MiB, "rw-p", "", 60_000),
    // At a 64 MiB boundary but with nothing reserved behind it: not an arena's heap.
    mapping(arena + 192 * MiB, arena + 200 * MiB, "rw-p", "", 8_000),
    // V8's pages.
    mapping(arena + 256 * MiB + 256 * 1024, arena + 256 * MiB + 512 * 1024, "rw-p", "", 256),
    mapping(arena + 256 * MiB + MiB, arena + 256 * MiB + MiB + 256 * 1024, "rw-p", "", 100),
    // A thread's stack and a buffer mapped on its own.
    mapping(0x7ffc_0000_0000, 0x7ffc_0000_0000 + 132 * 1024, "rw-p", "[stack]", 40),
    mapping(0x7f10_0000_1000, 0x7f10_0000_1000 + 3 * MiB, "rw-p", "", 3_072),
  ].join("\n");
  assert.deepEqual(parseSmaps(text), {
    files: 51_000,
    v8Pages: 356,
    glibcMainHeap: 120_000,
    glibcThreadHeaps: 85_000,
    other: 8_000 + 40 + 3_072,
  });
  assert.deepEqual(parseSmaps(""), {
    files: 0,
    v8Pages: 0,
    glibcMainHeap: 0,
    glibcThreadHeaps: 0,
    other: 0,
  });
});

Deno.test("readMemoryParts() of this process adds up to its RSS and finds its code and V8 heap", async () => {
  const hold = new Array(200_000).fill(0).map((_, i) => ({ i })); // some V8 heap in use
  const parts = await readMemoryParts(Deno.pid);
  const status = await Deno.readTextFile("/proc/self/status");
  const rssKiB = Number(/^VmRSS:\s+(\d+) kB$/m.exec(status)![1]);
  assert.ok(parts !== undefined);
  const total = Object.values(parts).reduce((a, b) => a + b, 0);
  // Read a moment apart: within a few percent of each other.
  assert.ok(Math.abs(total - rssKiB) < rssKiB * 0.05, `${total} KiB in parts, VmRSS ${rssKiB}`);
  assert.ok(parts.files > 10_000, `${parts.files} KiB of files: the deno binary's code`);
  assert.ok(parts.v8Pages > 1_000, `${parts.v8Pages} KiB of V8 pages`);
  assert.equal(hold.length, 200_000);
  assert.equal(await readMemoryParts(2 ** 30), undefined);
});
