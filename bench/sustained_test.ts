import assert from "node:assert/strict";
import type { SustainedProbe, SustainedSample } from "./figures.ts";
import { curveTable, summarizeSamples, sustainedPhase } from "./sustained.ts";

function sample(t: number, flushFiles: number, patch: Partial<SustainedSample> = {}) {
  return {
    t,
    ingesting: true,
    linesAcked: 0,
    rowsInFiles: 0,
    rssMB: 100,
    flushFiles,
    flushRawBytes: flushFiles * 1e6,
    unitsWaiting: 0,
    compacting: false,
    statsMs: 2,
    ...patch,
  };
}

Deno.test("summarizeSamples() takes flush files at 60 s, at the end of ingest and at most", () => {
  const samples: SustainedSample[] = [
    sample(0, 0),
    sample(59.9, 30),
    sample(60.4, 41),
    sample(61.4, 20),
    sample(62.4, 25),
    sample(63.4, 60, { ingesting: false }),
    sample(64.4, 10, { ingesting: false }),
  ];
  const probes: SustainedProbe[] = [
    { t: 0, ms: 30, hits: 0 },
    { t: 1, ms: 10, hits: 100 },
    { t: 2, ms: 1500, error: "HTTP 503" },
    { t: 3.5, ms: 20, hits: 100 },
  ];
  const s = summarizeSamples(samples, probes, 63);
  assert.equal(s.flushFilesAt60s, 41);
  assert.equal(s.flushFilesAtEnd, 25);
  assert.equal(s.maxFlushFiles, 60);
  assert.equal(s.maxFlushFilesAt, 63.4);
  assert.equal(s.maxFlushRawBytes, 60e6);
  assert.equal(s.probeErrors, 1);
  assert.deepEqual([s.queryMs?.runs, s.queryMs?.p50, s.queryMs?.max], [3, 20, 30]);

  // An ingest of 60.1 s whose next sample came after it: that sample.
  assert.equal(summarizeSamples(samples, probes, 60.1).flushFilesAt60s, 41);
  const after = [sample(59, 30), sample(60.5, 33, { ingesting: false })];
  assert.equal(summarizeSamples(after, [], 60.1).flushFilesAt60s, 33);
  const short = summarizeSamples(samples, [], 59.9);
  assert.equal(short.flushFilesAt60s, null);
  assert.equal(short.queryMs, null);
  assert.throws(
    () => summarizeSamples([sample(1, 1, { ingesting: false })], [], 1),
    /No sample of the server was taken during the ingest/,
  );
});

Deno.test("curveTable() gives one row per window, lines/s over the ingest part of each", () => {
  const table = curveTable({
    seconds: 3,
    linesPerSecond: [100, 200, 600],
    samples: [sample(0.5, 1), sample(1.5, 2), sample(2.5, 3), sample(3.5, 0, { rssMB: 80 })],
    probes: [{ t: 0.5, ms: 4, hits: 1 }, { t: 1.5, ms: 8, hits: 1 }, { t: 2.5, ms: 2, hits: 1 }],
  }, 2);
  const rowsOf = (text: string) =>
    text.split("\n").slice(2).map((r) => r.split("|").slice(1, -1).map((c) => c.trim()));
  assert.deepEqual(rowsOf(table), [
    // (100 + 200) / 2; the last sample of the window; p50 of 4 and 8.
    ["2", "150", "100.0", "2", "2.0", "4.0"],
    // 600 over the one second of ingest in [2, 4).
    ["4", "600", "80.0", "0", "0.0", "2.0"],
  ]);
  // 0.2 s of ingest in the last window: no rate; the end is the last sample, rounded up.
  const sliver = curveTable({
    seconds: 2.2,
    linesPerSecond: [100, 200, 60],
    samples: [sample(1, 1), sample(2.5, 0)],
    probes: [],
  }, 2);
  assert.deepEqual(rowsOf(sliver).map((r) => r.slice(0, 2)), [["2", "150"], ["3", "—"]]);
});

Deno.test("sustainedPhase() loads a real server, samples it each second, waits for a final folder", async () => {
  const dir = await Deno.makeTempDir({ prefix: "loge-bench-sustained-" });
  const stderr: string[] = [];
  try {
    const f = await sustainedPhase({
      dir,
      minutes: 0.05,
      clients: 2,
      concurrency: 2,
      batch: 200,
      poolBatches: 3,
      seed: 9,
      idleMs: 1000,
      progress: () => {},
      serverStderr: stderr,
    });
    assert.equal(f.errors, 0, f.firstError ?? "");
    assert.equal(f.poolLines, 2 * 3 * 200);
    // Far more lines than the pool: bodies went out again, and every line is stored once.
    assert.ok(f.lines > 5 * f.poolLines, String(f.lines));
    assert.equal(f.lines, f.requests * 200);
    assert.equal(f.linesPerSecond.reduce((a, n) => a + n, 0), f.lines);
    assert.ok(f.seconds >= 3 && f.seconds < 10, String(f.seconds));
    assert.ok(f.finalSeconds !== null, f.notFinal ?? "");
    assert.ok(f.folderAtFinal !== null && f.folderAtFinal.totalBytes > 0);
    assert.equal(f.samples.at(-1)!.rowsInFiles, f.lines);
    assert.equal(f.samples.at(-1)!.flushFiles, f.folderAtFinal.flushFiles);
    // One sample a second from the start to the end of the idle wait.
    const span = f.samples.at(-1)!.t - f.samples[0].t;
    assert.ok(Math.abs(f.samples.length - 1 - span) <= 2, `${f.samples.length} over ${span} s`);
    assert.ok(f.samples.every((s) => s.statsMs > 0));
    assert.ok(f.samples.some((s) => !s.ingesting));
    // A probe a second while the clients push; once lines are in, each finds 100 of app web.
    assert.ok(f.probes.length >= 3 && f.probes.length <= 5, String(f.probes.length));
    assert.equal(f.probeErrors, 0);
    assert.deepEqual(f.probes.slice(1).map((p) => p.hits), f.probes.slice(1).map(() => 100));
    assert.ok(f.peakRssMB > 20 && f.rssAfterIdleMB !== null);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
