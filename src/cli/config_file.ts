/**
 * The config file of `loge serve --config <path>`: YAML (JSON is YAML too),
 * a mapping whose keys are the flag names without `--`.
 *
 * @module
 */

import { parse } from "yaml";
import { UsageError } from "./flags.ts";

/** Keys a config file may not hold: they say where the file is and what to do with it. */
const NOT_IN_FILE = new Set(["config", "print-config"]);

/**
 * Reads and parses the config file at `path`.
 *
 * @throws {UsageError} naming the file when it cannot be read, is not YAML,
 * is not a mapping, or holds `config` or `print-config`.
 *
 * @example
 * ```ts
 * import { loadConfigFile } from "./config_file.ts";
 * import assert from "node:assert/strict";
 * const path = await Deno.makeTempFile({ suffix: ".yaml" });
 * await Deno.writeTextFile(path, "port: 8080\nes-stream-fields: [host, app]\n");
 * const { settings } = await loadConfigFile(path);
 * assert.deepEqual(settings, { port: 8080, "es-stream-fields": ["host", "app"] });
 * await Deno.remove(path);
 * ```
 */
export async function loadConfigFile(
  path: string,
): Promise<{ path: string; settings: Record<string, unknown> }> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    throw new UsageError(`cannot read --config ${path}: ${(error as Error).message}`);
  }
  let settings: unknown;
  try {
    settings = parse(text);
  } catch (error) {
    const message = (error as Error).message.split("\n")[0];
    throw new UsageError(`--config ${path} is not YAML or JSON: ${message}`);
  }
  settings ??= {}; // an empty file
  if (typeof settings !== "object" || settings === null || Array.isArray(settings)) {
    throw new UsageError(`--config ${path} must hold a mapping of flag names to values`);
  }
  for (const key of Object.keys(settings)) {
    if (NOT_IN_FILE.has(key)) {
      throw new UsageError(`${JSON.stringify(key)} in ${path} is not a setting of the file`);
    }
  }
  return { path, settings: settings as Record<string, unknown> };
}

/**
 * The value of `--<name>` in `args` (`--name value` or `--name=value`), read
 * before the flags are parsed: the config file comes first.
 *
 * @example
 * ```ts
 * import { flagValueIn } from "./config_file.ts";
 * import assert from "node:assert/strict";
 * assert.equal(flagValueIn(["--port", "1", "--config=a.yaml"], "config"), "a.yaml");
 * assert.equal(flagValueIn(["--config", "b.yaml"], "config"), "b.yaml");
 * assert.equal(flagValueIn([], "config"), undefined);
 * ```
 */
export function flagValueIn(args: readonly string[], name: string): string | undefined {
  let value: string | undefined;
  for (let i = 0; i < args.length; i++) {
    if (args[i] === "--") break;
    if (args[i] === `--${name}`) value = args[++i];
    else if (args[i].startsWith(`--${name}=`)) value = args[i].slice(name.length + 3);
  }
  return value;
}
