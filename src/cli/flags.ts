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
  /** Smallest value of an `int` flag (default 1). */
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
      if (bytes === undefined || bytes <= 0) {
        throw bad("expected a size such as 1048576, 512KiB or 10MiB");
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
): { flags: { [K in keyof S]: FlagValue }; positionals: string[]; help: boolean } {
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
  const flags = {} as { [K in keyof S]: FlagValue };
  for (const [name, spec] of Object.entries(specs)) {
    const fromEnv = spec.env ? Deno.env.get(spec.env) : undefined;
    (flags as Record<string, FlagValue>)[name] = convert(
      name,
      spec,
      raw.get(name) ?? fromEnv ?? spec.default,
    );
  }
  return { flags, positionals, help };
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
