import assert from "node:assert/strict";
import { Rng } from "../../testing/prng.ts";
import { needleIndex, Timeline } from "./timeline.ts";

Deno.test("Timeline: line N lies in slot N, and its ISO time is its timestamp to the µs", () => {
  const start = 1_795_219_200_123_456_789n;
  const timeline = new Timeline({ seed: 3, start, rate: 1000 }, 1);
  const rng = new Rng();
  for (const index of [0, 1, 999, 123_456, 2 ** 32 - 1]) {
    const place = timeline.begin(index, rng);
    const slot = start + BigInt(index) * 1_000_000n;
    assert.ok(place.ts >= slot && place.ts < slot + 1_000_000n, `line ${index}`);
    const ms = place.ts / 1_000_000n;
    const expected = new Date(Number(ms)).toISOString().slice(0, 23) +
      String((place.ts / 1000n) % 1000n).padStart(3, "0") + "Z";
    assert.equal(timeline.iso(place), expected);
  }
});

Deno.test("Timeline: the line's draws follow from its index alone", () => {
  const timeline = new Timeline({ seed: 3 }, 1);
  const a = new Rng();
  const b = new Rng();
  timeline.begin(5, a);
  timeline.begin(6, b);
  timeline.begin(5, b);
  assert.equal(a.u32(), b.u32());
});

Deno.test("Timeline: domains and seeds give different trace ids", () => {
  const ids = (seed: number, domain: number) => {
    const t = new Timeline({ seed }, domain);
    return Array.from({ length: 100 }, (_, i) => t.traceIdAt(i));
  };
  const base = ids(1, 1);
  assert.equal(new Set(base).size, 100);
  for (const other of [ids(1, 2), ids(2, 1), ids(1 + 2 ** 32, 1)]) {
    assert.ok(other.every((id) => !base.includes(id)));
  }
});

Deno.test("needleIndex: in the middle half, from the seed", () => {
  for (const lines of [1, 2, 7, 1000, 123_457]) {
    for (const seed of [0, 42, -5]) {
      const i = needleIndex(lines, seed);
      const quarter = Math.floor(lines / 4);
      assert.ok(i >= quarter && i < lines - quarter, `${i} of ${lines}`);
    }
  }
  assert.notEqual(needleIndex(1_000_000, 1), needleIndex(1_000_000, 2));
  assert.throws(() => needleIndex(0, 1), /lines must be an integer in \[1, 2\^32\], got 0/);
});
