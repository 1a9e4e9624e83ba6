/**
 * Where a process's resident memory is, from Linux `/proc/<pid>/smaps`: each mapping's `Rss`
 * summed by what the mapping is. For a loge server (a Deno process) the kinds that matter are
 * the mapped files (mostly the `deno` binary's code), V8's heap pages (V8 maps its heaps in
 * 256 KiB pages), glibc's heaps (the main thread's `[heap]`, and the heaps of other threads'
 * arenas, each mapped at a 64 MiB boundary with the unused rest of its 64 MiB reserved
 * `---p`), and the rest (thread stacks, large buffers mapped on their own, V8's large objects).
 *
 * The kinds of anonymous mappings are read from their shape, so a mapping that happens to have
 * the shape of another kind is counted as it: the figures say where memory is to within a few
 * MiB, which is what finding the large parts needs.
 *
 * @module
 */

/** Resident KiB by kind of mapping. */
export interface MemoryParts {
  /** Mappings of files: the executable's code and data, shared libraries. */
  files: number;
  /** Anonymous 256 KiB mappings: V8's heap pages. */
  v8Pages: number;
  /** `[heap]`: glibc's main arena, grown with `brk`. */
  glibcMainHeap: number;
  /** Heaps of glibc's other arenas (threads'). */
  glibcThreadHeaps: number;
  /** Every other anonymous mapping. */
  other: number;
}

const V8_PAGE = 256 * 1024;
/** glibc's `HEAP_MAX_SIZE` on 64-bit: a thread arena's heap is mapped at a multiple of it. */
const ARENA_HEAP = 64 * 1024 * 1024;

interface Mapping {
  start: number;
  end: number;
  perms: string;
  path: string;
  rssKiB: number;
}

const HEADER = /^([0-9a-f]+)-([0-9a-f]+) (\S{4}) \S+ \S+ \S+\s*(.*)$/;

function mappings(text: string): Mapping[] {
  const out: Mapping[] = [];
  for (const line of text.split("\n")) {
    const header = HEADER.exec(line);
    if (header !== null) {
      out.push({
        start: parseInt(header[1], 16),
        end: parseInt(header[2], 16),
        perms: header[3],
        path: header[4],
        rssKiB: 0,
      });
      continue;
    }
    const rss = /^Rss:\s+(\d+) kB$/.exec(line);
    if (rss !== null && out.length > 0) out[out.length - 1].rssKiB = Number(rss[1]);
  }
  return out;
}

/**
 * Sums the `Rss` of the mappings of a `/proc/<pid>/smaps` text by kind.
 *
 * @example
 * ```ts
 * import { parseSmaps } from "./memory_map.ts";
 * import assert from "node:assert/strict";
 * const text = [
 *   "555500000000-555504000000 r-xp 00000000 fd:01 42 /usr/bin/deno",
 *   "Rss:               61440 kB",
 *   "555508000000-555510000000 rw-p 00000000 00:00 0 [heap]",
 *   "Rss:              102400 kB",
 *   "7f0004000000-7f0006000000 rw-p 00000000 00:00 0",
 *   "Rss:               20480 kB",
 *   "7f0006000000-7f0008000000 ---p 00000000 00:00 0",
 *   "Rss:                   0 kB",
 *   "7f1000040000-7f1000080000 rw-p 00000000 00:00 0",
 *   "Rss:                 256 kB",
 * ].join("\n");
 * assert.deepEqual(parseSmaps(text), {
 *   files: 61440,
 *   v8Pages: 256,
 *   glibcMainHeap: 102400,
 *   glibcThreadHeaps: 20480,
 *   other: 0,
 * });
 * ```
 */
export function parseSmaps(text: string): MemoryParts {
  const parts: MemoryParts = {
    files: 0,
    v8Pages: 0,
    glibcMainHeap: 0,
    glibcThreadHeaps: 0,
    other: 0,
  };
  const maps = mappings(text);
  maps.forEach((m, i) => {
    const size = m.end - m.start;
    if (m.path === "[heap]") parts.glibcMainHeap += m.rssKiB;
    else if (m.path.startsWith("/")) parts.files += m.rssKiB;
    else if (m.path === "" && isArenaHeap(m, maps[i + 1])) parts.glibcThreadHeaps += m.rssKiB;
    else if (m.path === "" && size === V8_PAGE) parts.v8Pages += m.rssKiB;
    else parts.other += m.rssKiB;
  });
  return parts;
}

/** A thread arena's heap: at a 64 MiB boundary, its whole 64 MiB in use or its rest reserved. */
function isArenaHeap(m: Mapping, next: Mapping | undefined): boolean {
  if (m.start % ARENA_HEAP !== 0 || m.perms !== "rw-p") return false;
  if (m.end - m.start === ARENA_HEAP) return true;
  return next !== undefined && next.start === m.end && next.perms === "---p" &&
    next.end - m.start === ARENA_HEAP;
}

/**
 * The {@linkcode MemoryParts} of process `pid`, or `undefined` once it has exited.
 *
 * @example
 * ```ts ignore
 * import { readMemoryParts } from "./memory_map.ts";
 * console.log(await readMemoryParts(Deno.pid));
 * ```
 */
export async function readMemoryParts(pid: number): Promise<MemoryParts | undefined> {
  try {
    return parseSmaps(await Deno.readTextFile(`/proc/${pid}/smaps`));
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return undefined;
    throw err;
  }
}
