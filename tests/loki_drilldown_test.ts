/**
 * End-to-end tests of what Grafana's Explore and Logs Drilldown ask of
 * Loki's API beyond log queries (`/work/shared/loki_compat.md` §2 and §5),
 * against the real `loge serve` process: `index/volume`,
 * `index/volume_range`, `detected_labels`, `detected_fields`,
 * `detected_field/<name>/values`, `patterns`, `drilldown-limits`,
 * `detected_level` derived at ingest, and the `stats` of every query answer.
 * Lines go in through Loki's push route and stay in memory
 * (`--flush-interval 1h`), where volumes count exact line bytes; every
 * expected answer is computed here from the pushed lines.
 *
 * @module
 */

import assert from "node:assert/strict";
import { call, type Reply } from "../testing/http.ts";
import { withServer } from "../testing/server.ts";
import { corpus, type Line, lokiPush, S, T0 } from "../testing/drilldown_corpus.ts";

const HEAD_ONLY = ["--flush-interval", "1h", "--payload-size", "100000"];

/** The labels a stream gets at ingest: `service_name` from `app`. */
const stored = (labels: Record<string, string>) => ({ ...labels, service_name: labels.app });

/** GET `path` with `params` in the query string. */
const get = (url: string, path: string, params: Record<string, string>, headers = {}) =>
  call(url, `${path}?${new URLSearchParams(params)}`, { headers });

function ok(r: Reply): Reply {
  assert.equal(r.status, 200, r.text);
  assert.equal(r.headers.get("content-type"), "application/json", r.text);
  return r;
}

function assertPlainText(r: Reply, status: number, message: RegExp) {
  assert.equal(r.status, status, r.text);
  assert.equal(r.headers.get("content-type"), "text/plain; charset=utf-8");
  assert.match(r.text, message);
}

const utf8 = new TextEncoder();
const bytesOf = (lines: Line[]) => lines.reduce((n, l) => n + utf8.encode(l.line).length, 0);
/** RFC 3339 with milliseconds, as Drilldown sends times. */
const rfc3339 = (ns: bigint) => new Date(Number(ns / 1_000_000n)).toISOString();
const WINDOW = { start: String(T0), end: String(T0 + 3600n * S) };

/** Loki's `stats` as Grafana reads it: every key of `summary`, numbers. */
function assertStats(stats: Record<string, Record<string, unknown>>, lines?: number) {
  for (
    const key of [
      "bytesProcessedPerSecond",
      "linesProcessedPerSecond",
      "totalBytesProcessed",
      "totalLinesProcessed",
      "execTime",
    ]
  ) assert.equal(typeof stats.summary[key], "number", key);
  if (lines !== undefined) assert.equal(stats.summary.totalLinesProcessed, lines);
  assert.ok(stats.querier && stats.ingester);
}

Deno.test("index/volume: bytes by the selector's labels, Loki's vector, largest first; aggregateBy, targetLabels, limit", () =>
  withServer(async ({ url }) => {
    const lines = corpus();
    await lokiPush(url, lines);
    const volume = (params: Record<string, string>) =>
      get(url, "/loki/api/v1/index/volume", { ...WINDOW, ...params });
    // Drilldown's service page: {service_name=~`.+`}, limit 5000, RFC 3339 times.
    const r = ok(
      await get(url, "/loki/api/v1/index/volume", {
        query: "{service_name=~`.+`}",
        start: rfc3339(T0),
        end: rfc3339(T0 + 3600n * S),
        limit: "5000",
      }, { "X-Query-Tags": "Source=grafana-lokiexplore-app" }),
    );
    const stamp = 1_700_003_600; // the window's end, in seconds
    const shop = bytesOf(lines.filter((l) => l.labels.app === "shop"));
    const auth = bytesOf(lines.filter((l) => l.labels.app === "auth"));
    assert.ok(shop > auth);
    const { stats, ...data } = r.body.data;
    assert.deepEqual({ ...r.body, data }, {
      status: "success",
      data: {
        resultType: "vector",
        result: [
          { metric: { service_name: "shop" }, value: [stamp, String(shop)] },
          { metric: { service_name: "auth" }, value: [stamp, String(auth)] },
        ],
      },
    });
    assertStats(stats, 0);
    // The selector's labels make the series: app and env for shop's streams.
    const byEnv = ok(await volume({ query: '{app="shop", env=~".+"}' })).body.data.result;
    const env = (e: string) => bytesOf(lines.filter((l) => l.labels.env === e));
    assert.deepEqual(
      byEnv,
      [
        { metric: { app: "shop", env: "prod" }, value: [stamp, String(env("prod"))] },
        { metric: { app: "shop", env: "dev" }, value: [stamp, String(env("dev"))] },
      ].sort((a, b) => Number(b.value[1]) - Number(a.value[1])),
    );
    // targetLabels: aggregated into them alone; streams without them left out.
    const byPod = ok(await volume({ query: '{app="shop"}', targetLabels: "pod", limit: "1" }));
    assert.deepEqual(byPod.body.data.result, [{
      metric: { pod: "shop-1" },
      value: [stamp, String(bytesOf(lines.filter((l) => l.labels.pod === "shop-1")))],
    }]);
    // aggregateBy=labels: one series per label name, its value "".
    const byLabel = ok(await volume({ query: '{namespace="sec"}', aggregateBy: "labels" }));
    assert.deepEqual(
      byLabel.body.data.result,
      ["app", "level", "namespace", "service_name"].map((name) => ({
        metric: { [name]: "" },
        value: [stamp, String(auth)],
      })),
    );
    for (
      const [params, message] of [
        [{}, /^query is required/],
        [{ query: "{app=" }, /^parse error at line 1, col 6/],
        [{ query: '{app="shop"} |= "x"' }, /^query must be a stream selector/],
        [{ query: "{}", aggregateBy: "pods" }, /^invalid aggregation option "pods"/],
        [{ query: "{}", targetLabels: "a,b-c" }, /^targetLabels: label name "b-c"/],
        [{ query: "{}", limit: "-1" }, /^limit must be a positive value/],
      ] as [Record<string, string>, RegExp][]
    ) assertPlainText(await volume(params), 400, message);
  }, { args: HEAD_ONLY }));

Deno.test("index/volume_range: bytes per step-aligned bucket, stamped as Loki stamps them, in a matrix", () =>
  withServer(async ({ url }) => {
    const lines = corpus();
    await lokiPush(url, lines);
    const step = 120n * S;
    const end = T0 + 600n * S;
    const r = ok(
      await get(url, "/loki/api/v1/index/volume_range", {
        query: '{app=~".+"}',
        start: String(T0),
        end: String(end),
        step: "2m",
      }),
    );
    assert.equal(r.body.data.resultType, "matrix");
    assertStats(r.body.data.stats, 0);
    // Buckets start at multiples of the step; each is stamped 1 ms before
    // its end, the last at the window's end.
    const expected = ["shop", "auth"].map((app) => {
      const byBucket = new Map<bigint, number>();
      for (const l of lines.filter((l) => l.labels.app === app && l.ts < end)) {
        const bucket = l.ts - l.ts % step;
        byBucket.set(bucket, (byBucket.get(bucket) ?? 0) + utf8.encode(l.line).length);
      }
      const values = [...byBucket].sort(([a], [b]) => (a < b ? -1 : 1)).map(([bucket, n]) => {
        const stamp = bucket + step >= end ? end : bucket + step - 1_000_000n;
        return [Number(stamp / 1_000_000n) / 1000, String(n)];
      });
      return { metric: { app }, values };
    });
    assert.deepEqual(r.body.data.result, expected);
    // Hour buckets: every line is in the first (the window's start to the next
    // full hour), so each series has one sample: a vector.
    const one = ok(
      await get(url, "/loki/api/v1/index/volume_range", { ...WINDOW, query: "{}", step: "1h" }),
    );
    assert.equal(one.body.data.resultType, "vector");
    assert.deepEqual(one.body.data.result, [{
      metric: {},
      value: [1_700_002_799.999, String(bytesOf(lines))],
    }]);
    assertPlainText(
      await get(url, "/loki/api/v1/index/volume_range", { ...WINDOW, query: "{}", step: "0.1" }),
      400,
      /^exceeded maximum resolution of 11,000 points/,
    );
  }, { args: HEAD_ONLY }));

Deno.test("detected_labels: the selected streams' labels and their cardinality, ids left out, unwrapped", () =>
  withServer(async ({ url }) => {
    const ids = { app: "ids", request_id: "", pod: "" };
    const idLines: Line[] = ["7", "8", "9"].map((n, i) => ({
      labels: { ...ids, request_id: `${n}1`, pod: n, flag: String(i % 2) },
      ts: T0 + BigInt(i) * S,
      line: `id line ${i}`,
    }));
    await lokiPush(url, [...corpus(), ...idLines]);
    const detected = async (query: string) =>
      ok(
        await get(url, "/loki/api/v1/detected_labels", {
          query,
          start: rfc3339(T0),
          end: rfc3339(T0 + 3600n * S),
        }),
      ).body;
    /** Label names and their distinct values among the pushed streams `keep` picks. */
    const cardinalities = (
      keep: (labels: Record<string, string>) => boolean,
      drop: string[] = [],
    ) => {
      const values = new Map<string, Set<string>>();
      for (const l of [...corpus(), ...idLines].filter((l) => keep(l.labels))) {
        for (const [name, value] of Object.entries(stored(l.labels))) {
          if (!values.has(name)) values.set(name, new Set());
          values.get(name)!.add(value);
        }
      }
      return [...values].filter(([name]) => !drop.includes(name)).sort(([a], [b]) => a < b ? -1 : 1)
        .map(([label, v]) => ({ label, cardinality: v.size }));
    };
    assert.deepEqual(await detected('{service_name="shop"}'), {
      detectedLabels: cardinalities((l) => l.app === "shop"),
    });
    // Drilldown sends an empty query for {}: every stream. request_id's
    // values are all numbers: left out; pod's too, but pod is always kept;
    // flag's are 0 and 1: kept.
    assert.deepEqual(await detected(""), {
      detectedLabels: cardinalities(() => true, ["request_id"]),
    });
    assert.deepEqual(await detected('{app="none"}'), {});
    assertPlainText(
      await get(url, "/loki/api/v1/detected_labels", { query: "{app" }),
      400,
      /^parse error at line 1, col 5/,
    );
  }, { args: HEAD_ONLY }));

/** A line's fields as Loki's detected_fields sees them: metadata, then JSON leaves or logfmt pairs. */
function fieldsOf(l: Line, level: string): {
  metadata: Record<string, string>;
  parsed: Record<string, string>;
  parser: string;
  paths: Record<string, string[]>;
} {
  const metadata = { ...l.metadata, detected_level: level };
  if (l.line.startsWith("{")) {
    const parsed: Record<string, string> = {};
    const paths: Record<string, string[]> = {};
    const walk = (obj: Record<string, unknown>, path: string[]) => {
      for (const [k, v] of Object.entries(obj)) {
        if (typeof v === "object" && v !== null) walk(v as Record<string, unknown>, [...path, k]);
        else {
          parsed[[...path, k].join("_")] = String(v);
          paths[[...path, k].join("_")] = [...path, k];
        }
      }
    };
    walk(JSON.parse(l.line), []);
    return { metadata, parsed, parser: "json", paths };
  }
  const parsed = Object.fromEntries(
    [...l.line.matchAll(/(\w+)=("[^"]*"|\S+)/g)].map(([, k, v]) => [k, v.replace(/^"|"$/g, "")]),
  );
  return { metadata, parsed, parser: "logfmt", paths: {} };
}

Deno.test("detected_fields: metadata and parsed fields of the newest lines, their types, cardinality, parsers and JSON paths", () =>
  withServer(async ({ url }) => {
    const lines = corpus();
    await lokiPush(url, lines);
    const query = '{service_name="shop"} | json | logfmt | drop __error__, __error_details__';
    const fields = async (params: Record<string, string>) =>
      ok(await get(url, "/loki/api/v1/detected_fields", { ...WINDOW, query, ...params })).body;
    const levelOf = (l: Line) =>
      l.labels.env === "dev" ? "warn" : /level=error/.test(l.line) ? "error" : "info";
    /** The expected fields over the `n` newest lines of shop, as Loki gathers them. */
    const expected = (n: number) => {
      const newest = lines.filter((l) => l.labels.app === "shop").sort((a, b) =>
        a.ts > b.ts ? -1 : 1
      ).slice(0, n);
      const out = new Map<
        string,
        { values: Set<string>; parsers: string[] | null; jsonPath?: string[] }
      >();
      for (const l of newest) {
        const f = fieldsOf(l, levelOf(l));
        for (const [k, v] of Object.entries(f.metadata)) {
          if (!out.has(k)) out.set(k, { values: new Set(), parsers: null });
          out.get(k)!.values.add(v);
        }
        for (const [k, v] of Object.entries(f.parsed)) {
          if (!out.has(k)) out.set(k, { values: new Set(), parsers: [] });
          const field = out.get(k)!;
          field.values.add(v);
          if (!field.parsers!.includes(f.parser)) field.parsers!.push(f.parser);
          if (f.paths[k]) field.jsonPath = f.paths[k];
        }
      }
      return [...out].sort(([a], [b]) => a < b ? -1 : 1);
    };
    const types: Record<string, string> = {
      detected_level: "string",
      trace_id: "string",
      level: "string",
      msg: "string",
      took: "duration",
      status: "int",
      user_id: "int",
      user_name: "string",
      ms: "float",
    };
    const all = await fields({ line_limit: "1000" });
    assert.deepEqual(all, {
      fields: expected(1000).map(([label, f]) => ({
        label,
        type: types[label],
        cardinality: f.values.size,
        parsers: f.parsers,
        ...(f.jsonPath ? { jsonPath: f.jsonPath } : {}),
      })),
      limit: 1000,
    });
    // Without line_limit: the 100 newest lines, as Loki's default.
    const newest = await fields({});
    assert.deepEqual(
      newest.fields.map((f: { label: string; cardinality: number }) => [f.label, f.cardinality]),
      expected(100).map(([label, f]) => [label, f.values.size]),
    );
    // limit (or field_limit) caps the fields.
    assert.equal((await fields({ limit: "2" })).fields.length, 2);
    assert.equal((await fields({ field_limit: "3" })).limit, 3);
    assert.deepEqual(await fields({ query: '{app="none"}' }), {});
    for (
      const [params, message] of [
        [{ query: "" }, /^query is required/],
        [{ line_limit: "5001" }, /^max entries limit per query exceeded/],
        [{ line_limit: "0" }, /^line_limit must be a positive value/],
        [{ query: '{app="shop"} | json |' }, /^parse error/],
        [{ step: "0.01" }, /^exceeded maximum resolution of 11,000 points/],
      ] as [Record<string, string>, RegExp][]
    ) {
      assertPlainText(
        await get(url, "/loki/api/v1/detected_fields", { ...WINDOW, query, ...params }),
        400,
        message,
      );
    }
  }, { args: HEAD_ONLY }));

Deno.test("detected_field/<name>/values: the values of one field, from metadata or parsers", () =>
  withServer(async ({ url }) => {
    const lines = corpus();
    await lokiPush(url, lines);
    const values = async (name: string, query: string, extra: Record<string, string> = {}) =>
      ok(
        await get(url, `/loki/api/v1/detected_field/${encodeURIComponent(name)}/values`, {
          ...WINDOW,
          query,
          limit: "1000",
          line_limit: "1000",
          ...extra,
        }),
      ).body;
    // Drilldown's level filter asks detected_level's values.
    assert.deepEqual(await values("detected_level", '{service_name="shop"}'), {
      values: ["error", "info", "warn"],
      limit: 1000,
    });
    assert.deepEqual(await values("status", '{app="shop"}'), {
      values: ["200", "500"],
      limit: 1000,
    });
    const users = lines.filter((l) => l.labels.env === "dev").map((l) =>
      JSON.parse(l.line).user.name
    );
    assert.deepEqual(await values("user_name", '{app="shop"} | json'), {
      values: users.sort(),
      limit: 1000,
    });
    assert.deepEqual((await values("user_name", '{app="shop"}', { limit: "5" })).values.length, 5);
    assert.deepEqual(await values("nothing", '{app="shop"}'), {});
    assertPlainText(
      await get(url, "/loki/api/v1/detected_field/level/values", WINDOW),
      400,
      /^query is required/,
    );
  }, { args: HEAD_ONLY }));

Deno.test("patterns: templates of the lines with their counts per step, by level; rare ones left out", () =>
  withServer(async ({ url }) => {
    const lines = corpus();
    await lokiPush(url, lines);
    const step = 60n * S;
    const r = ok(
      await get(url, "/loki/api/v1/patterns", {
        query: '{app=~"shop|auth"}',
        start: rfc3339(T0),
        end: rfc3339(T0 + 3600n * S),
        step: "1m",
      }, { "X-Query-Tags": "Source=grafana-lokiexplore-app" }),
    );
    /** Lines per minute (unix seconds of the minute, zeros between) of the lines `keep` picks. */
    const samples = (keep: (l: Line) => boolean) => {
      const by = new Map<number, number>();
      for (const l of lines.filter(keep)) {
        const minute = Number((l.ts - l.ts % step) / S);
        by.set(minute, (by.get(minute) ?? 0) + 1);
      }
      const minutes = [...by.keys()].sort((a, b) => a - b);
      const out: [number, number][] = [];
      for (let m = minutes[0]; m <= minutes[minutes.length - 1]; m += 60) {
        out.push([m, by.get(m) ?? 0]);
      }
      return out;
    };
    const prod = (l: Line) => l.labels.env === "prod";
    const expected = [
      {
        pattern: 'level=info msg="order <_> placed" took=<_> status=200',
        level: "info",
        samples: samples((l) => prod(l) && l.line.startsWith("level=info")),
      },
      {
        pattern: "<_>cart <_> updated by user<_>",
        level: "warn",
        samples: samples((l) => l.labels.env === "dev"),
      },
      // 30 lines each: ties go by the template's text.
      {
        pattern: 'level=error msg="order <_> placed" took=<_> status=500',
        level: "error",
        samples: samples((l) => prod(l) && l.line.startsWith("level=error")),
      },
      {
        pattern: "token <_> refreshed for session <_>",
        level: "debug",
        samples: samples((l) => l.labels.app === "auth"),
      },
    ];
    assert.deepEqual(r.body, { status: "success", data: expected });
    // 15 info and 5 error lines of prod in the first 100 s: fewer than 30, no pattern.
    const few = ok(
      await get(url, "/loki/api/v1/patterns", {
        query: '{app="shop", env="prod"}',
        start: String(T0),
        end: String(T0 + 100n * S),
      }),
    );
    assert.deepEqual(few.body, { status: "success", data: [] });
    for (
      const [params, message] of [
        [{}, /^query is required/],
        [{ query: '{app="shop"} | logfmt' }, /^query must be a stream selector/],
        [{ query: "{}", step: "-1s" }, /^cannot parse step "-1s"|^zero or negative/],
      ] as [Record<string, string>, RegExp][]
    ) {
      assertPlainText(
        await get(url, "/loki/api/v1/patterns", { ...WINDOW, ...params }),
        400,
        message,
      );
    }
  }, { args: HEAD_ONLY }));

Deno.test("drilldown-limits: Loki's shape, patterns on, loge's limits and version", () =>
  withServer(async ({ url }) => {
    const r = ok(await call(url, "/loki/api/v1/drilldown-limits"));
    assert.deepEqual(Object.keys(r.body), ["limits", "pattern_ingester_enabled", "version"]);
    assert.equal(r.body.pattern_ingester_enabled, true);
    assert.equal(typeof r.body.version, "string");
    const { limits } = r.body;
    assert.equal(limits.max_entries_limit_per_query, 5000);
    assert.equal(limits.retention_period, "0s");
    assert.equal(limits.discover_log_levels, true);
    assert.equal(limits.discover_service_name[0], "service");
    assert.equal(limits.log_level_fields[0], "level");
    assert.equal(limits.volume_enabled, true);
  }));

Deno.test("detected_level is derived at ingest for streams without a level label, as Loki's distributor does", () =>
  withServer(async ({ url }) => {
    const cases: [string, Record<string, string> | undefined, string][] = [
      ["all good", { severity: "Warning" }, "warn"],
      ["all good", { detected_level: "Critical" }, "critical"],
      ["all good", { severity_number: "9" }, "info"],
      ['{"level":"ERROR","msg":"payment failed"}', undefined, "error"],
      ['{"log":{"level":"dbg"},"msg":"nested"}', undefined, "debug"],
      ['ts=1 lvl=trc msg="warm up"', undefined, "trace"],
      ["2024-01-01 WARN disk almost full", undefined, "warn"],
      ["[ERROR] upstream timeout", undefined, "error"],
      ["fatal: cannot start", undefined, "fatal"],
      ["GET /health 200", undefined, "unknown"],
      ["terror is no error word", undefined, "error"],
    ];
    const lines: Line[] = cases.map(([line, metadata], i) => ({
      labels: { app: "levels" },
      ts: T0 + BigInt(i) * S,
      line,
      metadata,
    }));
    lines.push({ labels: { app: "levels", severity: "info" }, ts: T0, line: "ERROR but labelled" });
    await lokiPush(url, lines);
    const r = ok(
      await get(url, "/loki/api/v1/query_range", {
        ...WINDOW,
        query: '{app="levels"}',
        direction: "forward",
      }, { "X-Loki-Response-Encoding-Flags": "categorize-labels" }),
    );
    const [labelled, derived] = r.body.data.result.sort((a: { stream: object }) =>
      "severity" in a.stream ? -1 : 1
    );
    assert.deepEqual(labelled.values, [[String(T0), "ERROR but labelled", {}]]);
    assert.deepEqual(
      derived.values.map((v: [string, string, { structuredMetadata: Record<string, string> }]) => [
        v[1],
        v[2].structuredMetadata.detected_level,
      ]),
      cases.map(([line, , level]) => [line, level]),
    );
    // Other metadata stays as sent.
    assert.deepEqual(derived.values[0][2].structuredMetadata, {
      severity: "Warning",
      detected_level: "warn",
    });
  }, { args: HEAD_ONLY }));

Deno.test("stats in every query answer: the lines and bytes the scan looked at, filtered out or not", () =>
  withServer(async ({ url }) => {
    const lines = corpus();
    await lokiPush(url, lines);
    const shop = lines.filter((l) => l.labels.app === "shop");
    for (
      const [path, params] of [
        ["query_range", { ...WINDOW, query: '{service_name="shop"} |= "order"', limit: "1000" }],
        ["query", { time: WINDOW.end, query: '{service_name="shop"} |= "order"', limit: "1000" }],
      ] as [string, Record<string, string>][]
    ) {
      const r = ok(await get(url, `/loki/api/v1/${path}`, params));
      const { stats } = r.body.data;
      assertStats(stats, shop.length);
      assert.equal(stats.summary.totalBytesProcessed, bytesOf(shop));
      assert.equal(stats.summary.totalEntriesReturned, 120);
      // In memory: the ingesters' head chunks, as Loki reports them.
      assert.equal(stats.ingester.store.chunk.headChunkLines, shop.length);
      assert.equal(stats.ingester.store.chunk.headChunkBytes, bytesOf(shop));
      assert.equal(stats.querier.store.chunk.decompressedLines, 0);
    }
  }, { args: HEAD_ONLY }));
