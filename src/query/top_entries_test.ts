import assert from "node:assert/strict";
import { type Direction, type LogEntry, TopEntries } from "./top_entries.ts";
import { Rng } from "../../testing/prng.ts";

const streams = ["a", "b", "c"].map((app) => ({ key: `{"app":"${app}"}`, labels: { app } }));

/** The answer computed by hand: every entry in order, then the longest prefix that fits both bounds. */
function expected(entries: LogEntry[], limit: number, maxSize: number, direction: Direction) {
  const sorted = entries.toSorted((a, b) => {
    const later = direction === "backward" ? -1 : 1;
    if (a.ts !== b.ts) return a.ts > b.ts ? later : -later;
    if (a.stream.key !== b.stream.key) return a.stream.key < b.stream.key ? -1 : 1;
    return a.line < b.line ? -1 : a.line > b.line ? 1 : 0;
  });
  const kept: LogEntry[] = [];
  let size = 0;
  for (const e of sorted.slice(0, limit)) {
    size += e.line.length + Object.entries(e.parsed ?? {}).join("").replaceAll(",", "").length;
    if (size > maxSize) break;
    kept.push(e);
  }
  return kept;
}

Deno.test("TopEntries keeps the first entries within its limit and its size, whatever the order offered", () => {
  const rng = new Rng();
  rng.state = 7;
  for (let round = 0; round < 300; round++) {
    const entries: LogEntry[] = Array.from({ length: rng.range(1, 400) }, (_, i) => ({
      ts: BigInt(rng.below(60)), // many ties
      line: `${i} `.padEnd(rng.range(3, 200), "x"),
      stream: rng.pick(streams),
      ...(rng.below(4) === 0 ? { parsed: { status: String(rng.below(600)) } } : {}),
    }));
    const limit = rng.range(1, 120);
    const maxSize = rng.below(3) === 0 ? Infinity : rng.range(1, 6000);
    for (const direction of ["backward", "forward"] as const) {
      const top = new TopEntries(limit, direction, maxSize);
      for (const e of entries) {
        top.offer(e);
        if (rng.below(50) === 0) top.settle();
      }
      const want = expected(entries, limit, maxSize, direction);
      const got = top.sorted();
      assert.deepEqual(got, want, `round ${round} ${direction} limit ${limit} size ${maxSize}`);
      assert.equal(top.cut, want.length < Math.min(limit, entries.length), `round ${round}`);
    }
  }
});
