/**
 * The V8 and allocator settings the server runs with, whichever way it is
 * started (issue 12: peak RSS):
 *
 * - {@linkcode V8_FLAGS}: V8's young generation grows to 16 MB semi-spaces in
 *   each isolate under a high allocation rate; 4 MB keep scavenges cheap and
 *   take about 100 MB off. `--expose-gc` lets an idle isolate collect its
 *   garbage at once (`idle_memory.ts`) instead of keeping it for tens of
 *   seconds.
 * - glibc's allocator ({@linkcode tuneAllocator}): at most two arenas (each
 *   thread would otherwise keep an arena of freed memory of its own), and
 *   free memory given back once the process is idle. A fixed
 *   mmap threshold of 128 KiB, tried too, took ~30 MB off a burst's peak but
 *   made compaction 8 times slower (see `limitArenas`).
 *
 * V8 reads its flags when the process starts, so: `deno task serve` passes
 * them, the compiled binary has them built in (`deno task compile`), and a
 * bare `deno run -A main.ts serve` starts itself again with them in
 * `DENO_V8_FLAGS` ({@linkcode relaunchCommand}), the first process staying
 * as a thin parent that forwards signals and exits with the server's code.
 *
 * @module
 */

import { dieWithParent, limitArenas } from "../libc.ts";
import { watchIdleProcess } from "../idle_memory.ts";

/** The V8 flags of the server. */
export const V8_FLAGS: readonly string[] = ["--max-semi-space-size=4", "--expose-gc"];

/** The environment variable Deno reads V8 flags from (comma-separated). */
export const V8_FLAGS_ENV = "DENO_V8_FLAGS";

/** Set in a relaunched server: the pid of the parent that waits for it. */
export const PARENT_ENV = "LOGE_PARENT_PID";

/** The permissions `-A` grants: a relaunch only happens with all of them. */
const ALL_PERMISSIONS: Deno.PermissionName[] = [
  "read",
  "write",
  "net",
  "env",
  "sys",
  "run",
  "ffi",
];

/** What decides whether and how to relaunch: this process's facts. */
export interface ProcessFacts {
  /** A `deno compile` binary (its V8 flags are built in). */
  standalone: boolean;
  /** The value of `DENO_V8_FLAGS`, if set. */
  v8FlagsEnv: string | undefined;
  /** Whether every permission is granted (`-A`). */
  allPermissions: boolean;
  /** `Deno.execPath()`. */
  execPath: string;
  /** `Deno.mainModule`. */
  mainModule: string;
  /** `Deno.pid`. */
  pid: number;
}

/** This process's {@linkcode ProcessFacts}. */
export function processFacts(): ProcessFacts {
  return {
    standalone: Deno.build.standalone,
    v8FlagsEnv: Deno.env.get(V8_FLAGS_ENV),
    allPermissions: ALL_PERMISSIONS.every((name) =>
      Deno.permissions.querySync({ name } as Deno.PermissionDescriptor).state === "granted"
    ),
    execPath: Deno.execPath(),
    mainModule: Deno.mainModule,
    pid: Deno.pid,
  };
}

/** Whether `env` (a `DENO_V8_FLAGS` value) holds every flag of {@linkcode V8_FLAGS}. */
function hasV8Flags(env: string | undefined): boolean {
  const set = new Set((env ?? "").split(/[\s,]+/));
  return V8_FLAGS.every((flag) => set.has(flag));
}

/**
 * The command that runs `args` again under `deno run` with {@linkcode V8_FLAGS},
 * or `undefined` when no relaunch is needed (a compiled binary, or the flags
 * already in `DENO_V8_FLAGS`) or possible (not every permission granted: the
 * relaunched server gets `-A`).
 *
 * @example
 * ```ts
 * import { relaunchCommand } from "./runtime.ts";
 * import assert from "node:assert/strict";
 * const facts = {
 *   standalone: false,
 *   v8FlagsEnv: undefined,
 *   allPermissions: true,
 *   execPath: "/usr/bin/deno",
 *   mainModule: "file:///srv/loge/main.ts",
 *   pid: 42,
 * };
 * assert.deepEqual(relaunchCommand(["serve", "--port", "3100"], facts), {
 *   command: "/usr/bin/deno",
 *   args: ["run", "-A", "file:///srv/loge/main.ts", "serve", "--port", "3100"],
 *   env: { DENO_V8_FLAGS: "--max-semi-space-size=4,--expose-gc", LOGE_PARENT_PID: "42" },
 * });
 * assert.equal(relaunchCommand(["serve"], { ...facts, standalone: true }), undefined);
 * assert.equal(relaunchCommand(["serve"], { ...facts, allPermissions: false }), undefined);
 * ```
 */
export function relaunchCommand(
  args: readonly string[],
  facts: ProcessFacts,
): { command: string; args: string[]; env: Record<string, string> } | undefined {
  if (facts.standalone || hasV8Flags(facts.v8FlagsEnv) || !facts.allPermissions) return undefined;
  const flags = [facts.v8FlagsEnv, ...V8_FLAGS].filter((f) => f !== undefined && f !== "");
  return {
    command: facts.execPath,
    args: ["run", "-A", facts.mainModule, ...args],
    env: { [V8_FLAGS_ENV]: flags.join(","), [PARENT_ENV]: String(facts.pid) },
  };
}

/**
 * Runs the relaunched server with this process's stdio, forwarding SIGINT and
 * SIGTERM to it, and resolves to the exit code this process should end with
 * (the server's, or 128 + its signal's number).
 */
export async function runRelaunched(
  relaunch: { command: string; args: string[]; env: Record<string, string> },
): Promise<number> {
  const child = new Deno.Command(relaunch.command, {
    args: relaunch.args,
    env: relaunch.env,
    stdin: "inherit",
    stdout: "inherit",
    stderr: "inherit",
  }).spawn();
  const signals: Deno.Signal[] = ["SIGINT", "SIGTERM"];
  const forward = signals.map((signal) => {
    const listener = () => {
      try {
        child.kill(signal);
      } catch {
        // Already gone: its status settles the exit code.
      }
    };
    Deno.addSignalListener(signal, listener);
    return [signal, listener] as const;
  });
  const status = await child.status;
  for (const [signal, listener] of forward) Deno.removeSignalListener(signal, listener);
  if (status.signal === null) return status.code;
  return 128 + ({ SIGINT: 2, SIGKILL: 9, SIGTERM: 15 } as Record<string, number>)[status.signal]!;
}

/**
 * Limits glibc's allocator to two arenas, and each time the process goes
 * idle with memory to give back (its RSS grew since the last release)
 * collects the main isolate's garbage and gives the allocator's free memory
 * back to the system ({@linkcode watchIdleProcess}): the heaps keep what a
 * burst of pushes or a compaction freed, hundreds of MB, until then. Returns
 * whether it applied (Linux with glibc, FFI allowed).
 */
export function tuneAllocator(): boolean {
  if (!limitArenas(2)) return false;
  watchIdleProcess();
  return true;
}

/**
 * In a relaunched server: dies with its parent (SIGKILL on the parent's
 * death, as `kill -9` of the process a user started must stop the server),
 * and exits at once if the parent is already gone.
 */
export function followParent(): void {
  const parent = Deno.env.get(PARENT_ENV);
  if (parent === undefined) return;
  dieWithParent();
  if (String(Deno.ppid) !== parent) Deno.exit(1);
}
