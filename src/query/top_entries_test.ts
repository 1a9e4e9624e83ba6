import assert from "node:assert/strict";
import { type Direction, type LogEntry, TopEntries } from "./top_entries.ts";
import { Rng } from "../../testing/prng.ts";

const streams = ["a", "b", "c"].map((app) => ({ key: `{"app":"${app}"}`, labels: { app } }));

/** Every entry in `direction`'s order, computed by hand. */
function inOrder(entries: LogEntry[], direction: Direction): LogEntry[] {
  return entries.toSorted((a, b) => {
    const later = direction === "backward" ? -1 : 1;
    if (a.ts !== b.ts) return a.ts > b.ts ? later : -later;
    if (a.stream.key !== b.stream.key) return a.stream.key < b.stream.key ? -1 : 1;
    return a.line < b.line ? -1 : a.line > b.line ? 1 : 0;
  });
}

/**
 * The answer computed by hand: the longest prefix of the entries in order
 * within `limit` and `maxSize`, stopped at `blocker`, and the entry it stops
 * before when that is the size or the blocker, not the limit or the end.
 */
function expected(
  entries: LogEntry[],
  limit: number,
  maxSize: number,
  direction: Direction,
  blocker?: LogEntry,
) {
  const sorted = inOrder(blocker ? [...entries, blocker] : entries, direction);
  const kept: LogEntry[] = [];
  let size = 0;
  for (const e of sorted.slice(0, limit)) {
    size += e === blocker ? Infinity : e.line.length + e.stream.key.length +
      Object.entries(e.parsed ?? {}).join("").replaceAll(",", "").length;
    // The first entry is answered whatever its size, unless it is the blocker.
    if (size > maxSize && (kept.length > 0 || e === blocker)) return { kept, cut: e };
    kept.push(e);
  }
  return { kept, cut: undefined };
}

function randomEntries(rng: Rng): LogEntry[] {
  return Array.from({ length: rng.range(1, 400) }, (_, i) => ({
    ts: BigInt(rng.below(60)), // many ties
    line: `${i} `.padEnd(rng.range(3, 200), "x"),
    stream: rng.pick(streams),
    ...(rng.below(4) === 0 ? { parsed: { status: String(rng.below(600)) } } : {}),
  }));
}

Deno.test("TopEntries keeps the first entries within its limit and its size, whatever the order offered", () => {
  const rng = new Rng();
  rng.state = 7;
  for (let round = 0; round < 300; round++) {
    const entries = randomEntries(rng);
    const limit = rng.range(1, 120);
    const maxSize = rng.below(3) === 0 ? Infinity : rng.range(1, 6000);
    for (const direction of ["backward", "forward"] as const) {
      const top = new TopEntries(limit, direction, maxSize);
      for (const e of entries) {
        top.offer(e);
        if (rng.below(50) === 0) top.settle();
      }
      const want = expected(entries, limit, maxSize, direction);
      assert.deepEqual(top.sorted(), want.kept, `round ${round} ${direction} limit ${limit}`);
      assert.equal(top.cut, want.cut, `round ${round} ${direction}: the cut`);
    }
  }
});

Deno.test("TopEntries stops at a blocker offered among the entries, wherever it falls", () => {
  const rng = new Rng();
  rng.state = 11;
  for (let round = 0; round < 300; round++) {
    const entries = randomEntries(rng);
    const limit = rng.range(1, 120);
    const maxSize = rng.below(2) === 0 ? Infinity : rng.range(1, 20_000);
    for (const direction of ["backward", "forward"] as const) {
      const blocker = { ts: BigInt(rng.below(60)), line: "blocker", stream: rng.pick(streams) };
      const top = new TopEntries(limit, direction, maxSize);
      const at = rng.below(entries.length + 1);
      entries.forEach((e, i) => {
        if (i === at) top.block(blocker);
        top.offer(e);
      });
      if (at === entries.length) top.block(blocker);
      const want = expected(entries, limit, maxSize, direction, blocker);
      assert.deepEqual(top.sorted(), want.kept, `round ${round} ${direction} limit ${limit}`);
      assert.equal(top.cut, want.cut, `round ${round} ${direction}: the cut`);
    }
  }
});
