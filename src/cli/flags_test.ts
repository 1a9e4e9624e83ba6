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
