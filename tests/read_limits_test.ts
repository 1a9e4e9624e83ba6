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
