import assert from "node:assert/strict";
import { missing } from "./baselines.ts";
import type { DataDirUsage } from "./data_dir.ts";
import {
  type ColdQueryFigure,
  type ColdTierFigure,
  emptyFigures,
  type Figures,
  type IngestFigure,
  type MetricQueryFigure,
  missingFigures,
  NOT_MEASURED,
  type QueryFigure,
  reportRows,
  type SustainedFigure,
} from "./figures.ts";
import { METRIC_QUERIES, QUERIES } from "./queries.ts";
import type { Summary } from "./stats.ts";

const ms = (p50: number): Summary => ({
  runs: 20,
  min: p50,
  p50,
  p95: p50 * 1.5,
  p99: p50 * 2,
  max: p50 * 2,
  mean: p50,
});

const usage: DataDirUsage = {
  totalBytes: 45_000_000,
  files: 3,
  segmentBytes: 44_000_000,
  segments: 1,
  flushBytes: 0,
  flushFiles: 0,
  catalogBytes: 1_000_000,
  walBytes: 0,
  otherBytes: 0,
};

function ingestFigure(linesPerSec: number): IngestFigure {
  return {
    lines: 1_000_000,
    requests: 1000,
    errors: 0,
    firstError: null,
    statuses: { "200": 1000 },
    seconds: 1_000_000 / linesPerSec,
    linesPerSec,
    bytes: 280_000_000,
    mbPerSec: 80,
    latencyMs: ms(20),
    encodeSeconds: 3,
    clients: 2,
    concurrency: 4,
    batch: 1000,
    format: "json",
    flushSeconds: 0.5,
    serverArgs: [],
    shutdownCode: 0,
    shutdownMs: 300,
  };
}

function query(p50: number, rgP50: number): QueryFigure {
  return {
    title: "t",
    query: "q",
    window: "no time bound",
    limit: 100,
    hits: 100,
    expectHits: 100,
    ms: ms(p50),
    baselines: {
      "rg -F": { command: "rg -F x lines.txt", hits: 100, ms: ms(rgP50) },
      "grep -F": missing("grep"),
      "zstd -dc | rg -F": { command: "zstd -dc | rg", hits: 100, ms: ms(rgP50 * 3) },
    },
  };
}

function coldQuery(title: string, p50: number, firstBytes: number): ColdQueryFigure {
  return {
    title,
    query: "q",
    window: "no time bound",
    limit: 100,
    hits: 1,
    expectHits: 1,
    first: { ms: p50 * 4, gets: 9, bytes: firstBytes },
    firstServer: { gets: 9, bytes_fetched: firstBytes, index_cache_misses: 8 },
    firstFetchedFraction: firstBytes / 50_000_000,
    ms: ms(p50),
    warmPerRun: { gets: 0, bytes: 0 },
  };
}

function metricQuery(p50: number, targetP50Ms: number): MetricQueryFigure {
  return {
    title: "m",
    query: "q",
    window: "last hour, step 1m",
    series: 3,
    expectSeries: 3,
    points: 183,
    lines: 41_000,
    expectLines: 41_000,
    ms: ms(p50),
    targetP50Ms,
  };
}

function sustained(): SustainedFigure {
  const sample = {
    t: 0,
    ingesting: true,
    linesAcked: 0,
    rowsInFiles: 0,
    rssMB: 150,
    flushFiles: 30,
    flushRawBytes: 40e6,
    unitsWaiting: 1,
    compacting: true,
    statsMs: 4,
  };
  return {
    minutes: 2,
    serverArgs: [],
    clients: 2,
    concurrency: 4,
    batch: 1000,
    poolLines: 256_000,
    rate: 300_000,
    probeQuery: `{app="web"}, limit 100, last 5 minutes of pushed time`,
    lines: 36_000_000,
    requests: 36_000,
    errors: 0,
    firstError: null,
    statuses: { "200": 36_000 },
    bytes: 13e9,
    seconds: 120,
    linesPerSec: 300_000,
    linesPerSecond: Array(120).fill(300_000),
    flushFilesAt60s: 40,
    flushFilesAtEnd: 45,
    maxFlushFiles: 48,
    maxFlushFilesAt: 97,
    maxFlushRawBytes: 64e6,
    queryMs: ms(20),
    probeErrors: 0,
    peakRssMB: 180,
    peakRssAfterMB: 170,
    finalSeconds: 35,
    notFinal: null,
    folderAtFinal: usage,
    rssAfterIdleMB: 120,
    idleSeconds: 10,
    samples: [sample, { ...sample, t: 1 }],
    probes: [{ t: 0, ms: 20, hits: 100 }],
  };
}

/** The cold-tier figure of `f`, which must have one. */
function coldTier(f: Figures): ColdTierFigure {
  assert.ok(f.coldTier !== null && !("missing" in f.coldTier));
  return f.coldTier;
}

function complete(): Figures {
  const f = emptyFigures();
  f.corpus = {
    lines: 1_000_000,
    seed: 42,
    start: "1",
    end: "2",
    rate: 200,
    rawBytes: 227_000_000,
    rawBytesPerLine: 227,
    ndjsonBytes: 375_000_000,
    needle: { index: 5, traceId: "ab", ts: "3" },
    seconds: 4,
  };
  f.ingest.durable = ingestFigure(350_000);
  f.ingest.nonDurable = ingestFigure(250_000);
  f.ingest.lokiProtobuf = { ...ingestFigure(420_000), format: "loki-protobuf", mbPerSec: 30 };
  f.ingest.otlpProtobuf = { ...ingestFigure(400_000), format: "otlp-protobuf", mbPerSec: 60 };
  f.ingest.esBulk = { ...ingestFigure(380_000), format: "es-bulk", mbPerSec: 90 };
  f.storage = {
    atRest: usage,
    running: usage,
    bytesPerLine: 45,
    compactionSeconds: 3,
    zstd3: { command: "zstd -3", bytes: 55_000_000, bytesPerLine: 55, seconds: 1 },
    zstd19: { command: "zstd -19", bytes: 40_000_000, bytesPerLine: 40, seconds: 90 },
    ratioToZstd19: 1.125,
    ratioToZstd3: 0.818,
  };
  f.wideStorage = {
    lines: 20_000,
    seed: 42,
    rawBytes: 20_240_000,
    rawBytesPerLine: 1012,
    needle: { index: 9_000, traceId: "cd" },
    push: { seconds: 2, linesPerSec: 10_000, mbPerSec: 11 },
    serverArgs: ["--compact-interval", "1s"],
    atRest: { ...usage, totalBytes: 2_300_000, segmentBytes: 2_200_000, catalogBytes: 100_000 },
    running: usage,
    bytesPerLine: 115,
    compactionSeconds: 1.5,
    zstd3: { command: "zstd -3", bytes: 3_040_000, bytesPerLine: 152, seconds: 0.1 },
    zstd19: { command: "zstd -19", bytes: 2_160_000, bytesPerLine: 108, seconds: 12 },
    ratioToZstd19: 1.065,
    ratioToZstd3: 0.757,
  };
  f.queries = {
    needle: query(10, 100),
    common: query(60, 5),
    label: query(5, 2),
    regex: query(8, 4),
    jsonTrace: query(30, 100),
    jsonStatus: query(70, 5),
  };
  f.rss = {
    ingestDurableMB: 150,
    ingestNonDurableMB: 250,
    ingestLokiProtobufMB: 160,
    ingestOtlpProtobufMB: 165,
    ingestEsBulkMB: 170,
    compactionMB: 180,
    queriesMB: 100,
    queryServerLifetimeMB: 260,
  };
  f.restart = {
    shutdownMs: 300,
    shutdownCode: 0,
    toListeningMs: 100,
    toFirstQueryMs: 400,
    emptyAnswersBeforeHit: 0,
  };
  f.metricQueries = { volumeByLevel: metricQuery(120, 300), timeoutRate: metricQuery(1500, 1000) };
  f.tail = {
    clients: { websocket: 25, sse: 25 },
    query: '{app=~"probe|load"} |= "probe-"',
    probes: 200,
    loadLinesPerSec: 9_990,
    latencyMs: ms(110),
    missed: 0,
    repeated: 0,
    dropped: 0,
  };
  f.sustained = sustained();
  f.coldTier = {
    store: "s3rver 3.7.1 on loopback",
    rotateArgs: ["--s3-bucket", "b"],
    queryArgs: ["--s3-bucket", "b"],
    segments: 8,
    remoteBytes: 50_000_000,
    uploadedBytes: 50_000_000,
    rotationSeconds: 4.2,
    indexCacheBytes: 700_000,
    restartToListeningMs: 250,
    queries: {
      needle: coldQuery("needle", 120, 800_000),
      label: { ...coldQuery("label", 250, 300_000), warmPerRun: { gets: 0.5, bytes: 1500 } },
    },
    seconds: 9,
  };
  return f;
}

Deno.test("missingFigures() lists nothing for a complete run, missing tools included", () => {
  assert.deepEqual(missingFigures(complete()), []);
  const f = complete();
  f.storage!.zstd19 = missing("zstd");
  assert.deepEqual(missingFigures(f), []);
});

Deno.test("missingFigures() lists every figure not produced", () => {
  const f = complete();
  f.ingest.nonDurable = null;
  f.queries.label = null;
  f.queries.needle!.baselines["rg -F"] = { error: "exit code 2" };
  f.rss.queriesMB = null;
  f.storage!.zstd19 = null;
  f.metricQueries.timeoutRate = null;
  assert.deepEqual(missingFigures(f), [
    "ingest.nonDurable",
    "storage.zstd19",
    "queries.needle.baselines.rg -F",
    "queries.label",
    "metricQueries.timeoutRate",
    "rss.queriesMB",
  ]);
  const empty = missingFigures(emptyFigures());
  for (
    const path of [
      "corpus",
      "storage",
      "wideStorage",
      "restart",
      "tail",
      "sustained",
      ...QUERIES.map((q) => `queries.${q.key}`),
      ...METRIC_QUERIES.map((q) => `metricQueries.${q.key}`),
    ]
  ) {
    assert.ok(empty.includes(path), path);
  }
});

Deno.test("reportRows() checks every target", () => {
  const rows = reportRows(complete(), "2 clients");
  const judged = rows.filter((r) => r.target !== undefined).map((r) => [r.figure, r.pass]);
  assert.deepEqual(judged, [
    ["ingest, durable (2 clients)", true],
    ["  ↳ Loki snappy protobuf push beside durable JSON push", true],
    ["  ↳ OTLP protobuf push beside durable JSON push", true],
    ["  ↳ Elasticsearch bulk push beside durable JSON push", true],
    ["peak server RSS, durable ingest", true],
    ["peak server RSS, --durable=false ingest", false],
    ["peak server RSS, durable, Loki snappy protobuf ingest", true],
    ["peak server RSS, durable, OTLP protobuf ingest", true],
    ["peak server RSS, durable, Elasticsearch bulk ingest", true],
    ["peak server RSS, compaction", true],
    ["peak server RSS, queries", true],
    ["stored bytes/line after compaction (every file)", false],
    ["stored bytes/line after compaction, wide JSON lines (20,000 lines of ~1,012 B)", true],
    ["query: needle trace id, no time bound", true],
    ["  ↳ speedup over rg -F", true],
    [`query: |= "timeout", limit 100`, false],
    [`query: {app="web"}, limit 100, last 5 minutes`, true],
    [`query: {app=~".+"} | json | trace_id="<a JSON line's>", no time bound`, true],
    [`query: {app="web", service="frontend"} | json | status >= 500, limit 100`, false],
    [`query: sum by (level) (count_over_time({app="web"}[1m])), last hour, step 1m`, true],
    [`query: sum(rate({app=~".+"} |= "timeout" [5m])), last hour, step 1m`, false],
    ["restart → first answered query", true],
    [
      "tail latency with 50 clients (25 WebSocket, 25 SSE), push ack → line at each client, 9,990 lines/s of load",
      true,
    ],
    ["flush files after 60 s of full ingest", true],
    ["cheap query p50 during full ingest", true],
    ["peak server RSS, sustained ingest", true],
    ["ingest end → final folder", true],
    ["cold tier (S3), after a restart: needle trace id, no time bound", true],
    ["  ↳ first run, no index cached", true],
    [`cold tier (S3), after a restart: {app="web"}, limit 100, last hour`, false],
  ]);
  const needle = rows.find((r) => r.figure === "  ↳ speedup over rg -F")!;
  assert.equal(needle.ratio, "10× faster");
  assert.equal(needle.target, "≥ 5× faster");
  const grep = rows.filter((r) => r.figure === "  ↳ beside grep -F");
  assert.equal(grep.length, 6);
  assert.equal(grep[0].baseline, missing("grep").missing);
  assert.equal(grep[0].ratio, undefined);
  const size = rows.find((r) => r.figure.startsWith("stored bytes/line"))!;
  assert.equal(size.value, "45.0 B/line (45.0 MB, 1 segment)");
  assert.equal(size.baseline, "zstd -19 -T1: 40.0 B/line (took 90.0 s)");
  assert.equal(size.ratio, "1.1×");
  const loki = rows.find((r) => r.figure.startsWith("ingest, durable, Loki"))!;
  assert.equal(loki.figure, "ingest, durable, Loki snappy protobuf (2 clients)");
  assert.equal(loki.value, "420,000 lines/s (30.0 MB/s of snappy protobuf)");
  const volume = rows.find((r) => r.figure.startsWith("query: sum by (level)"))!;
  assert.equal(volume.value, "120 ms p50 · 180 ms p95 (3 series, 183 samples)");
  assert.equal(volume.target, "≤ 300 ms p50");
  const target = rows.find((r) => r.figure.includes("beside durable JSON push"))!;
  assert.equal(target.baseline, "JSON: 350,000 lines/s");
  assert.equal(target.ratio, "1.2×");
  assert.equal(target.target, "≥ JSON push");
});

Deno.test("reportRows() names the Loki payload in the setup and fails a slower Loki push", () => {
  const f = complete();
  f.ingest.lokiProtobuf = ingestFigure(300_000);
  const rows = reportRows(f, "2 clients × 4 in flight, 1000-line JSON batches");
  assert.ok(rows.some((r) =>
    r.figure ===
      "ingest, durable, Loki snappy protobuf (2 clients × 4 in flight, 1000-line snappy protobuf batches)"
  ));
  assert.ok(
    rows.some((r) =>
      r.figure === "ingest, durable (2 clients × 4 in flight, 1000-line JSON batches)"
    ),
  );
  const target = rows.find((r) => r.figure.includes("beside durable JSON push"))!;
  assert.equal(target.pass, false);
});

Deno.test("reportRows() marks figures not produced and judges nothing about them", () => {
  const rows = reportRows(emptyFigures(), "2 clients");
  const unmeasured = rows.filter((r) => r.value === NOT_MEASURED);
  assert.ok(unmeasured.length >= 10);
  assert.ok(rows.every((r) => r.pass === undefined));
  assert.ok(rows.some((r) => r.figure === "restart → first answered query"));
});

Deno.test("reportRows() gives the wide JSON lines' bytes beside zstd -19, zstd -3 and raw", () => {
  const f = complete();
  const rows = () => {
    const all = reportRows(f, "x");
    const at = all.findIndex((r) => r.figure.includes("wide JSON lines"));
    return all.slice(at, at + 4);
  };
  assert.deepEqual(rows().map((r) => [r.figure, r.value, r.baseline, r.ratio, r.target]), [
    [
      "stored bytes/line after compaction, wide JSON lines (20,000 lines of ~1,012 B)",
      "115.0 B/line (2.3 MB, 1 segment)",
      "zstd -19 -T1: 108.0 B/line (took 12.0 s)",
      "1.1×",
      "≤ 1.1× zstd -19",
    ],
    ["  ↳ last push → compaction done", "1.50 s", undefined, undefined, undefined],
    ["  ↳ beside zstd -3", "", "zstd -3 -T1: 152.0 B/line (took 0.1 s)", "0.76×", undefined],
    ["  ↳ beside the raw wide.txt", "", "1012.0 B/line (20.2 MB)", "0.11×", undefined],
  ]);
  // Over 1.1× zstd -19 fails; a missing zstd leaves it unjudged, not unproduced.
  f.wideStorage!.atRest = { ...usage, totalBytes: 2_400_000 };
  assert.equal(rows()[0].pass, false);
  f.wideStorage!.zstd19 = missing("zstd");
  f.wideStorage!.ratioToZstd19 = null;
  assert.equal(rows()[0].pass, undefined);
  assert.equal(rows()[0].baseline, "zstd missing (apt-get install -y ripgrep zstd)");
  assert.deepEqual(missingFigures(f), []);
  f.wideStorage!.zstd3 = null;
  assert.deepEqual(missingFigures(f), ["wideStorage.zstd3"]);
});

Deno.test("wide JSON lines not measured are listed and left unjudged", () => {
  const f = complete();
  f.wideStorage = null;
  assert.deepEqual(missingFigures(f), ["wideStorage"]);
  const rows = reportRows(f, "x").filter((r) => r.figure.includes("wide JSON lines"));
  assert.deepEqual(rows, [{
    figure: "stored bytes/line after compaction, wide JSON lines",
    value: NOT_MEASURED,
    target: "≤ 1.1× zstd -19",
  }]);
});

Deno.test("reportRows() shows a missing zstd and leaves the size target unjudged", () => {
  const f = complete();
  f.storage!.zstd19 = missing("zstd");
  f.storage!.ratioToZstd19 = null;
  const size = reportRows(f, "x").find((r) => r.figure.startsWith("stored bytes/line"))!;
  assert.equal(size.baseline, "zstd missing (apt-get install -y ripgrep zstd)");
  assert.equal(size.pass, undefined);
});

Deno.test("reportRows() gives the cold tier's rotation, latencies and fetches", () => {
  const rows = reportRows(complete(), "x");
  const at = rows.findIndex((r) => r.figure === "cold tier (S3): rotation of every segment");
  assert.ok(at > 0);
  const [rotation, needle, needleFirst, label, labelFirst] = rows.slice(at);
  assert.equal(
    rotation.value,
    "4.20 s for 8 segments, 50.0 MB uploaded (s3rver 3.7.1 on loopback); their indexes: 700 kB",
  );
  assert.equal(needle.value, "120 ms p50 · 180 ms p95 (0 GETs, 0 B per run)");
  assert.equal(needle.target, "≤ 300 ms p50");
  assert.equal(needleFirst.value, "480 ms, 9 GETs, 800 kB (1.6% of 50.0 MB in S3)");
  assert.equal(needleFirst.target, "≤ 2.0% of the bytes in S3");
  assert.equal(label.value, "250 ms p50 · 375 ms p95 (0.5 GETs, 1.50 kB per run)");
  assert.equal(labelFirst.target, undefined);
  assert.equal(labelFirst.pass, undefined);

  const f = complete();
  coldTier(f).queries.needle!.firstFetchedFraction = 0.04;
  const first = reportRows(f, "x").find((r) => r.value.startsWith("480 ms, 9 GETs"))!;
  assert.equal(first.pass, false);
});

Deno.test("the cold tier without s3rver is reported missing, not as a figure not produced", () => {
  const f = complete();
  f.coldTier = { missing: "s3rver missing (npm ci --prefix tests/s3)" };
  assert.deepEqual(missingFigures(f), []);
  const rows = reportRows(f, "x").filter((r) => r.figure.startsWith("cold tier"));
  assert.deepEqual(rows, [
    { figure: "cold tier (S3)", value: "s3rver missing (npm ci --prefix tests/s3)" },
  ]);
});

Deno.test("a cold-tier query not measured is listed and left unjudged", () => {
  const f = complete();
  coldTier(f).queries.label = null;
  assert.deepEqual(missingFigures(f), ["coldTier.queries.label"]);
  const rows = reportRows(f, "x");
  const label = rows.find((r) => r.figure.endsWith("last hour"))!;
  assert.equal(label.value, NOT_MEASURED);
  assert.equal(label.pass, undefined);
  f.coldTier = null;
  assert.deepEqual(missingFigures(f), ["coldTier"]);
  const cold = reportRows(f, "x").filter((r) => r.figure.startsWith("cold tier"));
  assert.ok(cold.length >= 3 && cold.every((r) => r.value === NOT_MEASURED));
});

Deno.test("reportRows() gives the tail latency and fails it for a missed or late line", () => {
  const f = complete();
  const row = () => reportRows(f, "2 clients").find((r) => r.figure.startsWith("tail latency"))!;
  assert.equal(row().value, "110 ms p50 · 220 ms p99");
  assert.equal(row().target, "≤ 1.00 s p99, none missed");
  f.tail!.missed = 3;
  f.tail!.dropped = 1200;
  assert.equal(row().value, "110 ms p50 · 220 ms p99 (3 missed, 1,200 dropped)");
  assert.equal(row().pass, false);
  f.tail!.missed = 0;
  f.tail!.latencyMs = ms(600);
  assert.equal(row().pass, false);
  f.tail = null;
  assert.equal(row().value, NOT_MEASURED);
  assert.ok(missingFigures(f).includes("tail"));
});

Deno.test("reportRows() gives the sustained load and judges each of its targets", () => {
  const f = complete();
  const s = sustained();
  f.sustained = s;
  const rows = () => {
    const all = reportRows(f, "x");
    const at = all.findIndex((r) => r.figure.startsWith("sustained ingest"));
    return all.slice(at, at + 6);
  };
  assert.deepEqual(rows().map((r) => [r.figure, r.value, r.target]), [
    [
      "sustained ingest, 2 min (2 clients × 4 in flight, 1000-line JSON batches from a pool of 256,000 lines)",
      "300,000 lines/s (36,000,000 lines in 120.0 s)",
      undefined,
    ],
    ["flush files after 60 s of full ingest", "40", "≤ 50"],
    ["max flush files during the run", "48 (at 97 s; backlog up to 64.0 MB raw)", undefined],
    [
      "cheap query p50 during full ingest",
      `20.0 ms p50 · 30.0 ms p95 · 40.0 ms max (20 probes of {app="web"}, limit 100, last 5 minutes of pushed time)`,
      "≤ 50 ms p50",
    ],
    [
      "peak server RSS, sustained ingest",
      "180.0 MB (after: 170.0 MB peak, 120.0 MB after 10 s idle)",
      "≤ 200 MB",
    ],
    ["ingest end → final folder", "35.0 s (45.0 MB, 3 files)", "≤ 120 s"],
  ]);
  // Each target missed in turn.
  s.flushFilesAt60s = 51;
  s.queryMs = ms(51);
  s.peakRssMB = 201;
  s.finalSeconds = 121;
  assert.deepEqual(rows().filter((r) => r.target !== undefined).map((r) => r.pass), [
    false,
    false,
    false,
    false,
  ]);
  // A run shorter than 60 s is judged on its end; a folder never final and no probe answered fail.
  s.flushFilesAt60s = null;
  s.seconds = 15;
  s.queryMs = null;
  s.probeErrors = 15;
  s.finalSeconds = null;
  s.folderAtFinal = null;
  s.notFinal = "Compaction not finished after 300 s: 70 flush files left";
  const [, files, , query, , final] = rows();
  assert.deepEqual([files.figure, files.value, files.pass], [
    "flush files at the end of 15 s of full ingest",
    "45",
    true,
  ]);
  assert.deepEqual([query.value, query.pass], ["no probe answered (15 failed)", false]);
  assert.deepEqual([final.value, final.pass], [`not final: ${s.notFinal}`, false]);
});

Deno.test("a skipped sustained load is reported missing; a failed one is not produced", () => {
  const f = complete();
  f.sustained = { missing: "sustained load skipped (--sustained-minutes 0)" };
  assert.deepEqual(missingFigures(f), []);
  assert.deepEqual(
    reportRows(f, "x").filter((r) => r.figure.startsWith("sustained")),
    [{ figure: "sustained load", value: "sustained load skipped (--sustained-minutes 0)" }],
  );
  f.sustained = null;
  assert.deepEqual(missingFigures(f), ["sustained"]);
  const rows = reportRows(f, "x");
  const at = rows.findIndex((r) => r.figure === "sustained ingest");
  assert.ok(rows.slice(at, at + 6).every((r) => r.value === NOT_MEASURED && r.pass === undefined));
});
