/**
 * Where a benchmark ran: the git commit and the machine.
 *
 * @module
 */

/** The commit and machine of a run. */
export interface Environment {
  /** Full commit hash of `HEAD`, or `unknown` outside a git checkout. */
  commit: string;
  /** Whether tracked files differ from the commit. */
  dirty: boolean;
  /** Logical CPUs. */
  cpus: number;
  /** `model name` of `/proc/cpuinfo`. */
  cpuModel: string;
  /** `MemTotal` of `/proc/meminfo`, in MiB. */
  memTotalMiB: number;
  /** Deno version. */
  deno: string;
  /** OS and architecture, e.g. `linux x86_64`. */
  os: string;
  /** Kernel release. */
  kernel: string;
}

async function git(repo: string, args: string[]): Promise<string> {
  const out = await new Deno.Command("git", {
    args: ["-C", repo, ...args],
    stdout: "piped",
    stderr: "null",
  }).output();
  if (!out.success) throw new Error(`git ${args.join(" ")} failed with code ${out.code}`);
  return new TextDecoder().decode(out.stdout).trim();
}

/**
 * Describes the checkout at `repo` and this machine.
 *
 * @example
 * ```ts ignore
 * import { environment } from "./environment.ts";
 * const env = await environment(".");
 * console.log(env.commit.slice(0, 7), env.cpus);
 * ```
 */
export async function environment(repo: string): Promise<Environment> {
  let commit = "unknown";
  let dirty = false;
  try {
    commit = await git(repo, ["rev-parse", "HEAD"]);
    dirty = (await git(repo, ["status", "--porcelain", "--untracked-files=no"])) !== "";
  } catch {
    // Not a git checkout, or no git: the commit is "unknown".
  }
  const cpuinfo = await Deno.readTextFile("/proc/cpuinfo").catch(() => "");
  const meminfo = await Deno.readTextFile("/proc/meminfo").catch(() => "");
  return {
    commit,
    dirty,
    cpus: navigator.hardwareConcurrency,
    cpuModel: /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1] ?? "unknown",
    memTotalMiB: Math.round(Number(/^MemTotal:\s*(\d+) kB$/m.exec(meminfo)?.[1] ?? 0) / 1024),
    deno: Deno.version.deno,
    os: `${Deno.build.os} ${Deno.build.arch}`,
    kernel: Deno.osRelease(),
  };
}
