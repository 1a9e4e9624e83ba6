/**
 * The `loge` command: `deno run -A main.ts <args>` behaves exactly like the
 * compiled `loge <args>`. Each subcommand lives in `src/cli/<name>.ts` and
 * owns its flags and help text; the server is the default command.
 *
 * @module
 */

import { UsageError } from "./src/cli/flags.ts";
import {
  followParent,
  processFacts,
  relaunchCommand,
  runRelaunched,
  tuneAllocator,
} from "./src/cli/runtime.ts";

const HELP = `loge: log storage with a Loki-style push API

Usage:
  loge [serve] [flags]          run the server (the default command)
  loge search '<selector>'      query a running server
  loge help                     show this help

Run "loge serve --help" or "loge search --help" for their flags.
`;

// Imported on use: a relaunching parent loads neither (see src/cli/runtime.ts).
const serveModule = () => import("./src/cli/serve.ts");
const searchModule = () => import("./src/cli/search.ts");

async function main(args: string[]): Promise<number> {
  const [first, ...rest] = args;
  try {
    if (first === "help" || first === "--help" || first === "-h") {
      const help = rest[0] === "serve"
        ? (await serveModule()).SERVE_HELP
        : rest[0] === "search"
        ? (await searchModule()).SEARCH_HELP
        : HELP;
      console.log(help);
      return 0;
    }
    if (first === undefined || first.startsWith("-") || first === "serve") {
      const serveArgs = first === "serve" ? rest : args;
      // The server runs with its V8 flags: a bare `deno run` starts itself again with them.
      const relaunch = relaunchCommand(["serve", ...serveArgs], processFacts());
      if (relaunch) return await runRelaunched(relaunch);
      followParent();
      tuneAllocator();
      await (await serveModule()).serve(serveArgs);
    } else if (first === "search") await (await searchModule()).search(rest);
    else throw new UsageError(`unknown command "${first}"; run "loge help"`);
    return 0;
  } catch (error) {
    if (error instanceof UsageError) {
      console.error(`loge: ${error.message}`);
      return 2;
    }
    // search.ts's SearchError, without loading search.ts for other commands.
    if ((error as Error).name === "SearchError") {
      console.error(`loge: ${(error as Error).message}`);
      return 1;
    }
    console.error(`loge: ${(error as Error).message ?? error}`);
    return 1;
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
