/**
 * A small mutation fuzzer: inputs are made from a seed corpus by flipping,
 * inserting, deleting, repeating and splicing bytes, and by writing values
 * that break parsers (huge numbers, deep nesting, escapes, invalid UTF-8).
 * Runs are reproducible: the same seed makes the same inputs, and a failure
 * names the seed and iteration that made it.
 *
 * @module
 */

import { Rng } from "./prng.ts";

const encoder = new TextEncoder();

/** Byte strings that break parsers, spliced into inputs. */
const TOKENS: readonly Uint8Array[] = [
  "0",
  "-1",
  "1e309",
  "18446744073709551616",
  "9223372036854775808",
  "NaN",
  "null",
  "true",
  '""',
  "{}",
  "[]",
  "[".repeat(64),
  "{".repeat(64),
  '"\\ud800"',
  '"\\u0000"',
  "\\",
  '"',
  "\n",
  "\r\n",
  ",",
  ":",
  "=~",
  "|~",
  "(?i)",
  "(a+)+$",
  "|",
  "{app=",
  "}",
  "%",
  "%ff",
  "\u{10ffff}",
].map((t) => encoder.encode(t)).concat([
  new Uint8Array([0xff]),
  new Uint8Array([0xc0, 0x80]),
  new Uint8Array([0xed, 0xa0, 0x80]),
  new Uint8Array([0x00]),
  new Uint8Array([0x80]),
  new Uint8Array([0xff, 0xff, 0xff, 0xff, 0x0f]),
  new Uint8Array(300).fill(0x41),
]);

/**
 * Mutates `seeds` into new inputs, reproducibly.
 *
 * @example
 * ```ts
 * import { Mutator } from "./fuzz.ts";
 * import assert from "node:assert/strict";
 * const seeds = [new TextEncoder().encode('{"a":1}')];
 * const a = new Mutator(seeds, 7);
 * const b = new Mutator(seeds, 7);
 * for (let i = 0; i < 20; i++) assert.deepEqual(a.next(), b.next());
 * ```
 */
export class Mutator {
  readonly #seeds: readonly Uint8Array[];
  readonly #rng = new Rng();

  constructor(seeds: readonly Uint8Array[], seed: number) {
    if (seeds.length === 0) throw new RangeError("a mutator needs at least one seed input");
    // Copies: a seed may be a Node Buffer (protobufjs makes them), whose `slice` is a view.
    this.#seeds = seeds.map((s) => new Uint8Array(s));
    this.#rng.state = seed;
  }

  /**
   * The next input: a seed with one to four mutations, or, one time in
   * `intact` (0: never), a seed as it is, so that inputs of several parts
   * combine valid ones with broken ones and reach past the first check.
   */
  next(intact = 0): Uint8Array {
    const rng = this.#rng;
    let bytes = rng.pick(this.#seeds);
    if (intact > 0 && rng.below(intact) === 0) return bytes;
    for (let n = rng.range(1, 4); n > 0; n--) bytes = this.#mutate(bytes);
    return bytes;
  }

  #mutate(input: Uint8Array): Uint8Array {
    const rng = this.#rng;
    const at = rng.below(input.length + 1);
    const cut = (from: number, to: number) => input.subarray(from, to);
    switch (rng.below(7)) {
      case 0: { // flip a bit
        if (input.length === 0) return input;
        const out = new Uint8Array(input); // a copy: `slice` of a Node Buffer is a view
        out[Math.min(at, out.length - 1)] ^= 1 << rng.below(8);
        return out;
      }
      case 1: // delete a run
        return join(cut(0, at), cut(Math.min(input.length, at + rng.range(1, 16)), input.length));
      case 2: // insert a token
        return join(cut(0, at), rng.pick(TOKENS), cut(at, input.length));
      case 3: { // repeat a run
        const run = cut(at, Math.min(input.length, at + rng.range(1, 32)));
        return join(cut(0, at), ...Array(rng.range(2, 50)).fill(run), cut(at, input.length));
      }
      case 4: // truncate
        return cut(0, at);
      case 5: { // splice with another seed
        const other = rng.pick(this.#seeds);
        return join(cut(0, at), other.subarray(rng.below(other.length + 1)));
      }
      default: { // overwrite a byte with a random one
        if (input.length === 0) return input;
        const out = new Uint8Array(input); // a copy: `slice` of a Node Buffer is a view
        out[Math.min(at, out.length - 1)] = rng.below(256);
        return out;
      }
    }
  }
}

function join(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Iterations of a target in a long run (`deno task fuzz`, which sets `LOGE_FUZZ_LONG`). */
export const LONG_FUZZ_ITERATIONS = 20_000;

/**
 * Iterations of each fuzz target: `LOGE_FUZZ_ITERATIONS` when set, else
 * {@linkcode LONG_FUZZ_ITERATIONS} in a long run, else `fallback`.
 *
 * @throws {RangeError} when `LOGE_FUZZ_ITERATIONS` is not a positive integer.
 */
export function fuzzIterations(fallback: number): number {
  const set = Deno.env.get("LOGE_FUZZ_ITERATIONS");
  if (set === undefined) return Deno.env.get("LOGE_FUZZ_LONG") ? LONG_FUZZ_ITERATIONS : fallback;
  const n = Number(set);
  if (!Number.isInteger(n) || n < 1) {
    throw new RangeError(
      `LOGE_FUZZ_ITERATIONS must be a positive integer, got ${JSON.stringify(set)}`,
    );
  }
  return n;
}

/** The seed of fuzz runs: `LOGE_FUZZ_SEED`, else a fixed one, so CI runs are reproducible. */
export function fuzzSeed(): number {
  return Number(Deno.env.get("LOGE_FUZZ_SEED") ?? "20261130");
}
