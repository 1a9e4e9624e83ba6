import assert from "node:assert/strict";
import { entryBytes, TailQueue } from "./queue.ts";

const stream = { key: "{}", labels: {} };
const entry = (line: string, ts = 1n) => ({ ts, line, stream });

Deno.test("the queue bounds bytes as well as lines", () => {
  const queue = new TailQueue({ lines: 100, bytes: 2 * entryBytes(entry("xxxx")), dropped: 10 });
  assert.ok(queue.push(entry("xxxx"), 0));
  assert.ok(queue.push(entry("yyyy"), 0));
  assert.ok(!queue.push(entry("z"), 0));
  assert.equal(queue.bytes, 2 * entryBytes(entry("xxxx")));
  assert.deepEqual(queue.takeDropped(), { lines: [{ stream, ts: 1n }], count: 1 });
  assert.deepEqual(queue.takeDropped(), { lines: [], count: 0 });
});

Deno.test("take stops at lines, bytes (one long line goes alone) and arrival time", () => {
  const queue = new TailQueue({ lines: 100, bytes: 1 << 20, dropped: 10 });
  queue.push(entry("a".repeat(1000)), 1);
  queue.push(entry("b"), 2);
  queue.push(entry("c"), 3);
  queue.push(entry("d"), 9);
  assert.deepEqual(queue.take(10, 10, 100).map((e) => e.line.length), [1000]);
  assert.deepEqual(queue.take(1, 1 << 20, 100).map((e) => e.line), ["b"]);
  assert.equal(queue.firstArrival, 3);
  assert.deepEqual(queue.take(10, 1 << 20, 5).map((e) => e.line), ["c"]);
  assert.deepEqual(queue.take(10, 1 << 20, 9).map((e) => e.line), ["d"]);
  assert.equal(queue.length, 0);
  assert.equal(queue.bytes, 0);
  assert.equal(queue.firstArrival, undefined);
});

Deno.test("lines keep their order across the queue's compaction", () => {
  const queue = new TailQueue({ lines: 10_000, bytes: 1 << 30, dropped: 10 });
  const taken: string[] = [];
  for (let i = 0; i < 5000; i++) {
    queue.push(entry(String(i)), 0);
    if (i % 3 === 2) taken.push(...queue.take(2, 1 << 20, 0).map((e) => e.line));
  }
  taken.push(...queue.take(10_000, 1 << 30, 0).map((e) => e.line));
  assert.deepEqual(taken, Array.from({ length: 5000 }, (_, i) => String(i)));
});
