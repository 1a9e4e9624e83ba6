/**
 * End-to-end tests of hostile and edge-case reads against the real
 * `loge serve` process: regexes that make backtracking engines explode or
 * that are too large, lines at timestamp 0, label names that are
 * `Object.prototype` keys, and volume ranges that end before they start.
 *
 * @module
 */

import assert from "node:assert/strict";
import { pushJson, withServer } from "../testing/server.ts";
import { runLoge } from "../testing/cli.ts";

/** Long enough for any test here; a hang fails the test instead of stalling the run. */
const PATIENCE_MS = 20_000;

/** Sends a request (a JSON body makes it a POST); returns the status, text and parsed JSON. */
async function call(
  url: string,
  path: string,
  body?: unknown,
  // deno-lint-ignore no-explicit-any
): Promise<{ status: number; text: string; body: any }> {
  const res = await fetch(`${url}${path}`, {
    method: body === undefined ? "GET" : "POST",
    headers: body === undefined ? {} : { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(PATIENCE_MS),
  });
  const text = await res.text();
  return { status: res.status, text, body: JSON.parse(text) };
}

Deno.test("a regex that backtracks exponentially answers at once, and pushes go on meanwhile", () =>
  withServer(async ({ url }) => {
    const line = "a".repeat(40) + "!";
    assert.equal(
      (await pushJson(url, { streams: [{ stream: { app: "x" }, values: [["1", line]] }] })).status,
      200,
    );
    const [miss, pushed] = await Promise.all([
      call(url, "/api/v1/query", { query: '{app="x"} |~ "(a+)+$"' }),
      (async () => {
        await new Promise((r) => setTimeout(r, 50));
        return await pushJson(url, { streams: [{ stream: { app: "y" }, values: [["2", "ok"]] }] });
      })(),
    ]);
    assert.equal(miss.status, 200, miss.text);
    assert.deepEqual(miss.body.data, []); // the line ends in "!", not in "a"
    assert.equal(pushed.status, 200);
    const hit = await call(url, "/api/v1/query", { query: '{app="x"} |~ "(a+)+!$"' });
    assert.equal(hit.status, 200, hit.text);
    assert.deepEqual(hit.body.data.map((e: { line: string }) => e.line), [line]);
    const label = await call(url, "/api/v1/query", { query: '{app=~"(x+x+)+y"}' });
    assert.equal(label.status, 200, label.text);
    assert.deepEqual(label.body.data, []);
  }));

Deno.test("regexes too large to compile answer 400 with a short reason", () =>
  withServer(async ({ url }) => {
    const patterns = [
      "a".repeat(40_000),
      "(".repeat(30_000) + "a" + ")".repeat(30_000),
      String.raw`\p{L}`.repeat(20_000),
      "(".repeat(1_001) + "a" + ")".repeat(1_001), // short, but nests deeper than RE2 allows
    ];
    for (const pattern of patterns) {
      const bodies = [
        { query: `{app="x"} |~ \`${pattern}\`` },
        { query: `{app=~\`${pattern}\`}` },
        { matchers: [{ name: "app", value: pattern, type: "=~" }] },
      ];
      for (const body of bodies) {
        const r = await call(url, "/api/v1/query", body);
        const shown = JSON.stringify(body).slice(0, 60);
        assert.equal(r.status, 400, `${shown}: ${r.text.slice(0, 300)}`);
        assert.ok(r.text.length < 1024, `${shown}: ${r.text.length} bytes`);
        assert.match(r.body.error, /invalid regex "[^"]{1,100}…": /);
      }
    }
  }));

Deno.test("lines at timestamp 0 count in volume and stats", () =>
  withServer(async ({ url }) => {
    const push = async (ts: string, line: string) =>
      assert.equal(
        (await pushJson(url, { streams: [{ stream: { app: "zero" }, values: [[ts, line]] }] }))
          .status,
        200,
      );
    await push("0", "at zero");
    const zero = await call(url, "/api/v1/volume", {});
    assert.equal(zero.status, 200, zero.text);
    assert.deepEqual(zero.body.data, {
      start: 0,
      end: 0,
      step: 1,
      series: [{ labels: {}, counts: [[0, 1]] }],
    });
    await push("5", "at five");
    const both = await call(url, "/api/v1/volume", {});
    assert.equal(both.status, 200, both.text);
    // Default step: a 60th of the 5 ns span, plus one: 1 ns, so 6 buckets.
    assert.deepEqual(both.body.data, {
      start: 0,
      end: 5,
      step: 1,
      series: [{ labels: {}, counts: [[0, 1], [1, 0], [2, 0], [3, 0], [4, 0], [5, 1]] }],
    });
    const stats = await call(url, "/api/v1/stats");
    assert.equal(stats.status, 200, stats.text);
    assert.equal(stats.body.min_timestamp, 0);
    assert.equal(stats.body.max_timestamp, 5);
  }));

Deno.test("label names of Object.prototype are ordinary names", () =>
  withServer(async ({ url }) => {
    const names = ["constructor", "toString", "hasOwnProperty", "__proto__", "valueOf"];
    await pushJson(url, { streams: [{ stream: { app: "web" }, values: [["1", "plain"]] }] });
    for (const name of names) {
      const r = await call(url, `/api/v1/label/${name}/values`);
      assert.equal(r.status, 200, r.text);
      assert.deepEqual(r.body.data, [], name);
    }
    const volume = await call(url, "/api/v1/volume", {});
    assert.deepEqual(volume.body.data.series.map((s: { labels: unknown }) => s.labels), [{}]);

    const stream = { app: "proto", constructor: "ctor", toString: "ts", hasOwnProperty: "own" };
    assert.equal(
      (await pushJson(url, { streams: [{ stream, values: [["2", "odd labels"]] }] })).status,
      200,
    );
    for (
      const [name, value] of [["constructor", "ctor"], ["toString", "ts"], [
        "hasOwnProperty",
        "own",
      ]]
    ) {
      const r = await call(url, `/api/v1/label/${name}/values`);
      assert.equal(r.status, 200, r.text);
      assert.deepEqual(r.body.data, [value], name);
    }
    const q = await call(url, "/api/v1/query", { query: '{constructor="ctor"}' });
    assert.deepEqual(q.body.data.map((e: { line: string }) => e.line), ["odd labels"]);
  }));

Deno.test("volume refuses a range that ends before it starts", () =>
  withServer(async ({ url }) => {
    const T0 = "1700000000000000000";
    await pushJson(url, { streams: [{ stream: { app: "v" }, values: [[T0, "line"]] }] });
    const cases: [unknown, string][] = [
      [
        { end: "5" },
        `start defaults to the oldest stored line's time (${T0}), which is after end (5)`,
      ],
      [{ start: "10", end: "5" }, "start (10) is after end (5)"],
      [{ step: "0" }, 'step must be a positive integer of nanoseconds, got "0"'],
      [{ step: "-5" }, 'step must be a positive integer of nanoseconds, got "-5"'],
    ];
    for (const [body, error] of cases) {
      const r = await call(url, "/api/v1/volume", body);
      assert.equal(r.status, 400, `${JSON.stringify(body)}: ${r.text}`);
      assert.equal(r.body.error, error);
    }
    // A given start after the data: the range is that one instant, and empty.
    const after = await call(url, "/api/v1/volume", { start: "1800000000000000000" });
    assert.equal(after.status, 200, after.text);
    assert.equal(after.body.data.start, 1800000000000000000);
    assert.equal(after.body.data.end, 1800000000000000000);
  }));

Deno.test("a log query answers the first lines that fit --max-response-size, says so, and pagers go on past the cut", () =>
  withServer(async ({ url }) => {
    // 30 lines of 100,000 characters, the newest at ts 30, each with its labels ({"app":"big"}, 13
    // characters): 10 of them fit 1 MiB (1,048,576).
    const values = Array.from({ length: 30 }, (_, i) => {
      const n = String(i + 1);
      return [n, n.padEnd(100_000, String.fromCharCode(97 + (i % 26)))];
    });
    const pushed = await pushJson(url, { streams: [{ stream: { app: "big" }, values }] });
    assert.equal(pushed.status, 200);
    const newest = values.toReversed();
    let size = 0;
    const fits = newest.filter(([, line]) => (size += line.length + 13) <= 1024 * 1024);
    assert.equal(fits.length, 10);
    const warning = /^the answer holds the first 10 lines, not 30: .*\(--max-response-size\)/;
    const native = await call(url, "/api/v1/query", { query: '{app="big"}', limit: 30, start: 0 });
    assert.equal(native.status, 200, native.text.slice(0, 200));
    assert.deepEqual(
      native.body.data.map((e: { line: string }) => e.line),
      fits.map(([, line]) => line),
    );
    assert.equal(native.body.truncated, true);
    assert.match(native.body.warnings[0], warning);
    // An answer within the bound is not truncated, though it is short of its limit.
    const few = await call(url, "/api/v1/query", { query: '{app="big"}', limit: 30, start: 25 });
    assert.deepEqual(few.body.data.length, 6);
    assert.equal(few.body.truncated, undefined);
    assert.equal(few.body.warnings, undefined);
    const params = new URLSearchParams({
      query: '{app="big"}',
      limit: "30",
      start: "0",
      end: "31",
    });
    const loki = await call(url, `/loki/api/v1/query_range?${params}`);
    assert.equal(loki.status, 200, loki.text.slice(0, 200));
    assert.deepEqual(loki.body.data.result[0].values, fits);
    assert.match(loki.body.warnings[0], warning);
    // Forward, the oldest first.
    const forward = await call(url, "/api/v1/query", {
      query: '{app="big"}',
      limit: 30,
      start: 0,
      direction: "forward",
    });
    assert.deepEqual(
      forward.body.data.map((e: { line: string }) => e.line),
      values.slice(0, 10).map(([, line]) => line),
    );
    assert.equal(forward.body.truncated, true);
    // A live tail's replay is cut the same way, and its first batch says so.
    const tail = await fetch(
      `${url}/api/v1/tail?${new URLSearchParams({
        query: '{app="big"}',
        start: "0",
        limit: "30",
      })}`,
      { signal: AbortSignal.timeout(PATIENCE_MS) },
    );
    assert.equal(tail.status, 200);
    let text = "";
    const reader = tail.body!.pipeThrough(new TextDecoderStream()).getReader();
    while (!text.includes("\n\n")) text += (await reader.read()).value ?? "";
    await reader.cancel();
    const first = JSON.parse(/^data: (.*)$/m.exec(text)![1]);
    assert.equal(first.replay, true);
    assert.equal(first.truncated, true);
    assert.match(first.warnings[0], warning);
    assert.deepEqual(
      first.entries.map((e: { line: string }) => e.line),
      fits.map(([, line]) => line).toReversed(),
    );
    // `loge search --output ndjson` pages on past each cut page, to the last line, both ways.
    for (const [direction, order] of [["backward", newest], ["forward", values]] as const) {
      const run = await runLoge([
        "search",
        "--addr",
        url,
        '{app="big"}',
        "--start",
        "0",
        "--output",
        "ndjson",
        "--direction",
        direction,
      ]);
      assert.equal(run.code, 0, run.stderr.slice(0, 500));
      const lines = run.stdout.trimEnd().split("\n").map((l) => JSON.parse(l).line);
      assert.deepEqual(lines, order.map(([, line]) => line), direction);
      assert.match(run.stderr, /the answer holds the first 10 lines, not 5000/);
    }
  }, { args: ["--max-response-size", "1MiB"] }));
