import assert from "node:assert/strict";
import { type FormatPush, formatRounds, memoryTable, roundsTable } from "./format_rounds.ts";
import { THREAD_GROUPS } from "./thread_cpu.ts";

const MAIN = new URL("./format_rounds.ts", import.meta.url).pathname;

function cpu(eventLoop: number, workers: number): FormatPush["cpu"] {
  return {
    "event loop": eventLoop,
    workers,
    "V8 helpers": 0,
    "file I/O": 0,
    other: 0,
    "ended threads": 0,
  };
}

/** Parts of a peak of `rss` MB: a fifth each, the rest in `other`. */
function parts(rss: number): FormatPush["peakParts"] {
  const fifth = rss / 5;
  return {
    files: fifth,
    v8Pages: fifth,
    glibcMainHeap: fifth,
    glibcThreadHeaps: fifth,
    other: rss - 4 * fifth,
  };
}

Deno.test("roundsTable() gives each format its rounds, their median, its ratio and its CPU a line", () => {
  const pushes: FormatPush[] = [
    {
      round: 1,
      format: "json",
      linesPerSec: 200_000,
      cpu: cpu(4, 2),
      peakRssMB: 380,
      peakParts: parts(380),
    },
    {
      round: 1,
      format: "es-bulk",
      linesPerSec: 170_000,
      cpu: cpu(5, 2),
      peakRssMB: 390,
      peakParts: parts(390),
    },
    {
      round: 2,
      format: "json",
      linesPerSec: 160_000,
      cpu: cpu(6, 2),
      peakRssMB: 400,
      peakParts: parts(400),
    },
    {
      round: 2,
      format: "es-bulk",
      linesPerSec: 168_000,
      cpu: cpu(7, 3),
      peakRssMB: 385,
      peakParts: parts(385),
    },
    {
      round: 3,
      format: "json",
      linesPerSec: 180_000,
      cpu: cpu(5, 2),
      peakRssMB: 370,
      peakParts: parts(370),
    },
    {
      round: 3,
      format: "es-bulk",
      linesPerSec: 150_000,
      cpu: cpu(6, 2),
      peakRssMB: 395,
      peakParts: parts(395),
    },
  ];
  const rows = roundsTable(pushes, 1_000_000).split("\n").map((line) =>
    line.split("|").slice(1, -1).map((cell) => cell.trim())
  );
  assert.deepEqual(rows[0].slice(0, 5), [
    "format",
    "lines/s by round",
    "median",
    "÷ json (rounds)",
    "server CPU µs/line",
  ]);
  assert.deepEqual(rows[0].slice(5, -1), [...THREAD_GROUPS]);
  // Medians: json 180,000; bulk 168,000 (0.933×); round ratios 0.85, 1.05, 0.833.
  // CPU a line over 1M lines: json 6, 8, 7 µs (median 7), event loop 4, 6, 5; bulk 7, 10, 8.
  assert.deepEqual(rows[2].slice(0, 8), [
    "json",
    "200,000 · 160,000 · 180,000",
    "180,000",
    "1.00× (1.00–1.00)",
    "7.00",
    "5.00",
    "2.00",
    "0.00",
  ]);
  assert.deepEqual(rows[3].slice(0, 7), [
    "es-bulk",
    "170,000 · 168,000 · 150,000",
    "168,000",
    "0.93× (0.83–1.05)",
    "8.00",
    "6.00",
    "2.00",
  ]);
  assert.equal(rows[2].at(-1), "400.0");
  assert.equal(rows[3].at(-1), "395.0");
});

Deno.test("memoryTable() shows where the memory was at each format's highest peak", () => {
  const push = (round: number, format: FormatPush["format"], peakRssMB: number): FormatPush => ({
    round,
    format,
    linesPerSec: 1,
    cpu: cpu(1, 1),
    peakRssMB,
    peakParts: parts(peakRssMB),
  });
  const rows = memoryTable([
    push(1, "json", 300),
    push(1, "es-bulk", 350),
    push(2, "json", 310),
    push(2, "es-bulk", 320),
  ]).split("\n").map((line) => line.split("|").slice(1, -1).map((cell) => cell.trim()));
  assert.deepEqual(rows[0], [
    "format",
    "peak RSS MB",
    "files (code)",
    "V8 heap pages",
    "glibc main heap",
    "glibc thread heaps",
    "other",
  ]);
  // json's highest peak is round 2's 310 MB (62 a fifth), bulk's round 1's 350 (70).
  assert.deepEqual(rows[2], ["json", "310.0", "62.0", "62.0", "62.0", "62.0", "62.0"]);
  assert.deepEqual(rows[3], ["es-bulk", "350.0", "70.0", "70.0", "70.0", "70.0", "70.0"]);
});

Deno.test("formatRounds() pushes every format into a fresh server each round", async () => {
  const progress: string[] = [];
  const pushes = await formatRounds({
    lines: 3000,
    rounds: 2,
    formats: ["json", "es-bulk"],
    floors: [],
    clients: 1,
    concurrency: 2,
    batch: 500,
    seed: 7,
  }, (m) => progress.push(m));
  assert.deepEqual(
    pushes.map((p) => [p.round, p.format]),
    [[1, "json"], [1, "es-bulk"], [2, "json"], [2, "es-bulk"]],
  );
  for (const p of pushes) {
    assert.ok(p.linesPerSec > 0);
    // A fresh server is ~100 MB; the busy threads took some CPU.
    assert.ok(p.peakRssMB > 50, `${p.peakRssMB} MB`);
    // The parts were read at a peak within 1% of the highest: they add up to about it.
    const parted = Object.values(p.peakParts).reduce((a, b) => a + b, 0);
    assert.ok(
      parted > p.peakRssMB * 0.9 && parted <= p.peakRssMB * 1.02,
      `${parted} MB in parts of a ${p.peakRssMB} MB peak`,
    );
    assert.ok(p.peakParts.files > 20, `${p.peakParts.files} MB of files: the deno binary's code`);
    assert.ok(Object.values(p.cpu).reduce((a, b) => a + b, 0) > 0);
    assert.ok(Object.values(p.cpu).every((s) => s >= 0));
  }
  assert.equal(progress.length, 4);
});

Deno.test("formatRounds() pushes into each floor server at the JSON push's rate", async () => {
  const pushes = await formatRounds({
    lines: 3000,
    rounds: 1,
    formats: ["json"],
    floors: ["receive", "parse", "worker"],
    clients: 1,
    concurrency: 2,
    batch: 500,
    seed: 7,
  });
  assert.deepEqual(pushes.map((p) => p.format), [
    "json",
    "floor-receive",
    "floor-parse",
    "floor-worker",
  ]);
  // formatRounds waited until each floor counted every line and, for the worker, wrote it.
  const json = pushes[0];
  for (const floor of pushes.slice(1)) {
    assert.ok(
      floor.linesPerSec <= json.linesPerSec * 1.01,
      `${floor.format} went faster than loge`,
    );
    assert.ok(floor.peakRssMB > 20, `${floor.peakRssMB} MB`);
  }
});

Deno.test("bench:formats refuses a bad flag with exit code 2 and names it", async () => {
  const run = (args: string[]) =>
    new Deno.Command(Deno.execPath(), { args: ["run", "-A", MAIN, ...args] }).output();
  for (
    const [args, message] of [
      [["--formats", "json,nope"], /Invalid --formats "json,nope"/],
      [["--rounds", "0"], /Invalid --rounds "0": expected an integer >= 1/],
      [["--bogus"], /Unknown option '--bogus'/],
      [["--floors", "parse,nope"], /Invalid --floors "parse,nope": expected floors among/],
      [["--floors", "parse", "--formats", "es-bulk"], /--formats must include json/],
    ] as const
  ) {
    const out = await run([...args]);
    assert.equal(out.code, 2);
    assert.match(new TextDecoder().decode(out.stderr), message);
  }
  const help = await run(["--help"]);
  assert.equal(help.code, 0);
  assert.match(new TextDecoder().decode(help.stdout), /Usage: deno task bench:formats/);
});
