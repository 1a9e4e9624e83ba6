import assert from "node:assert/strict";
import { PUSH_MEDIA_TYPES } from "../ingest/decode.ts";
import { LogQLParseError, parseLogQL } from "../query/logql.ts";
import { type App, MAX_BODY, withApp } from "../../testing/app_fixture.ts";

const BASE = "http://loge.test";

function push(body: string, headers: Record<string, string> = {}): Request {
  return new Request(`${BASE}/api/v1/push`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body,
  });
}

function query(q: string, headers: Record<string, string> = {}): Request {
  return new Request(`${BASE}/api/v1/query`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify({ query: q, limit: 100 }),
  });
}

/** Parses JSON keeping integers beyond 2^53 exact, as bigints. */
function parseExact(text: string): Record<string, unknown> {
  return JSON.parse(
    text,
    ((_key: string, value: unknown, context?: { source?: string }) =>
      typeof value === "number" && !Number.isSafeInteger(value) && context?.source &&
        /^-?\d+$/.test(context.source)
        ? BigInt(context.source)
        : value) as (key: string, value: unknown) => unknown,
  );
}

/** Nanosecond times beyond 2^53: the JSON must carry them exactly. */
const T0 = 1_764_480_000_123_456_789n;
const LINES = [
  { ts: T0 + 2n, line: "GET /a 200" },
  { ts: T0, line: "GET /b 500" },
  { ts: T0 + 1n, line: "POST /c 201" },
];
const PAYLOAD = JSON.stringify({
  streams: [{
    stream: { app: "web", level: "info" },
    values: LINES.map((l) => [`${l.ts}`, l.line]),
  }],
});

async function pushLines(handle: App["handle"]): Promise<void> {
  const res = await handle(push(PAYLOAD));
  assert.equal(res.status, 200, await res.text());
  await res.body?.cancel();
}

Deno.test("a push answers 200 and its lines are read back through /api/v1/query", async () => {
  await withApp(async ({ handle }) => {
    await pushLines(handle);
    const res = await handle(query('{app="web"}'));
    assert.equal(res.status, 200);
    const body = parseExact(await res.text());
    const newestFirst = [...LINES].sort((a, b) => (a.ts < b.ts ? 1 : a.ts > b.ts ? -1 : 0));
    assert.deepEqual(body, {
      status: "success",
      data: newestFirst.map((l) => ({
        timestamp: l.ts,
        line: l.line,
        labels: { app: "web", level: "info" },
      })),
    });
  });
});

Deno.test("flushed lines stay readable once the head is empty", async () => {
  await withApp(async ({ handle, ingester }) => {
    await pushLines(handle);
    const deadline = Date.now() + 10_000;
    while (ingester.headStats().rows > 0) {
      assert.ok(Date.now() < deadline, "the head was never flushed");
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const res = await handle(query('{app="web"} |= "500"'));
    const body = parseExact(await res.text());
    assert.deepEqual(
      (body.data as { timestamp: bigint; line: string }[]).map((e) => [e.timestamp, e.line]),
      [[T0, "GET /b 500"]],
    );
    const stats = parseExact(await (await handle(new Request(`${BASE}/api/v1/stats`))).text());
    assert.equal(stats.rows_in_memory, 0);
    assert.equal(stats.rows_total, LINES.length);
    assert.equal((stats.ingest as Record<string, number>).flushes, 1);
  }, { ingest: { flushIntervalMs: 20 } });
});

Deno.test("an invalid payload answers 400 locating the problem", async () => {
  await withApp(async ({ handle }) => {
    const res = await handle(
      push(JSON.stringify({ streams: [{ stream: { app: "web" }, values: [["12ab", "x"]] }] })),
    );
    assert.equal(res.status, 400);
    assert.deepEqual(await res.json(), {
      status: "error",
      error: 'stream 0, value 0: timestamp must be an integer nanosecond string, got "12ab"',
      stream: 0,
      value: 0,
    });
  });
});

Deno.test("queries nested past the stack answer 400, in loge's API and Loki's", async () => {
  await withApp(async ({ handle }) => {
    // Deep enough to overflow the stack however well the parser is optimised by then.
    const deep = `{app="web"} | ${"(".repeat(50_000)}x="1"${")".repeat(50_000)}`;
    const res = await handle(query(deep));
    assert.equal(res.status, 400);
    assert.equal((await res.json()).error, "cannot parse query at 0: the query nests too deeply");
    const metric = `${"sum(".repeat(25_000)}count_over_time({app="web"}[1m])${")".repeat(25_000)}`;
    const loki = await handle(
      new Request(`${BASE}/loki/api/v1/query?${new URLSearchParams({ query: metric })}`),
    );
    assert.equal(loki.status, 400);
    assert.match(await loki.text(), /the query nests too deeply/);
    // Long chains parse in loops but evaluate as deep as they are long.
    for (
      const chain of [
        `count_over_time({app="web"}[1m])${" + 1".repeat(6_000)}`,
        `{app="web"} | x="1"${' or x="2"'.repeat(11_000)}`,
      ]
    ) {
      const res = await handle(
        new Request(`${BASE}/loki/api/v1/query`, {
          method: "POST",
          headers: { "content-type": "application/x-www-form-urlencoded" },
          body: new URLSearchParams({ query: chain }),
        }),
      );
      assert.equal(res.status, 400);
      assert.match(await res.text(), /more than 1000 operators in one query/);
    }
  });
});

Deno.test("a push of an unknown content type answers 415 listing the known ones", async () => {
  await withApp(async ({ handle }) => {
    const res = await handle(push("hello", { "content-type": "text/plain" }));
    assert.equal(res.status, 415);
    assert.deepEqual(await res.json(), {
      status: "error",
      error: `unsupported content type "text/plain"; use one of ${PUSH_MEDIA_TYPES.join(", ")}`,
    });
  });
});

Deno.test("a push body over --max-body-size answers 413", async () => {
  await withApp(async ({ handle }) => {
    const big = JSON.stringify({
      streams: [{ stream: { app: "web" }, values: [[`${T0}`, "x".repeat(MAX_BODY)]] }],
    });
    const res = await handle(push(big));
    assert.equal(res.status, 413);
    assert.deepEqual(await res.json(), {
      status: "error",
      error: `request body exceeds the limit of ${MAX_BODY} bytes (--max-body-size)`,
    });
    const stats = parseExact(await (await handle(new Request(`${BASE}/api/v1/stats`))).text());
    assert.equal(stats.rows_total, 0);
  });
});

Deno.test("a transfer coding other than chunked answers 400", async () => {
  await withApp(async ({ handle }) => {
    const res = await handle(push(PAYLOAD, { "transfer-encoding": "gzip, chunked" }));
    assert.equal(res.status, 400);
    const body = await res.json();
    assert.equal(body.status, "error");
    assert.match(body.error, /^transfer coding "gzip" is not supported/);
  });
});

Deno.test("unknown routes answer 404 and wrong methods 405, as JSON", async () => {
  await withApp(async ({ handle }) => {
    const missing = await handle(new Request(`${BASE}/api/v1/nothing`));
    assert.equal(missing.status, 404);
    assert.deepEqual(await missing.json(), {
      status: "error",
      error: "no route for /api/v1/nothing",
    });
    const wrong = await handle(new Request(`${BASE}/api/v1/push`));
    assert.equal(wrong.status, 405);
    assert.deepEqual(await wrong.json(), {
      status: "error",
      error: "method GET not allowed on /api/v1/push; use POST",
    });
  });
});

Deno.test("/api/v1/stats counts the head and writes times as exact integers", async () => {
  await withApp(async ({ handle }) => {
    await pushLines(handle);
    const res = await handle(new Request(`${BASE}/api/v1/stats`));
    assert.equal(res.status, 200);
    const text = await res.text();
    const min = LINES.reduce((m, l) => (l.ts < m ? l.ts : m), LINES[0].ts);
    const max = LINES.reduce((m, l) => (l.ts > m ? l.ts : m), LINES[0].ts);
    assert.match(text, new RegExp(`"min_timestamp":${min}[,}]`));
    assert.match(text, new RegExp(`"max_timestamp":${max}[,}]`));
    const stats = parseExact(text);
    assert.equal(stats.status, "success");
    assert.equal(stats.rows_in_memory, LINES.length);
    assert.equal(stats.rows_total, LINES.length);
    assert.equal(stats.min_timestamp, min);
    assert.deepEqual(stats.faults, { wal: null, flush: null });
    const wal = stats.wal as Record<string, number>;
    assert.ok(wal.segments >= 1, `the durable WAL has a segment: ${JSON.stringify(wal)}`);
    assert.deepEqual(
      { ...wal, segments: 0 },
      { segments: 0, damaged_stretches: 0, skipped_bytes: 0, records_lost: 0 },
    );
    assert.deepEqual(stats.ingest, {
      payloads: 1,
      lines: LINES.length,
      dropped: 0,
      replayed: 0,
      held_by_compaction: 0,
      flushes: 0,
      held_now: 0,
    });
  });
});

Deno.test("with --api-key the read routes answer 401 without the key, and pushes pass", async () => {
  await withApp(async ({ handle }) => {
    await pushLines(handle);
    const denied = await handle(new Request(`${BASE}/api/v1/stats`));
    assert.equal(denied.status, 401);
    assert.equal(denied.headers.get("www-authenticate"), 'Bearer realm="loge"');
    assert.equal((await denied.json()).status, "error");
    const wrongKey = await handle(query('{app="web"}', { authorization: "Bearer guess" }));
    assert.equal(wrongKey.status, 401);
    await wrongKey.body?.cancel();
    const allowed = await handle(query('{app="web"}', { authorization: "Bearer s3cret" }));
    assert.equal(allowed.status, 200);
    assert.equal((parseExact(await allowed.text()).data as unknown[]).length, LINES.length);
  }, { apiKey: "s3cret" });
});

Deno.test("GET / serves the page and /assets/ its files with their content types", async () => {
  await withApp(async ({ handle }) => {
    const page = await handle(new Request(`${BASE}/`));
    assert.equal(page.status, 200);
    assert.equal(page.headers.get("content-type"), "text/html; charset=utf-8");
    assert.match(await page.text(), /<html/i);
    const css = await handle(new Request(`${BASE}/assets/style.css`));
    assert.equal(css.status, 200);
    assert.equal(css.headers.get("content-type"), "text/css; charset=utf-8");
    assert.equal(
      await css.text(),
      await Deno.readTextFile(new URL("../../web/style.css", import.meta.url)),
    );
    const missing = await handle(new Request(`${BASE}/assets/nope.js`));
    assert.equal(missing.status, 404);
    await missing.body?.cancel();
  });
});

Deno.test("a LogQL parse error answers 400 with its position", async () => {
  await withApp(async ({ handle }) => {
    const q = '{app="web"} |= ';
    const expected = (() => {
      try {
        parseLogQL(q);
      } catch (error) {
        if (error instanceof LogQLParseError) return error;
      }
      throw new Error(`${q} parsed`);
    })();
    assert.equal(typeof expected.position, "number");
    const res = await handle(query(q));
    assert.equal(res.status, 400);
    assert.deepEqual(await res.json(), {
      status: "error",
      error: expected.message,
      position: expected.position,
    });
  });
});
