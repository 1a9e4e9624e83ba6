import assert from "node:assert/strict";
import { ByteReader, ByteWriter } from "./byte_buffer.ts";
import { ESCAPE_QUOTIENT, readRice, writeRice } from "./rice.ts";

/** Deterministic uniform numbers in [0, 1) (xorshift32), so a failure reproduces. */
function uniform(seed: number): () => number {
  let state = seed;
  return () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 2 ** 32;
  };
}

/** Waiting times of a memoryless source of `mean` ns, as a stream's timestamp deltas are. */
function geometric(random: () => number, mean: number, count: number): number[] {
  return Array.from({ length: count }, () => Math.floor(-Math.log(1 - random()) * mean));
}

function roundTrip(values: number[]): { got: number[]; bytes: number } {
  const w = new ByteWriter();
  w.u8(0xaa); // what precedes the codes in a block
  writeRice(w, values);
  w.u8(0x55); // what follows them
  const r = new ByteReader(w.bytes(), 1);
  const got = [...readRice(r, values.length)];
  assert.equal(r.u8(), 0x55, "the reader stops right after the codes");
  return { got, bytes: w.length - 2 };
}

Deno.test("Rice codes round-trip any safe non-negative integers", () => {
  const random = uniform(0x5eed);
  for (let run = 0; run < 500; run++) {
    const count = Math.floor(random() * 700);
    const mean = 2 ** (random() * 48);
    const values = geometric(random, mean, count).map((v) =>
      // Some values far above the rest (escaped codes), and the extremes.
      random() < 0.02 ? Math.floor(random() * Number.MAX_SAFE_INTEGER) : v
    );
    if (count > 2) values[1] = 0;
    if (count > 3) values[2] = Number.MAX_SAFE_INTEGER;
    assert.deepEqual(roundTrip(values).got, values, `run ${run}: ${count} values, mean ${mean}`);
  }
  assert.deepEqual(roundTrip([]).got, []);
});

Deno.test("Rice codes of waiting times cost their entropy, within 0.1 bit", () => {
  const random = uniform(42);
  for (const mean of [3, 1_000, 5_000_000, 250_000_000, 40_000_000_000]) {
    const values = geometric(random, mean, 20_000);
    const bits = roundTrip(values).bytes * 8;
    // Entropy per value of the geometric distribution with this mean:
    // (−(1−p)·log2(1−p) − p·log2(p)) / p, with p = 1/(mean + 1).
    const p = 1 / (mean + 1);
    const entropy = (-(1 - p) * Math.log2(1 - p) - p * Math.log2(p)) / p;
    const perValue = (bits - 8) / values.length;
    assert.ok(
      perValue < entropy + 0.1,
      `mean ${mean}: ${perValue.toFixed(3)} bits a value, entropy ${entropy.toFixed(3)}`,
    );
  }
});

Deno.test("a few huge values among small ones are escaped, not coded in unary", () => {
  const values = [...geometric(uniform(7), 1_000, 500), 3_600_000_000_000, 5];
  const { got, bytes } = roundTrip(values);
  assert.deepEqual(got, values);
  // ~12 bits a small value; the hour costs the escape's 40 + 53 bits, not 2^30 ones.
  assert.ok(bytes < (500 * 12 + ESCAPE_QUOTIENT + 53) / 8 + 64, `${bytes} bytes`);
});

Deno.test("writeRice refuses what it cannot hold, naming the value", () => {
  for (const bad of [-1, 1.5, 2 ** 53, NaN]) {
    assert.throws(() => writeRice(new ByteWriter(), [1, bad]), {
      name: "RangeError",
      message: `Cannot Rice-code ${bad}: not a safe non-negative integer`,
    });
  }
});

Deno.test("codes cut short throw a RangeError, never yield values", () => {
  const w = new ByteWriter();
  writeRice(w, geometric(uniform(9), 1e9, 100));
  const cut = w.bytes().slice(0, w.length - 10);
  assert.throws(() => readRice(new ByteReader(cut), 100), RangeError);
});
