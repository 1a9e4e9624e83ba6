/**
 * End-to-end tests of the read path against the real `loge serve` process:
 * `POST /api/v1/query` (LogQL and structured bodies), `POST /api/v1/volume`,
 * `GET /api/v1/labels`, `GET /api/v1/label/{name}/values`, `GET /api/v1/stats`,
 * the API key, and every error path.
 *
 * @module
 */

import assert from "node:assert/strict";
import { pushJson, startServer, withServer } from "../testing/server.ts";

const T0 = 1_700_000_000_000_000_000n;
const MS = 1_000_000n;

type Labels = Record<string, string>;

/** One entry of a query response, timestamps exact. */
interface Entry {
  timestamp: bigint;
  line: string;
  labels: Labels;
  metadata?: Record<string, string>;
}

const { rawJSON } = JSON as unknown as { rawJSON(text: string): unknown };

/** JSON with bigints written as exact integers (how a client sends nanoseconds). */
function toJson(value: unknown): string {
  return JSON.stringify(value, (_k, v) => (typeof v === "bigint" ? rawJSON(v.toString()) : v));
}

/** Parses JSON keeping integers beyond 2^53 exact, as bigints. */
// deno-lint-ignore no-explicit-any
function parseExact(text: string): any {
  return JSON.parse(
    text,
    (_k, v, ctx?: { source?: string }) =>
      typeof v === "number" && !Number.isSafeInteger(v) && ctx?.source &&
        /^-?\d+$/.test(ctx.source)
        ? BigInt(ctx.source)
        : v,
  );
}

interface Reply {
  status: number;
  text: string;
  // deno-lint-ignore no-explicit-any
  body: any;
  headers: Headers;
}

/** Sends a request; a `body` that is not a string is sent as JSON. Always consumes the answer. */
async function call(
  url: string,
  path: string,
  init: { method?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<Reply> {
  const body = init.body === undefined
    ? undefined
    : typeof init.body === "string"
    ? init.body
    : toJson(init.body);
  const res = await fetch(`${url}${path}`, {
    method: init.method ?? (body === undefined ? "GET" : "POST"),
    headers: {
      ...(body === undefined ? {} : { "content-type": "application/json" }),
      ...init.headers,
    },
    body,
  });
  const text = await res.text();
  let parsed = null;
  try {
    parsed = text ? parseExact(text) : null;
  } catch { /* not JSON: the assertions on `body` will say so */ }
  return { status: res.status, text, body: parsed, headers: res.headers };
}

/** POSTs a query that must succeed; returns its entries and the raw text. */
async function query(url: string, body: unknown): Promise<{ entries: Entry[]; text: string }> {
  const r = await call(url, "/api/v1/query", { body });
  assert.equal(r.status, 200, `${toJson(body)} → ${r.text}`);
  assert.equal(r.body.status, "success");
  assert.ok(Array.isArray(r.body.data));
  return { entries: r.body.data, text: r.text };
}

async function lines(url: string, body: unknown): Promise<string[]> {
  return (await query(url, body)).entries.map((e) => e.line);
}

async function stats(url: string) {
  const r = await call(url, "/api/v1/stats");
  assert.equal(r.status, 200, r.text);
  return r.body;
}

/** Polls `check` every 50 ms until it holds or `ms` pass. */
async function waitFor(what: string, check: () => Promise<boolean>, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function segmentFiles(dir: string): Promise<string[]> {
  return (await Array.fromAsync(Deno.readDir(dir), (e) => e.name)).filter((n) =>
    n.endsWith(".loge")
  ).sort();
}

/** Waits until compaction has left only level-1 segments in `dir`. */
async function waitCompacted(dir: string): Promise<void> {
  await waitFor("only l1 segments", async () => {
    const names = await segmentFiles(dir);
    return names.length > 0 && names.every((n) => n.startsWith("l1-"));
  });
}

/** A push payload of `[labels, ts, line, metadata?]` rows, one stream per row. */
function payloadOf(rows: [Labels, bigint, string, Labels?][]) {
  return {
    streams: rows.map(([stream, ts, line, meta]) => ({
      stream,
      values: [meta ? [String(ts), line, meta] : [String(ts), line]],
    })),
  };
}

async function push(url: string, rows: [Labels, bigint, string, Labels?][]): Promise<void> {
  const res = await pushJson(url, payloadOf(rows));
  assert.equal(res.status, 200, JSON.stringify(res.body));
}

// ---------------------------------------------------------------------------
// The fixture: six streams, fourteen lines 1 ms apart (in array order).

const S = {
  webProd: { app: "web", env: "prod", level: "error" },
  webDev: { app: "web", env: "dev", level: "info" },
  apiX: { app: "api", level: "xerror" },
  apiProd: { app: "api", env: "prod", level: "errors" },
  worker: { app: "worker" },
  admin: { app: "web-admin", env: "prod", level: "warn" },
  unicode: { app: "uni" },
} satisfies Record<string, Labels>;

interface FixtureLine {
  id: string;
  labels: Labels;
  ts: bigint;
  line: string;
  metadata?: Labels;
}

const FIXTURE: FixtureLine[] = ([
  ["w1", S.webProd, "GET /login 500 ERROR connection timeout"],
  ["d1", S.webDev, "GET /health 200 ok"],
  ["x1", S.apiX, "xerror raised in handler"],
  ["e1", S.apiProd, "errors counted: 3"],
  ["k1", S.worker, "worker started", { trace_id: "abc123" }],
  ["a1", S.admin, "admin login ok"],
  ["w2", S.webProd, "error: disk full on /var"],
  ["d2", S.webDev, "debug cache miss key=xyz"],
  ["x2", S.apiX, "request took 5s TIMEOUT"],
  ["u1", S.unicode, "naïve café ☕ 😀"],
  ["e2", S.apiProd, 'user said "hello" twice'],
  ["k2", S.worker, "job 42 done in 1ms"],
  ["a2", S.admin, "admin error page"],
  ["w3", S.webProd, "retry ab=1 after Timeout"],
  ["d3", S.webDev, "path C:\\temp\\new file"],
] as [string, Labels, string, Labels?][]).map(([id, labels, line, metadata], i) => ({
  id,
  labels,
  ts: T0 + BigInt(i + 1) * MS,
  line,
  metadata,
}));

const byId = new Map(FIXTURE.map((f) => [f.id, f]));
const tsOf = (id: string) => byId.get(id)!.ts;

/**
 * The expected entries, newest first, for ids like "w1 x2"; a one-letter
 * token stands for all lines of that stream ("w" = w1 w2 w3).
 */
function expected(ids: string): Entry[] {
  const wanted = new Set<string>();
  for (const token of ids.split(/\s+/).filter(Boolean)) {
    if (token === "*") FIXTURE.forEach((f) => wanted.add(f.id));
    else if (token.length === 1) {
      FIXTURE.filter((f) => f.id[0] === token).forEach((f) => wanted.add(f.id));
    } else {
      assert.ok(byId.has(token), `unknown fixture id ${token}`);
      wanted.add(token);
    }
  }
  return FIXTURE.filter((f) => wanted.has(f.id))
    .sort((a, b) => (a.ts > b.ts ? -1 : 1))
    .map((f) => ({
      timestamp: f.ts,
      line: f.line,
      labels: f.labels,
      ...(f.metadata ? { metadata: f.metadata } : {}),
    }));
}

/** Queries and what they select from the fixture. */
const CASES: [body: Record<string, unknown>, ids: string][] = [
  // Label matchers through LogQL: every operator, anchoring, absent labels.
  [{ query: "" }, "*"],
  [{ query: "{}" }, "*"],
  [{}, "*"],
  [{ query: '{app="web"}' }, "w d"],
  [{ query: '{app!="web"}' }, "x e k a u"],
  [{ query: '{app=~"web"}' }, "w d"],
  [{ query: '{app=~"web.*"}' }, "w d a"],
  [{ query: '{app=~"eb"}' }, ""],
  [{ query: '{app=~"(?i)WEB"}' }, "w d"],
  [{ query: '{app!~"web.*"}' }, "x e k u"],
  [{ query: '{level=~"err.*"}' }, "w e"],
  [{ query: '{level!~"err.*"}' }, "d x k a u"],
  [{ query: '{level=~"error|warn"}' }, "w a"],
  [{ query: '{env=""}' }, "x k u"],
  [{ query: '{env!=""}' }, "w d e a"],
  [{ query: '{env=~".+"}' }, "w d e a"],
  [{ query: '{env!~".+"}' }, "x k u"],
  [{ query: '{env=~"prod|"}' }, "w e a x k u"],
  [{ query: '{nope=""}' }, "*"],
  [{ query: '{nope="x"}' }, ""],
  [{ query: '{app="web", env="prod"}' }, "w"],
  [{ query: '{app=~"web|api", level!="error"}' }, "d x e"],
  [{ query: "{app=`web`}" }, "w d"],
  // The same through structured matchers and `line`.
  [{ matchers: [{ name: "app", value: "web", type: "=" }] }, "w d"],
  [{ matchers: [{ name: "app", value: "web", type: "!=" }] }, "x e k a u"],
  [{ matchers: [{ name: "level", value: "err.*", type: "=~" }] }, "w e"],
  [{ matchers: [{ name: "app", value: "eb", type: "=~" }] }, ""],
  [{ matchers: [{ name: "level", value: "err.*", type: "!~" }] }, "d x k a u"],
  [{ matchers: [{ name: "env", value: "", type: "=" }] }, "x k u"],
  [{ matchers: [{ name: "env", value: "", type: "!=" }] }, "w d e a"],
  [{ matchers: [] }, "*"],
  [{ line: "timeout" }, "w1"],
  [{ line: "" }, "*"],
  [{ matchers: [{ name: "app", value: "web", type: "=" }], line: "GET" }, "w1 d1"],
  [{ matchers: [{ name: "env", value: "prod", type: "=" }], query: '{app="web"}' }, "w"],
  [{ query: '{app="web"}', line: "disk" }, "w2"],
  // Line filters: case-sensitive substrings, regexes searched anywhere in the line.
  [{ query: '|= "timeout"' }, "w1"],
  [{ query: '{} |= "Timeout"' }, "w3"],
  [{ query: '|~ "(?i)timeout"' }, "w1 x2 w3"],
  [{ query: '!= "timeout"' }, "d e x k a u w2 w3"],
  [{ query: "|~ `took \\d+s`" }, "x2"],
  [{ query: "|~ `^GET /\\w+ \\d{3}`" }, "w1 d1"],
  [{ query: '{app="web"} !~ "GET|error"' }, "w3 d2 d3"],
  [{ query: '{app="api"} !~ "x?error"' }, "x2 e2"],
  [{ query: '|~ "(?i)error" != "disk"' }, "w1 x1 e1 a2"],
  [{ query: '{level=~"err.*"} |~ "(?i)err" |= "o"' }, "w1 w2 e1"],
  [{ query: '|= "admin"' }, "a"],
  [{ query: '{app="web-admin"} |= "admin" |= "error"' }, "a2"],
  // Short terms (cannot prune, must still match).
  [{ query: '|= "ab"' }, "w3"],
  [{ query: '|= "5s"' }, "x2"],
  [{ query: '|= "1"' }, "w3 k2"],
  [{ query: '{app="worker"} |= "ms"' }, "k2"],
  [{ line: "ok" }, "d1 a1 x2"], // "took"
  // Non-ASCII: terms, case folding and "." work on characters.
  [{ query: '|= "café"' }, "u1"],
  [{ query: '|= "😀"' }, "u1"],
  [{ query: '|= "é ☕"' }, "u1"],
  [{ query: '|= "CAFÉ"' }, ""],
  [{ query: '|~ "(?i)CAFÉ"' }, "u1"],
  [{ query: '|~ "^na.ve"' }, "u1"],
  [{ query: '|~ "☕ .$"' }, "u1"],
  [{ query: String.raw`|= "\\u00efve"` }, ""],
  [{ query: String.raw`|= "na\u00efve"` }, "u1"],
  // Line filters look at the line only, not at its metadata.
  [{ query: '|= "abc123"' }, ""],
  // Strings: backticks are raw, double quotes take Go escapes.
  [{ query: "|= `C:\\temp\\new`" }, "d3"],
  [{ query: '|= "C:\\\\temp\\\\new"' }, "d3"],
  [{ query: '|= "C:\\temp"' }, ""], // \t is a tab
  [{ query: '|= "\\"hello\\""' }, "e2"],
  [{ query: '|= "\\u0068ello"' }, "e2"],
  // Time bounds: inclusive at both ends, 0 = unbounded, exact to the nanosecond.
  [{ start: tsOf("e1"), end: tsOf("w2") }, "e1 k1 a1 w2"],
  [{ start: tsOf("e1") + 1n, end: tsOf("w2") - 1n }, "k1 a1"],
  [{ start: tsOf("e1"), end: tsOf("e1") }, "e1"],
  [{ start: tsOf("w3") }, "w3 d3"],
  [{ start: tsOf("w3"), end: 0 }, "w3 d3"],
  [{ start: 0, end: tsOf("d1") }, "w1 d1"],
  [{ start: 0, end: 0 }, "*"],
  [{ start: String(tsOf("d3")), end: String(tsOf("d3")) }, "d3"],
  [{ query: '{app="web"} |= "o"', start: tsOf("d1"), end: tsOf("w3") }, "d1 w2 w3"],
  [{ start: tsOf("d3") + 1n }, ""],
  // Limits keep the newest.
  [{ limit: 3 }, "w3 d3 a2"],
  [{ query: '{app="web"}', limit: 4 }, "w3 d3 w2 d2"],
  [{ query: '|~ "(?i)timeout"', limit: 1 }, "w3"],
];

/** Runs every case, asserting its answer; returns the raw answers. */
async function runCases(url: string, state: string): Promise<string[]> {
  const texts: string[] = [];
  for (const [body, ids] of CASES) {
    const { entries, text } = await query(url, body);
    assert.deepEqual(entries, expected(ids), `${state}: ${toJson(body)}`);
    texts.push(text);
  }
  return texts;
}

/** Read answers that must not change when files are compacted. */
async function otherAnswers(url: string): Promise<string[]> {
  const out: string[] = [];
  for (
    const path of [
      "/api/v1/labels",
      `/api/v1/labels?start=${tsOf("x2")}`,
      "/api/v1/label/app/values",
      "/api/v1/label/level/values",
      `/api/v1/label/env/values?start=${tsOf("d1")}&end=${tsOf("x1")}`,
    ]
  ) {
    const r = await call(url, path);
    assert.equal(r.status, 200, r.text);
    out.push(r.text);
  }
  for (
    const body of [
      { start: T0, end: T0 + 20n * MS, step: 5n * MS },
      { query: '{app=~"web.*"} |~ "(?i)error"', start: T0, end: T0 + 20n * MS, step: 3n * MS },
      { query: '|= "timeout"', start: T0, end: T0 + 20n * MS, step: 4n * MS },
      { query: '{env!=""}', step: 2n * MS },
    ]
  ) {
    const r = await call(url, "/api/v1/volume", { body });
    assert.equal(r.status, 200, r.text);
    out.push(r.text);
  }
  return out;
}

Deno.test("matchers, line filters, bounds and limits select the same lines from memory, flush files and segments", async () => {
  // Interleaved payloads: two reach --payload-size and are flushed, seven stay in memory.
  const order = "w1 x1 k1 w2 x2 k2 w3 d1 e1 a1 d2 e2 a2 d3 u1".split(" ");
  const lines = order.map((id) => byId.get(id)!);
  const row = (f: FixtureLine): [Labels, bigint, string, Labels?] => [
    f.labels,
    f.ts,
    f.line,
    f.metadata,
  ];
  let server = await startServer({
    args: ["--compact-interval", "0", "--payload-size", "4", "--flush-interval", "1h"],
  });
  const dir = server.dir;
  try {
    await push(server.url, lines.slice(0, 4).map(row));
    await push(server.url, lines.slice(4, 8).map(row));
    for (const f of lines.slice(8)) await push(server.url, [row(f)]);
    await waitFor("two flush files", async () => (await stats(server.url)).flush_files === 2);
    const mixed = await stats(server.url);
    assert.equal(mixed.rows_in_memory, 7);
    assert.equal(mixed.rows_total, 15);
    const fromMemory = await runCases(server.url, "memory + flush files");
    const otherFromMemory = await otherAnswers(server.url);

    assert.equal(await server.stop(), 0);
    server = await startServer({ dir, args: ["--compact-interval", "0"] });
    const flushed = await stats(server.url);
    assert.equal(flushed.rows_in_memory, 0);
    assert.equal(flushed.compacted_segments, 0);
    assert.ok(flushed.flush_files >= 3, `flush files: ${flushed.flush_files}`);
    const fromFlushFiles = await runCases(server.url, "flush files");
    assert.deepEqual(await otherAnswers(server.url), otherFromMemory);
    assert.deepEqual(fromFlushFiles, fromMemory);

    assert.equal(await server.stop(), 0);
    server = await startServer({
      dir,
      args: ["--compact-interval", "200ms", "--compact-min-files", "2"],
    });
    await waitCompacted(dir);
    const compacted = await stats(server.url);
    assert.equal(compacted.flush_files, 0);
    assert.ok(compacted.compacted_segments >= 1);
    assert.equal(compacted.rows_total, 15);
    const fromSegments = await runCases(server.url, "compacted segments");
    assert.deepEqual(await otherAnswers(server.url), otherFromMemory);
    assert.deepEqual(fromSegments, fromMemory);
  } finally {
    await server.stop().catch(() => {});
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("results are newest first across memory, flush files and segments, ties in one order", async () => {
  const mix = { app: "mix" };
  const TIE = T0 + 14n * MS + MS / 2n;
  const regular = (phase: number): [Labels, bigint, string][] =>
    Array.from({ length: 30 }, (_, i) => i)
      .filter((i) => i % 3 === phase)
      .map((i) => [mix, T0 + BigInt(i) * MS, `mix ${i}`]);
  const ties: [Labels, bigint, string][][] = [
    [[mix, TIE, "tie a"], [{ app: "mix", x: "1" }, TIE, "tie a"]],
    [[mix, TIE, "tie b"], [{ app: "mix", x: "2" }, TIE, "tie b"]],
    [[mix, TIE, "tie 0"], [{ app: "mix", x: "1" }, TIE, "tie c"]],
  ];
  // Phase 0 ends up in a compacted segment, phase 1 in a flush file, phase 2 in memory.
  let server = await startServer({
    args: ["--flush-interval", "50ms", "--compact-interval", "200ms", "--compact-min-files", "2"],
  });
  const dir = server.dir;
  try {
    const a = [...regular(0), ...ties[0]];
    await push(server.url, a.slice(0, 6));
    await push(server.url, a.slice(6));
    await waitCompacted(dir);
    assert.equal(await server.stop(), 0);

    server = await startServer({
      dir,
      args: ["--flush-interval", "50ms", "--compact-interval", "0"],
    });
    await push(server.url, [...regular(1), ...ties[1]]);
    await waitFor("the flush", async () => (await stats(server.url)).rows_in_memory === 0);
    assert.equal(await server.stop(), 0);

    server = await startServer({
      dir,
      args: ["--flush-interval", "1h", "--compact-interval", "0"],
    });
    await push(server.url, [...regular(2), ...ties[2]]);
    const s = await stats(server.url);
    assert.ok(s.compacted_segments >= 1, toJson(s));
    assert.ok(s.flush_files >= 1, toJson(s));
    assert.equal(s.rows_in_memory, 12);
    assert.equal(s.rows_total, 36);

    const all = await query(server.url, { query: '{app="mix"}' });
    assert.equal(all.entries.length, 36);
    // Newest first; equal times by stream labels, then line (documented in log_entry.ts).
    const key = canonical;
    const sorted = [...all.entries].sort(newestFirst);
    assert.deepEqual(all.entries, sorted);
    assert.deepEqual(
      all.entries.filter((e) => e.timestamp === TIE).map((e) => `${key(e.labels)} ${e.line}`),
      [
        '{"app":"mix","x":"1"} tie a',
        '{"app":"mix","x":"1"} tie c',
        '{"app":"mix","x":"2"} tie b',
        '{"app":"mix"} tie 0',
        '{"app":"mix"} tie a',
        '{"app":"mix"} tie b',
      ],
    );
    assert.deepEqual(
      all.entries.filter((e) => e.timestamp !== TIE).map((e) => e.line),
      Array.from({ length: 30 }, (_, i) => `mix ${29 - i}`),
    );
    // The same order on repeated queries, and every limit returns a prefix of it.
    for (let i = 0; i < 3; i++) {
      assert.equal((await query(server.url, { query: '{app="mix"}' })).text, all.text);
    }
    for (const limit of [1, 5, 15, 16, 17, 20, 21, 22, 36]) {
      const { entries } = await query(server.url, { query: '{app="mix"}', limit });
      assert.deepEqual(entries, all.entries.slice(0, limit), `limit ${limit}`);
    }
    const window = await query(server.url, { query: "{}", start: T0 + 5n * MS, end: TIE });
    assert.deepEqual(
      window.entries,
      all.entries.filter((e) => e.timestamp >= T0 + 5n * MS && e.timestamp <= TIE),
    );
    const filtered = await query(server.url, { query: '{app="mix"} |= "tie"', limit: 4 });
    assert.deepEqual(
      filtered.entries,
      all.entries.filter((e) => e.line.includes("tie")).slice(0, 4),
    );
  } finally {
    await server.stop().catch(() => {});
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("time bounds are exact nanoseconds; bad bounds are 400", () =>
  withServer(async ({ url }) => {
    const t = { app: "t" };
    await push(url, [1n, 2n, 3n, 4n, 5n].map((n) => [t, T0 + n, `t${n}`]));
    // Sent as JSON numbers beyond 2^53: T0 + 2 must not round to T0.
    assert.deepEqual(await lines(url, { start: T0 + 2n, end: T0 + 4n }), ["t4", "t3", "t2"]);
    assert.deepEqual(await lines(url, { start: T0 + 2n }), ["t5", "t4", "t3", "t2"]);
    assert.deepEqual(await lines(url, { end: T0 + 2n }), ["t2", "t1"]);
    assert.deepEqual(await lines(url, { start: T0 + 3n, end: T0 + 3n }), ["t3"]);
    assert.deepEqual(
      await lines(url, { start: String(T0 + 5n), end: String(T0 + 5n) }),
      ["t5"],
    );
    assert.deepEqual(await lines(url, { start: 0, end: 0 }), ["t5", "t4", "t3", "t2", "t1"]);
    assert.deepEqual(await lines(url, { start: null, end: null }), ["t5", "t4", "t3", "t2", "t1"]);
    const { entries } = await query(url, { query: '{app="t"}', limit: 1 });
    assert.equal(entries[0].timestamp, T0 + 5n);
    const bad: [unknown, string][] = [
      [
        { start: T0 + 4n, end: T0 + 3n },
        `start (${T0 + 4n}) is after end (${T0 + 3n})`,
      ],
      [{ start: -1 }, 'start must be a non-negative integer of unix nanoseconds, got "-1"'],
      [{ end: 1.5 }, 'end must be a non-negative integer of unix nanoseconds, got "1.5"'],
      [
        '{"end": 1700000000000000000.5}',
        'end must be a non-negative integer of unix nanoseconds, got "1700000000000000000.5"',
      ],
      [
        { start: "yesterday" },
        'start must be a non-negative integer of unix nanoseconds, got "yesterday"',
      ],
      [
        { end: "9223372036854775808" },
        'end must be a non-negative integer of unix nanoseconds, got "9223372036854775808"',
      ],
    ];
    for (const [body, error] of bad) {
      const r = await call(url, "/api/v1/query", { body });
      assert.equal(r.status, 400, r.text);
      assert.deepEqual(r.body, { status: "error", error });
    }
  }));

Deno.test("limit defaults to 100 and is capped at 5000; invalid limits are 400", () =>
  withServer(async ({ url }) => {
    const n = 6000;
    const res = await pushJson(url, {
      streams: [{
        stream: { app: "bulk" },
        values: Array.from({ length: n }, (_, i) => [String(T0 + BigInt(i)), `bulk ${i}`]),
      }],
    });
    assert.equal(res.status, 200);
    const newest = (count: number) => Array.from({ length: count }, (_, i) => `bulk ${n - 1 - i}`);
    assert.deepEqual(await lines(url, {}), newest(100));
    assert.deepEqual(await lines(url, { query: '{app="bulk"}', limit: 7 }), newest(7));
    assert.deepEqual(await lines(url, { limit: 5000 }), newest(5000));
    assert.deepEqual(await lines(url, { limit: 10_000 }), newest(5000));
    assert.deepEqual(await lines(url, { limit: null }), newest(100));
    assert.deepEqual(await lines(url, { limit: "3" }), newest(3));
    assert.deepEqual(
      await lines(url, { query: '|= "bulk 12"', limit: 3 }),
      ["bulk 1299", "bulk 1298", "bulk 1297"],
    );
    assert.deepEqual(
      await lines(url, { query: '|= "bulk 12"', limit: 5000 }),
      [
        "bulk 12",
        ...Array.from({ length: 10 }, (_, i) => `bulk 12${i}`),
        ...Array.from({ length: 100 }, (_, i) => `bulk ${1200 + i}`),
      ]
        .sort((x, y) => Number(y.slice(5)) - Number(x.slice(5))),
    );
    for (const limit of [0, -1, 1.5, "ten", true, [5]]) {
      const r = await call(url, "/api/v1/query", { body: { limit } });
      assert.equal(r.status, 400, `limit ${JSON.stringify(limit)}: ${r.text}`);
      assert.deepEqual(r.body, {
        status: "error",
        error: `limit must be a positive integer, got ${JSON.stringify(limit)}`,
      });
    }
  }));

/** A small deterministic PRNG (mulberry32). */
function prng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A label set as canonical JSON (sorted keys), as streams are keyed. */
function canonical(labels: Labels): string {
  return JSON.stringify(Object.fromEntries(Object.entries(labels).sort()));
}

/** Newest first; equal times by canonical stream labels, then line. */
function newestFirst(x: Entry, y: Entry): number {
  const key = canonical;
  if (x.timestamp !== y.timestamp) return x.timestamp > y.timestamp ? -1 : 1;
  if (key(x.labels) !== key(y.labels)) return key(x.labels) < key(y.labels) ? -1 : 1;
  return x.line < y.line ? -1 : x.line > y.line ? 1 : 0;
}

Deno.test("every limit returns a prefix of the full order, with many ties, one unit at a time", async () => {
  const random = prng(42);
  const streams: Labels[] = [{ app: "p" }, { app: "p", n: "1" }, { app: "p", n: "2" }, {
    app: "q",
  }];
  const rows: [Labels, bigint, string][] = Array.from({ length: 240 }, (_, i) => [
    streams[Math.floor(random() * streams.length)],
    T0 + BigInt(Math.floor(random() * 60)) * MS,
    `line ${String(Math.floor(random() * 1000)).padStart(3, "0")} #${i}`,
  ]);
  const reference: Entry[] = rows.map(([labels, timestamp, line]) => ({ timestamp, line, labels }))
    .sort(newestFirst);
  const args = ["--payload-size", "12", "--flush-interval", "1h", "--query-concurrency", "1"];
  let server = await startServer({ args: [...args, "--compact-interval", "0"] });
  const dir = server.dir;
  const check = async (state: string) => {
    const full = await query(server.url, { limit: 5000 });
    assert.deepEqual(full.entries, reference, state);
    for (const limit of [1, 2, 3, 7, 10, 33, 100, 239, 240]) {
      const { entries } = await query(server.url, { limit });
      assert.deepEqual(entries, reference.slice(0, limit), `${state}, limit ${limit}`);
    }
    for (
      const [q, keep] of [
        ['{app="p"}', (e: Entry) => e.labels.app === "p"],
        ['{n=~"1|2"} |= "5"', (e: Entry) => e.labels.n !== undefined && e.line.includes("5")],
      ] as [string, (e: Entry) => boolean][]
    ) {
      const want = reference.filter(keep);
      for (const limit of [1, 4, 25, 5000]) {
        const { entries } = await query(server.url, { query: q, limit });
        assert.deepEqual(entries, want.slice(0, limit), `${state}, ${q} limit ${limit}`);
      }
    }
    const start = T0 + 20n * MS, end = T0 + 40n * MS;
    const window = await query(server.url, { start, end, limit: 15 });
    assert.deepEqual(
      window.entries,
      reference.filter((e) => e.timestamp >= start && e.timestamp <= end).slice(0, 15),
      state,
    );
  };
  try {
    // Payloads of 1 to 23 rows: some buckets flush, others stay in memory.
    for (let i = 0; i < rows.length;) {
      const n = 1 + Math.floor(random() * 23);
      await push(server.url, rows.slice(i, i + n));
      i += n;
    }
    await waitFor("the flushes", async () => {
      const s = await stats(server.url);
      return s.flush_files > 0 && s.rows_in_memory < 240;
    });
    await check("memory and flush files");
    assert.equal(await server.stop(), 0);
    server = await startServer({
      dir,
      args: [...args, "--compact-interval", "200ms", "--compact-min-files", "2"],
    });
    await waitCompacted(dir);
    await check("compacted");
  } finally {
    await server.stop().catch(() => {});
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("queries running while files are compacted see every line exactly once", async () => {
  let server = await startServer({
    args: ["--compact-interval", "0", "--payload-size", "5", "--flush-interval", "1h"],
  });
  const dir = server.dir;
  try {
    for (let p = 0; p < 12; p++) {
      await push(
        server.url,
        Array.from({ length: 5 }, (_, i) => [
          { app: "c", part: String(p % 3) },
          T0 + BigInt(p * 5 + i) * MS,
          `c ${p * 5 + i}`,
        ]),
      );
    }
    assert.equal(await server.stop(), 0);
    const before = (await segmentFiles(dir)).length;
    // Busy flush workers merge queued batches, so there may be fewer files than pushes.
    assert.ok(before >= 2, `flush files: ${before}`);
    server = await startServer({
      dir,
      args: ["--compact-interval", "100ms", "--compact-min-files", "2"],
    });
    const want = Array.from({ length: 60 }, (_, i) => `c ${59 - i}`);
    let rounds = 0;
    for (;;) {
      const done = (await segmentFiles(dir)).every((n) => n.startsWith("l1-"));
      assert.deepEqual(await lines(server.url, { query: '{app="c"}' }), want);
      assert.deepEqual(await lines(server.url, { query: '|= "c 1"', limit: 3 }), [
        "c 19",
        "c 18",
        "c 17",
      ]);
      rounds++;
      if (done) break;
      assert.ok(rounds < 2000, "compaction did not finish");
    }
    assert.equal((await stats(server.url)).rows_total, 60);
  } finally {
    await server.stop().catch(() => {});
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a pushed line is visible right after the 200, and still after its flush", () =>
  withServer(async ({ url }) => {
    const v = { app: "visible" };
    for (let i = 0; i < 5; i++) {
      await push(url, [[v, T0 + BigInt(i), `seen ${i}`]]);
      // Served from memory: no waiting for the flush.
      assert.deepEqual(
        await lines(url, { query: '{app="visible"}', limit: 1 }),
        [`seen ${i}`],
      );
    }
    // Across the flush, never missing and never twice.
    const want = ["seen 4", "seen 3", "seen 2", "seen 1", "seen 0"];
    const until = Date.now() + 300;
    while (Date.now() < until) {
      assert.deepEqual(await lines(url, { query: '{app="visible"}' }), want);
      assert.deepEqual(await lines(url, { query: '|= "seen 3"' }), ["seen 3"]);
    }
    await waitFor("the flush", async () => (await stats(url)).rows_in_memory === 0);
    assert.ok((await stats(url)).flush_files >= 1);
    assert.deepEqual(await lines(url, { query: '{app="visible"}' }), want);
    assert.deepEqual(await lines(url, { query: '|= "seen 3"' }), ["seen 3"]);
  }, { args: ["--flush-interval", "100ms", "--compact-interval", "0"] }));

Deno.test("labels and label values, with and without time bounds", () =>
  withServer(async ({ url }) => {
    const empty = await call(url, "/api/v1/labels");
    assert.deepEqual(empty.body, { status: "success", data: [] });
    const HOUR = 3_600_000_000_000n;
    await push(url, [[{ app: "web", env: "prod" }, T0, "old"]]);
    await waitFor("the flush", async () => (await stats(url)).rows_in_memory === 0);
    await push(url, [[{ app: "api", region: "eu" }, T0 + HOUR, "new"]]);
    await push(url, [[{ app: "web", env: "dev" }, T0 + 2n * HOUR, "newer"]]);
    const get = async (path: string) => {
      const r = await call(url, path);
      assert.equal(r.status, 200, `${path}: ${r.text}`);
      assert.equal(r.body.status, "success");
      return r.body.data;
    };
    assert.deepEqual(await get("/api/v1/labels"), ["app", "env", "region"]);
    assert.deepEqual(await get("/api/v1/label/app/values"), ["api", "web"]);
    assert.deepEqual(await get("/api/v1/label/env/values"), ["dev", "prod"]);
    assert.deepEqual(await get("/api/v1/label/region/values"), ["eu"]);
    assert.deepEqual(await get("/api/v1/label/nope/values"), []);
    // Bounds are inclusive nanoseconds.
    const mid = T0 + HOUR / 2n;
    assert.deepEqual(await get(`/api/v1/labels?end=${mid}`), ["app", "env"]);
    assert.deepEqual(await get(`/api/v1/labels?end=${T0}`), ["app", "env"]);
    assert.deepEqual(await get(`/api/v1/labels?end=${T0 - 1n}`), []);
    assert.deepEqual(await get(`/api/v1/label/app/values?end=${mid}`), ["web"]);
    assert.deepEqual(await get(`/api/v1/label/env/values?start=0&end=${T0}`), ["prod"]);
    assert.deepEqual(await get(`/api/v1/label/region/values?end=${mid}`), []);
    assert.deepEqual(await get(`/api/v1/label/app/values?start=${T0 + 1n}`), ["api", "web"]);
    assert.deepEqual(await get(`/api/v1/label/env/values?start=${T0 + 1n}`), ["dev"]);
    assert.deepEqual(
      await get(`/api/v1/label/app/values?start=${T0 + 2n * HOUR + 1n}`),
      [],
    );
    for (
      const [path, error] of [
        [
          "/api/v1/labels?start=abc",
          'start must be a non-negative integer of unix nanoseconds, got "abc"',
        ],
        [
          `/api/v1/label/app/values?start=${T0 + 1n}&end=${T0}`,
          `start (${T0 + 1n}) is after end (${T0})`,
        ],
      ]
    ) {
      const r = await call(url, path);
      assert.equal(r.status, 400, r.text);
      assert.deepEqual(r.body, { status: "error", error });
    }
  }, { args: ["--flush-interval", "100ms", "--compact-interval", "0"] }));

Deno.test({
  name: "label values bounded by time leave out streams with no lines in the window",
  fn: () =>
    withServer(async ({ url }) => {
      const HOUR = 3_600_000_000_000n;
      // One payload: both streams share one in-memory batch, then one flush file.
      await push(url, [[{ app: "old", env: "a" }, T0, "old"], [{ app: "new" }, T0 + HOUR, "new"]]);
      const values = async (path: string) => (await call(url, path)).body.data;
      for (const state of ["memory", "flush file"]) {
        if (state === "flush file") {
          await waitFor("the flush", async () => (await stats(url)).rows_in_memory === 0);
        }
        assert.deepEqual(
          await values(`/api/v1/label/app/values?start=${T0 + 1n}`),
          ["new"],
          state,
        );
        assert.deepEqual(await values(`/api/v1/label/app/values?end=${T0}`), ["old"], state);
        assert.deepEqual(await values(`/api/v1/labels?start=${T0 + 1n}`), ["app"], state);
        // The query path agrees: nothing of app="old" lies in the window.
        assert.deepEqual(await lines(url, { start: T0 + 1n }), ["new"], state);
      }
    }, { args: ["--flush-interval", "100ms", "--compact-interval", "0"] }),
});

Deno.test({
  name: "integers beyond 2^53 and malformed escapes in requests are never a 500",
  fn: () =>
    withServer(async ({ url }) => {
      await push(url, [[{ app: "x" }, T0, "only line"]]);
      const capped = await call(url, "/api/v1/query", { body: '{"limit": 1e30}' });
      assert.equal(capped.status, 200, capped.text);
      const huge = await call(url, "/api/v1/query", { body: '{"limit": 99999999999999999999}' });
      assert.equal(huge.status, 200, huge.text);
      assert.deepEqual(huge.body.data.map((e: Entry) => e.line), ["only line"]);
      const malformed = await call(url, "/api/v1/label/%ZZ/values");
      assert.equal(malformed.status, 400, malformed.text);
      assert.equal(malformed.body.status, "error");
    }),
});

Deno.test("stats report files, rows and exact 19-digit time bounds", () =>
  withServer(async ({ url }) => {
    const empty = await stats(url);
    assert.equal(empty.status, "success");
    assert.equal(empty.rows_total, 0);
    assert.equal(empty.segments_total, 0);
    assert.equal(empty.min_timestamp, 0);
    assert.equal(empty.max_timestamp, 0);

    await push(url, [[{ app: "s" }, T0 + 1n, "a"], [{ app: "s" }, T0 + 9n, "b"]]);
    await push(url, [[{ app: "s2" }, T0 + 5n, "c"]]);
    const head = await stats(url);
    assert.equal(head.rows_total, 3);
    assert.equal(head.min_timestamp, T0 + 1n);
    assert.equal(head.max_timestamp, T0 + 9n);

    await waitFor("the flush", async () => (await stats(url)).rows_in_memory === 0);
    const r = await call(url, "/api/v1/stats");
    // Written as exact integers, not rounded doubles or strings.
    assert.match(r.text, /"min_timestamp":1700000000000000001[,}]/);
    assert.match(r.text, /"max_timestamp":1700000000000000009[,}]/);
    const s = r.body;
    assert.equal(s.rows_total, 3);
    assert.equal(s.min_timestamp, T0 + 1n);
    assert.equal(s.max_timestamp, T0 + 9n);
    assert.ok(s.segments_total >= 1, r.text);
    assert.equal(s.segments_local, s.segments_total);
    assert.equal(s.segments_remote, 0);
    assert.equal(typeof s.bytes_on_disk, "number");
    assert.ok(s.bytes_on_disk > 0);
  }, { args: ["--flush-interval", "100ms", "--compact-interval", "0"] }));

Deno.test("volume counts lines per bucket by level, with and without a line filter", () =>
  withServer(async ({ url }) => {
    const info = { app: "vol", level: "info" };
    const error = { app: "vol", level: "error" };
    const rows: [Labels, bigint, string][] = [];
    for (let k = 0; k < 10; k++) {
      rows.push([
        info,
        T0 + BigInt(k) * MS,
        k === 3 || k === 7 ? `info ${k} timeout` : `info ${k}`,
      ]);
    }
    for (const k of [2, 5, 8]) {
      rows.push([error, T0 + BigInt(k) * MS, k === 5 ? `error ${k} timeout` : `error ${k}`]);
    }
    rows.push([{ app: "vol" }, T0 + 4n * MS, "no level"]);
    rows.push([{ app: "other", level: "info" }, T0 + MS, "other timeout"]);
    await push(url, rows);

    const volume = async (body: unknown) => {
      const r = await call(url, "/api/v1/volume", { body });
      assert.equal(r.status, 200, r.text);
      assert.equal(r.body.status, "success");
      return r.body.data;
    };
    const step = 5n * MS;
    const all = await volume({ query: '{app="vol"}', start: T0, end: T0 + 9n * MS, step });
    assert.deepEqual(all, {
      start: T0,
      end: T0 + 9n * MS,
      step: Number(step),
      series: [
        { labels: {}, counts: [[T0, 1], [T0 + step, 0]] },
        { labels: { level: "error" }, counts: [[T0, 1], [T0 + step, 2]] },
        { labels: { level: "info" }, counts: [[T0, 5], [T0 + step, 5]] },
      ],
    });
    // With a line filter: only matching lines count (series without any may be absent).
    const filtered = await volume({
      query: '{app="vol"} |= "timeout"',
      start: T0,
      end: T0 + 9n * MS,
      step,
    });
    const nonEmpty = (data: { series: { labels: Labels; counts: [bigint, number][] }[] }) =>
      data.series.filter((s) => s.counts.some(([, n]) => n > 0));
    assert.deepEqual(nonEmpty(filtered), [
      { labels: { level: "error" }, counts: [[T0, 0], [T0 + step, 1]] },
      { labels: { level: "info" }, counts: [[T0, 1], [T0 + step, 1]] },
    ]);
    // Default step over the stored span: the counts sum to the matching lines.
    const total = (data: { series: { counts: [bigint, number][] }[] }) =>
      data.series.reduce((sum, s) => sum + s.counts.reduce((a, [, n]) => a + n, 0), 0);
    const whole = await volume({ query: '{app="vol"}' });
    assert.equal(total(whole), 14);
    assert.equal(whole.start, T0);
    assert.equal(whole.end, T0 + 9n * MS);
    assert.equal(total(await volume({ query: '|= "timeout"' })), 4);
    assert.equal(total(await volume({})), 15);
    assert.equal(
      total(await volume({ query: '{level=~"err.*"}', start: T0 + 5n * MS, end: T0 + 8n * MS })),
      2,
    );
    for (
      const [body, error] of [
        [{ step: 0 }, 'step must be a positive integer of nanoseconds, got "0"'],
        [
          { start: T0, end: T0 + 9n * MS, step: 1 },
          "step 1 makes more than 2000 buckets over the range; use a larger step",
        ],
        [{ query: '{app="vol"' }, 'Cannot parse query at 11: expected "," or "}"'],
      ] as [unknown, string][]
    ) {
      const r = await call(url, "/api/v1/volume", { body });
      assert.equal(r.status, 400, r.text);
      assert.equal(r.body.error, error);
    }
  }));

Deno.test("--api-key guards the read endpoints, not push", () =>
  withServer(async ({ url }) => {
    const auth = (key?: string): Record<string, string> =>
      key === undefined ? {} : { authorization: key };
    assert.equal(
      (await pushJson(url, payloadOf([[{ app: "a" }, T0, "pushed without a key"]]))).status,
      200,
    );
    const reads: [string, unknown][] = [
      ["/api/v1/query", { query: '{app="a"}' }],
      ["/api/v1/volume", { query: '{app="a"}' }],
      ["/api/v1/labels", undefined],
      ["/api/v1/label/app/values", undefined],
      ["/api/v1/stats", undefined],
    ];
    for (const [path, body] of reads) {
      for (
        const [header, error] of [
          [undefined, "missing API key: send Authorization: Bearer <key>"],
          ["Bearer wrong", "invalid API key"],
          ["Bearer s3cret2", "invalid API key"],
          ["Bearer s3cre", "invalid API key"],
          ["Basic czNjcmV0", "missing API key: send Authorization: Bearer <key>"],
          ["s3cret", "missing API key: send Authorization: Bearer <key>"],
        ] as [string | undefined, string][]
      ) {
        const r = await call(url, path, { body, headers: auth(header) });
        assert.equal(r.status, 401, `${path} with ${header}: ${r.text}`);
        assert.deepEqual(r.body, { status: "error", error }, path);
        assert.equal(r.headers.get("www-authenticate"), 'Bearer realm="loge"');
      }
      const ok = await call(url, path, { body, headers: auth("Bearer s3cret") });
      assert.equal(ok.status, 200, `${path}: ${ok.text}`);
      assert.equal(ok.body.status, "success");
    }
    const r = await call(url, "/api/v1/query", {
      body: {},
      headers: auth("Bearer s3cret"),
    });
    assert.deepEqual(r.body.data.map((e: Entry) => e.line), ["pushed without a key"]);
  }, { args: ["--api-key", "s3cret"] }));

Deno.test("without --api-key the read endpoints need no key", () =>
  withServer(async ({ url }) => {
    for (
      const [path, body] of [
        ["/api/v1/query", {}],
        ["/api/v1/volume", {}],
        ["/api/v1/labels", undefined],
        ["/api/v1/label/app/values", undefined],
        ["/api/v1/stats", undefined],
      ] as [string, unknown][]
    ) {
      assert.equal((await call(url, path, { body })).status, 200, path);
      // A stray header is ignored.
      assert.equal(
        (await call(url, path, { body, headers: { authorization: "Bearer whatever" } })).status,
        200,
        path,
      );
    }
  }));

Deno.test("parse errors are 400 with the message and position", () =>
  withServer(async ({ url }) => {
    const filters = 'line filter ("|=", "!=", "|~" or "!~")';
    const cases: [string, number, string][] = [
      ['{app="web"', 11, 'expected "," or "}"'],
      ['{app="web" env="x"}', 12, 'expected "," or "}", found "env"'],
      ['{app="web",}', 12, 'expected label name, found "}"'],
      ["{", 2, 'expected label name or "}"'],
      ['{1app="x"}', 2, 'invalid label name "1app": must match [a-zA-Z_][a-zA-Z0-9_]*'],
      ["{app}", 5, 'expected operator "=", "!=", "=~" or "!~", found "}"'],
      ['{app=="x"}', 5, 'unknown operator "==", expected "=", "!=", "=~" or "!~"'],
      ["{app=web}", 6, 'expected quoted string ("..." or `...`), found "web"'],
      ['{app="web}', 6, 'unterminated string: expected closing "'],
      ["{app=`web}", 6, "unterminated raw string: expected closing backtick"],
      [
        String.raw`|= "a\.b"`,
        6,
        String
          .raw`unknown escape sequence "\." (write "\\." for a literal backslash, or use a backtick string)`,
      ],
      [
        String.raw`|= "\u12G4"`,
        5,
        String.raw`invalid escape sequence "\u12G": expected 4 hex digits`,
      ],
      ['{app="web"} error', 13, `expected ${filters} or end of query, found "error"`],
      ['app="web"', 1, `expected "{" or ${filters}, found "app"`],
      [
        '{app="web"} |> "x"',
        13,
        'unknown line filter operator "|>", expected "|=", "!=", "|~" or "!~"',
      ],
      [
        '{app="web"} | json',
        13,
        'unsupported pipeline stage "| json": only line filters ("|=", "!=", "|~", "!~") are supported',
      ],
      ["|= panic", 4, 'expected quoted string ("..." or `...`), found "panic"'],
      ['|= "é😀" x', 10, `expected ${filters} or end of query, found "x"`],
      // Invalid regexes name the pattern and the reason.
      ['{app=~"a("}', 7, 'invalid regex "a(": Unterminated group'],
      ['{app!~"[a"}', 7, 'invalid regex "[a": Unterminated character class'],
      ['|~ "a)"', 4, "invalid regex \"a)\": Unmatched ')'"],
      ['{a="b"} != "(" !~ "*x"', 19, 'invalid regex "*x": Nothing to repeat'],
    ];
    for (const [q, position, reason] of cases) {
      const r = await call(url, "/api/v1/query", { body: { query: q } });
      assert.equal(r.status, 400, `${q}: ${r.text}`);
      assert.deepEqual(r.body, {
        status: "error",
        error: `Cannot parse query at ${position}: ${reason}`,
        position,
      }, q);
    }
  }));

Deno.test("bad request bodies and matchers are 400 naming the problem", () =>
  withServer(async ({ url }) => {
    const cases: [string | unknown, string][] = [
      [{ matchers: { name: "app" } }, "Invalid matchers: expected an array, got an object"],
      [{ matchers: "app=web" }, 'Invalid matchers: expected an array, got "app=web"'],
      [
        { matchers: ["app"] },
        'Invalid matcher at index 0: expected an object {"name", "value", "type"}, got "app"',
      ],
      [
        { matchers: [{ value: "web", type: "=" }] },
        'Invalid matcher at index 0: "name" must be a string, got nothing',
      ],
      [
        {
          matchers: [{ name: "app", value: "web", type: "=" }, {
            name: "bad-name",
            value: "x",
            type: "=",
          }],
        },
        'Invalid matcher at index 1: invalid label name "bad-name": must match [a-zA-Z_][a-zA-Z0-9_]*',
      ],
      [
        { matchers: [{ name: "app", value: 5, type: "=" }] },
        'Invalid matcher at index 0: "value" must be a string, got number 5',
      ],
      [
        { matchers: [{ name: "app", value: "web" }] },
        'Invalid matcher at index 0: "type" must be one of "=", "!=", "=~", "!~", got nothing',
      ],
      [
        { matchers: [{ name: "app", value: "web", type: "==" }] },
        'Invalid matcher at index 0: "type" must be one of "=", "!=", "=~", "!~", got "=="',
      ],
      [
        {
          matchers: [{ name: "app", value: "web", type: "=" }, {
            name: "app",
            value: "a(",
            type: "=~",
          }],
        },
        'Invalid matcher at index 1: invalid regex "a(": Unterminated group',
      ],
      [{ line: 5 }, "line must be a string, got number"],
      [{ query: 5 }, "query must be a string, got number"],
      ["[]", "request body must be a JSON object"],
      ['"x"', "request body must be a JSON object"],
    ];
    for (const [body, error] of cases) {
      const r = await call(url, "/api/v1/query", { body });
      assert.equal(r.status, 400, `${toJson(body)}: ${r.text}`);
      assert.deepEqual(r.body, { status: "error", error }, toJson(body));
    }
    const notJson = await call(url, "/api/v1/query", { body: "{not json" });
    assert.equal(notJson.status, 400);
    assert.equal(notJson.body.status, "error");
    assert.match(notJson.body.error, /^cannot decode JSON body: /);
    // An empty body is an empty query.
    assert.equal((await call(url, "/api/v1/query", { body: "" })).status, 200);
  }));

Deno.test("read routes answer 404 and 405 with JSON errors", () =>
  withServer(async ({ url }) => {
    const cases: [string, string, number, string][] = [
      ["GET", "/api/v1/query", 405, "method GET not allowed on /api/v1/query; use POST"],
      ["PUT", "/api/v1/query", 405, "method PUT not allowed on /api/v1/query; use POST"],
      ["GET", "/api/v1/volume", 405, "method GET not allowed on /api/v1/volume; use POST"],
      ["POST", "/api/v1/labels", 405, "method POST not allowed on /api/v1/labels; use GET"],
      [
        "DELETE",
        "/api/v1/label/app/values",
        405,
        "method DELETE not allowed on /api/v1/label/app/values; use GET",
      ],
      ["POST", "/api/v1/stats", 405, "method POST not allowed on /api/v1/stats; use GET"],
      ["GET", "/api/v1/label/app", 404, "no route for /api/v1/label/app"],
      ["GET", "/api/v1/label//values", 404, "no route for /api/v1/label//values"],
      ["GET", "/api/v1/labels/app", 404, "no route for /api/v1/labels/app"],
      ["GET", "/api/v1/search", 404, "no route for /api/v1/search"],
    ];
    for (const [method, path, status, error] of cases) {
      const r = await call(url, path, { method, body: method === "GET" ? undefined : "{}" });
      assert.equal(r.status, status, `${method} ${path}: ${r.text}`);
      assert.match(r.headers.get("content-type") ?? "", /^application\/json/);
      assert.deepEqual(r.body, { status: "error", error }, `${method} ${path}`);
    }
  }));
