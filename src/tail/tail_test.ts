/**
 * A tail with a sink whose backlog the test sets: batching, replay before
 * live lines, bounded memory when the client falls behind (drops reported
 * in the next batch), cutting off a client that takes nothing, delays.
 */
import assert from "node:assert/strict";
import type { PushStream } from "../ingest/payload.ts";
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

function tailOf(options: Partial<TailOptions> = {}, query = "") {
  const sink = new FakeSink();
  const counters: TailCounters = { linesSent: 0, linesDropped: 0, cutOff: 0 };
  let gone = 0;
  const tail = new Tail(
    {
      matchers: [],
      pushdown: query ? [{ kind: "line_filter", op: "|=", value: query }] : [],
      pipeline: [],
    },
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
