/**
 * Command-line flags: one declarative table per command gives parsing,
 * validation with precise messages, defaults and the help text.
 *
 * Accepted forms: `--name value`, `--name=value`, and for booleans `--name`,
 * `--name=true|false`.
 *
 * @module
 */

import { parseDuration as parseGoDuration } from "../../web/js/duration.js";

/** A bad command line: main prints the message and exits with status 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/** The kinds of flag values. */
export type FlagKind = "string" | "int" | "bool" | "duration" | "bytes" | "enum";

/** One flag of a command. */
export interface FlagSpec {
  readonly kind: FlagKind;
  readonly default: string;
  readonly help: string;
  /** Allowed values of an `enum` flag. */
  readonly values?: readonly string[];
  /** Smallest value of an `int` or `bytes` flag (default 1). */
  readonly min?: number;
  /** Environment variable that supplies the default. */
  readonly env?: string;
}

/** Parsed values by kind: durations in milliseconds, sizes in bytes. */
export type FlagValue = string | number | boolean;

/**
 * Parses a Go-style duration (`500ms`, `2s`, `1m30s`, `1h`, `0`) into milliseconds.
 * One parser for the flags and the web UI's time range: it lives in the web
 * folder as plain JavaScript so the browser can load it too.
 *
 * @example
 * ```ts
 * import { parseDuration } from "./flags.ts";
 * import assert from "node:assert/strict";
 * assert.equal(parseDuration("1m30s"), 90_000);
 * ```
 */
export function parseDuration(text: string): number | undefined {
  return parseGoDuration(text);
}

const SIZE_UNITS: Record<string, number> = {
  "": 1,
  b: 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  kib: 1024,
  mib: 1024 ** 2,
  gib: 1024 ** 3,
};

/**
 * Parses a byte size (`1048576`, `512KiB`, `10MiB`, `1MB`).
 *
 * @example
 * ```ts
 * import { parseBytes } from "./flags.ts";
 * import assert from "node:assert/strict";
 * assert.equal(parseBytes("10MiB"), 10 * 1024 * 1024);
 * ```
 */
export function parseBytes(text: string): number | undefined {
  const m = /^(\d+)\s*([a-z]*)$/i.exec(text);
  const unit = m ? SIZE_UNITS[m[2].toLowerCase()] : undefined;
  return m && unit !== undefined ? Number(m[1]) * unit : undefined;
}

function convert(name: string, spec: FlagSpec, raw: string): FlagValue {
  // A flag whose default is empty stays unset (""), whatever its kind.
  if (raw === "" && spec.default === "") return "";
  const bad = (what: string) => new UsageError(`invalid value "${raw}" for --${name}: ${what}`);
  switch (spec.kind) {
    case "string":
      return raw;
    case "bool":
      if (raw === "true" || raw === "1") return true;
      if (raw === "false" || raw === "0") return false;
      throw bad("expected true or false");
    case "int": {
      const min = spec.min ?? 1;
      if (!/^-?\d+$/.test(raw) || Number(raw) < min) throw bad(`expected an integer ≥ ${min}`);
      return Number(raw);
    }
    case "duration": {
      const ms = parseDuration(raw);
      if (ms === undefined) throw bad("expected a duration such as 500ms, 2s, 1m or 1h");
      return ms;
    }
    case "bytes": {
      const bytes = parseBytes(raw);
      if (bytes === undefined || bytes < (spec.min ?? 1)) {
        throw bad(
          `expected a size such as 1048576, 512KiB or 10MiB${spec.min === 0 ? ", or 0" : ""}`,
        );
      }
      return bytes;
    }
    case "enum":
      if (!spec.values!.includes(raw)) throw bad(`expected one of ${spec.values!.join(", ")}`);
      return raw;
  }
}

/**
 * Parses `args` against `specs`.
 *
 * @throws {UsageError} naming the flag on an unknown flag, a missing value or
 * a bad value.
 *
 * @example
 * ```ts
 * import { parseFlags } from "./flags.ts";
 * import assert from "node:assert/strict";
 * const specs = { port: { kind: "int", default: "3000", help: "port", min: 0 } } as const;
 * assert.equal(parseFlags(["--port=8080"], specs).flags.port, 8080);
 * assert.equal(parseFlags([], specs).flags.port, 3000);
 * ```
 */
export function parseFlags<S extends Record<string, FlagSpec>>(
  args: readonly string[],
  specs: S,
  layers: FlagLayers = {},
): {
  flags: { [K in keyof S]: FlagValue };
  sources: { [K in keyof S]: FlagSource };
  positionals: string[];
  help: boolean;
} {
  const raw = new Map<string, string>();
  const positionals: string[] = [];
  let help = false;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === "--help" || arg === "-h") {
      help = true;
      continue;
    }
    if (!arg.startsWith("-") || arg === "-") {
      positionals.push(arg);
      continue;
    }
    if (arg === "--") {
      positionals.push(...args.slice(i + 1));
      break;
    }
    const eq = arg.indexOf("=");
    const name = arg.slice(arg.startsWith("--") ? 2 : 1, eq < 0 ? undefined : eq);
    const spec = specs[name];
    if (!spec) throw new UsageError(`unknown flag ${arg.slice(0, eq < 0 ? undefined : eq)}`);
    if (eq >= 0) raw.set(name, arg.slice(eq + 1));
    else if (spec.kind === "bool") raw.set(name, "true");
    else if (i + 1 < args.length) raw.set(name, args[++i]);
    else throw new UsageError(`flag --${name} needs a value`);
  }
  const fromFile = layers.file ? fileSettings(layers.file, specs) : new Map<string, string>();
  const flags = {} as { [K in keyof S]: FlagValue };
  const sources = {} as { [K in keyof S]: FlagSource };
  for (const [name, spec] of Object.entries(specs)) {
    const envName = spec.env ?? (layers.envPrefix && envNameOf(layers.envPrefix, name));
    const fromEnv = envName ? Deno.env.get(envName) : undefined;
    const [value, source, where]: [string, FlagSource, string] = raw.has(name)
      ? [raw.get(name)!, "flag", ""]
      : fromEnv !== undefined
      ? [fromEnv, "env", ` (from ${envName})`]
      : fromFile.has(name)
      ? [fromFile.get(name)!, "file", ` (from ${layers.file!.path})`]
      : [spec.default, "default", ""];
    try {
      (flags as Record<string, FlagValue>)[name] = convert(name, spec, value);
    } catch (error) {
      if (error instanceof UsageError) throw new UsageError(error.message + where);
      throw error;
    }
    (sources as Record<string, FlagSource>)[name] = source;
  }
  return { flags, sources, positionals, help };
}

/** Where a flag's value came from: flags win over the environment, the environment over the file. */
export type FlagSource = "default" | "file" | "env" | "flag";

/** Where flags are set besides the command line. */
export interface FlagLayers {
  /** A config file's settings (keys are flag names without `--`) and its path, for messages. */
  file?: { path: string; settings: Record<string, unknown> };
  /** Every flag may be set by `<prefix><NAME>`: its name in upper case, `-` as `_`. */
  envPrefix?: string;
}

/**
 * The environment variable of flag `name` under `prefix`.
 *
 * @example
 * ```ts
 * import { envNameOf } from "./flags.ts";
 * import assert from "node:assert/strict";
 * assert.equal(envNameOf("LOGE_", "max-body-size"), "LOGE_MAX_BODY_SIZE");
 * ```
 */
export function envNameOf(prefix: string, name: string): string {
  return prefix + name.toUpperCase().replaceAll("-", "_");
}

/** A config file's settings as flag text: scalars as written, lists joined with commas. */
function fileSettings(
  file: { path: string; settings: Record<string, unknown> },
  specs: Record<string, FlagSpec>,
): Map<string, string> {
  const out = new Map<string, string>();
  for (const [key, value] of Object.entries(file.settings)) {
    if (!Object.hasOwn(specs, key)) {
      throw new UsageError(
        `unknown key ${JSON.stringify(key)} in ${file.path}: keys are the flag names without --`,
      );
    }
    const scalar = (v: unknown) =>
      typeof v === "string" || typeof v === "number" || typeof v === "boolean";
    if (scalar(value)) out.set(key, String(value));
    else if (Array.isArray(value) && value.every(scalar)) out.set(key, value.join(","));
    else {
      throw new UsageError(
        `invalid value for ${JSON.stringify(key)} in ${file.path}: expected a string, a number, ` +
          `true or false, or a list of them, got ${value === null ? "null" : typeof value}`,
      );
    }
  }
  return out;
}

/** Formats the flag table for `--help`. */
export function flagHelp(specs: Record<string, FlagSpec>): string {
  const rows = Object.entries(specs).map(([name, spec]) => {
    const value = spec.kind === "bool"
      ? ""
      : spec.kind === "enum"
      ? ` <${spec.values!.join("|")}>`
      : ` <${spec.kind}>`;
    return [
      `  --${name}${value}`,
      `${spec.help} (default ${JSON.stringify(spec.default)}${
        spec.env ? `, env ${spec.env}` : ""
      })`,
    ];
  });
  const width = Math.max(...rows.map(([l]) => l.length)) + 2;
  return rows.map(([l, r]) => l.padEnd(width) + r).join("\n");
}
