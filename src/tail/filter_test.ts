import assert from "node:assert/strict";
import type { PushStream } from "../ingest/payload.ts";
import type { LogEntry } from "../query/top_entries.ts";
import { logQuery } from "../../testing/log_query.ts";
import { TailFilter } from "./filter.ts";

const web = { key: '{"app":"web"}', labels: { app: "web" } };

function kept(query: string, pushed: PushStream): LogEntry[] {
  const out: LogEntry[] = [];
  new TailFilter(logQuery(query)).run(web, pushed, (e) => out.push(e));
  return out;
}

Deno.test("a tail keeps the lines its whole pipeline keeps, in order", () => {
  const lines = [
    '{"level":"error","msg":"x1"}',
    '{"level":"info","msg":"x2"}',
    "error x3, not JSON",
    '{"level":"error","msg":"none"}',
    '{"level":"error","msg":"x5"}',
  ];
  const out = kept('{app="web"} |= "x" | json | level="error"', {
    key: web.key,
    ts: lines.map((_, i) => BigInt(i)),
    lines,
  });
  assert.deepEqual(out.map((e) => [e.ts, e.parsed?.msg]), [[0n, "x1"], [4n, "x5"]]);
});

Deno.test("terms a label filter implies skip lines, but not lines whose metadata may match", () => {
  const out = kept('{app="web"} | logfmt | level="error"', {
    key: web.key,
    ts: [1n, 2n, 3n],
    lines: ["level=info msg=a", "msg=b", "level=error msg=c"],
    metadata: [undefined, JSON.stringify({ level: "error" }), undefined],
  });
  // "msg=b" has no "error" in its text: its metadata holds the label.
  assert.deepEqual(out.map((e) => e.line), ["msg=b", "level=error msg=c"]);
  assert.deepEqual(out[0].metadata, { level: "error" });
});

Deno.test("streams the matchers do not select are left whole", () => {
  const filter = new TailFilter(logQuery('{app="api"}'));
  let n = 0;
  filter.run(web, { key: web.key, ts: [1n], lines: ["x"] }, () => n++);
  assert.equal(n, 0);
  assert.ok(!filter.selects(web));
});
