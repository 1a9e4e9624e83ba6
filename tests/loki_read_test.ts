/**
 * End-to-end tests of Loki's read API against the real `loge serve` process:
 * the requests Grafana's Loki data source and Logs Drilldown send
 * (`/work/shared/loki_compat.md` §2–3), answered in the shapes of Loki's API
 * reference (loki `docs/sources/reference/loki-http-api.md`), with Loki's
 * plain-text errors.
 *
 * @module
 */

import assert from "node:assert/strict";
import denoConfig from "../deno.json" with { type: "json" };
import { pushJson, withServer } from "../testing/server.ts";
import { call, payloadOf, type Reply } from "../testing/http.ts";

/** 2023-11-14T22:13:20Z, in nanoseconds. */
const T0 = 1_700_000_000_000_000_000n;
const SECOND = 1_000_000_000n;
const WEB = { app: "web", env: "prod" };
const API = { app: "api" };

/** Three lines of `web` at T0+1s, +2s, +3s (the second with metadata), one of `api`. */
const PUSHED = payloadOf([
  [WEB, T0 + SECOND, "one"],
  [WEB, T0 + 2n * SECOND, "two", { trace_id: "t2" }],
  [WEB, T0 + 3n * SECOND, "three"],
  [API, T0 + 2n * SECOND, "api line"],
]);

async function withPushed(fn: (url: string) => Promise<void>, args: string[] = []) {
  await withServer(async ({ url }) => {
    assert.equal((await pushJson(url, PUSHED)).status, 200);
    await fn(url);
  }, { args });
}

const ns = (t: bigint) => t.toString();

/** GET `path` with `params` in the query string. */
function get(url: string, path: string, params: Record<string, string>, headers = {}) {
  return call(url, `${path}?${new URLSearchParams(params)}`, { headers });
}

/** The lines of a `streams` answer, stream by stream. */
function streamLines(r: Reply): string[][] {
  assert.equal(r.status, 200, r.text);
  // deno-lint-ignore no-explicit-any
  return r.body.data.result.map((s: any) => s.values.map((v: string[]) => v[1]));
}

function assertPlainText(r: Reply, status: number, message: string) {
  assert.equal(r.status, status, r.text);
  assert.equal(r.headers.get("content-type"), "text/plain; charset=utf-8");
  assert.equal(r.text, `${message}\n`);
}

/**
 * Loki's `stats` keys (those Grafana's `parseStats` reads among them), and
 * `lines` processed: those of blocks of files as the querier's store read
 * them, those in memory as the ingesters' head chunks (which of the two
 * holds them depends on when the flush ran).
 */
function assertStatsShape(stats: Record<string, Record<string, unknown>>, lines: number) {
  assert.deepEqual(Object.keys(stats), ["summary", "querier", "ingester"]);
  for (
    const key of [
      "bytesProcessedPerSecond",
      "linesProcessedPerSecond",
      "totalBytesProcessed",
      "totalLinesProcessed",
      "execTime",
    ]
  ) assert.equal(typeof stats.summary[key], "number", key);
  assert.equal(stats.summary.totalLinesProcessed, lines);
  // deno-lint-ignore no-explicit-any
  const { querier, ingester } = stats as any;
  const chunkKeys = [
    "headChunkBytes",
    "headChunkLines",
    "decompressedBytes",
    "decompressedLines",
    "compressedBytes",
    "totalDuplicates",
  ];
  for (const store of [querier.store, ingester.store]) {
    assert.deepEqual(Object.keys(store), [
      "totalChunksRef",
      "totalChunksDownloaded",
      "chunksDownloadTime",
      "chunk",
    ]);
    assert.deepEqual(Object.keys(store.chunk), chunkKeys);
  }
  assert.deepEqual(Object.keys(ingester), [
    "totalReached",
    "totalChunksMatched",
    "totalBatches",
    "totalLinesSent",
    "store",
  ]);
  assert.equal(
    querier.store.chunk.decompressedLines + ingester.store.chunk.headChunkLines,
    lines,
  );
  assert.equal(
    querier.store.chunk.decompressedBytes + ingester.store.chunk.headChunkBytes,
    stats.summary.totalBytesProcessed,
  );
}

Deno.test("Grafana Explore's log query (GET query_range, ns times, step, its headers) answers Loki's categorized streams", () =>
  withPushed(async (url) => {
    // As the data source's backend builds it: sorted keys, step always sent.
    const r = await call(
      url,
      `/loki/api/v1/query_range?direction=backward&end=${T0 + 3600n * SECOND}&limit=1000&query=${
        encodeURIComponent('{app="web"}')
      }&start=${T0}&step=15000ms`,
      {
        headers: {
          "X-Loki-Response-Encoding-Flags": "categorize-labels",
          "X-Query-Tags": "Source=grafana",
          "X-Scope-OrgID": "tenant-1",
          "X-Loki-Query-Limits-Context": '{"expr":"{app=\\"web\\"}","from":"x","to":"y"}',
        },
      },
    );
    assert.equal(r.status, 200, r.text);
    assert.equal(r.headers.get("content-type"), "application/json");
    // Loki's documented example, with the flag: 3-tuples, labels by category.
    const { stats, ...data } = r.body.data;
    assert.deepEqual({ ...r.body, data }, {
      status: "success",
      data: {
        resultType: "streams",
        encodingFlags: ["categorize-labels"],
        result: [{
          stream: WEB,
          values: [
            [ns(T0 + 3n * SECOND), "three", {}],
            [ns(T0 + 2n * SECOND), "two", { structuredMetadata: { trace_id: "t2" } }],
            [ns(T0 + SECOND), "one", {}],
          ],
        }],
      },
    });
    // Grafana's converter honours the flag only before `result`.
    assert.deepEqual(Object.keys(r.body.data), ["resultType", "encodingFlags", "result", "stats"]);
    assertStatsShape(stats, 3);
    assert.equal(stats.summary.totalBytesProcessed, "threetwoone".length);
  }));

Deno.test("without categorize-labels, metadata folds into the stream labels and splits the streams, values are pairs", () =>
  withPushed(async (url) => {
    const r = await get(url, "/loki/api/v1/query_range", {
      query: '{app=~"web|api"}',
      start: ns(T0),
      end: ns(T0 + 10n * SECOND),
      direction: "forward",
    });
    assert.equal(r.status, 200, r.text);
    const { stats, ...data } = r.body.data;
    assert.deepEqual(data, {
      resultType: "streams",
      result: [
        { stream: WEB, values: [[ns(T0 + SECOND), "one"], [ns(T0 + 3n * SECOND), "three"]] },
        { stream: API, values: [[ns(T0 + 2n * SECOND), "api line"]] },
        { stream: { ...WEB, trace_id: "t2" }, values: [[ns(T0 + 2n * SECOND), "two"]] },
      ],
    });
    assertStatsShape(stats, 4);
  }));

Deno.test("start and end take float seconds, 10-digit seconds, nanoseconds and RFC 3339 (with ms, as Drilldown sends); end is exclusive", () =>
  withPushed(async (url) => {
    const cases: [string, string, string[]][] = [
      ["1700000001.5", "1700000003.5", ["three", "two"]],
      ["1700000002", "1700000003", ["two"]],
      [ns(T0 + SECOND), ns(T0 + 2n * SECOND + 1n), ["two", "one"]],
      ["2023-11-14T22:13:21Z", "2023-11-14T22:13:22Z", ["one"]],
      ["2023-11-14T22:13:21.000Z", "2023-11-14T22:13:23.500Z", ["three", "two", "one"]],
    ];
    for (const [start, end, expected] of cases) {
      const r = await get(url, "/loki/api/v1/query_range", { query: '{app="web"}', start, end });
      assert.deepEqual(streamLines(r).flat().sort(), [...expected].sort(), `${start}..${end}`);
    }
    assertPlainText(
      await get(url, "/loki/api/v1/query_range", { query: "{}", start: "yesterday" }),
      400,
      'cannot parse start "yesterday": expected float seconds, integer seconds (up to 10 digits) or nanoseconds, or RFC 3339',
    );
  }));

Deno.test("without start and end a log query covers the last hour; since moves start", () =>
  withServer(async ({ url }) => {
    const now = BigInt(Date.now()) * 1_000_000n;
    const old = now - 7200n * SECOND;
    assert.equal(
      (await pushJson(url, payloadOf([[API, old, "two hours ago"], [API, now, "just now"]])))
        .status,
      200,
    );
    const q = { query: '{app="api"}', end: ns(now + SECOND) };
    assert.deepEqual(streamLines(await get(url, "/loki/api/v1/query_range", q)), [["just now"]]);
    assert.deepEqual(
      streamLines(await get(url, "/loki/api/v1/query_range", { ...q, since: "3h" })),
      [["just now", "two hours ago"]],
    );
  }));

Deno.test("direction orders the values; limit keeps the first lines; a limit above 5000 is refused as Loki refuses it", () =>
  withPushed(async (url) => {
    const q = { query: '{app="web"}', start: ns(T0), end: ns(T0 + 10n * SECOND) };
    // Categorized: one stream, whatever the metadata.
    const flags = { "X-Loki-Response-Encoding-Flags": "categorize-labels" };
    const lines = async (extra: Record<string, string>) =>
      streamLines(await get(url, "/loki/api/v1/query_range", { ...q, ...extra }, flags)).flat();
    assert.deepEqual(await lines({ direction: "backward", limit: "2" }), ["three", "two"]);
    assert.deepEqual(await lines({ direction: "forward", limit: "2" }), ["one", "two"]);
    assert.deepEqual(await lines({ direction: "FORWARD" }), ["one", "two", "three"]);
    assert.deepEqual(await lines({}), ["three", "two", "one"]);
    const refused: [Record<string, string>, string][] = [
      [
        { limit: "5001" },
        "max entries limit per query exceeded, limit > max_entries_limit_per_query (5001 > 5000)",
      ],
      [{ limit: "0" }, "limit must be a positive value"],
      [{ direction: "sideways" }, 'invalid direction "sideways": use "backward" or "forward"'],
    ];
    for (const [extra, message] of refused) {
      assertPlainText(await get(url, "/loki/api/v1/query_range", { ...q, ...extra }), 400, message);
    }
  }));

Deno.test("Drilldown's pattern filters (|> and !>) include and exclude lines by pattern", () =>
  withPushed(async (url) => {
    const flags = { "X-Loki-Response-Encoding-Flags": "categorize-labels" };
    const lines = async (query: string) =>
      streamLines(
        await get(url, "/loki/api/v1/query_range", {
          query,
          start: ns(T0),
          end: ns(T0 + 10n * SECOND),
          direction: "forward",
        }, flags),
      ).flat();
    assert.deepEqual(await lines('{app=~".+"} |> "<_> line"'), ["api line"]);
    assert.deepEqual(await lines('{app=~".+"} |> "t<_>" or "o<_>"'), ["one", "two", "three"]);
    assert.deepEqual(await lines('{app="web"} !> "t<_>"'), ["one"]);
    assertPlainText(
      await get(url, "/loki/api/v1/query_range", { query: '{app="web"} |> "<a>"' }),
      400,
      'parse error at line 1, col 16: invalid pattern "<a>": named captures are not allowed in line filter patterns: found <a>',
    );
  }));

Deno.test("errors are Loki's plain text: parse errors with line and column, metric queries, steps, unknown paths", () =>
  withPushed(async (url) => {
    const range = { start: ns(T0), end: ns(T0 + 10n * SECOND) };
    const cases: [Record<string, string>, number, string][] = [
      [{ query: '{app="web"' }, 400, 'parse error at line 1, col 11: expected "," or "}"'],
      [{ query: 'rate({app="web"}[1m]' }, 400, 'parse error at line 1, col 21: expected ")"'],
      [
        { query: "" },
        400,
        'query is required: a LogQL query such as {app="web"} or rate({app="web"}[5m])',
      ],
      [
        { query: "{}", step: "0" },
        400,
        "zero or negative query resolution step widths are not accepted. Try a positive integer",
      ],
      [
        { query: "{}", step: "0.0005" },
        400,
        "exceeded maximum resolution of 11,000 points per time series. Try increasing the value of the step parameter",
      ],
      [
        { query: "{}", step: "fast" },
        400,
        'cannot parse step "fast": expected a duration such as 15s, 1m30s or 15000ms (units y, w, d, h, m, s, ms)',
      ],
    ];
    for (const [params, status, message] of cases) {
      assertPlainText(
        await get(url, "/loki/api/v1/query_range", { ...range, ...params }),
        status,
        message,
      );
    }
    assertPlainText(await call(url, "/loki/api/v1/nope"), 404, "no route for /loki/api/v1/nope");
  }));

Deno.test("form POST takes the same parameters as GET", () =>
  withPushed(async (url) => {
    const r = await call(url, "/loki/api/v1/query_range", {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({
        query: '{app="api"}',
        start: ns(T0),
        end: ns(T0 + 10n * SECOND),
      }).toString(),
    });
    assert.deepEqual(streamLines(r), [["api line"]]);
  }));

Deno.test("instant query: log queries answer streams of the hour up to time", () =>
  withPushed(async (url) => {
    const r = await get(url, "/loki/api/v1/query", {
      query: '{app="web"}',
      time: ns(T0 + 2n * SECOND),
      direction: "forward",
    });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.data.resultType, "streams");
    assert.deepEqual(streamLines(r), [["one"], ["two"]]);
  }));

Deno.test("labels, label values and series, restricted by a selector and a time window", () =>
  withPushed(async (url) => {
    const window = { start: ns(T0), end: ns(T0 + 10n * SECOND) };
    const data = async (path: string, params: Record<string, string>) => {
      const r = await get(url, path, { ...window, ...params });
      assert.equal(r.status, 200, r.text);
      assert.equal(r.body.status, "success");
      return r.body.data;
    };
    assert.deepEqual(await data("/loki/api/v1/labels", {}), ["app", "env"]);
    assert.deepEqual(await data("/loki/api/v1/labels", { query: '{app="api"}' }), ["app"]);
    assert.deepEqual(await data("/loki/api/v1/label/app/values", {}), ["api", "web"]);
    assert.deepEqual(
      await data("/loki/api/v1/label/app/values", { query: '{env="prod"}' }),
      ["web"],
    );
    // Drilldown's RFC 3339 bounds; a window with no lines has no labels.
    assert.deepEqual(
      await data("/loki/api/v1/labels", {
        start: "2023-11-14T22:13:23.001Z",
        end: "2023-11-14T23:00:00.000Z",
      }),
      [],
    );
    const series = await call(
      url,
      `/loki/api/v1/series?match%5B%5D=${encodeURIComponent('{app="web"}')}&match%5B%5D=${
        encodeURIComponent('{app=~"a.*"}')
      }&start=${T0}&end=${T0 + 10n * SECOND}`,
    );
    assert.equal(series.status, 200, series.text);
    assert.deepEqual(series.body, { status: "success", data: [API, WEB] });
    assertPlainText(
      await get(url, "/loki/api/v1/series", window),
      400,
      'series needs at least one match[] selector, e.g. {app="web"}',
    );
    assertPlainText(
      await get(url, "/loki/api/v1/labels", { query: '{app="web"} |= "x"' }),
      400,
      'query must be a stream selector such as {app="web"}, without a pipeline',
    );
  }));

Deno.test("index/stats counts streams, blocks, lines and bytes of a selector, unwrapped", () =>
  withPushed(async (url) => {
    const r = await get(url, "/loki/api/v1/index/stats", {
      query: '{app="web"}',
      start: ns(T0),
      end: ns(T0 + 10n * SECOND),
    });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(Object.keys(r.body), ["streams", "chunks", "entries", "bytes"]);
    assert.equal(r.body.streams, 1);
    assert.equal(r.body.entries, 3);
    assert.ok(r.body.chunks >= 1, r.text);
    assert.ok(r.body.bytes >= "onetwothree".length, r.text);
  }));

Deno.test("buildinfo, ready and format_query", () =>
  withPushed(async (url) => {
    const info = await call(url, "/loki/api/v1/status/buildinfo");
    assert.deepEqual(info.body, {
      version: denoConfig.version,
      revision: "",
      branch: "",
      buildUser: "",
      buildDate: "",
      goVersion: "",
    });
    const ready = await call(url, "/ready");
    assert.equal(ready.status, 200);
    assert.equal(ready.text, "ready\n");
    const formatted = await get(url, "/loki/api/v1/format_query", {
      query: '{ app = "web",env=~`p.*` }|="x" or `y` | json a, b="c[0]" | a >= 2KB and b = 1.50 ' +
        "or level=~`err.*` | line_format `{{.a}}` | label_format l=level | drop c | decolorize",
    });
    assert.deepEqual(formatted.body, {
      status: "success",
      data: '{app="web", env=~"p.*"} |= "x" or "y" | json a="a",b="c[0]" | ' +
        '( ( a>=2KB , b==1.5 ) or level=~"err.*" ) | line_format "{{.a}}" | label_format l=level | ' +
        "drop c | decolorize",
    });
  }));

Deno.test("--api-key guards Loki's data routes, by bearer token or basic auth with the key as password", () =>
  withPushed(async (url) => {
    const q = `/loki/api/v1/query_range?query=${encodeURIComponent("{}")}&start=${T0}&end=${
      T0 + 10n * SECOND
    }`;
    for (const path of [q, "/loki/api/v1/labels", "/loki/api/v1/label/app/values"]) {
      const missing = await call(url, path);
      assertPlainText(
        missing,
        401,
        "missing API key: send Authorization: Bearer <key>, or Basic with the key as password",
      );
      assertPlainText(
        await call(url, path, { headers: { authorization: `Basic ${btoa("grafana:nope")}` } }),
        401,
        "invalid API key",
      );
      for (const authorization of ["Bearer s3cret", `Basic ${btoa("grafana:s3cret")}`]) {
        const r = await call(url, path, { headers: { authorization } });
        assert.equal(r.status, 200, `${path} with ${authorization}: ${r.text}`);
      }
    }
    assert.equal((await call(url, "/ready")).status, 200);
  }, ["--api-key", "s3cret"]));
