/**
 * The few C library calls loge makes on Linux with glibc, through FFI: the
 * allocator's arenas and free memory, dying with a parent process, and a lower CPU priority
 * for background threads. Elsewhere (or without FFI permission) they do
 * nothing and say so by returning `false`.
 *
 * @module
 */

const SYMBOLS = {
  mallopt: { parameters: ["i32", "i32"], result: "i32" },
  prctl: { parameters: ["i32", "u64"], result: "i32" },
  setpriority: { parameters: ["i32", "u32", "i32"], result: "i32" },
  malloc_trim: { parameters: ["usize"], result: "i32" },
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
