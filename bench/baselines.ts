/**
 * The command-line tools loge is measured against (`rg`, `grep`, `zstd`): finding them on `PATH`,
 * and timing their runs over the raw corpus files.
 *
 * A tool that is not installed is reported as {@linkcode Missing}, never skipped silently: the
 * harness prints it with {@linkcode INSTALL_HINT}.
 *
 * @module
 */

import { summarize, type Summary } from "./stats.ts";

/** How to install the baseline tools on Debian or Ubuntu. */
export const INSTALL_HINT = "apt-get install -y ripgrep zstd";

/** The tools the harness compares with. */
export const BASELINE_TOOLS: readonly string[] = ["rg", "grep", "zstd"];

/** A baseline that could not run because its tool is not installed. */
export interface Missing {
  /** Why, with the install hint, e.g. `rg missing (apt-get install -y ripgrep zstd)`. */
  missing: string;
}

/** A baseline tool found on `PATH`. */
export interface Tool {
  /** Command name, e.g. `rg`. */
  name: string;
  /** Absolute path of the executable. */
  path: string;
  /** First line of `--version`, e.g. `ripgrep 14.1.0`. */
  version: string;
}

/**
 * The message of a missing tool.
 *
 * @example
 * ```ts
 * import { missing } from "./baselines.ts";
 * console.log(missing("rg").missing); // rg missing (apt-get install -y ripgrep zstd)
 * ```
 */
export function missing(name: string): Missing {
  return { missing: `${name} missing (${INSTALL_HINT})` };
}

/**
 * Finds `name` on `PATH` and reads its version, or reports it missing.
 *
 * @example
 * ```ts ignore
 * import { findTool } from "./baselines.ts";
 * const rg = await findTool("rg");
 * console.log("missing" in rg ? rg.missing : rg.version);
 * ```
 */
export async function findTool(name: string): Promise<Tool | Missing> {
  for (const dir of (Deno.env.get("PATH") ?? "").split(":")) {
    if (dir === "") continue;
    const path = `${dir}/${name}`;
    try {
      const info = await Deno.stat(path);
      if (!info.isFile || info.mode === null || (info.mode & 0o111) === 0) continue;
    } catch {
      continue;
    }
    try {
      const out = await new Deno.Command(path, { args: ["--version"], stderr: "null" }).output();
      const version = new TextDecoder().decode(out.stdout).split("\n")[0].trim();
      return { name, path, version: version || "unknown version" };
    } catch {
      continue;
    }
  }
  return missing(name);
}

/**
 * Quotes `arg` for a POSIX shell.
 *
 * @example
 * ```ts
 * import { shellQuote } from "./baselines.ts";
 * console.log(shellQuote(`it's`)); // 'it'\''s'
 * ```
 */
export function shellQuote(arg: string): string {
  return /^[\w./=:,+-]+$/.test(arg) ? arg : `'${arg.replaceAll("'", `'\\''`)}'`;
}

/** One baseline command: an argument vector, or a shell pipeline of several. */
export type BaselineCommand = string[] | string[][];

/**
 * The command as a user would type it, with `dir/` stripped from paths for brevity.
 *
 * @example
 * ```ts
 * import { displayCommand } from "./baselines.ts";
 * const cmd = [["zstd", "-dc", "/tmp/x/lines.txt.zst"], ["rg", "-F", "a b"]];
 * console.log(displayCommand(cmd, "/tmp/x")); // zstd -dc lines.txt.zst | rg -F 'a b'
 * ```
 */
export function displayCommand(command: BaselineCommand, dir = ""): string {
  const stages = typeof command[0] === "string" ? [command as string[]] : command as string[][];
  const prefix = dir === "" ? "" : dir.replace(/\/*$/, "/");
  return stages
    .map((argv) =>
      argv.map((a) =>
        shellQuote(prefix !== "" && a.startsWith(prefix) ? a.slice(prefix.length) : a)
      )
        .join(" ")
    )
    .join(" | ");
}

/** What one run of a baseline printed. */
export interface RunOutput {
  /** Wall time from spawn to exit, with all output read, in milliseconds. */
  ms: number;
  /** Lines written to stdout (matches, for `rg` and `grep`). */
  lines: number;
}

/**
 * Runs a baseline once and times it. Exit code 1 (no match) counts as success, as `grep` and
 * `rg` use it; anything else above 1 fails. Output is read through a pipe, never sent to
 * `/dev/null`: GNU grep stops at the first match when its output is `/dev/null`.
 *
 * @example
 * ```ts ignore
 * import { runOnce } from "./baselines.ts";
 * const { ms, lines } = await runOnce(["rg", "-F", "timeout", "lines.txt"]);
 * ```
 * @throws {Error} If the command cannot be spawned or exits with a code above 1.
 */
export async function runOnce(command: BaselineCommand): Promise<RunOutput> {
  const pipeline = typeof command[0] !== "string";
  const [program, args] = pipeline
    ? ["sh", ["-c", (command as string[][]).map((s) => s.map(shellQuote).join(" ")).join(" | ")]]
    : [(command as string[])[0], (command as string[]).slice(1)];
  const t0 = performance.now();
  const out = await new Deno.Command(program, { args, stdout: "piped", stderr: "piped" })
    .output();
  const ms = performance.now() - t0;
  if (out.code > 1 || out.signal !== null) {
    const why = out.signal !== null ? `signal ${out.signal}` : `exit code ${out.code}`;
    const stderr = new TextDecoder().decode(out.stderr).trim().slice(0, 300);
    throw new Error(`Baseline "${displayCommand(command)}" failed with ${why}: ${stderr}`);
  }
  let lines = 0;
  for (const byte of out.stdout) if (byte === 10) lines++;
  return { ms, lines };
}

/** Timing of a baseline over several warm runs. */
export interface BaselineResult {
  /** The command, for the report. */
  command: string;
  /** Lines printed by the last run. */
  hits: number;
  /** Wall time per run, in milliseconds. */
  ms: Summary;
}

/** Timed runs a baseline gets at least, whatever its {@linkcode timeBaseline} budget. */
export const MIN_BASELINE_RUNS = 3;

/**
 * Runs a baseline `warmup` times untimed (to warm the page cache), then `runs` times, and
 * summarizes the timed runs. With `budgetMs`, the timed runs stop once they took that long in
 * all, after at least {@linkcode MIN_BASELINE_RUNS}: a scan of a 10M-line file takes a second or
 * two each time, and twenty of them add minutes to a run without changing its median.
 *
 * @example
 * ```ts ignore
 * import { timeBaseline } from "./baselines.ts";
 * const r = await timeBaseline(["grep", "-F", "-m", "100", "timeout", "lines.txt"], 20);
 * console.log(r.ms.p50, r.hits);
 * ```
 * @throws {Error} If any run fails (see {@linkcode runOnce}).
 */
export async function timeBaseline(
  command: BaselineCommand,
  runs: number,
  warmup = 1,
  dir = "",
  budgetMs = Infinity,
): Promise<BaselineResult> {
  for (let i = 0; i < warmup; i++) await runOnce(command);
  const times: number[] = [];
  let spent = 0;
  let hits = 0;
  while (times.length < runs && (times.length < MIN_BASELINE_RUNS || spent < budgetMs)) {
    const run = await runOnce(command);
    times.push(run.ms);
    spent += run.ms;
    hits = run.lines;
  }
  return { command: displayCommand(command, dir), hits, ms: summarize(times) };
}
