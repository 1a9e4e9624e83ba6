import assert from "node:assert/strict";
import { runPushFleet } from "./push_fleet.ts";

Deno.test("runPushFleet() pushes every line once, from separate processes", async () => {
  const seen = new Set<string>();
  let requests = 0;
  const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, async (req) => {
    const body = await req.json() as { streams: { values: [string, string][] }[] };
    requests++;
    for (const s of body.streams) for (const [ts] of s.values) seen.add(ts);
    return new Response(null, { status: requests === 3 ? 500 : 200 });
  });
  try {
    const result = await runPushFleet({
      addr: `http://127.0.0.1:${server.addr.port}`,
      seed: 7,
      start: 1_795_219_200_000_000_000n,
      rate: 1000,
      lines: 2500,
      batch: 500,
      clients: 2,
      concurrency: 2,
      format: "json",
      timeoutMs: 10_000,
    });
    assert.equal(seen.size, 2500);
    assert.equal(result.requests, 5);
    assert.equal(result.errors, 1);
    assert.equal(result.lines, 2000);
    assert.deepEqual(result.statuses, { "200": 4, "500": 1 });
    assert.match(result.firstError ?? "", /^HTTP 500/);
    assert.equal(result.latencyMs.runs, 5);
    assert.ok(result.seconds > 0 && result.linesPerSec > 0);
  } finally {
    await server.shutdown();
  }
});

Deno.test("runPushFleet() reports a client that cannot reach the server", async () => {
  const result = await runPushFleet({
    addr: "http://127.0.0.1:9",
    seed: 7,
    start: 0n,
    rate: 1000,
    lines: 1000,
    batch: 1000,
    clients: 1,
    concurrency: 1,
    format: "json",
    timeoutMs: 5_000,
  });
  assert.equal(result.lines, 0);
  assert.equal(result.errors, 1);
  assert.match(result.firstError ?? "", /127\.0\.0\.1:9/);
});
