import assert from "node:assert/strict";
import { tailLatencyPhase } from "./tail_latency.ts";

Deno.test("tailLatencyPhase() times every probe at every tail of a real server", async () => {
  const dir = await Deno.makeTempDir({ prefix: "loge-bench-tail-" });
  const stderr: string[] = [];
  try {
    const figure = await tailLatencyPhase({
      dir,
      clients: 4,
      probes: 10,
      loadLinesPerSec: 1000,
      progress: () => {},
      serverStderr: stderr,
    });
    assert.deepEqual(figure.clients, { websocket: 2, sse: 2 });
    assert.equal(figure.probes, 10);
    assert.equal(figure.latencyMs.runs, 40);
    assert.equal(figure.missed, 0);
    assert.equal(figure.repeated, 0);
    assert.equal(figure.dropped, 0);
    assert.ok(figure.loadLinesPerSec > 500, String(figure.loadLinesPerSec));
    // Batches wait up to 100 ms; a probe is never seen long before its acknowledgement.
    assert.ok(figure.latencyMs.min > -50 && figure.latencyMs.p50 < 1000, JSON.stringify(figure));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
