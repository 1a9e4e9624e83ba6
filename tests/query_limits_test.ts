/**
 * `--query-timeout` and `--max-concurrent-queries` on the real server: a
 * query past its deadline stops and answers 504 with the reason, in loge's
 * and Loki's shapes, while the server goes on answering; queries beyond the
 * running and waiting bound answer 429 with `Retry-After`, and the admitted
 * ones all complete; senders of slow query bodies hold no turn and get 408.
 */

import assert from "node:assert/strict";
import { COSTLY_PATTERN, letters } from "../testing/costly_regex.ts";
import { pushJson, withServer } from "../testing/server.ts";
import { rawConnect, statusOf } from "./raw_http.ts";

const T0 = 1_790_000_000_000_000_000n;
const LINES = 200_000;
const PER_PUSH = 20_000;

/** Pushes `LINES` lines of a few shapes to `{app="load"}`, a microsecond apart. */
async function load(url: string): Promise<void> {
  for (let at = 0; at < LINES; at += PER_PUSH) {
    const values = Array.from({ length: PER_PUSH }, (_, i) => {
      const n = at + i;
      return [
        String(T0 + BigInt(n) * 1000n),
        `GET /api/item/${n % 977} status=${200 + (n % 7)} took=${n % 101}ms user=u${n % 313}`,
      ];
    });
    const res = await fetch(`${url}/api/v1/push`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ streams: [{ stream: { app: "load" }, values }] }),
    });
    assert.equal(res.status, 200, await res.text());
  }
}

/** A query that reads every line and matches none: its work grows with the lines. */
const SLOW = { query: '{app="load"} |~ "(item/9+1|user=x).*took=[0-9]+s"', limit: 10, start: "0" };

function querySlow(url: string): Promise<Response> {
  return fetch(`${url}/api/v1/query`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(SLOW),
  });
}

Deno.test("query limits: a query past --query-timeout stops with 504 and its reason; the server goes on answering", async () => {
  await withServer(async ({ url }) => {
    await load(url);
    const res = await querySlow(url);
    const body = await res.json();
    assert.equal(res.status, 504, JSON.stringify(body));
    assert.equal(body.status, "error");
    assert.match(body.error, /query did not finish within 0\.02s \(--query-timeout\)/);
    const params = new URLSearchParams({ query: SLOW.query, start: "0", limit: "10" });
    const loki = await fetch(`${url}/loki/api/v1/query_range?${params}`);
    assert.equal(loki.status, 504);
    assert.match(await loki.text(), /^query did not finish within 0\.02s/);
    const labels = await fetch(`${url}/loki/api/v1/labels?start=0`);
    assert.equal(labels.status, 200);
    assert.deepEqual((await labels.json()).data, ["app"]);
  }, { args: ["--query-timeout", "20ms"] });
});

/** Pushes `lines` to `{app=<app>}`, a microsecond apart; returns their `[ts, line]` values. */
async function pushLines(url: string, app: string, lines: string[]): Promise<string[][]> {
  const values = lines.map((line, i) => [String(T0 + BigInt(i) * 1000n), line]);
  const { status, body } = await pushJson(url, { streams: [{ stream: { app }, values }] });
  assert.equal(status, 200, JSON.stringify(body));
  return values;
}

/**
 * Runs `query` (a log query over every time, or a metric query at `time`) while another client
 * pushes one line at a time; returns the answer, how many pushes were answered before it and
 * the longest a push waited for its answer meanwhile, in ms.
 */
async function queryWhilePushing(
  url: string,
  query: string,
  time?: bigint,
): Promise<{ res: Response; text: string; answered: number; longestWaitMs: number }> {
  let done = false;
  let answered = 0;
  let longestWaitMs = 0;
  const pushes = (async () => {
    for (let n = 0; !done; n++) {
      const sent = performance.now();
      await pushLines(url, "ticks", [`tick ${n}`]);
      if (done) break;
      answered++;
      longestWaitMs = Math.max(longestWaitMs, performance.now() - sent);
    }
  })();
  const res = time === undefined
    ? await fetch(
      `${url}/loki/api/v1/query_range?${new URLSearchParams({ query, start: "0", limit: "1000" })}`,
    )
    : await fetch(`${url}/loki/api/v1/query?${new URLSearchParams({ query, time: String(time) })}`);
  done = true;
  const text = await res.text();
  await pushes;
  return { res, text, answered, longestWaitMs };
}

/** The `[ts, line]` values of a streams answer, newest first. */
function valuesOf(text: string): string[][] {
  const result = (JSON.parse(text).data as { result: { values: string[][] }[] }).result;
  return result.flatMap((s) => s.values);
}

Deno.test("query limits: a costly regex shares the event loop: pushes go on while it runs, and its answers are right", async () => {
  await withServer(async ({ url }) => {
    // V8 takes 1,000 steps from each start of these 10 KB lines, ~25 ms a line: tested on the
    // event loop between its turns. Every fifth line has 1,000 letters right before a "9".
    const wide = Array.from(
      { length: 60 },
      (_, i) => i % 5 === 0 ? `${letters(10_000, i)}9` : `${letters(500, i)}9${letters(9500, i)}`,
    );
    const wideValues = (await pushLines(url, "wide", wide)).reverse();
    // re2js keeps up to 3,003 threads alive over these 4 KB lines, hundreds of milliseconds a
    // line: each is tested on the query's worker.
    const long = Array.from(
      { length: 8 },
      (_, i) => i % 3 === 0 ? `${letters(4000, i)}9` : `${letters(1500, i)}9${letters(2500, i)}9`,
    );
    const longValues = (await pushLines(url, "long", long)).reverse();
    const cases = [
      { app: "wide", values: wideValues, pattern: "[a-z]{1000}9", oracle: /[a-z]{1000}9/, n: 12 },
      { app: "long", values: longValues, pattern: COSTLY_PATTERN, oracle: /[a-z]{3000}9/, n: 3 },
    ];
    for (const { app, values, pattern, oracle, n } of cases) {
      const expected = values.filter(([, line]) => oracle.test(line));
      assert.equal(expected.length, n);
      const { res, text, answered } = await queryWhilePushing(
        url,
        `{app="${app}"} |~ "${pattern}"`,
      );
      assert.equal(res.status, 200, text.slice(0, 300));
      const got = valuesOf(text);
      assert.deepEqual(got.map(([ts]) => ts), expected.map(([ts]) => ts), app);
      assert.ok(got.every(([, line], k) => line === expected[k][1]), `${app}: lines differ`);
      // Held for the whole query (a second or more here), no push would be answered meanwhile.
      assert.ok(answered >= 4, `${app}: ${answered} pushes answered while the query ran`);
    }
  });
});

Deno.test("query limits: a costly regex after a parser runs its lines off the event loop: pushes go on, and its answers are right", async () => {
  await withServer(async ({ url }) => {
    // Messages of 10,000 letters and a "9" (every other one) or of 2,000 letters after them:
    // re2js keeps up to 3,003 threads alive at each letter, over half a second a line.
    const docs = Array.from({ length: 4 }, (_, i) =>
      JSON.stringify({
        n: i,
        msg: i % 2 === 0 ? `${letters(10_000, i)}9` : `${letters(8000, i)}9${letters(2000, i)}9`,
      }));
    const values = (await pushLines(url, "docs", docs)).reverse();
    const expected = values.filter(([, line]) => /[a-z]{3000}9$/.test(JSON.parse(line).msg));
    assert.equal(expected.length, 2);
    const filter = `{app="docs"} | json | msg=~".*${COSTLY_PATTERN}"`;
    const logs = await queryWhilePushing(url, filter);
    assert.equal(logs.res.status, 200, logs.text.slice(0, 300));
    assert.deepEqual(valuesOf(logs.text), expected);
    const metric = await queryWhilePushing(
      url,
      `sum(count_over_time(${filter} [2h]))`,
      T0 + 3_600_000_000_000n,
    );
    assert.equal(metric.res.status, 200, metric.text.slice(0, 300));
    assert.equal(JSON.parse(metric.text).data.result[0].value[1], String(expected.length));
    for (const { answered, longestWaitMs } of [logs, metric]) {
      // On the event loop, a push would wait for a line's test, over half a second.
      assert.ok(answered >= 4, `${answered} pushes answered while the query ran`);
      assert.ok(longestWaitMs < 300, `a push waited ${longestWaitMs} ms`);
    }
  });
});

Deno.test("query limits: a line tested off the event loop stops at the query's deadline, with its worker", async () => {
  await withServer(async ({ url }) => {
    // Seconds of re2js for one line: up to 3,003 threads at each of its 200,000 characters.
    await pushLines(url, "huge", [`${letters(200_000, 1)}9`]);
    const started = performance.now();
    const { res, text, answered } = await queryWhilePushing(
      url,
      `{app="huge"} |~ "${COSTLY_PATTERN}"`,
    );
    const tookMs = performance.now() - started;
    assert.equal(res.status, 504, text.slice(0, 300));
    assert.match(text, /^query did not finish within 1s \(--query-timeout\)/);
    assert.ok(answered >= 4, `${answered} pushes answered while the query ran`);
    // The line alone takes several seconds; the deadline stopped its test.
    assert.ok(tookMs < 4000, `answered after ${tookMs} ms`);
    const metrics = await (await fetch(`${url}/metrics`)).text();
    assert.doesNotMatch(metrics, /line_test_worker/);
  }, { args: ["--query-timeout", "1s", "--metrics-open"] });
});

Deno.test("query limits: beyond --max-concurrent-queries running and as many waiting, 429 with Retry-After", async () => {
  await withServer(async ({ url }) => {
    await load(url);
    const answers = await Promise.all(
      Array.from({ length: 6 }, async () => {
        const res = await querySlow(url);
        return {
          status: res.status,
          retry: res.headers.get("retry-after"),
          body: await res.json(),
        };
      }),
    );
    const refused = answers.filter((a) => a.status === 429);
    const done = answers.filter((a) => a.status === 200);
    assert.equal(refused.length + done.length, answers.length, JSON.stringify(answers));
    // One runs, one waits for its turn; the others arrive while both are taken.
    assert.ok(done.length >= 2, JSON.stringify(answers));
    assert.ok(refused.length >= 1, JSON.stringify(answers));
    for (const r of refused) {
      assert.equal(r.retry, "1");
      assert.match(
        r.body.error,
        /too many queries at once: 1 running and 1 waiting \(--max-concurrent-queries\)/,
      );
    }
    for (const d of done) assert.deepEqual(d.body.data, []);
  }, { args: ["--max-concurrent-queries", "1", "--query-timeout", "0s"] });
});

Deno.test("query limits: slow senders of query bodies hold no turn, and get 408 after --read-timeout", async () => {
  await withServer(async ({ url }) => {
    // Four times the turns (one running, one waiting) stall their form bodies half way.
    const form = new URLSearchParams({ query: '{app="load"}', start: "0" }).toString();
    const head = (path: string) =>
      `POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n` +
      `Content-Length: ${form.length}\r\n\r\n${form.slice(0, 10)}`;
    const stalled = await Promise.all(
      Array.from(
        { length: 4 },
        (_, i) => rawConnect(url, head(i % 2 ? "/loki/api/v1/query_range" : "/loki/api/v1/labels")),
      ),
    );
    try {
      const res = await fetch(`${url}/loki/api/v1/labels?start=0`);
      assert.equal(res.status, 200, await res.text());
      const query = await fetch(`${url}/api/v1/query`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ query: '{app="none"}', start: "0" }),
      });
      assert.equal(query.status, 200, await query.text());
      for (const conn of stalled) {
        const answer = await conn.response(5000);
        assert.equal(statusOf(answer), 408, answer);
        assert.match(answer, /not received within 500 ms \(--read-timeout\)/);
      }
    } finally {
      for (const conn of stalled) conn.close();
    }
  }, { args: ["--max-concurrent-queries", "1", "--read-timeout", "500ms"] });
});

Deno.test("query limits: --max-query-range refuses longer ranges and unbounded starts with 400, on both APIs", async () => {
  await withServer(async ({ url }) => {
    const hourNs = 3_600_000_000_000n;
    const now = BigInt(Date.now()) * 1_000_000n;
    const query = (start: bigint | undefined) =>
      fetch(`${url}/api/v1/query`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ query: '{app="x"}', ...(start && { start: String(start) }) }),
      });
    const within = await query(now - 2n * hourNs);
    assert.equal(within.status, 200, await within.text());
    const over = await query(now - 4n * hourNs);
    assert.equal(over.status, 400);
    assert.match(
      (await over.json()).error,
      /query range of 4h\S* is over the limit of 3h \(--max-query-range\)/,
    );
    const unbounded = await query(undefined);
    assert.equal(unbounded.status, 400);
    assert.match(
      (await unbounded.json()).error,
      /has no start.*limits a query to 3h: give a start/,
    );
    const params = new URLSearchParams({
      query: 'sum(count_over_time({app="x"}[1m]))',
      start: String(now - 24n * hourNs),
      end: String(now),
      step: "60",
    });
    const loki = await fetch(`${url}/loki/api/v1/query_range?${params}`);
    assert.equal(loki.status, 400);
    assert.match(
      await loki.text(),
      /^query range of 1d is over the limit of 3h \(--max-query-range\)/,
    );
  }, { args: ["--max-query-range", "3h"] });
});
