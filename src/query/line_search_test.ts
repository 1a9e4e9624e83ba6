import assert from "node:assert/strict";
import { linesWith } from "./line_search.ts";
import { lineMatcher, scanBlock } from "./line_scan.ts";
import { type Block, BlockBuilder, decodeBlock } from "../storage/block_codec.ts";
import { Rng } from "../../testing/prng.ts";

const enc = new TextEncoder();
const ALPHABET = ["a", "b", "t", "o", " ", "\n", "é", "日", "x"];

function randomText(rng: Rng, length: number): string {
  let s = "";
  for (let i = 0; i < length; i++) s += rng.pick(ALPHABET);
  return s;
}

Deno.test("linesWith finds the lines whose bytes hold the needle, as a byte search does", () => {
  const rng = Object.assign(new Rng(), { state: 20261202 });
  for (let n = 0; n < 3000; n++) {
    // Lines back to back (length-prefixed blocks) or with a newline between them.
    const separator = rng.below(2) === 0 ? "" : "\n";
    const texts = Array.from({ length: 1 + rng.below(40) }, () => randomText(rng, rng.below(40)));
    const parts = texts.map((t) => enc.encode(t + separator));
    const lines = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
    const starts = new Uint32Array(texts.length);
    const ends = new Uint32Array(texts.length);
    let at = 0;
    parts.forEach((p, i) => {
      lines.set(p, at);
      starts[i] = at;
      ends[i] = at + p.length - separator.length;
      at += p.length;
    });
    const needle = enc.encode(randomText(rng, 1 + rng.below(4)));
    const from = rng.below(texts.length);
    const to = from + rng.below(texts.length - from + 1);
    const expected: number[] = [];
    for (let i = from; i < to; i++) {
      const line = lines.subarray(starts[i], ends[i]);
      for (let p = 0; p + needle.length <= line.length; p++) {
        if (needle.every((b, k) => line[p + k] === b)) {
          expected.push(i);
          break;
        }
      }
    }
    assert.deepEqual([...linesWith(lines, starts, ends, from, to, needle)], expected);
  }
  assert.throws(
    () =>
      linesWith(new Uint8Array(1), new Uint32Array(1), new Uint32Array(1), 0, 1, new Uint8Array(0)),
    RangeError,
  );
});

function decodeLine(block: Block, i: number): string {
  return new TextDecoder().decode(block.lines.subarray(block.starts[i], block.ends[i]));
}

Deno.test("scanBlock answers what a filter on every decoded line answers, in one go or stopped and resumed", () => {
  const rng = Object.assign(new Rng(), { state: 7 });
  for (let n = 0; n < 300; n++) {
    const b = new BlockBuilder();
    const texts = Array.from({ length: 1 + rng.below(300) }, () => randomText(rng, rng.below(60)));
    const ascii = rng.below(2) === 0;
    texts.forEach((t, i) => b.addString(BigInt(i), ascii ? t.replace(/[é日]/g, "e") : t));
    const block = decodeBlock(b.finish().raw);
    const value = randomText(rng, 1 + rng.below(3)).replace(/\n/g, " ");
    const matcher = lineMatcher([{ kind: "line_filter", op: "|=", value }]);
    const from = rng.below(texts.length);
    const to = from + rng.below(texts.length - from + 1);
    const got: [number, string][] = [];
    assert.equal(scanBlock(block, from, to, matcher, (i, line) => got.push([i, line])), to);
    // Stopped whenever a turn is up (a third of the lines), each resumed where it stopped; and
    // before each line held costly, which is tested apart.
    const resumed: [number, string][] = [];
    const turnUp = () => rng.below(3) === 0;
    // Lines of an odd length are held costly (the length of a line as a string).
    const costly = (length: number) => length % 2 === 1;
    const apart = { ...matcher, costly };
    for (let at = from; at < to;) {
      const next = scanBlock(block, at, to, apart, (i, line) => resumed.push([i, line]), turnUp);
      assert.ok(next >= at && next <= to, `resumed at ${at}, stopped at ${next}`);
      assert.ok(resumed.every(([i]) => i < next));
      const line = next < to ? decodeLine(block, next) : "";
      if (next < to && costly(line.length)) {
        if (matcher.test!(line)) resumed.push([next, line]);
        at = next + 1;
      } else {
        assert.ok(next > at, `no progress at ${at}`);
        at = next;
      }
    }
    const expected: [number, string][] = [];
    for (let i = from; i < to; i++) {
      const line = decodeLine(block, i);
      if (line.includes(value)) expected.push([i, line]);
    }
    assert.deepEqual(got, expected);
    assert.deepEqual(resumed, expected);
  }
});
