import assert from "node:assert/strict";
import { type FlagSpec, parseBytes, parseDuration, parseFlags, UsageError } from "./flags.ts";

const specs = {
  port: { kind: "int", default: "3000", help: "port", min: 0 },
  durable: { kind: "bool", default: "true", help: "fsync" },
  interval: { kind: "duration", default: "1s", help: "interval" },
  size: { kind: "bytes", default: "10MiB", help: "size" },
  level: { kind: "enum", default: "fastest", values: ["fastest", "best"], help: "level" },
} satisfies Record<string, FlagSpec>;

Deno.test("flags parse in every form with defaults", () => {
  const { flags, positionals } = parseFlags([
    "--port",
    "0",
    "--durable=false",
    "pos",
    "--interval=500ms",
  ], specs);
  assert.deepEqual(flags, {
    port: 0,
    durable: false,
    interval: 500,
    size: 10 * 1024 * 1024,
    level: "fastest",
  });
  assert.deepEqual(positionals, ["pos"]);
  assert.equal(parseFlags(["--durable"], specs).flags.durable, true);
});

Deno.test("bad flags name the flag", () => {
  const cases: [string[], RegExp][] = [
    [["--port=abc"], /invalid value "abc" for --port: expected an integer ≥ 0/],
    [["--interval=5 sec"], /for --interval: expected a duration/],
    [["--level=fast"], /for --level: expected one of fastest, best/],
    [["--durable=maybe"], /for --durable: expected true or false/],
    [["--size=-1"], /for --size/],
    [["--nope"], /unknown flag --nope/],
    [["--port"], /flag --port needs a value/],
  ];
  for (const [args, message] of cases) {
    assert.throws(
      () => parseFlags(args, specs),
      (e) => e instanceof UsageError && message.test(e.message),
    );
  }
});

Deno.test("durations and sizes", () => {
  assert.equal(parseDuration("2s"), 2000);
  assert.equal(parseDuration("1h"), 3_600_000);
  assert.equal(parseDuration("1m30s"), 90_000);
  assert.equal(parseDuration("0"), 0);
  assert.equal(parseDuration("10"), undefined);
  assert.equal(parseBytes("512KiB"), 524288);
  assert.equal(parseBytes("1MB"), 1e6);
  assert.equal(parseBytes("12xb"), undefined);
});

Deno.test("layers: a flag wins over the environment, the environment over the file, the file over the default", () => {
  const file = {
    path: "loge.yaml",
    settings: { port: 1, interval: "2s", size: "1MiB", durable: false },
  };
  Deno.env.set("TEST_LAYERS_INTERVAL", "3s");
  Deno.env.set("TEST_LAYERS_PORT", "2");
  try {
    const { flags, sources } = parseFlags(["--port", "3"], specs, {
      file,
      envPrefix: "TEST_LAYERS_",
    });
    assert.deepEqual(flags, {
      port: 3,
      durable: false,
      interval: 3000,
      size: 1024 * 1024,
      level: "fastest",
    });
    assert.deepEqual(sources, {
      port: "flag",
      durable: "file",
      interval: "env",
      size: "file",
      level: "default",
    });
  } finally {
    Deno.env.delete("TEST_LAYERS_INTERVAL");
    Deno.env.delete("TEST_LAYERS_PORT");
  }
});

Deno.test("layers: unknown keys and bad values name the key and where they came from", () => {
  const bad = (settings: Record<string, unknown>, message: RegExp) =>
    assert.throws(
      () => parseFlags([], specs, { file: { path: "loge.yaml", settings } }),
      (e) => e instanceof UsageError && message.test(e.message),
    );
  bad({ prot: 1 }, /unknown key "prot" in loge.yaml: keys are the flag names without --/);
  bad({ port: "x" }, /invalid value "x" for --port: expected an integer ≥ 0 \(from loge.yaml\)/);
  bad({ level: { a: 1 } }, /invalid value for "level" in loge.yaml: expected a string/);
  Deno.env.set("TEST_BAD_SIZE", "huge");
  try {
    assert.throws(
      () => parseFlags([], specs, { envPrefix: "TEST_BAD_" }),
      /invalid value "huge" for --size: expected a size .* \(from TEST_BAD_SIZE\)/,
    );
  } finally {
    Deno.env.delete("TEST_BAD_SIZE");
  }
});

Deno.test("layers: lists in a file become comma-separated values", () => {
  const list = { fields: { kind: "string", default: "", help: "fields" } } satisfies Record<
    string,
    FlagSpec
  >;
  const { flags } = parseFlags([], list, {
    file: { path: "f.json", settings: { fields: ["host", "app"] } },
  });
  assert.equal(flags.fields, "host,app");
});
