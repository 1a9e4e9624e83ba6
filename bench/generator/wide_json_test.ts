import assert from "node:assert/strict";
import { LogGenerator } from "./mod.ts";
import type { LogEntry } from "./mod.ts";
import { DEFAULT_START_NS } from "./timeline.ts";
import { WIDE_LABEL_SETS, WideJsonGenerator } from "./wide_json.ts";

const N = 20_000;
const gen = new WideJsonGenerator({ seed: 42 });
const corpus: LogEntry[] = Array.from({ length: N }, (_, i) => gen.at(i));
// deno-lint-ignore no-explicit-any
const records: any[] = corpus.map((e) => JSON.parse(e.line));

/** Leaf values of a parsed line, an array counting as one: the line's fields. */
function fieldCount(value: unknown): number {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return 1;
  return Object.values(value).reduce((n: number, v) => n + fieldCount(v), 0);
}

/** How often each value occurs, most frequent first. */
function counts(values: string[]): [string, number][] {
  const m = new Map<string, number>();
  for (const v of values) m.set(v, (m.get(v) ?? 0) + 1);
  return [...m].sort((a, b) => b[1] - a[1]);
}

Deno.test("WideJsonGenerator: a seed gives the same corpus, line by line in any order", () => {
  const again = new WideJsonGenerator({ seed: 42 });
  for (const i of [N - 1, 0, 12_345, 7, 12_345]) assert.deepStrictEqual(again.at(i), corpus[i]);
  const fresh = new WideJsonGenerator({ seed: 42 });
  assert.deepStrictEqual(
    Array.from({ length: 1000 }, (_, i) => fresh.at(i)),
    corpus.slice(0, 1000),
  );
  const other = new WideJsonGenerator({ seed: 43 });
  let same = 0;
  for (let i = 0; i < 1000; i++) if (other.at(i).line === corpus[i].line) same++;
  assert.equal(same, 0);
});

Deno.test("WideJsonGenerator: lines are long JSON objects with many fields", () => {
  let bytes = 0;
  for (let i = 0; i < N; i++) {
    const size = new TextEncoder().encode(corpus[i].line).length;
    bytes += size;
    assert.ok(size >= 600 && size <= 1600, `line ${i}: ${size} bytes`);
    const fields = fieldCount(records[i]);
    assert.ok(fields >= 25 && fields <= 40, `line ${i}: ${fields} fields`);
  }
  const mean = bytes / N;
  assert.ok(mean >= 800 && mean <= 1100, `mean ${mean} bytes`);
});

Deno.test("WideJsonGenerator: every line has the fields of its shape", () => {
  const hex = (n: number) => new RegExp(`^[0-9a-f]{${n}}$`);
  for (let i = 0; i < N; i++) {
    const r = records[i];
    assert.match(r.timestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    assert.match(r.trace_id, hex(32));
    assert.equal(r.trace_id, gen.traceIdAt(i));
    assert.match(r.span_id, hex(16));
    if ("parent_span_id" in r) assert.match(r.parent_span_id, hex(16));
    assert.match(r.session_id, hex(16));
    assert.match(
      r.request_id,
      /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
    if ("user_id" in r) assert.match(r.user_id, /^usr_\d+$/);
    assert.equal(typeof r.duration_ms, "number");
    assert.ok(r.duration_ms > 0);
    for (const key of ["version", "region", "host", "logger", "message"]) {
      assert.equal(typeof r[key], "string", key);
    }
    const { http, kubernetes } = r;
    assert.match(http.method, /^(GET|POST|PUT|DELETE)$/);
    assert.match(http.route, /^\//);
    assert.ok(Number.isInteger(http.status) && http.status >= 200 && http.status < 600);
    assert.ok(Number.isInteger(http.request_bytes) && Number.isInteger(http.response_bytes));
    assert.match(http.client_ip, /^\d{1,3}(\.\d{1,3}){3}$/);
    assert.equal(typeof http.user_agent, "string");
    assert.equal(kubernetes.container, r.service);
    assert.equal(kubernetes.node, r.host);
    assert.ok(kubernetes.pod.startsWith(`${r.service}-`), kubernetes.pod);
    assert.deepEqual(kubernetes.labels, {
      app: r.service,
      "pod-template-hash": kubernetes.pod.split("-").at(-2),
      team: kubernetes.labels.team,
      version: r.version,
    });
    assert.ok(Array.isArray(r.tags) && r.tags.includes(`team:${kubernetes.labels.team}`));
    assert.ok(r.host.includes(r.region) || r.region === "us-east-1", r.host);
    // Errors are on error lines, with a 5xx, and only there.
    assert.equal("error" in r, r.level === "error");
    if (r.level === "error") {
      assert.ok(http.status >= 500, String(http.status));
      assert.ok(r.error.type && r.error.message && r.error.stack.includes("\n"));
    } else if (r.level === "info") {
      assert.ok(http.status < 400, String(http.status));
    }
  }
});

Deno.test("WideJsonGenerator: labels are a few dozen streams, equal to the line's fields", () => {
  const known = new Set(WIDE_LABEL_SETS.map((l) => JSON.stringify(l)));
  assert.ok(WIDE_LABEL_SETS.length >= 24 && WIDE_LABEL_SETS.length <= 72);
  const streams = new Set<string>();
  for (let i = 0; i < N; i++) {
    const { labels } = corpus[i];
    const r = records[i];
    assert.deepStrictEqual(labels, {
      app: r.service,
      env: r.env,
      namespace: r.kubernetes.namespace,
      level: r.level,
    });
    const key = JSON.stringify(labels);
    assert.ok(known.has(key), key);
    streams.add(key);
    // Entries of one stream share one frozen labels object.
    assert.ok(Object.isFrozen(labels));
  }
  assert.ok(streams.size >= 40, `streams: ${streams.size}`);
  const byKey = new Map<string, object>();
  for (const { labels } of corpus) {
    const key = JSON.stringify(labels);
    if (!byKey.has(key)) byKey.set(key, labels);
    assert.equal(byKey.get(key), labels);
  }
});

Deno.test("WideJsonGenerator: trace ids are unique, and not the main corpus's", () => {
  const ids = new Set(records.map((r) => r.trace_id));
  assert.equal(ids.size, N);
  const main = new LogGenerator({ seed: 42 });
  for (let i = 0; i < 100; i++) assert.ok(!ids.has(main.traceIdAt(i)));
});

Deno.test("WideJsonGenerator: values are skewed as in a real fleet", () => {
  const services = counts(records.map((r) => r.service));
  const top2 = (services[0][1] + services[1][1]) / N;
  assert.ok(top2 > 0.3 && top2 < 0.55, `two busiest services: ${top2}`);
  assert.ok(services.at(-1)![1] / N < 0.03, `quietest: ${services.at(-1)}`);
  assert.ok(services.length >= 10, `services: ${services.length}`);

  const levels = Object.fromEntries(counts(records.map((r) => r.level)));
  assert.ok(levels.info / N > 0.8, `info ${levels.info}`);
  assert.ok(levels.error / N > 0.01 && levels.error / N < 0.06, `error ${levels.error}`);
  assert.ok(levels.warn > levels.error && levels.debug > 0);

  const pods = counts(records.map((r) => r.kubernetes.pod));
  assert.ok(pods.length >= 40 && pods.length <= 150, `pods: ${pods.length}`);
  const nodes = counts(records.map((r) => r.host));
  assert.ok(nodes.length >= 10 && nodes.length <= 30, `nodes: ${nodes.length}`);

  // A few users are very active; most appear once.
  const users = counts(records.filter((r) => "user_id" in r).map((r) => r.user_id));
  assert.ok(users[0][1] >= 20, `most active user: ${users[0]}`);
  assert.ok(users.length > N / 4, `users: ${users.length}`);
  const signedIn = users.reduce((n, [, c]) => n + c, 0) / N;
  assert.ok(signedIn > 0.65 && signedIn < 0.85, `signed in: ${signedIn}`);

  const messages = new Set(records.map((r) => r.message));
  assert.ok(messages.size > N / 4, `distinct messages: ${messages.size}`);
  const durations = records.map((r) => r.duration_ms).sort((a, b) => a - b);
  const median = durations[N >> 1];
  assert.ok(median > 5 && median < 100, `median duration ${median}`);
  assert.ok(durations.at(-1)! > 10 * durations[Math.floor(N * 0.9)], "a long tail of durations");
});

Deno.test("WideJsonGenerator: timestamps are non-decreasing, jittered, and the entry's time", () => {
  const rate = 200;
  let equalGaps = 0;
  for (let i = 1; i < N; i++) {
    assert.ok(corpus[i].ts >= corpus[i - 1].ts, `ts decreases at ${i}`);
    if (i > 1 && corpus[i].ts - corpus[i - 1].ts === corpus[i - 1].ts - corpus[i - 2].ts) {
      equalGaps++;
    }
  }
  assert.ok(equalGaps < N / 100, "timestamps are jittered");
  assert.ok(corpus[0].ts >= DEFAULT_START_NS);
  const spanSeconds = Number(corpus[N - 1].ts - corpus[0].ts) / 1e9;
  assert.ok(Math.abs(spanSeconds - N / rate) < 1, `span ${spanSeconds}s`);
  for (let i = 0; i < N; i += 97) {
    const iso: string = records[i].timestamp;
    const micros = BigInt(Date.parse(iso)) * 1000n + BigInt(iso.slice(23, 26));
    assert.equal(micros, corpus[i].ts / 1000n);
  }
});

Deno.test("WideJsonGenerator: rejects bad options and indices", () => {
  assert.throws(() => new WideJsonGenerator({ seed: 0.5 }), /seed must be a safe integer/);
  assert.throws(() => new WideJsonGenerator({ rate: 2e9 }), /rate must be in \(0, 1e9\]/);
  assert.throws(() => gen.at(-1), /index must be an integer in \[0, 2\^32\), got -1/);
  assert.throws(() => gen.traceIdAt(2 ** 32), RangeError);
});
