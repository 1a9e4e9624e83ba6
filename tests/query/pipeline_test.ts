/**
 * End-to-end tests of log pipelines through `POST /api/v1/query` against the
 * real `loge serve` process: the same answers from memory and flush files,
 * then from compacted segments. Expected answers are computed here from the
 * pushed lines.
 *
 * @module
 */

import assert from "node:assert/strict";
import { startServer } from "../../testing/server.ts";
import {
  call,
  type Labels,
  push,
  query,
  stats,
  waitCompacted,
  waitFor,
} from "../../testing/http.ts";

const T0 = 1_700_000_000_000_000_000n;
const MS = 1_000_000n;

interface Pushed {
  labels: Labels;
  ts: bigint;
  line: string;
  metadata?: Labels;
  status: number;
  user: string;
  json: boolean;
}

const PUSHED: Pushed[] = Array.from({ length: 16 }, (_, i) => {
  const status = [200, 500, 404, 503][i % 4];
  const user = `u${i % 3}`;
  const json = i % 2 === 0;
  return {
    labels: { app: i % 3 === 0 ? "api" : "web" },
    ts: T0 + BigInt(i) * MS,
    line: json
      ? JSON.stringify({ status, req: { user }, took: `${i * 40}ms` })
      : `status=${status} user=${user} took=${i * 40}ms msg="line ${i}"`,
    metadata: i % 5 === 0 ? { trace_id: `t${i}` } : undefined,
    status,
    user,
    json,
  };
});

interface Answer {
  timestamp: bigint;
  line: string;
  labels: Labels;
  metadata?: Labels;
  parsed?: Labels;
}

/** The expected answer, newest first, as the server encodes entries. */
function expected(
  keep: (p: Pushed) => boolean,
  shape: (p: Pushed) => Partial<Answer> = () => ({}),
): Answer[] {
  return PUSHED.filter(keep).sort((a, b) => (a.ts > b.ts ? -1 : 1)).map((p) => ({
    timestamp: p.ts,
    line: p.line,
    labels: p.labels,
    ...(p.metadata ? { metadata: p.metadata } : {}),
    ...shape(p),
  }));
}

const CASES: [string, Answer[]][] = [
  [
    '{app=~".+"} | json | __error__="" | status >= 500',
    expected((p) => p.json && p.status >= 500, (p) => ({
      parsed: { status: String(p.status), req_user: p.user, took: JSON.parse(p.line).took },
    })),
  ],
  [
    '{app=~".+"} | logfmt | user="u1" | keep app',
    expected((p) => !p.json && p.user === "u1").map(({ metadata: _, ...a }) => a),
  ],
  [
    '{app=~".+"} | trace_id=~"t1.*"',
    expected((p) => p.metadata?.trace_id.startsWith("t1") ?? false),
  ],
  [
    '{app=~".+"} |= "u2" or "503" | logfmt --strict | __error__="" | line_format "{{.user}}:{{.status}}" | drop msg, took, user, status',
    expected((p) => !p.json && (p.line.includes("u2") || p.line.includes("503")))
      .map((a) => {
        const p = PUSHED.find((x) => x.ts === a.timestamp)!;
        return { ...a, line: `${p.user}:${p.status}` };
      }),
  ],
];

async function answers(url: string): Promise<Answer[][]> {
  const out: Answer[][] = [];
  for (const [text, want] of CASES) {
    const { entries } = await query(url, { query: text, limit: 100 });
    assert.deepEqual(entries, want, text);
    out.push(entries as Answer[]);
  }
  return out;
}

Deno.test("log pipelines answer the same from memory, flush files and compacted segments", async () => {
  let server = await startServer({
    args: [
      ...["--compact-interval", "0", "--payload-size", "4", "--flush-interval", "1h"],
      // Two flush workers, as the file count needs: one would write batches queued behind its
      // current file into one.
      ...["--flush-coalesce", "0", "--flush-workers", "2"],
    ],
  });
  const dir = server.dir;
  const row = (
    p: Pushed,
  ): [Labels, bigint, string, Labels?] => [p.labels, p.ts, p.line, p.metadata];
  try {
    await push(server.url, PUSHED.slice(0, 4).map(row));
    await push(server.url, PUSHED.slice(4, 8).map(row));
    for (const p of PUSHED.slice(8)) await push(server.url, [row(p)]);
    await waitFor("two flush files", async () => (await stats(server.url)).flush_files === 2);
    const fromMemory = await answers(server.url);
    // An unsupported construct is a 400 naming it.
    const refused = await call(server.url, "/api/v1/query", {
      body: { query: '{app="web"} | unwrap took' },
    });
    assert.equal(refused.status, 400);
    assert.match(refused.text, /unsupported pipeline stage \\?"\| unwrap\\?"/);

    assert.equal(await server.stop(), 0);
    server = await startServer({
      dir,
      args: ["--compact-interval", "200ms", "--compact-min-files", "2"],
    });
    await waitCompacted(dir);
    assert.ok((await stats(server.url)).compacted_segments >= 1);
    assert.deepEqual(await answers(server.url), fromMemory);
  } finally {
    await server.stop().catch(() => {});
    await Deno.remove(dir, { recursive: true });
  }
});
