import assert from "node:assert/strict";
import {
  DEFAULT_START_NS,
  generateLogs,
  LABEL_NAMES,
  LABEL_SETS,
  type LogEntry,
  LogGenerator,
  pickNeedle,
} from "./mod.ts";

const N = 50_000;
const corpus: LogEntry[] = [...generateLogs(N, { seed: 42 })];

const ACCESS_LINE = new RegExp(
  String
    .raw`^(\d{1,3}\.){3}\d{1,3} - (-|u_\d+) \[\d\d/[A-Z][a-z]{2}/\d{4}:\d\d:\d\d:\d\d \+0000\] ` +
    String
      .raw`"(GET|POST|PUT|PATCH|DELETE) /\S* HTTP/(1\.1|2\.0)" (?<status>\d{3}) \d+ "[^"]*" "[^"]*" ` +
    String.raw`rt=\d+\.\d{3}( upstream=[a-z]+:\d+)? trace_id=[0-9a-f]{32}$`,
);

Deno.test("LogGenerator: same seed gives identical output", () => {
  const again = [...generateLogs(N, { seed: 42 })];
  assert.deepStrictEqual(again, corpus);
});

Deno.test("LogGenerator: different seeds give different output", () => {
  const other = [...generateLogs(1000, { seed: 43 })];
  let same = 0;
  for (let i = 0; i < other.length; i++) if (other[i].line === corpus[i].line) same++;
  assert.equal(same, 0);
  // Seeds differing only above 32 bits differ too.
  const high = new LogGenerator({ seed: 42 + 2 ** 32 });
  assert.notEqual(high.at(0).line, corpus[0].line);
});

Deno.test("LogGenerator: line N does not depend on the lines before it", () => {
  const gen = new LogGenerator({ seed: 42 });
  for (const i of [N - 1, 0, 31_337, 7, 31_337]) assert.deepStrictEqual(gen.at(i), corpus[i]);
  assert.deepStrictEqual([...gen.entries(100, 3)], corpus.slice(100, 103));
});

Deno.test("LogGenerator: label cardinality is bounded", () => {
  const values = new Map<string, Set<string>>();
  const streams = new Set<string>();
  const known = new Set(LABEL_SETS.map((l) => JSON.stringify(l)));
  for (const { labels } of corpus) {
    assert.deepStrictEqual(Object.keys(labels), LABEL_NAMES);
    const key = JSON.stringify(labels);
    assert.ok(known.has(key), `unexpected label set ${key}`);
    streams.add(key);
    for (const [name, value] of Object.entries(labels)) {
      if (!values.has(name)) values.set(name, new Set());
      values.get(name)!.add(value);
    }
  }
  const count = (name: string) => values.get(name)!.size;
  assert.equal(count("app"), 6);
  assert.equal(count("env"), 3);
  assert.equal(count("level"), 4);
  assert.ok(count("host") >= 15 && count("host") <= 20, `hosts: ${count("host")}`);
  assert.ok(count("service") >= 8 && count("service") <= 12, `services: ${count("service")}`);
  assert.ok(streams.size >= 50 && streams.size <= LABEL_SETS.length, `streams: ${streams.size}`);
  assert.ok(LABEL_SETS.length <= 300);
});

Deno.test("LogGenerator: level skew is realistic", () => {
  const levels: Record<string, number> = { debug: 0, info: 0, warn: 0, error: 0 };
  for (const { labels } of corpus) levels[labels.level]++;
  assert.ok(levels.info / N > 0.7, `info share ${levels.info / N}`);
  assert.ok(levels.error / N > 0.01 && levels.error / N < 0.08, `error share ${levels.error / N}`);
  assert.ok(levels.warn > levels.error && levels.debug > 0);
});

Deno.test("LogGenerator: ids live in lines, never in labels", () => {
  const labelValues = new Set(LABEL_SETS.flatMap((l) => Object.values(l)));
  for (const value of labelValues) {
    assert.doesNotMatch(value, /^[0-9a-f]{32}$|^u_\d+$|^req_|^ord_|^s_/);
    assert.ok(value.length <= 16, `label value ${value}`);
  }
  const gen = new LogGenerator({ seed: 42 });
  const traceIds = new Set<string>();
  let withUser = 0;
  for (let i = 0; i < N; i++) {
    const { line } = corpus[i];
    const traceId = gen.traceIdAt(i);
    assert.match(traceId, /^[0-9a-f]{32}$/);
    assert.ok(line.includes(traceId), `line ${i} lacks its trace id`);
    traceIds.add(traceId);
    if (/\bu_\d+\b/.test(line)) withUser++;
  }
  assert.equal(traceIds.size, N, "trace ids are unique");
  assert.ok(withUser / N > 0.1, `user ids in ${withUser} lines`);
});

Deno.test("LogGenerator: mixes access lines and JSON app lines", () => {
  let access = 0;
  let json = 0;
  let timeout = 0;
  const messages = new Set<string>();
  for (const { labels, line } of corpus) {
    if (line.includes("timeout")) timeout++;
    if (line.startsWith("{")) {
      json++;
      const record = JSON.parse(line);
      assert.equal(record.level, labels.level);
      assert.equal(record.logger, labels.service);
      assert.match(record.trace_id, /^[0-9a-f]{32}$/);
      assert.match(record.ts, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
      messages.add(record.msg);
    } else {
      access++;
      assert.ok(labels.service === "nginx" || labels.service === "gateway", labels.service);
      const match = ACCESS_LINE.exec(line);
      assert.ok(match, `not a combined log line: ${line}`);
      const status = Number(match.groups!.status);
      const level = status >= 500 ? "error" : status >= 400 ? "warn" : "info";
      assert.equal(labels.level, level);
    }
  }
  assert.ok(access / N > 0.3 && access / N < 0.5, `access share ${access / N}`);
  assert.ok(json / N > 0.5 && json / N < 0.7, `json share ${json / N}`);
  assert.ok(timeout / N >= 0.01 && timeout / N <= 0.03, `timeout share ${timeout / N}`);
  assert.ok(messages.size > 100, `only ${messages.size} distinct messages`);
});

Deno.test("LogGenerator: timestamps are non-decreasing, jittered, and follow rate", () => {
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

  // JSON lines carry the same instant as the entry, to the microsecond.
  for (const { ts, line } of corpus.slice(0, 500)) {
    if (!line.startsWith("{")) continue;
    const iso = JSON.parse(line).ts as string;
    const micros = BigInt(Date.parse(iso)) * 1000n + BigInt(iso.slice(23, 26));
    assert.equal(micros, ts / 1000n);
  }

  const fast = new LogGenerator({ seed: 1, start: 5n, rate: 1e9 });
  let prev = -1n;
  for (const { ts } of fast.entries(0, 1000)) {
    assert.ok(ts >= prev);
    prev = ts;
  }
  // Far indices stay exact and ordered beyond 2^53 ns of offset.
  const slow = new LogGenerator({ seed: 1, rate: 0.001 });
  assert.ok(slow.at(10_000_001).ts >= slow.at(10_000_000).ts);
  assert.ok(slow.at(10_000_000).ts >= DEFAULT_START_NS + 10_000_000n * 1_000_000_000_000n);
});

Deno.test("pickNeedle: the needle occurs in exactly the line it names", () => {
  const needle = pickNeedle(N, { seed: 42 });
  assert.deepStrictEqual(pickNeedle(N, { seed: 42 }), needle);
  assert.ok(needle.index >= N / 4 && needle.index < (3 * N) / 4, `index ${needle.index}`);
  assert.deepStrictEqual(needle.entry, corpus[needle.index]);
  const hits: number[] = [];
  for (let i = 0; i < N; i++) if (corpus[i].line.includes(needle.traceId)) hits.push(i);
  assert.deepStrictEqual(hits, [needle.index]);
  assert.notEqual(pickNeedle(N, { seed: 7 }).traceId, needle.traceId);
  assert.equal(pickNeedle(1, { seed: 42 }).index, 0);
});

Deno.test("LogGenerator: rejects bad options and indices", () => {
  assert.throws(() => new LogGenerator({ seed: 1.5 }), RangeError);
  assert.throws(() => new LogGenerator({ rate: 0 }), /rate must be in \(0, 1e9\], got 0/);
  assert.throws(() => new LogGenerator({ start: -1n }), RangeError);
  const gen = new LogGenerator();
  assert.throws(() => gen.at(-1), /index must be an integer in \[0, 2\^32\), got -1/);
  assert.throws(() => gen.at(2 ** 32), RangeError);
  assert.throws(() => gen.at(0.5), RangeError);
  assert.throws(() => pickNeedle(0), /lines must be an integer/);
});
