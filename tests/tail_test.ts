/**
 * Live tails end to end: the real server process, Loki's WebSocket and the
 * server-sent events, clients that read and clients that do not. Expected
 * answers are computed here from what the test pushed.
 *
 * @module
 */

import assert from "node:assert/strict";
import { readProcMemory } from "../bench/proc_status.ts";
import { call, stats, waitFor } from "../testing/http.ts";
import { pushJson, startServer, withServer } from "../testing/server.ts";
import {
  openSseTail,
  openWsTail,
  type TailClient,
  type TailLine,
  TailRefused,
} from "../testing/tail_client.ts";
import { rawConnect, statusOf } from "./raw_http.ts";
import { COSTLY_PATTERN, letters } from "../testing/costly_regex.ts";

type Labels = Record<string, string>;

/** One pushed line. */
interface Row {
  labels: Labels;
  ts: bigint;
  line: string;
}

const MS = 1_000_000n;
const HOUR = 3_600_000n * MS;
const nowNs = () => BigInt(Date.now()) * MS;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Pushes `rows` in one payload (a stream per label set, rows in order); must succeed. */
async function push(url: string, rows: Row[]): Promise<void> {
  const streams = new Map<string, { stream: Labels; values: [string, string][] }>();
  for (const { labels, ts, line } of rows) {
    const key = JSON.stringify(labels);
    if (!streams.has(key)) streams.set(key, { stream: labels, values: [] });
    streams.get(key)!.values.push([String(ts), line]);
  }
  const { status, body } = await pushJson(url, { streams: [...streams.values()] });
  assert.equal(status, 200, JSON.stringify(body));
}

/** A line's identity: the labels it was pushed with (a subset of those received), time, text. */
const keyOf = (labels: Labels, ts: bigint, line: string) =>
  `${labels.app}/${labels.pod ?? ""} ${ts} ${line}`;

const sortedKeys = (rows: Row[]) => rows.map((r) => keyOf(r.labels, r.ts, r.line)).sort();
const receivedKeys = (lines: TailLine[]) => lines.map((l) => keyOf(l.labels, l.ts, l.line)).sort();

/** Waits until `client` holds `n` lines, then a little longer for any extra one. */
async function receiveAll(client: TailClient, n: number): Promise<void> {
  await waitFor(`${n} tailed lines (have ${client.lines.length})`, () => {
    return Promise.resolve(client.lines.length >= n);
  });
  await sleep(300);
}

/**
 * `pushers` concurrent clients, each pushing `rounds` payloads of lines of
 * `{app}` (two pods): times rising from `base`, every fifth line late (up
 * to three hours older), and pusher 0 sending each of its payloads twice.
 */
async function pushConcurrently(
  url: string,
  app: string,
  base: bigint,
  pushers: number,
  rounds: number,
  stop?: () => boolean,
  pauseMs = 0,
): Promise<Row[]> {
  const pushed: Row[] = [];
  await Promise.all(Array.from({ length: pushers }, async (_, p) => {
    for (let r = 0; r < rounds && !stop?.(); r++) {
      const rows: Row[] = [];
      for (let i = 0; i < 6; i++) {
        const n = r * 6 + i;
        const late = n % 5 === 4;
        const ts = late ? base - BigInt((n * 7919) % 10_800) * 1000n * MS : base + BigInt(n) * MS;
        rows.push({ labels: { app, pod: `p${i % 2}` }, ts, line: `pusher ${p} line ${n}` });
      }
      for (let copy = 0; copy < (p === 0 ? 2 : 1); copy++) {
        await push(url, rows);
        pushed.push(...rows);
      }
      if (pauseMs > 0) await sleep(pauseMs);
    }
  }));
  return pushed;
}

Deno.test("live tail: WebSocket and SSE clients get each line pushed after they connected, once", async () => {
  await withServer(async ({ url }) => {
    const base = nowNs();
    // Before the clients connect, and older than the WebSocket's default hour of replay.
    await push(url, [{ labels: { app: "tail", pod: "p0" }, ts: base - 2n * HOUR, line: "before" }]);
    // Grafana sends only the query.
    const ws = await openWsTail(url, { query: '{app="tail"}' });
    const sse = await openSseTail(url, { query: '{app="tail"}' });
    const [pushed] = await Promise.all([
      pushConcurrently(url, "tail", base, 4, 25),
      // Lines of a stream the query does not select, meanwhile.
      pushConcurrently(url, "other", base, 1, 10),
    ]);
    assert.equal(pushed.length, (3 + 2) * 25 * 6);
    for (const client of [ws, sse]) {
      await receiveAll(client, pushed.length);
      assert.deepEqual(receivedKeys(client.lines), sortedKeys(pushed));
      assert.equal(client.dropped(), 0);
    }
    // Loki's frames: ns times as strings of at least 7 digits (Grafana slices off 6).
    const value = ws.frames[0].streams[0].values[0];
    assert.match(value[0], /^\d{19}$/);
    assert.deepEqual(ws.frames[0].streams[0].stream.app, "tail");
    // Each pusher's lines of one pod arrive in the order pushed (arrival order, not time order).
    const order = sse.lines.filter((l) => l.labels.pod === "p0" && l.line.startsWith("pusher 1 "));
    const numbers = order.map((l) => Number(l.line.split(" ")[3]));
    assert.deepEqual(numbers, [...numbers].sort((a, b) => a - b));
    const { tails } = await stats(url);
    assert.equal(tails.open, 2);
    assert.equal(tails.lines_sent, 2 * pushed.length);
    ws.close();
    sse.close();
    await ws.closed;
    await waitFor("tails closed", async () => (await stats(url)).tails.open === 0);
  });
});

Deno.test("live tail: the query's pipeline applies to tailed lines", async () => {
  await withServer(async ({ url }) => {
    const query = '{app="web"} |= "x" | json | level="error"';
    const ws = await openWsTail(url, { query });
    const categorized = await openWsTail(url, { query }, {
      "x-loki-response-encoding-flags": "categorize-labels",
    });
    const sse = await openSseTail(url, { query });
    const base = nowNs();
    const rows: Row[] = [];
    const levels = ["error", "info", "warn"];
    const messages = ["xray scan", "all fine", "tax paid", "no match"];
    for (let i = 0; i < 120; i++) {
      const app = i % 4 === 3 ? "api" : "web";
      const text = i % 10 === 9
        ? `error ${messages[i % 4]}` // not JSON
        : JSON.stringify({ level: levels[i % 3], msg: messages[(i >> 1) % 4], n: i });
      rows.push({ labels: { app, pod: `p${i % 2}` }, ts: base + BigInt(i), line: text });
    }
    await push(url, rows);
    const expected = rows.filter((r) => {
      if (r.labels.app !== "web" || !r.line.includes("x")) return false;
      try {
        return JSON.parse(r.line).level === "error";
      } catch {
        return false;
      }
    });
    assert.ok(expected.length >= 5 && expected.length < rows.length / 4);
    for (const client of [ws, categorized, sse]) {
      await receiveAll(client, expected.length);
      assert.deepEqual(receivedKeys(client.lines), sortedKeys(expected));
    }
    // Loki's stream objects carry the parsed labels; categorized, they come apart.
    assert.ok(ws.lines.every((l) => l.labels.level === "error" && l.labels.msg !== undefined));
    const values = categorized.frames.flatMap((f) => f.streams.flatMap((s) => s.values));
    assert.ok(values.every((v) => (v[2] as { parsed: Labels }).parsed.level === "error"));
    assert.ok(categorized.frames.flatMap((f) => f.streams).every((s) => !("level" in s.stream)));
    assert.ok(sse.lines.every((l) => l.parsed?.level === "error" && !("level" in l.labels)));
    for (const client of [ws, categorized, sse]) client.close();
  });
});

Deno.test("live tail: start replays the stored lines since start, then goes on live without a gap or a repeat", async () => {
  await withServer(async ({ url }) => {
    const start = nowNs();
    const before: Row[] = [];
    for (let i = 0; i < 40; i++) {
      // Half before start (not replayed), half at or after it.
      const ts = i % 2 === 0 ? start - 1n - BigInt(i) * MS : start + BigInt(i) * MS;
      before.push({ labels: { app: "seam", pod: `p${i % 2}` }, ts, line: `stored ${i}` });
    }
    await push(url, before);
    // Pushers run while the clients connect; every line they push is at or after start
    // (late ones too), so each must reach each client once, replayed or live.
    let stop = false;
    // Paced, so that what they push in the half second stays under the replay's limit.
    const pushing = pushConcurrently(url, "seam", start + 3n * HOUR, 3, 1000, () => stop, 5);
    await sleep(200);
    const params = { query: '{app="seam"}', start: String(start), limit: "5000" };
    const [ws, sse] = await Promise.all([openWsTail(url, params), openSseTail(url, params)]);
    await sleep(300);
    stop = true;
    const pushed = await pushing;
    const expected = [...before.filter((r) => r.ts >= start), ...pushed];
    assert.ok(pushed.length > 0 && expected.length < 5000);
    for (const client of [ws, sse]) {
      await receiveAll(client, expected.length);
      assert.deepEqual(receivedKeys(client.lines), sortedKeys(expected));
    }
    // The SSE marks the replayed lines: they come first, oldest first.
    const replayed = sse.lines.filter((l) => l.replay);
    assert.deepEqual(sse.lines.slice(0, replayed.length), replayed);
    assert.ok(replayed.length >= 20);
    assert.deepEqual(replayed.map((l) => l.ts), replayed.map((l) => l.ts).sort(cmp));
    ws.close();
    sse.close();
  });
});

Deno.test("live tail: the Loki tail replays the newest `limit` lines of the last hour by default, and delay_for orders lines by time", async () => {
  await withServer(async ({ url }) => {
    const now = nowNs();
    const rows: Row[] = [];
    for (let i = 0; i < 150; i++) {
      rows.push({
        labels: { app: "grafana" },
        ts: now - BigInt(150 - i) * 1000n * MS,
        line: `l${i}`,
      });
    }
    rows.push({ labels: { app: "grafana" }, ts: now - 2n * HOUR, line: "too old" });
    await push(url, rows);
    const ws = await openWsTail(url, { query: '{app="grafana"}' });
    await receiveAll(ws, 100);
    assert.deepEqual(ws.lines.map((l) => l.line), rows.slice(50, 150).map((r) => r.line));
    ws.close();

    const delayed = await openWsTail(url, { query: '{app="late"}', delay_for: "1" });
    const late = (ts: bigint, line: string) => ({ labels: { app: "late" }, ts, line });
    await push(url, [late(now + 30n, "c"), late(now + 10n, "a")]);
    await push(url, [late(now + 20n, "b")]);
    await receiveAll(delayed, 3);
    assert.deepEqual(delayed.lines.map((l) => l.line), ["a", "b", "c"]);
    delayed.close();
  });
});

/** A raw connection that asks for a tail and never reads what it is sent. */
function stuckTail(url: string, kind: "ws" | "sse", query: string) {
  const path = kind === "ws" ? "/loki/api/v1/tail" : "/api/v1/tail";
  const upgrade = kind === "ws"
    ? "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n" +
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
    : "";
  const q = new URLSearchParams({ query, start: String(nowNs() + HOUR) });
  return rawConnect(url, `GET ${path}?${q} HTTP/1.1\r\nHost: loge.test\r\n${upgrade}\r\n`);
}

Deno.test("live tail: a regex too costly for the push's path runs long lines on a worker; pushes go on, the tail gets the right lines in order", async () => {
  // re2js keeps up to 3,003 threads alive over 6 KB of letters: tenths of a second a line. Short
  // lines (run on the push's path, all kept) between long ones, of which every third matches:
  // the tail keeps their order. The regex in a line filter, then in a label filter after a parser.
  const variants = [
    {
      query: `{app="long"} |~ "${COSTLY_PATTERN}" or "short"`,
      line: (text: string) => text,
    },
    {
      query: `{app="long"} | logfmt | msg=~".*${COSTLY_PATTERN}" or msg="short"`,
      line: (text: string) => `msg=${text}`,
    },
  ];
  await withServer(async ({ url }) => {
    for (const { query, line } of variants) {
      const sse = await openSseTail(url, { query });
      const base = nowNs();
      const rows: Row[] = Array.from({ length: 14 }, (_, i) => ({
        labels: { app: "long" },
        ts: base + BigInt(i) * MS,
        line: line(
          i % 2 === 1
            ? "short"
            : (i / 2) % 3 === 0
            ? `${letters(6000, i)}9`
            : `${letters(2900, i)}9${letters(2900, i)}9`,
        ),
      }));
      const expected = rows.filter((r) => /[a-z]{3000}9|short/.test(r.line)).map((r) => r.line);
      assert.equal(expected.length, 7 + 3);
      // Pushes answered from the long lines' push until the tail has its last line.
      let done = false;
      const answeredAt: number[] = [];
      sse.onLine = () => done ||= sse.lines.length >= expected.length;
      const ticks = (async () => {
        for (let n = 0; !done; n++) {
          await push(url, [{ labels: { app: "ticks" }, ts: base + BigInt(n), line: `tick ${n}` }]);
          if (!done) answeredAt.push(performance.now());
        }
      })();
      // One payload: run on the push's path, it would hold every request for seconds.
      await push(url, rows);
      await receiveAll(sse, expected.length);
      await ticks;
      assert.deepEqual(sse.lines.map((l) => l.line), expected, query);
      // Held while the lines were tested (seconds), pushes would wait as long.
      const longestWait = Math.max(...answeredAt.slice(1).map((at, k) => at - answeredAt[k]));
      assert.ok(answeredAt.length >= 4, `${query}: ${answeredAt.length} pushes answered meanwhile`);
      assert.ok(longestWait < 500, `${query}: a push waited ${longestWait} ms`);
      sse.close();
    }
  });
});

Deno.test("live tail: clients that do not read are cut off, keep their place until gone, and the server's memory stays bounded", async () => {
  const server = await startServer({ args: ["--max-tail-clients", "2"] });
  const { url } = server;
  const rss = async () => (await readProcMemory(server.process.pid))!.rssKiB / 1024;
  /** Pushes 100 MB of `{app}` lines (4 pushers, 1 MB payloads); the RSS before and at peak. */
  const pushBulk = async (app: string) => {
    const before = await rss();
    let peak = before;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        peak = Math.max(peak, await rss());
        await sleep(50);
      }
    })();
    const line = "x".repeat(990);
    const base = nowNs();
    await Promise.all(Array.from({ length: 4 }, async (_, p) => {
      for (let r = 0; r < 25; r++) {
        const rows: Row[] = [];
        for (let i = 0; i < 1000; i++) {
          rows.push({ labels: { app }, ts: base + BigInt(i), line: `${p}${r} ${line}` });
        }
        await push(url, rows);
      }
    }));
    await sleep(1000);
    sampling = false;
    await sampler;
    return { before, peak };
  };
  const stuck: Awaited<ReturnType<typeof stuckTail>>[] = [];
  try {
    const ws = await stuckTail(url, "ws", '{app="bulk"}');
    const sse = await stuckTail(url, "sse", '{app="bulk"}');
    stuck.push(ws, sse);
    await waitFor("two tails", async () => (await stats(url)).tails.open === 2);
    // A third tail is over the limit, on either route.
    const refused = await call(url, "/api/v1/tail?query=%7B%7D");
    assert.equal(refused.status, 429);
    assert.equal(refused.headers.get("retry-after"), "5");
    assert.equal(
      refused.body.error,
      "max concurrent tail requests limit exceeded, count > limit (3 > 2)",
    );
    const lokiRefused = await stuckTail(url, "ws", "{}");
    const answer = await lokiRefused.response(5000);
    lokiRefused.close();
    assert.equal(statusOf(answer), 429);
    assert.match(answer, /text\/plain/);
    assert.match(answer, /max concurrent tail requests limit exceeded, count > limit \(3 > 2\)\n/);

    // 100 MB of lines nobody tails, then 100 MB for both tails, which read nothing:
    // the second push may cost only the little each tail keeps.
    const [idle, tailed] = [await pushBulk("idle"), await pushBulk("bulk")];
    const { tails } = await stats(url);
    console.log(
      `RSS ${idle.before.toFixed(0)} MB, ${idle.peak.toFixed(0)} MB at peak while 100 MB were ` +
        `pushed, ${tailed.peak.toFixed(0)} MB at peak while 100 MB more were pushed to two ` +
        `tails that read nothing; ${tails.lines_dropped} lines dropped`,
    );
    // Measured: the second push adds 7–33 MB without tails, 22–88 MB with these two alone
    // (118 MB once with the whole suite running beside it: the peaks are noisy), and
    // 220–235 MB when their queues and connections are not bounded.
    assert.ok(
      tailed.peak - idle.peak < 160,
      `RSS grew by ${(tailed.peak - idle.peak).toFixed(0)} MB`,
    );
    assert.ok(tails.lines_dropped > 150_000, JSON.stringify(tails));

    // After 10 s without progress both are cut off, but keep their places while connected.
    await waitFor("both cut off", async () => (await stats(url)).tails.cut_off === 2, 30_000);
    assert.equal((await stats(url)).tails.open, 2);
    assert.equal((await call(url, "/api/v1/tail?query=%7B%7D")).status, 429);
    // Reading at last, each learns why it was cut off, after what it was sent (megabytes of it:
    // 5 s to read them was too little once, with the whole suite running beside it).
    assert.match(
      await sse.response(20_000),
      /event: end\ndata: \{"status":"error","error":"client too slow: /,
    );
    assert.match(await ws.response(20_000), /client too slow: /);
    ws.close();
    sse.close();
    await waitFor("places freed", async () => (await stats(url)).tails.open === 0);
    const fresh = await openSseTail(url, { query: "{}" });
    fresh.close();
  } finally {
    // A client that reads nothing would hold the server's graceful shutdown.
    for (const connection of stuck) connection.close();
    await server.stop();
    await Deno.remove(server.dir, { recursive: true });
  }
});

Deno.test("live tail: bad parameters are 400s; the API key guards both routes; shutdown ends tails", async (t) => {
  const key = "tail-key";
  const server = await startServer({ args: ["--api-key", key] });
  const { url } = server;
  const auth = { authorization: `Bearer ${key}` };
  try {
    await t.step("bad parameters", async () => {
      const cases: [string, number, RegExp][] = [
        ["/api/v1/tail?query=%7Bapp%3D", 400, /^cannot parse query at 6: /],
        ["/api/v1/tail?start=yesterday", 400, /^start must be a non-negative integer/],
        ["/api/v1/tail?limit=0", 400, /^limit must be a positive integer/],
      ];
      for (const [path, status, message] of cases) {
        const r = await call(url, path, { headers: auth });
        assert.equal(r.status, status, r.text);
        assert.match(r.body.error, message);
      }
      const loki: [string, RegExp][] = [
        ["", /^query is required/],
        ["query=%7Bapp%3D", /^parse error at line 1, col 6: /],
        [
          "query=rate(%7Ba%3D%22b%22%7D%5B1m%5D)",
          /^tail takes a log query .*rate\(…\) is a metric query/,
        ],
        ["query=%7B%7D&delay_for=6", /^delay_for can't be greater than 5\n$/],
        ["query=%7B%7D&delay_for=soon", /^delay_for must be a whole number of seconds from 0 to 5/],
        ["query=%7B%7D&limit=5001", /^max entries limit per query exceeded/],
        ["query=%7B%7D&start=never", /^cannot parse start "never"/],
      ];
      for (const [params, message] of loki) {
        const r = await call(url, `/loki/api/v1/tail?${params}`, { headers: auth });
        assert.equal(r.status, 400, params);
        assert.equal(r.headers.get("content-type"), "text/plain; charset=utf-8");
        assert.match(r.text, message);
      }
      // Without an upgrade: what to do instead.
      const plain = await call(url, "/loki/api/v1/tail?query=%7B%7D", { headers: auth });
      assert.equal(plain.status, 400);
      assert.match(plain.text, /^tail is a WebSocket endpoint: .*\/api\/v1\/tail/);
    });

    await t.step("the API key", async () => {
      const sse = await call(url, "/api/v1/tail?query=%7B%7D");
      assert.equal(sse.status, 401);
      assert.match(sse.body.error, /^missing API key/);
      const ws = await rawConnect(
        url,
        "GET /loki/api/v1/tail?query=%7B%7D HTTP/1.1\r\nHost: loge.test\r\nUpgrade: websocket\r\n" +
          "Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n",
      );
      const answer = await ws.response(5000);
      ws.close();
      assert.equal(statusOf(answer), 401);
      assert.match(answer, /missing API key/);
      await assert.rejects(
        openSseTail(url, { query: "{}" }, { authorization: "Bearer guess" }),
        (e) => e instanceof TailRefused && e.status === 401,
      );
    });

    await t.step("shutdown ends open tails and the server exits", async () => {
      // Grafana's data source sends the key as basic auth's password.
      const ws = await openWsTail(url, { query: "{}" }, {
        authorization: `Basic ${btoa(`grafana:${key}`)}`,
      });
      const sse = await openSseTail(url, { query: "{}" }, auth);
      const began = Date.now();
      assert.equal(await server.stop(), 0);
      assert.ok(Date.now() - began < 10_000);
      // The reason may be ours or that of Deno's server, whichever close frame goes first.
      assert.equal((await ws.closed).code, 1001);
      await sse.ended;
      assert.deepEqual(sse.events.at(-1), {
        name: "end",
        data: { status: "error", error: "server is shutting down" },
      });
    });
  } finally {
    await server.stop().catch(() => {});
    await Deno.remove(server.dir, { recursive: true });
  }
});

function cmp(a: bigint, b: bigint): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
