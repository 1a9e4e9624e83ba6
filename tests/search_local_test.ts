/**
 * Client-side search end to end: a real S3 server (`s3rver`), real
 * `loge serve` processes with the cold tier, and the real CLI. Lines are
 * rotated to S3, more lines stay hot, and `loge search --local` (the server
 * reads its hot tier, the CLI the presigned cold segments) must print what
 * `loge search` prints. Expected lines are computed here from the pushed
 * rows, never by the engine under test.
 */

import assert from "node:assert/strict";
import { call, type Labels, push, waitFor } from "../testing/http.ts";
import { hexToken, startS3, tierArgs } from "../testing/s3.ts";
import { startServer, type TestServer, withServer } from "../testing/server.ts";
import { type CliRun, runLoge } from "../testing/cli.ts";

const KEY = "s3cret-key";
const AUTH = { authorization: `Bearer ${KEY}` };

type Row = [Labels, bigint, string, Labels?];

const T0 = 1_795_000_000_000_000_000n;
const MS = 1_000_000n;

const LEVELS = ["info", "info", "warn", "error", "debug"];

/** A logfmt line of `web`; `needle` marks it with a unique trace id. */
function webLine(tag: string, i: number, needle?: string): string {
  return `level=${LEVELS[i % 5]} method=GET path=/items/${i} status=${200 + (i % 4) * 100} ` +
    `took=${i % 97}ms req=${hexToken(`${tag}${i}`)}${needle ? ` trace_id=${needle}` : ""}`;
}

/** A JSON line of `api`. */
function apiLine(tag: string, i: number): string {
  return JSON.stringify({
    level: LEVELS[i % 5],
    status: 200 + (i % 6) * 60,
    path: `/v1/${tag}/${i}`,
  });
}

const COLD_NEEDLE = hexToken("cold needle") + hexToken("cold needle 2");
const HOT_NEEDLE = hexToken("hot needle") + hexToken("hot needle 2");

/** Lines rotated to S3: web one per ms (env by parity), api every 3 ms with metadata. */
function coldRows(): Row[] {
  const rows: Row[] = [];
  for (let i = 0; i < 3000; i++) {
    rows.push([
      { app: "web", env: i % 2 === 0 ? "prod" : "dev" },
      T0 + BigInt(i) * MS,
      webLine("c", i, i === 1234 ? COLD_NEEDLE : undefined),
    ]);
  }
  for (let i = 0; i < 1000; i++) {
    rows.push([{ app: "api" }, T0 + BigInt(3 * i) * MS + 7n, apiLine("c", i), {
      trace: hexToken(`ct${i}`),
    }]);
  }
  return rows;
}

/**
 * Lines that stay hot, interleaved in time with the cold ones: web/prod at
 * the odd milliseconds (ties with cold web/dev lines) and web/dev half a
 * millisecond later, api in between.
 */
function hotRows(): Row[] {
  const rows: Row[] = [];
  for (let i = 0; i < 1500; i++) {
    rows.push([
      { app: "web", env: "prod" },
      T0 + BigInt(2 * i + 1) * MS,
      webLine("h", i, i === 600 ? HOT_NEEDLE : undefined),
    ]);
    rows.push([{ app: "web", env: "dev" }, T0 + BigInt(2 * i) * MS + MS / 2n, webLine("h2", i)]);
  }
  for (let i = 0; i < 800; i++) {
    rows.push([{ app: "api" }, T0 + BigInt(3 * i + 1) * MS + 11n, apiLine("h", i), {
      trace: hexToken(`ht${i}`),
    }]);
  }
  return rows;
}

/** The canonical stream key: names sorted, as the engine orders ties. */
const keyOf = (labels: Labels) =>
  JSON.stringify(Object.fromEntries(Object.entries(labels).sort(([a], [b]) => a < b ? -1 : 1)));

/** The lines a query must answer: picked rows in time order of `direction`, ties by stream, line. */
function expected(
  rows: Row[],
  pick: (r: Row) => boolean,
  limit: number,
  direction: "backward" | "forward" = "backward",
): string[] {
  const later = direction === "backward" ? -1 : 1;
  return rows.filter(pick).sort((a, b) => {
    if (a[1] !== b[1]) return a[1] > b[1] ? later : -later;
    const ka = keyOf(a[0]);
    const kb = keyOf(b[0]);
    if (ka !== kb) return ka < kb ? -1 : 1;
    return a[2] < b[2] ? -1 : a[2] > b[2] ? 1 : 0;
  }).slice(0, limit).map((r) => r[2]);
}

/** Runs `loge search ...args`. */
const search = (args: string[]): Promise<CliRun> =>
  runLoge(["search", ...args], { LOGE_API_KEY: "" });

/** Runs `loge search` and asserts it succeeds quietly. */
async function ok(args: string[]): Promise<string> {
  const run = await search(args);
  assert.equal(run.code, 0, `loge search ${args.join(" ")}: ${run.stderr}`);
  assert.equal(run.stderr, "", args.join(" "));
  return run.stdout;
}

/** The log lines of `loge search` output, text or JSON. */
function linesOf(output: string): string[] {
  return output.split("\n").filter(Boolean).map((l) =>
    l.startsWith("{") ? JSON.parse(l).line : /^\S+ \{[^}]*\} (.*)$/.exec(l)![1]
  );
}

async function stats(url: string) {
  const r = await call(url, "/api/v1/stats", { headers: AUTH });
  assert.equal(r.status, 200, r.text);
  return r.body;
}

async function plan(url: string, params: Record<string, string>) {
  return await call(url, `/api/v1/search/plan?${new URLSearchParams(params)}`, { headers: AUTH });
}

Deno.test("search --local prints what search prints: the hot tier from the server, cold segments read here", async () => {
  await using s3 = await startS3();
  const dir = await Deno.makeTempDir({ prefix: "loge-test-" });
  let server: TestServer | undefined;
  try {
    // First every cold line goes to S3 ...
    server = await startServer({ dir, args: [...tierArgs(s3), "--api-key", KEY], env: s3.env });
    const cold = coldRows();
    for (let i = 0; i < cold.length; i += 500) await push(server.url, cold.slice(i, i + 500));
    await waitFor("every segment rotated and its local copy deleted", async () => {
      const s = await stats(server!.url);
      const local = (await Array.fromAsync(Deno.readDir(dir))).filter((e) =>
        e.name.endsWith(".loge")
      );
      return s.segments_local === 0 && s.segments_remote > 0 && s.rows_in_memory === 0 &&
        local.length === 0;
    }, 30_000);
    await server.stop();
    // ... then the node keeps new lines local (in files and in memory).
    server = await startServer({
      dir,
      args: [...tierArgs(s3, { age: "1h" }), "--api-key", KEY, "--s3-presign-expiry", "2m"],
      env: s3.env,
    });
    let url = server.url;
    const hot = hotRows();
    for (let i = 0; i < hot.length; i += 500) await push(url, hot.slice(i, i + 500));
    await waitFor("hot lines in local files", async () => (await stats(url)).segments_local > 0);
    const all = [...cold, ...hot];
    const coldLines = new Set(cold.map((r) => r[2]));

    // The plan: hot entries, and the cold segments with URLs that read them.
    assert.equal(
      (await call(url, `/api/v1/search/plan?query=${encodeURIComponent('{app=~".+"}')}`))
        .status,
      401,
    );
    const before = Math.floor(Date.now() / 1000);
    const p = await plan(url, { query: '{app=~".+"}', limit: "10" });
    assert.equal(p.status, 200, p.text);
    assert.equal(p.body.status, "success");
    assert.equal(p.body.hot.length, 10);
    assert.ok(p.body.hot.every((e: { line: string }) => !coldLines.has(e.line)));
    const { segments_remote } = await stats(url);
    assert.equal(p.body.segments.length, segments_remote);
    assert.ok(p.body.expires_at >= before + 120 && p.body.expires_at <= before + 125);
    for (const segment of p.body.segments) {
      assert.match(segment.id, /^node-a\/\d+-\d+-\d+-\d+-\d+-l1-[0-9a-z-]+\.loge$/);
      const signed = new URL(segment.url);
      assert.equal(signed.searchParams.get("X-Amz-Expires"), "120");
      assert.ok(signed.searchParams.get("X-Amz-Signature"));
      const key = `${s3.endpoint}/${s3.bucket}/loge/${segment.id}`;
      const head = await fetch(key, { method: "HEAD" });
      assert.equal(Number(head.headers.get("content-length")), segment.bytes);
      const range = `bytes=${segment.bytes - 24}-${segment.bytes - 1}`;
      const viaUrl = await fetch(segment.url, { headers: { range } });
      assert.equal(viaUrl.status, 206);
      const direct = await fetch(key, { headers: { range } });
      assert.deepEqual(await viaUrl.bytes(), await direct.bytes());
    }
    // The catalog rules cold segments out: no cold line in this window.
    const late = await plan(url, { query: '{app="web"}', start: String(T0 + 3000n * MS) });
    assert.deepEqual(late.body.segments, []);

    const win = ["--start", String(T0), "--end", String(T0 + 10_000n * MS)];
    const cases: [string[], (r: Row) => boolean, number, ("backward" | "forward")?][] = [
      [['{app="web"}', "--limit", "1000"], (r) => r[0].app === "web", 1000],
      [['{app="web", env="dev"}', "--limit", "300"], (r) => r[0].env === "dev", 300],
      [
        ['{app=~"web|api"} |= "status=400"', "--limit", "2000"],
        (r) => r[2].includes("status=400"),
        2000,
      ],
      [[`{app="web"} |= "${COLD_NEEDLE}"`], (r) => r[2].includes(COLD_NEEDLE), 100],
      [
        [`{app=~".+"} |~ "${COLD_NEEDLE}|${HOT_NEEDLE}"`],
        (r) => r[2].includes(COLD_NEEDLE) || r[2].includes(HOT_NEEDLE),
        100,
      ],
      [
        ['{app="api"} | json | status >= 400', "--limit", "500"],
        (r) => r[0].app === "api" && JSON.parse(r[2]).status >= 400,
        500,
      ],
      [
        ['{app="web"} | logfmt | level="error"', "--limit", "400", "--direction", "forward"],
        (r) => r[0].app === "web" && r[2].startsWith("level=error "),
        400,
        "forward",
      ],
      [
        ['{env=~"prod|dev"}', "--direction", "forward", "--limit", "777"],
        (r) => r[0].app === "web",
        777,
        "forward",
      ],
      [['{app=~".+"}', "--limit", "5000", ...win], () => true, 5000],
    ];
    for (const [args, pick, limit, direction] of cases) {
      const want = expected(all, pick, limit, direction);
      assert.ok(want.length > 0, args.join(" "));
      for (const output of ["text", "json"]) {
        const base = [...args, "--addr", url, "--output", output, "--api-key", KEY];
        const server = await ok(base);
        const local = await ok([...base, "--local", "--concurrency", "3"]);
        assert.equal(local, server, `--local ${args.join(" ")} --output ${output}`);
        assert.deepEqual(linesOf(local), want, `${args.join(" ")} --output ${output}`);
      }
    }
    // A limit that cuts through both tiers takes lines from each.
    const cut = linesOf(
      await ok(['{app=~".+"}', "--limit", "900", "--addr", url, "--local"]
        .concat(["--api-key", KEY, "--frame-cache-size", "0"])),
    );
    assert.deepEqual(cut, expected(all, () => true, 900));
    assert.ok(cut.some((l) => coldLines.has(l)) && cut.some((l) => !coldLines.has(l)));
    // A hot answer that --max-response-size cut short: the plan names the first hot line left out,
    // and --local stops before it though cold lines come after it (it filled the rest of its limit
    // with them, past hot lines it never got).
    const nodeArgs = [...tierArgs(s3, { age: "1h" }), "--api-key", KEY];
    await server.stop();
    server = await startServer({
      dir,
      args: [...nodeArgs, "--max-response-size", "3000"],
      env: s3.env,
    });
    for (const direction of ["backward", "forward"] as const) {
      const query = { query: '{app="web"}', limit: "100", direction };
      const p = await plan(server.url, { ...query, start: win[1], end: win[3] });
      assert.equal(p.status, 200, p.text);
      const hotWeb = expected(hot, (r) => r[0].app === "web", 100, direction);
      const hotLines = p.body.hot.map((e: { line: string }) => e.line);
      assert.ok(hotLines.length > 0 && hotLines.length < 50, `${hotLines.length} hot lines`);
      assert.deepEqual(hotLines, hotWeb.slice(0, hotLines.length), direction);
      assert.equal(p.body.cut.line, hotWeb[hotLines.length], direction);
      // For clients that do not stop at the cut: a warning.
      assert.match(
        p.body.warnings.join("\n"),
        new RegExp(`the first ${hotLines.length} lines, not 100`),
      );
      const merged = expected(all, (r) => r[0].app === "web", all.length, direction);
      const want = merged.slice(0, merged.indexOf(p.body.cut.line));
      assert.ok(want.some((l) => coldLines.has(l)), "cold lines come before the cut");
      const run = await search(['{app="web"}', "--limit", "100", "--direction", direction, ...win]
        .concat(["--addr", server.url, "--local", "--api-key", KEY]));
      assert.equal(run.code, 0, run.stderr);
      assert.deepEqual(linesOf(run.stdout), want, direction);
      assert.match(
        run.stderr,
        // One warning, of this answer: the server's, of its hot lines alone, is not repeated.
        new RegExp(
          `^loge: warning: the answer holds the first ${want.length} lines, not 100: .*\n$`,
        ),
      );
    }
    await server.stop();
    server = await startServer({ dir, args: nodeArgs, env: s3.env });
    url = server.url;

    // Without the key, --local is refused as plain search is.
    const refused = await search(['{app="web"}', "--addr", url, "--local"]);
    assert.equal(refused.code, 1);
    assert.equal(
      refused.stderr,
      `loge: loge at ${url} answered 401: missing API key: send Authorization: Bearer <key>, ` +
        "or Basic with the key as password\n",
    );

    // S3 down: the hot lines still come, with a warning per cold segment.
    await s3.stop();
    const down = await search(['{app="web"}', "--limit", "5000", "--addr", url, "--local"]
      .concat(["--api-key", KEY]));
    assert.equal(down.code, 0, down.stderr);
    assert.deepEqual(linesOf(down.stdout), expected(hot, (r) => r[0].app === "web", 5000));
    const warnings = down.stderr.trimEnd().split("\n");
    assert.equal(warnings.length, segments_remote, down.stderr);
    for (const w of warnings) {
      assert.match(
        w,
        /^loge: warning: segment node-a\/\S+ in s3 was skipped: cannot read cold segment node-a\/\S+ \(bytes=\d+-\d+\): /,
      );
      assert.ok(!w.includes("X-Amz-Signature"), "warnings never show a signed URL");
    }
  } finally {
    await server?.stop().catch(() => {});
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
});

Deno.test("search plan without a cold tier: the hot answer, no segments; bad parameters are 400", () =>
  withServer(async ({ url }) => {
    const rows = Array.from({ length: 50 }, (_, i): Row => [
      { app: i % 2 ? "web" : "api" },
      T0 + BigInt(i) * MS,
      i % 3 ? `level=info n=${i}` : JSON.stringify({ n: i, timestamp: `t${i}` }),
      i % 5 === 0 ? { trace: `t${i}` } : undefined,
    ]);
    await push(url, rows);
    for (
      const [query, limit, direction] of [
        ['{app=~".+"}', "20", "backward"],
        ['{app="api"} | json', "100", "forward"],
        ['{app="web"} | logfmt | n > 30', "5", "backward"],
      ]
    ) {
      const p = await call(
        url,
        `/api/v1/search/plan?${new URLSearchParams({ query, limit, direction })}`,
      );
      assert.equal(p.status, 200, p.text);
      assert.deepEqual(p.body.segments, []);
      const q = await call(url, "/api/v1/query", {
        body: { query, limit: Number(limit), direction },
      });
      assert.ok(q.body.data.length > 0, query);
      assert.deepEqual(p.body.hot, q.body.data, query);
      // The CLI prints the same either way.
      for (const output of ["text", "json"]) {
        const args = [query, "--addr", url, "--limit", limit, "--direction", direction];
        args.push("--output", output);
        assert.equal(await ok([...args, "--local"]), await ok(args), `${query} ${output}`);
      }
    }
    const bad: [string, string][] = [
      ["limit=0", 'limit must be a positive integer, got "0"'],
      ["direction=sideways", 'direction must be "backward" or "forward", got "sideways"'],
      [
        `query=${encodeURIComponent("{app=")}`,
        'cannot parse query at 6: expected quoted string ("..." or `...`)',
      ],
      [
        "start=yesterday",
        'start must be a non-negative integer of unix nanoseconds, got "yesterday"',
      ],
      ["start=9&end=3", "start (9) is after end (3)"],
    ];
    for (const [params, error] of bad) {
      const r = await call(url, `/api/v1/search/plan?${params}`);
      assert.equal(r.status, 400, params);
      assert.equal(r.body.status, "error");
      assert.equal(r.body.error, error, params);
    }
    assert.equal((await call(url, "/api/v1/search/plan", { method: "POST" })).status, 405);
    // Bad values of the new flags exit 2, naming the flag.
    const usage: [string[], string][] = [
      [["--concurrency", "0"], 'invalid value "0" for --concurrency: expected an integer ≥ 1'],
      [
        ["--frame-cache-size", "-1"],
        'invalid value "-1" for --frame-cache-size: expected an integer ≥ 0',
      ],
      [
        ["--direction", "up"],
        'invalid value "up" for --direction: expected one of backward, forward',
      ],
    ];
    for (const [args, message] of usage) {
      const run = await search(["{}", "--addr", url, "--local", ...args]);
      assert.equal(run.code, 2, run.stderr);
      assert.equal(run.stderr, `loge: ${message}\n`);
    }
  }));
