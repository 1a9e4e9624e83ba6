import assert from "node:assert/strict";
import { decodeUtf8, encodeUtf8 } from "./utf8.ts";
import { Rng } from "../testing/prng.ts";

/** The oracle: the platform's fatal decoder, `undefined` where it refuses. */
const fatal = new TextDecoder("utf-8", { fatal: true });
function expected(bytes: Uint8Array): string | undefined {
  try {
    return fatal.decode(bytes);
  } catch {
    return undefined;
  }
}

function actual(bytes: Uint8Array): string | undefined {
  try {
    return decodeUtf8(bytes);
  } catch (error) {
    assert.ok(error instanceof TypeError);
    return undefined;
  }
}

Deno.test("decodeUtf8 answers the fatal decoder on edge cases", () => {
  const cases = [
    [],
    [0xef, 0xbb, 0xbf, 0x61], // byte order mark
    [0xef, 0xbf, 0xbd], // a genuine U+FFFD
    [0xef, 0xbf, 0xbd, 0xff], // a genuine one, then an invalid byte
    [0xc3], // truncated
    [0xc0, 0x80], // overlong
    [0xed, 0xa0, 0x80], // an encoded surrogate
    [0xf4, 0x90, 0x80, 0x80], // past U+10FFFF
    [0xf0, 0x9f, 0x98, 0x80], // U+1F600
    [0x80],
  ];
  for (const c of cases) {
    const bytes = new Uint8Array(c);
    assert.equal(actual(bytes), expected(bytes), `bytes ${c}`);
  }
});

Deno.test("decodeUtf8 answers the fatal decoder on random bytes", () => {
  // A fixed-seed xorshift, so a failure repeats.
  let state = 0x2545f491;
  const next = () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return state >>> 0;
  };
  // Bytes drawn mostly from valid pieces, so both answers occur often.
  const pieces = [
    [0x61],
    [0xc3, 0xa9],
    [0xe6, 0x97, 0xa5],
    [0xf0, 0x9f, 0x98, 0x80],
    [
      0xef,
      0xbf,
      0xbd,
    ],
    [0xff],
    [0xc3],
    [0x80],
    [0xed, 0xb0, 0x80],
  ];
  let refused = 0;
  for (let n = 0; n < 5000; n++) {
    const bytes: number[] = [];
    const count = next() % 12;
    for (let i = 0; i < count; i++) {
      bytes.push(...(next() % 4 === 0 ? pieces[next() % pieces.length] : pieces[next() % 5]));
    }
    const input = new Uint8Array(bytes);
    const want = expected(input);
    if (want === undefined) refused++;
    assert.equal(actual(input), want, `bytes ${bytes}`);
  }
  assert.ok(refused > 500 && refused < 4500, `refused ${refused} of 5000`);
});

Deno.test("encodeUtf8 gives TextEncoder.encode's bytes", () => {
  const platform = new TextEncoder();
  const pieces = [
    "a",
    "line ",
    "\n",
    "\u00e9",
    "\u20ac",
    "\ud83d\ude00",
    "\ud800",
    "\udc00",
    "\u0000",
  ];
  // A seeded generator: the same strings on every run.
  const rng = Object.assign(new Rng(), { state: 7 });
  const cases = ["", "ascii only", "\ud83d", "x\ud83d", "\ud83d\ude00tail"];
  for (let i = 0; i < 2000; i++) {
    let s = "";
    for (let n = rng.below(40); n > 0; n--) s += rng.pick(pieces);
    cases.push(s);
  }
  for (const text of cases) {
    assert.deepEqual(encodeUtf8(text), platform.encode(text), JSON.stringify(text));
  }
});
