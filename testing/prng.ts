/**
 * The generator's randomness: a hash finalizer, a per-line seeded PRNG, weighted choices and hex
 * formatting. Everything is deterministic; nothing here uses `Math.random`.
 *
 * @module
 */

/** MurmurHash3's 32-bit finalizer: a bijection on uint32 with good avalanche. */
export { fmix as fmix32 } from "../src/storage/fmix.ts";

/** mulberry32, re-seeded once per line. */
export class Rng {
  state = 0;
  /** A uint32. */
  u32(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) | 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }
  /** A float in [0, 1). */
  float(): number {
    return this.u32() / 4294967296;
  }
  /** An integer in [0, n). */
  below(n: number): number {
    return Math.floor(this.float() * n);
  }
  /** An integer in [lo, hi]. */
  range(lo: number, hi: number): number {
    return lo + Math.floor(this.float() * (hi - lo + 1));
  }
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.float() * items.length)];
  }
  /** An integer in [1, n], skewed towards small values (a few ids are very common). */
  skewed(n: number, power: number): number {
    return 1 + Math.floor(n * Math.pow(this.float(), power));
  }
}

const HEX: readonly string[] = Array.from(
  { length: 256 },
  (_, i) => i.toString(16).padStart(2, "0"),
);

export function hex8(w: number): string {
  return HEX[w >>> 24] + HEX[(w >>> 16) & 255] + HEX[(w >>> 8) & 255] + HEX[w & 255];
}

/** A weighted choice, precomputed as a cumulative table. */
export class Weighted<T> {
  readonly #items: T[];
  readonly #cumulative: number[];
  constructor(pairs: readonly (readonly [T, number])[]) {
    this.#items = pairs.map(([item]) => item);
    let sum = 0;
    this.#cumulative = pairs.map(([, weight]) => (sum += weight));
    this.#cumulative = this.#cumulative.map((c) => c / sum);
  }
  pick(rng: Rng): T {
    const x = rng.float();
    const c = this.#cumulative;
    for (let i = 0; i < c.length - 1; i++) if (x < c[i]) return this.#items[i];
    return this.#items[c.length - 1];
  }
}
