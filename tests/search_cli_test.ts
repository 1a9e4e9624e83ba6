/**
 * End-to-end tests of `loge search`: the real CLI as a subprocess against a
 * real server. Output is compared with golden files in `tests/golden/`;
 * `UPDATE_GOLDEN=1 deno test -A tests/search_cli_test.ts` rewrites them.
 *
 * @module
 */

import assert from "node:assert/strict";
import { pushJson, withServer } from "../testing/server.ts";
import { type CliRun, MAIN, runLoge } from "../testing/cli.ts";

/** 2024-05-06T07:08:09Z in unix ns. */
const BASE = 1_714_979_289_000_000_000n;
const SECOND = 1_000_000_000n;

/** Runs `loge search ...args`. */
const search = (args: string[], env: Record<string, string> = {}): Promise<CliRun> =>
  runLoge(["search", ...args], env);

/** Runs `loge search` and asserts it succeeds quietly. */
async function ok(args: string[], env: Record<string, string> = {}): Promise<string> {
  const run = await search(args, env);
  assert.equal(run.code, 0, `loge search ${args.join(" ")}: ${run.stderr}`);
  assert.equal(run.stderr, "");
  assert.ok(!run.stdout.includes("\x1b"), "no colours when stdout is not a terminal");
  return run.stdout;
}

const UPDATE = Deno.env.get("UPDATE_GOLDEN") === "1";

/** Compares `actual` with `tests/golden/<name>`, or rewrites it under UPDATE_GOLDEN=1. */
async function golden(name: string, actual: string): Promise<void> {
  const path = new URL(`./golden/${name}`, import.meta.url);
  if (UPDATE) {
    await Deno.mkdir(new URL("./golden/", import.meta.url), { recursive: true });
    await Deno.writeTextFile(path, actual);
    return;
  }
  const want = await Deno.readTextFile(path);
  assert.equal(actual, want, `output differs from tests/golden/${name} (UPDATE_GOLDEN=1 rewrites)`);
}

/** Fixed data: every line has a fixed timestamp, so output never changes. */
const FIXTURE = {
  streams: [
    {
      stream: { app: "web", level: "error" },
      values: [
        [String(BASE + 123_456_789n), "GET /checkout 502 upstream timeout"],
        [String(BASE + 5n * SECOND), "panic: assignment to entry in nil map"],
      ],
    },
    {
      stream: { level: "info", app: "web" },
      values: [
        [String(BASE + SECOND), "GET / 200 12ms"],
        [String(BASE + 1_500_000_000n), 'user "ann" logged in'],
        [String(BASE + 6n * SECOND), "tie from web"],
        [String(BASE - 3600n * SECOND), "an hour earlier"],
      ],
    },
    {
      stream: { app: "api", env: "prod" },
      values: [
        [String(BASE + 2_250_000_000n), "naïve café ☕ ok"],
        [String(BASE + 3n * SECOND + 1n), "tab\there, backslash \\ done"],
        [String(BASE + 6n * SECOND), "tie from api"],
      ],
    },
    {
      stream: { app: "worker" },
      values: [
        [
          String(BASE + 4n * SECOND),
          "job done",
          { trace_id: "4bf92f3577b34da6a3ce929d0e0e4736" },
        ],
      ],
    },
  ],
};

async function withFixture(
  fn: (url: string) => Promise<void>,
  args: string[] = [],
): Promise<void> {
  await withServer(async ({ url }) => {
    const res = await pushJson(url, FIXTURE);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    await fn(url);
  }, { args });
}

/** A local port on which nothing listens. */
function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

Deno.test("text and JSON output match the golden files", () =>
  withFixture(async (url) => {
    const window = ["--start", "2024-05-06T07:08:09Z", "--end", "2024-05-06T07:08:15Z"];
    const text = await ok(['{app=~"web|api"}', "--addr", url, ...window]);
    await golden("search_text.txt", text);
    // The same window as unix ns, as RFC3339 with an offset and with fractions; text is the default.
    for (
      const same of [
        ["--start", String(BASE), "--end", String(BASE + 6n * SECOND)],
        ["--start", "2024-05-06T09:08:09+02:00", "--end", "2024-05-06T07:08:15.000000000Z"],
        ["--start=2024-05-06T07:08:09.000Z", "--end=1714979295000000000", "--output", "text"],
      ]
    ) {
      assert.equal(await ok(['{app=~"web|api"}', "--addr", url, ...same]), text, same.join(" "));
    }
    // A trailing slash on --addr is fine.
    assert.equal(await ok(['{app=~"web|api"}', "--addr", `${url}/`, ...window]), text);

    const json = await ok([
      "{}",
      "--addr",
      url,
      "--output",
      "json",
      "--start",
      String(BASE),
      "--end",
      String(BASE + 6n * SECOND),
    ]);
    await golden("search_json.jsonl", json);
    // One JSON object per line, with exact nanosecond timestamps.
    const rows = json.trimEnd().split("\n").map((l) =>
      JSON.parse(l, (k, v, ctx?: { source?: string }) =>
        k === "timestamp" && ctx?.source ? BigInt(ctx.source) : v)
    );
    assert.equal(rows.length, 9);
    assert.equal(rows.at(-1).timestamp, BASE + 123_456_789n);
    assert.equal(rows.at(-1).time, "2024-05-06T07:08:09.123456789Z");
    assert.deepEqual(
      rows.find((r) =>
        r.line === "job done"
      ).metadata,
      {
        trace_id: "4bf92f3577b34da6a3ce929d0e0e4736",
      },
    );

    // Filters, bounds and limit; the selector may be only line filters.
    await golden(
      "search_filter.txt",
      await ok(['{level=~"err.*"} |~ "(?i)TIMEOUT|panic"', "--addr", url, "--start", "0"]),
    );
    await golden(
      "search_limit.txt",
      await ok(['|= "e"', "--addr", url, "--limit", "3", "--start", "1"]),
    );
    // Nothing found: no output, still success.
    assert.equal(await ok(['{app="nope"}', "--addr", url]), "");
  }));

Deno.test("--since and --until are relative to now", () =>
  withServer(async ({ url }) => {
    const now = BigInt(Date.now()) * 1_000_000n;
    const minute = 60n * SECOND;
    const res = await pushJson(url, {
      streams: [{
        stream: { app: "recent" },
        values: [
          [String(now - 120n * minute), "two hours ago"],
          [String(now - 10n * minute), "ten minutes ago"],
          [String(now - minute), "a minute ago"],
        ],
      }],
    });
    assert.equal(res.status, 200);
    const linesOf = (out: string) => out.split("\n").filter(Boolean).map((l) => l.split("} ")[1]);
    const since = await ok(['{app="recent"}', "--addr", url, "--since", "1h"]);
    assert.match(
      since,
      /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z \{app="recent"\} a minute ago\n/,
    );
    assert.deepEqual(linesOf(since), ["a minute ago", "ten minutes ago"]);
    assert.deepEqual(
      linesOf(await ok(['{app="recent"}', "--addr", url, "--since", "1h", "--until", "5m"])),
      ["ten minutes ago"],
    );
    assert.deepEqual(
      linesOf(await ok(['{app="recent"}', "--addr", url, "--since=3h", "--until=1h30m"])),
      ["two hours ago"],
    );
    assert.deepEqual(linesOf(await ok(['{app="recent"}', "--addr", url, "--since", "30s"])), []);
    // --start overrides --since.
    assert.deepEqual(
      linesOf(
        await ok([
          '{app="recent"}',
          "--addr",
          url,
          "--since",
          "30s",
          "--start",
          String(now - minute),
        ]),
      ),
      ["a minute ago"],
    );
    // No window: everything.
    assert.equal(linesOf(await ok(['{app="recent"}', "--addr", url])).length, 3);
  }));

Deno.test("exit 1 with a readable message when nothing listens", async () => {
  const port = freePort();
  const run = await search(["{}", "--addr", `http://127.0.0.1:${port}`]);
  assert.equal(run.code, 1);
  assert.equal(run.stdout, "");
  assert.equal(
    run.stderr,
    `loge: cannot reach loge at http://127.0.0.1:${port}: connection refused\n`,
  );
});

Deno.test("--api-key and LOGE_API_KEY authenticate; a 401 exits 1", () =>
  withFixture(async (url) => {
    const args = ['{app=~"web|api"}', "--addr", url, "--start", String(BASE), "--end"];
    args.push(String(BASE + 6n * SECOND));
    for (
      const [extra, env, reason] of [
        [
          [],
          {},
          "missing API key: send Authorization: Bearer <key>, or Basic with the key as password",
        ],
        [["--api-key", "wrong"], {}, "invalid API key"],
        [[], { LOGE_API_KEY: "wrong" }, "invalid API key"],
      ] as [string[], Record<string, string>, string][]
    ) {
      const run = await search([...args, ...extra], env);
      assert.equal(run.code, 1, run.stderr);
      assert.equal(run.stdout, "");
      assert.equal(run.stderr, `loge: loge at ${url} answered 401: ${reason}\n`);
    }
    const want = await Deno.readTextFile(new URL("./golden/search_text.txt", import.meta.url));
    if (!UPDATE) {
      assert.equal(await ok([...args, "--api-key", "s3cret"]), want);
      assert.equal(await ok([...args, "--api-key=s3cret"]), want);
      assert.equal(await ok(args, { LOGE_API_KEY: "s3cret" }), want);
      // The flag wins over the environment.
      assert.equal(await ok([...args, "--api-key", "s3cret"], { LOGE_API_KEY: "wrong" }), want);
    }
  }, ["--api-key", "s3cret"]));

Deno.test("usage errors exit 2 with a message naming the problem", () =>
  withFixture(async (url) => {
    const filters = 'line filter ("|=", "!=", "|~", "!~", "|>" or "!>")';
    const cases: [string[], string][] = [
      [['{app="web"'], 'cannot parse query at 11: expected "," or "}"'],
      [['{app=~"a("}'], 'cannot parse query at 7: invalid regex "a(": Unterminated group'],
      [['app="web"'], `cannot parse query at 1: expected "{" or ${filters}, found "app"`],
      [["{}", "--limit", "abc"], 'invalid value "abc" for --limit: expected an integer ≥ 1'],
      [["{}", "--limit", "0"], 'invalid value "0" for --limit: expected an integer ≥ 1'],
      [
        ["{}", "--output", "yaml"],
        'invalid value "yaml" for --output: expected one of text, json, ndjson',
      ],
      [
        ["{}", "--start", "yesterday"],
        'invalid value "yesterday" for --start: expected RFC3339 or unix nanoseconds',
      ],
      [
        ["{}", "--end", "2024-13-01T00:00:00Z"],
        'invalid value "2024-13-01T00:00:00Z" for --end: expected RFC3339 or unix nanoseconds',
      ],
      [
        ["{}", "--since", "1d"],
        'invalid value "1d" for --since: expected a duration such as 500ms, 2s, 1m or 1h',
      ],
      [
        ["{}", "--until", "soon"],
        'invalid value "soon" for --until: expected a duration such as 500ms, 2s, 1m or 1h',
      ],
      [
        ["{}", "--addr", "not a url"],
        'invalid value "not a url" for --addr: expected a URL such as http://localhost:3000',
      ],
      [["{}", "--bogus"], "unknown flag --bogus"],
      [["{}", "--limit"], "flag --limit needs a value"],
      [['{app="web"}', '|= "x"'], "expected one selector, got 2 arguments (quote the selector)"],
      [
        ["{}", "--start", String(BASE + 1n), "--end", String(BASE)],
        "the window starts after it ends (check --since/--until/--start/--end)",
      ],
    ];
    for (const [args, message] of cases) {
      // A live server, so a usage error is never mistaken for a server answer.
      const run = await search(args.includes("--addr") ? args : ["--addr", url, ...args]);
      assert.equal(run.code, 2, `${args.join(" ")}: ${run.stderr}`);
      assert.equal(run.stdout, "", args.join(" "));
      assert.equal(run.stderr, `loge: ${message}\n`, args.join(" "));
    }
    const help = await search(["--help"]);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /^Usage: loge search/);
  }));

const HAS_SCRIPT = (() => {
  try {
    return Deno.statSync("/usr/bin/script").isFile;
  } catch {
    return false;
  }
})();

Deno.test({
  name: "text output is coloured on a terminal, unless NO_COLOR",
  ignore: !HAS_SCRIPT,
  fn: () =>
    withFixture(async (url) => {
      // util-linux `script` runs the CLI with its stdout on a pseudo-terminal.
      const onTty = async (env: Record<string, string>) => {
        const cmd = [
          Deno.execPath(),
          "run",
          "-A",
          MAIN,
          "search",
          "'{app=\"worker\"}'",
          "--addr",
          url,
        ]
          .join(" ");
        const out = await new Deno.Command("/usr/bin/script", {
          args: ["-qec", cmd, "/dev/null"],
          stdin: "null",
          stdout: "piped",
          stderr: "piped",
          env,
        }).output();
        assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
        return new TextDecoder().decode(out.stdout).replaceAll("\r\n", "\n");
      };
      assert.equal(
        await onTty({}),
        '\x1b[2m2024-05-06T07:08:13Z\x1b[0m \x1b[36m{app="worker"}\x1b[0m job done\n',
      );
      assert.equal(
        await onTty({ NO_COLOR: "1" }),
        '2024-05-06T07:08:13Z {app="worker"} job done\n',
      );
    }),
});

Deno.test("--output ndjson pages through any number of lines, each once, across pages that cut a time", async () => {
  await withServer(async ({ url }) => {
    // 12,000 lines; every three share a time.
    const T = 1_790_000_000_000_000_000n;
    const rows: [bigint, string][] = [];
    for (let i = 0; i < 12_000; i++) rows.push([T + BigInt(Math.floor(i / 3)), `line ${i}`]);
    // Seven identical lines across the first forward page's end, eight across the first backward one's.
    for (let i = 4995; i < 5002; i++) rows[i] = [T + 1700n, "the same"];
    for (let i = 6996; i < 7004; i++) rows[i] = [T + 2333n, "again"];
    for (let at = 0; at < rows.length; at += 4000) {
      const res = await fetch(`${url}/api/v1/push`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          streams: [{
            stream: { app: "many" },
            values: rows.slice(at, at + 4000).map(([ts, l]) => [String(ts), l]),
          }],
        }),
      });
      assert.equal(res.status, 200);
    }
    const expected = rows.map(([ts, l]) => `${ts} ${l}`).sort();
    for (const direction of ["backward", "forward"]) {
      const out = await ok([
        "--addr",
        url,
        '{app="many"}',
        "--start",
        "0",
        "--output",
        "ndjson",
        "--direction",
        direction,
      ]);
      // Exact nanoseconds: the timestamp as its digits.
      const got = out.trimEnd().split("\n").map((l) => ({
        timestamp: /"timestamp":(\d+)/.exec(l)![1],
        line: JSON.parse(l).line,
      }));
      assert.deepEqual(got.map((e) => `${e.timestamp} ${e.line}`).sort(), expected, direction);
      const times = got.map((e) => BigInt(e.timestamp));
      const ordered = times.every((t, i) =>
        i === 0 || (direction === "backward" ? t <= times[i - 1] : t >= times[i - 1])
      );
      assert.ok(ordered, `${direction}: out of order`);
    }
    const capped = await ok([
      "--addr",
      url,
      '{app="many"}',
      "--start",
      "0",
      "--output",
      "ndjson",
      "--limit",
      "7000",
    ]);
    assert.equal(capped.trimEnd().split("\n").length, 7000);
  });
});

Deno.test("--follow prints the lines pushed after it starts, as they arrive", async () => {
  await withServer(async ({ url }) => {
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        MAIN,
        "search",
        "--addr",
        url,
        '{app="live"}',
        "--follow",
        "--output",
        "json",
      ],
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    try {
      await new Promise((r) => setTimeout(r, 1500)); // the tail is open
      const ts = BigInt(Date.now()) * 1_000_000n;
      const res = await fetch(`${url}/api/v1/push`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          streams: [{
            stream: { app: "live" },
            values: [[String(ts), "one"], [String(ts + 1n), "two"]],
          }],
        }),
      });
      assert.equal(res.status, 200);
      let out = "";
      while (out.split("\n").length < 3) {
        const { value, done } = await reader.read();
        if (done) break;
        out += value;
      }
      assert.deepEqual(out.trimEnd().split("\n").map((l) => JSON.parse(l).line), ["one", "two"]);
    } finally {
      child.kill("SIGTERM");
      await reader.cancel();
      await child.status;
      await child.stderr.cancel();
    }
  });
});
