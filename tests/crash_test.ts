/**
 * SIGKILL the server while pushes are in flight, restart it, and prove every
 * acknowledged line is stored exactly once (and no line twice). Rounds default
 * to 3; set LOGE_CRASH_ROUNDS=20 for the full run.
 */
import assert from "node:assert/strict";
import { startServer } from "../testing/server.ts";
import { storedLines } from "../testing/stored_lines.ts";

const ROUNDS = Number(Deno.env.get("LOGE_CRASH_ROUNDS") ?? "3");
const FAST = [
  "--payload-size",
  "50",
  "--flush-interval",
  "50ms",
  "--compact-interval",
  "100ms",
  "--compact-min-files",
  "2",
  "--checkpoint-interval",
  "100ms",
];

Deno.test(`acknowledged lines survive SIGKILL exactly once (${ROUNDS} rounds)`, async () => {
  const dir = await Deno.makeTempDir({ prefix: "loge-crash-" });
  const acknowledged = new Set<string>();
  try {
    for (let round = 0; round < ROUNDS; round++) {
      const server = await startServer({ dir, args: FAST });
      let stop = false;
      const pusher = async (worker: number) => {
        for (let n = 0; !stop; n++) {
          const lines = Array.from({ length: 20 }, (_, i) => `r${round} w${worker} p${n} l${i}`);
          const body = JSON.stringify({
            streams: [{
              stream: { app: `w${worker % 3}`, round: String(round) },
              values: lines.map((
                line,
                i,
              ) => [String(1_700_000_000_000_000_000n + BigInt(n * 20 + i)), line]),
            }],
          });
          try {
            const res = await fetch(`${server.url}/api/v1/push`, {
              method: "POST",
              headers: { "content-type": "application/json" },
              body,
            });
            await res.body?.cancel();
            if (res.status === 200) { for (const l of lines) acknowledged.add(l); }
          } catch {
            return; // the server is gone
          }
        }
      };
      const pushers = Array.from({ length: 4 }, (_, w) => pusher(w));
      await new Promise((r) => setTimeout(r, 200 + Math.random() * 800));
      await server.kill();
      stop = true;
      await Promise.all(pushers);
    }
    // Restart once more, let replay finish, stop cleanly, then read the files.
    const last = await startServer({ dir, args: FAST });
    assert.equal(await last.stop(), 0, last.stderr());
    const lines = await storedLines(dir);
    const counts = new Map<string, number>();
    for (const l of lines) counts.set(l.line, (counts.get(l.line) ?? 0) + 1);
    const twice = [...counts].filter(([, n]) => n > 1);
    assert.deepEqual(twice.slice(0, 5), [], `${twice.length} lines stored more than once`);
    const missing = [...acknowledged].filter((l) => !counts.has(l));
    assert.deepEqual(missing.slice(0, 5), [], `${missing.length} acknowledged lines lost`);
    assert.ok(acknowledged.size > 0, "no push was acknowledged");
    assert.deepEqual(await Array.fromAsync(Deno.readDir(`${dir}/wal`)), []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
