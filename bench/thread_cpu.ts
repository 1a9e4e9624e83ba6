/**
 * A process's CPU time by kind of thread, from `/proc/<pid>/stat` and `/proc/<pid>/task/<tid>/stat`
 * (Linux): where a server spends its CPU while it takes a push, with the thread names Deno and V8
 * give. A thread that ends takes its times out of `task/` (a compaction worker ends after its
 * pass); the process's own times keep them, so what ended threads took is the difference.
 *
 * @module
 */

/** Clock ticks per second of `/proc`'s times: `USER_HZ`, 100 on Linux. */
const TICKS_PER_SECOND = 100;

/** The kinds of thread of a loge server, by what they run. */
export type ThreadGroup =
  | "event loop"
  | "workers"
  | "V8 helpers"
  | "file I/O"
  | "other"
  | "ended threads";

/** Every {@linkcode ThreadGroup}, in the order reports list them. */
export const THREAD_GROUPS: readonly ThreadGroup[] = [
  "event loop",
  "workers",
  "V8 helpers",
  "file I/O",
  "other",
  "ended threads",
];

/**
 * The group of a thread by its name (`comm`): the process's first thread runs the event loop;
 * Deno names worker threads `worker-N`, V8 its garbage collector's helpers `V8 DefaultWorke`
 * (cut at 15 bytes) and tokio its blocking threads `tokio-runtime-w`. Those run Deno's file
 * operations (the WAL's writes and fsyncs: a server with `--durable=false` spends nothing there);
 * the HTTP server runs on the event loop's thread.
 *
 * @example
 * ```ts
 * import { threadGroup } from "./thread_cpu.ts";
 * console.log(threadGroup("deno", true)); // event loop
 * console.log(threadGroup("worker-3", false)); // workers
 * ```
 */
export function threadGroup(
  name: string,
  isMain: boolean,
): Exclude<ThreadGroup, "ended threads"> {
  if (isMain) return "event loop";
  if (/^worker-\d+$/.test(name)) return "workers";
  if (name.startsWith("V8 ")) return "V8 helpers";
  if (name.startsWith("tokio-")) return "file I/O";
  return "other";
}

/**
 * The name and CPU seconds (user and system) of a `/proc/.../stat` line. The name is between
 * the first `(` and the last `)`: it may hold spaces and parentheses itself.
 *
 * @example
 * ```ts
 * import { parseTaskStat } from "./thread_cpu.ts";
 * const line = "42 (V8 DefaultWorke) S 1 42 42 0 -1 4194368 0 0 0 0 150 25 0 0 20 0 9 0";
 * console.log(parseTaskStat(line)); // { name: "V8 DefaultWorke", seconds: 1.75 }
 * ```
 * @throws {Error} If the line is not a stat line.
 */
export function parseTaskStat(line: string): { name: string; seconds: number } {
  const open = line.indexOf("(");
  const close = line.lastIndexOf(")");
  // After the name: state, ppid, pgrp, session, tty_nr, tpgid, flags, minflt, cminflt, majflt,
  // cmajflt, utime, stime.
  const fields = close > open && open > 0 ? line.slice(close + 2).split(" ") : [];
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  if (!Number.isInteger(utime) || !Number.isInteger(stime)) {
    throw new Error(`Cannot read a /proc stat line: ${JSON.stringify(line.slice(0, 80))}`);
  }
  return { name: line.slice(open + 1, close), seconds: (utime + stime) / TICKS_PER_SECOND };
}

/** CPU seconds by thread group. */
export type GroupSeconds = Record<ThreadGroup, number>;

/** A process's CPU seconds, in all and by live thread. */
export interface ProcessCpu {
  /** Every thread's, the ended ones too. */
  total: number;
  /** Each live thread's group and seconds, by thread id. */
  threads: Map<string, { group: ThreadGroup; seconds: number }>;
}

/**
 * The CPU seconds of process `pid`, in all and by live thread.
 *
 * @example
 * ```ts
 * import { readThreadCpu } from "./thread_cpu.ts";
 * const cpu = await readThreadCpu(Deno.pid);
 * console.log(cpu.threads.get(String(Deno.pid))?.group); // event loop
 * ```
 * @throws {Error} If the process does not exist.
 */
export async function readThreadCpu(pid: number): Promise<ProcessCpu> {
  const threads: ProcessCpu["threads"] = new Map();
  for await (const task of Deno.readDir(`/proc/${pid}/task`)) {
    let line: string;
    try {
      line = await Deno.readTextFile(`/proc/${pid}/task/${task.name}/stat`);
    } catch {
      continue; // the thread ended since the folder was listed
    }
    const { name, seconds } = parseTaskStat(line);
    threads.set(task.name, { group: threadGroup(name, task.name === String(pid)), seconds });
  }
  // Read last: it holds at least what the threads read above took.
  const total = parseTaskStat(await Deno.readTextFile(`/proc/${pid}/stat`)).seconds;
  return { total, threads };
}

/**
 * The CPU a stretch of work took, by group: each thread alive at its end counts from `before`
 * (or from its start), and what the process took beyond them is the ended threads'.
 *
 * @example
 * ```ts
 * import { cpuBetween } from "./thread_cpu.ts";
 * const before = { total: 3, threads: new Map([["1", { group: "event loop" as const, seconds: 1 }]]) };
 * const after = {
 *   total: 7,
 *   threads: new Map([
 *     ["1", { group: "event loop" as const, seconds: 2.5 }],
 *     ["9", { group: "workers" as const, seconds: 1 }],
 *   ]),
 * };
 * const spent = cpuBetween(before, after);
 * console.log(spent["event loop"], spent.workers, spent["ended threads"]); // 1.5 1 1.5
 * ```
 */
export function cpuBetween(before: ProcessCpu, after: ProcessCpu): GroupSeconds {
  const out = Object.fromEntries(THREAD_GROUPS.map((g) => [g, 0])) as GroupSeconds;
  let live = 0;
  for (const [tid, t] of after.threads) {
    const spent = t.seconds - (before.threads.get(tid)?.seconds ?? 0);
    out[t.group] += spent;
    live += spent;
  }
  // Rounding of ticks aside, never below zero.
  out["ended threads"] = Math.max(0, after.total - before.total - live);
  return out;
}
