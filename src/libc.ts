/**
 * The few C library calls loge makes on Linux with glibc, through FFI: the
 * allocator's arenas and free memory, dying with a parent process, a lower CPU priority
 * for background threads, and reads that take only what the page cache holds.
 * Elsewhere (or without FFI permission) they do nothing and say so by
 * returning `false` (or no bytes read).
 *
 * @module
 */

const SYMBOLS = {
  mallopt: { parameters: ["i32", "i32"], result: "i32" },
  prctl: { parameters: ["i32", "u64"], result: "i32" },
  setpriority: { parameters: ["i32", "u32", "i32"], result: "i32" },
  malloc_trim: { parameters: ["usize"], result: "i32" },
  preadv2: { parameters: ["i32", "buffer", "i32", "i64", "i32"], result: "isize" },
} as const;

let opened: Deno.DynamicLibrary<typeof SYMBOLS> | null | undefined;

/** glibc, opened once; `null` where there is none to open. */
function glibc(): Deno.DynamicLibrary<typeof SYMBOLS> | null {
  if (opened !== undefined) return opened;
  opened = null;
  if (Deno.build.os !== "linux" || Deno.build.env !== "gnu") return opened;
  try {
    opened = Deno.dlopen("libc.so.6", SYMBOLS);
  } catch {
    // No FFI permission: the defaults stay.
  }
  return opened;
}

/** glibc's `mallopt` parameter of the most arenas. */
const M_ARENA_MAX = -8;

/**
 * Limits glibc's allocator to `arenas` arenas (each thread would otherwise
 * keep an arena of freed memory of its own). Whether it applied.
 *
 * glibc's mmap threshold is left dynamic on purpose: fixed (at 128 KiB, say)
 * every allocation above it is mapped and unmapped, and zstd's contexts of
 * several MB, made for each block compressed, were faulted in and zeroed
 * each time: compaction ran 8 times slower, half of it in the kernel.
 *
 * @example
 * ```ts
 * import { limitArenas } from "./libc.ts";
 * console.log(limitArenas(2)); // true on Linux with glibc
 * ```
 */
export function limitArenas(arenas: number): boolean {
  const c = glibc();
  return c !== null && c.symbols.mallopt(M_ARENA_MAX, arenas) === 1;
}

/**
 * Gives the allocator's free memory back to the system (`malloc_trim(0)`):
 * glibc keeps what its heaps freed for later allocations. Whether any was.
 *
 * @example
 * ```ts
 * import { releaseFreeMemory } from "./libc.ts";
 * console.log(typeof releaseFreeMemory()); // "boolean"
 * ```
 */
export function releaseFreeMemory(): boolean {
  const c = glibc();
  return c !== null && c.symbols.malloc_trim(0n) === 1;
}

/** Asks for SIGKILL when the parent process dies (`PR_SET_PDEATHSIG`). Whether it applied. */
export function dieWithParent(): boolean {
  const c = glibc();
  const PR_SET_PDEATHSIG = 1;
  return c !== null && c.symbols.prctl(PR_SET_PDEATHSIG, 9n) === 0;
}

/**
 * Lowers the CPU priority of the calling thread (Linux applies
 * `setpriority(PRIO_PROCESS, 0, …)` to the calling thread only), so that it
 * takes what other threads leave. Whether it applied.
 *
 * @example
 * ```ts
 * import { niceThisThread } from "./libc.ts";
 * const worker = new Worker(
 *   `data:application/javascript,${encodeURIComponent(
 *     `import { niceThisThread } from "${new URL("./libc.ts", import.meta.url)}";` +
 *       "self.postMessage(niceThisThread(10));",
 *   )}`,
 *   { type: "module" },
 * );
 * const applied = await new Promise((resolve) => worker.onmessage = (e) => resolve(e.data));
 * worker.terminate();
 * console.log(applied); // true on Linux with glibc
 * ```
 */
export function niceThisThread(nice: number): boolean {
  const c = glibc();
  const PRIO_PROCESS = 0;
  return c !== null && c.symbols.setpriority(PRIO_PROCESS, 0, nice) === 0;
}

/** `preadv2` flag: fail with `EAGAIN` rather than wait for the disk (Linux 4.14). */
const RWF_NOWAIT = 8;

/**
 * Reads into `into` what the page cache holds of file descriptor `fd` from
 * `offset` on, without waiting for the disk (`preadv2` with `RWF_NOWAIT`):
 * the bytes read, from 0 (none cached, or no such call here) to
 * `into.length`. An error reads nothing; the caller's ordinary read meets it
 * again and reports it.
 *
 * @example
 * ```ts
 * import { readCached } from "./libc.ts";
 * import { open } from "node:fs/promises";
 * import assert from "node:assert/strict";
 * const path = await Deno.makeTempFile();
 * await Deno.writeFile(path, new Uint8Array([1, 2, 3, 4, 5]));
 * const file = await open(path, "r");
 * const into = new Uint8Array(3);
 * const read = readCached(file.fd, into, 1); // 3 on Linux: the file was just written
 * assert.deepEqual([...into.subarray(0, read)], [2, 3, 4].slice(0, read));
 * await file.close();
 * await Deno.remove(path);
 * ```
 */
export function readCached(fd: number, into: Uint8Array, offset: number): number {
  const c = glibc();
  if (c === null || into.length === 0) return 0;
  const at = Deno.UnsafePointer.value(Deno.UnsafePointer.of(into));
  const iovec = new BigUint64Array([BigInt(at), BigInt(into.length)]);
  const read = c.symbols.preadv2(fd, iovec, 1, BigInt(offset), RWF_NOWAIT);
  return read > 0 ? Number(read) : 0;
}
