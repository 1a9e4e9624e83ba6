/**
 * The shared fixture of the read-path tests: six streams, fourteen lines 1 ms apart, the
 * queries that select from them and what each one selects, and read answers that must not
 * change when files are flushed or compacted.
 *
 * @module
 */

import assert from "node:assert/strict";
import { call, type Entry, type Labels, query, toJson } from "../../testing/http.ts";

/** The fixture's time origin, in Unix nanoseconds. */
export const T0 = 1_700_000_000_000_000_000n;
/** One millisecond, in nanoseconds. */
export const MS = 1_000_000n;

export const S = {
  webProd: { app: "web", env: "prod", level: "error" },
  webDev: { app: "web", env: "dev", level: "info" },
  apiX: { app: "api", level: "xerror" },
  apiProd: { app: "api", env: "prod", level: "errors" },
  worker: { app: "worker" },
  admin: { app: "web-admin", env: "prod", level: "warn" },
  unicode: { app: "uni" },
} satisfies Record<string, Labels>;

export interface FixtureLine {
  id: string;
  labels: Labels;
  ts: bigint;
  line: string;
  metadata?: Labels;
}

export const FIXTURE: FixtureLine[] = ([
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

export const byId = new Map(FIXTURE.map((f) => [f.id, f]));
export const tsOf = (id: string) => byId.get(id)!.ts;

/**
 * The expected entries, newest first, for ids like "w1 x2"; a one-letter
 * token stands for all lines of that stream ("w" = w1 w2 w3).
 */
export function expected(ids: string): Entry[] {
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
export const CASES: [body: Record<string, unknown>, ids: string][] = [
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
export async function runCases(url: string, state: string): Promise<string[]> {
  const texts: string[] = [];
  for (const [body, ids] of CASES) {
    const { entries, text } = await query(url, body);
    assert.deepEqual(entries, expected(ids), `${state}: ${toJson(body)}`);
    texts.push(text);
  }
  return texts;
}

/** Read answers that must not change when files are compacted. */
export async function otherAnswers(url: string): Promise<string[]> {
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
