/**
 * A tail with a sink whose backlog the test sets: batching, replay before
 * live lines, bounded memory when the client falls behind (drops reported
 * in the next batch), cutting off a client that takes nothing, delays.
 */
import assert from "node:assert/strict";
import type { PushStream } from "../ingest/payload.ts";
import type { LineFilter } from "../query/ast.ts";
import { workersMemory } from "../storage/worker_pool.ts";
import { COSTLY_PATTERN } from "../../testing/costly_regex.ts";
import type { StreamLabels } from "../storage/catalog.ts";
import {
  Tail,
  TAIL_DEFAULTS,
  type TailBatch,
  type TailCounters,
  type TailEnd,
  type TailOptions,
} from "./tail.ts";

const web: StreamLabels = { key: '{"app":"web"}', labels: { app: "web" } };

/** A sink that records what it is sent; `backlog` is what the test says. */
class FakeSink {
  backlogBytes = 0;
  batches: TailBatch[] = [];
  ends: TailEnd[] = [];
  backlog = () => this.backlogBytes;
  send = (batch: TailBatch) => void this.batches.push(batch);
  close = (end: TailEnd) => void this.ends.push(end);
  lines = () => this.batches.flatMap((b) => b.entries.map((e) => e.line));
}

const OPTIONS: TailOptions = {
  ...TAIL_DEFAULTS,
  queue: { lines: 5, bytes: 1 << 20, dropped: 2 },
  batchLines: 3,
  batchMs: 10,
  stallMs: 200,
  delayMs: 0,
};

function tailOf(options: Partial<TailOptions> = {}, query: string | LineFilter = "") {
  const sink = new FakeSink();
  const counters: TailCounters = { linesSent: 0, linesDropped: 0, cutOff: 0 };
  let gone = 0;
  const filter: LineFilter | undefined = typeof query !== "string"
    ? query
    : query
    ? { kind: "line_filter", op: "|=", value: query }
    : undefined;
  const tail = new Tail(
    { matchers: [], pushdown: filter ? [filter] : [], pipeline: [] },
    sink,
    { ...OPTIONS, ...options },
    counters,
    () => gone++,
  );
  return { tail, sink, counters, gone: () => gone };
}

const pushed = (rows: [bigint, string][]): PushStream => ({
  key: web.key,
  ts: rows.map(([t]) => t),
  lines: rows.map(([, l]) => l),
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

Deno.test("lines offered before the replay wait behind it; then arrival order, whatever the time", async () => {
  const { tail, sink } = tailOf();
  tail.offer(web, pushed([[50n, "live 1"], [10n, "live 2 (late)"]]));
  tail.offered();
  await sleep(30);
  assert.equal(sink.batches.length, 0);
  tail.replayed([{ ts: 5n, line: "stored 1", stream: web }, {
    ts: 60n,
    line: "stored 2",
    stream: web,
  }]);
  tail.offer(web, pushed([[1n, "live 3"]]));
  tail.offered();
  await sleep(30);
  assert.deepEqual(sink.lines(), ["stored 1", "stored 2", "live 1", "live 2 (late)", "live 3"]);
  assert.deepEqual(sink.batches.map((b) => b.replay), [true, false, false]);
  tail.disconnected();
});

Deno.test("a batch waits batchMs for more lines, and goes at once when full", async () => {
  const { tail, sink, counters } = tailOf();
  tail.replayed([]);
  tail.offer(web, pushed([[1n, "a"]]));
  tail.offered();
  assert.equal(sink.batches.length, 0);
  await sleep(30);
  assert.deepEqual(sink.batches.map((b) => b.entries.length), [1]);
  tail.offer(web, pushed([[2n, "b"], [3n, "c"], [4n, "d"], [5n, "e"]]));
  tail.offered();
  // Full batches went out in the push's turn; the rest follows within batchMs.
  assert.deepEqual(sink.batches.map((b) => b.entries.length), [1, 3]);
  await sleep(30);
  assert.deepEqual(sink.batches.map((b) => b.entries.length), [1, 3, 1]);
  assert.equal(counters.linesSent, 5);
  tail.disconnected();
});

Deno.test("a payload larger than the queue goes out batch by batch while the client keeps up", () => {
  const { tail, sink, counters } = tailOf();
  tail.replayed([]);
  const rows: [bigint, string][] = Array.from({ length: 25 }, (_, i) => [BigInt(i), `l${i}`]);
  tail.offer(web, pushed(rows));
  tail.offered();
  assert.equal(counters.linesDropped, 0);
  assert.deepEqual(sink.lines(), rows.map(([, l]) => l).slice(0, 24));
  tail.disconnected();
});

Deno.test("the query's filter applies to offered lines", async () => {
  const { tail, sink } = tailOf({}, "err");
  tail.replayed([]);
  tail.offer(web, pushed([[1n, "ok"], [2n, "error 1"], [3n, "fine"], [4n, "error 2"]]));
  tail.offered();
  await sleep(30);
  assert.deepEqual(sink.lines(), ["error 1", "error 2"]);
  tail.disconnected();
});

Deno.test("a client that falls behind gets what fits and a count of the rest", async () => {
  const { tail, sink, counters } = tailOf();
  tail.replayed([]);
  sink.backlogBytes = OPTIONS.highWater;
  const rows: [bigint, string][] = Array.from({ length: 9 }, (_, i) => [BigInt(i), `l${i}`]);
  tail.offer(web, pushed(rows));
  tail.offered();
  await sleep(30);
  assert.equal(sink.batches.length, 0);
  assert.equal(counters.linesDropped, 4);
  sink.backlogBytes = 0;
  tail.pump();
  assert.deepEqual(sink.lines(), ["l0", "l1", "l2", "l3", "l4"]);
  // The first batch tells of the drops: two remembered, four counted.
  const [first] = sink.batches;
  assert.equal(first.droppedCount, 4);
  assert.deepEqual(first.dropped.map((d) => d.ts), [5n, 6n]);
  assert.ok(sink.batches.slice(1).every((b) => b.droppedCount === 0));
  tail.disconnected();
});

Deno.test("a client that takes nothing for stallMs is cut off; its place is held until it is gone", async () => {
  const { tail, sink, counters, gone } = tailOf();
  tail.replayed([]);
  sink.backlogBytes = OPTIONS.highWater * 2;
  tail.offer(web, pushed([[1n, "a"]]));
  tail.offered();
  await sleep(120);
  // Progress (the client took some bytes) restarts the clock.
  sink.backlogBytes -= 1000;
  await sleep(150);
  assert.equal(sink.ends.length, 0);
  await sleep(150);
  assert.equal(sink.ends.length, 1);
  assert.equal(sink.ends[0].reason, "slow");
  assert.match(
    sink.ends[0].message,
    /^client too slow: it took nothing for 0.2s while 1 lines waited/,
  );
  assert.equal(counters.cutOff, 1);
  assert.ok(tail.ended);
  assert.equal(gone(), 0);
  tail.offer(web, pushed([[2n, "b"]]));
  tail.disconnected();
  assert.equal(gone(), 1);
  tail.disconnected();
  assert.equal(gone(), 1);
});

Deno.test("with a delay, lines wait and go out in time order", async () => {
  const { tail, sink } = tailOf({ delayMs: 80, batchLines: 100 });
  tail.replayed([]);
  tail.offer(web, pushed([[30n, "c"], [10n, "a"]]));
  tail.offered();
  tail.offer(web, pushed([[20n, "b"]]));
  tail.offered();
  await sleep(40);
  assert.equal(sink.batches.length, 0);
  await sleep(100);
  assert.deepEqual(sink.lines(), ["a", "b", "c"]);
  tail.disconnected();
});

Deno.test("a sink that throws ends the tail, not the caller", () => {
  const { tail, sink } = tailOf();
  sink.send = () => {
    throw new Error("socket exploded");
  };
  tail.replayed([{ ts: 1n, line: "x", stream: web }]);
  assert.ok(tail.ended);
  assert.equal(sink.ends[0].reason, "failed");
  assert.match(sink.ends[0].message, /socket exploded/);
  tail.disconnected();
});

/** Keeps lines with "keep"; lines of over 512 characters are tested on a worker (re2js). */
const COSTLY_OR_KEEP: LineFilter = {
  kind: "line_filter",
  op: "|~",
  value: COSTLY_PATTERN,
  or: ["keep"],
};

Deno.test("lines too costly for the push's path are tested apart; every line keeps its place", async () => {
  const { tail, sink } = tailOf(
    { queue: { lines: 100, bytes: 1 << 20, dropped: 2 } },
    COSTLY_OR_KEEP,
  );
  tail.replayed([]);
  const long = (c: string) => c.repeat(600);
  tail.offer(
    web,
    pushed([[1n, "keep 1"], [2n, long("x")], [3n, `${long("k")} keep`], [4n, "keep 2"]]),
  );
  tail.offered();
  // Offered while the lines before wait: it waits behind them.
  tail.offer(web, pushed([[5n, "keep 3"], [6n, "drop"]]));
  tail.offered();
  for (let i = 0; i < 200 && sink.lines().length < 4; i++) await sleep(25);
  await sleep(50);
  assert.deepEqual(sink.lines(), ["keep 1", `${long("k")} keep`, "keep 2", "keep 3"]);
  tail.disconnected();
});

Deno.test("runs of costly lines go to the worker in batches; every line keeps its place", async () => {
  const { tail, sink } = tailOf(
    { queue: { lines: 1000, bytes: 16 << 20, dropped: 2 } },
    COSTLY_OR_KEEP,
  );
  tail.replayed([]);
  // 150 lines: two costly ones (600 characters) then a short one, over more than two batches.
  const rows: [bigint, string][] = Array.from({ length: 150 }, (_, i) => [
    BigInt(i),
    i % 3 === 2
      ? `short ${i}${i % 2 ? " keep" : ""}`
      : `${"y".repeat(600)} ${i}${i % 4 ? " keep" : ""}`,
  ]);
  tail.offer(web, pushed(rows));
  tail.offered();
  const expected = rows.map(([, line]) => line).filter((line) => line.includes("keep"));
  for (let i = 0; i < 400 && sink.lines().length < expected.length; i++) await sleep(25);
  await sleep(50);
  assert.deepEqual(sink.lines(), expected);
  tail.disconnected();
});

Deno.test("a tail whose lines waiting behind costly ones outgrow 16 times its queue's bytes is cut off", () => {
  const queue = { lines: 5, bytes: 1 << 16, dropped: 2 };
  const { tail, sink, counters } = tailOf({ queue }, COSTLY_OR_KEEP);
  tail.replayed([]);
  // A costly line, then 15 times the queue's bytes: they wait.
  const block = "k".repeat(1 << 16);
  const rows: [bigint, string][] = [[1n, "x".repeat(600)]];
  for (let i = 0; i < 15; i++) rows.push([BigInt(i + 2), block]);
  tail.offer(web, pushed(rows));
  assert.equal(sink.ends.length, 0);
  // One more: over 16 times.
  tail.offer(web, pushed([[20n, block]]));
  assert.equal(sink.ends.length, 1);
  assert.equal(sink.ends[0].reason, "slow");
  assert.match(
    sink.ends[0].message,
    /^the query tests lines slower than they arrive: lines of 1 MiB/,
  );
  assert.equal(counters.cutOff, 1);
  tail.disconnected();
});

Deno.test("a tail ended while it runs a payload starts no worker for the payload's costly lines", async () => {
  const { tail, sink } = tailOf(
    { queue: { lines: 100, bytes: 1 << 20, dropped: 2 } },
    COSTLY_OR_KEEP,
  );
  tail.replayed([]);
  sink.send = () => {
    throw new Error("socket exploded");
  };
  const costly = "x".repeat(600);
  // After the first costly line (tested on a worker), three kept lines fill a batch: sending
  // it fails and ends the tail before the second costly line.
  tail.offer(web, pushed([[1n, `${costly} keep`], [2n, "keep"], [3n, "keep"], [4n, costly]]));
  tail.offered();
  for (let i = 0; i < 200 && !tail.ended; i++) await sleep(10);
  assert.equal(tail.ended, true);
  await sleep(300);
  assert.deepEqual([...workersMemory().keys()].filter((n) => n.startsWith("line_test")), []);
  tail.disconnected();
});
