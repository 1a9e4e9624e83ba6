/**
 * Runs the `loge` command as users run it (`deno run -A main.ts …`) and
 * captures what it printed: one helper for every test of the command line.
 *
 * @module
 */

/** The path of `main.ts`, the command's entry. */
export const MAIN: string = new URL("../main.ts", import.meta.url).pathname;

/** How a run of the command ended. */
export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs `loge ...args` to its end, with no stdin and `env` added to the
 * environment.
 *
 * @example
 * ```ts ignore
 * const run = await runLoge(["serve", "--time-partition", "90m"]);
 * console.log(run.code, run.stderr); // 2, the flag named
 * ```
 */
export async function runLoge(args: string[], env: Record<string, string> = {}): Promise<CliRun> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, ...args],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    env,
  }).output();
  const text = new TextDecoder();
  return { code: out.code, stdout: text.decode(out.stdout), stderr: text.decode(out.stderr) };
}
