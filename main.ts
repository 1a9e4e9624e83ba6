/**
 * The `loge` command: `deno run -A main.ts <args>` behaves exactly like the
 * compiled `loge <args>`. Each subcommand lives in `src/cli/<name>.ts` and
 * owns its flags and help text; the server is the default command.
 *
 * @module
 */

import { UsageError } from "./src/cli/flags.ts";
import { search, SEARCH_HELP, SearchError } from "./src/cli/search.ts";
import { serve, SERVE_HELP } from "./src/cli/serve.ts";

const HELP = `loge: log storage with a Loki-style push API

Usage:
  loge [serve] [flags]          run the server (the default command)
  loge search '<selector>'      query a running server
  loge help                     show this help

Run "loge serve --help" or "loge search --help" for their flags.
`;

const commands: Record<string, (args: string[]) => Promise<void>> = {
  serve,
  search,
};

async function main(args: string[]): Promise<number> {
  const [first, ...rest] = args;
  try {
    if (first === "help" || first === "--help" || first === "-h") {
      console.log(rest[0] === "serve" ? SERVE_HELP : rest[0] === "search" ? SEARCH_HELP : HELP);
      return 0;
    }
    if (first === undefined || first.startsWith("-")) await serve(args);
    else if (commands[first]) await commands[first](rest);
    else throw new UsageError(`unknown command "${first}"; run "loge help"`);
    return 0;
  } catch (error) {
    if (error instanceof UsageError) {
      console.error(`loge: ${error.message}`);
      return 2;
    }
    if (error instanceof SearchError) {
      console.error(`loge: ${error.message}`);
      return 1;
    }
    console.error(`loge: ${(error as Error).message ?? error}`);
    return 1;
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
