import assert from "node:assert/strict";
import { codeLines, decodeLines } from "./line_coding.ts";
import { Rng } from "../../testing/prng.ts";

const enc = new TextEncoder();

/** Deterministic pseudo-random integers in [0, n). */
function rng(seed: number) {
  const generator = Object.assign(new Rng(), { state: seed });
  return (n: number) => generator.below(n);
}

function roundTrip(bytes: Uint8Array) {
  const { text, ids } = codeLines(bytes);
  assert.deepEqual(decodeLines(text, ids), bytes);
  return { text, ids };
}

Deno.test("random lines of hex, dashes, marks and other bytes come back exactly", () => {
  const random = rng(12345);
  // Pieces that meet the coder's edges: runs around 8, 16 and 127 bytes, UUID look-alikes.
  const pieces = [
    "0123456789abcdef",
    "deadbeef",
    "-",
    "\u0001",
    "\u0000",
    "ABCDEF",
    "g",
    " ",
    "\n",
    "é",
    "😀",
    "6a8ec3aab898ae608aa7225fdc44a737",
    "46e2574b-588a-4d54-a925-da7668a257c4",
    "46e2574b-588a-4d54-a925-da7668a257c",
    "46E2574B-588A-4D54-A925-DA7668A257C4",
    "f",
  ];
  let coded = 0;
  for (let n = 0; n < 3000; n++) {
    let s = "";
    const parts = random(40);
    for (let p = 0; p < parts; p++) {
      const piece = pieces[random(pieces.length)];
      s += random(4) === 0 ? piece.repeat(1 + random(20)) : piece;
    }
    coded += roundTrip(enc.encode(s)).ids.length;
  }
  assert.ok(coded > 10_000, `ids coded: ${coded}`);
  // Raw random bytes, invalid UTF-8 included.
  for (let n = 0; n < 500; n++) {
    const b = new Uint8Array(random(600));
    for (let i = 0; i < b.length; i++) b[i] = random(4) === 0 ? 0x01 : random(256);
    roundTrip(b);
  }
});

Deno.test("hex runs of 16 digits or more and lowercase UUIDs go to ids; the rest stays text", () => {
  const cases: [string, number][] = [
    ["x".repeat(3), 0],
    ["a".repeat(15), 0], // too short
    ["a".repeat(16), 8],
    ["a".repeat(17), 8], // the odd digit stays text
    ["a".repeat(254), 127],
    ["a".repeat(256), 127], // 127 + 1 left: under 8 bytes, stays text
    ["a".repeat(300), 150], // 127 + 23
    ["46e2574b-588a-4d54-a925-da7668a257c4", 16],
    ["46E2574B-588A-4D54-A925-DA7668A257C4", 0], // uppercase is not coded
    ["46e2574b-588a-4d54-a925-da7668a257c", 0], // one digit short
  ];
  for (const [s, idBytes] of cases) {
    const { ids } = roundTrip(enc.encode(`k=${s};`));
    assert.equal(ids.length, idBytes, s.slice(0, 40));
  }
});

Deno.test("a damaged column is refused, not decoded into other lines", () => {
  const { text, ids } = codeLines(enc.encode("id=6a8ec3aab898ae608aa7225fdc44a737"));
  assert.throws(() => decodeLines(text, ids.subarray(1)), /ids column ends early/);
  assert.throws(() => decodeLines(text, new Uint8Array([...ids, 0])), /ids left over/);
  assert.throws(() => decodeLines(new Uint8Array([0x41, 0x01, 0x05]), ids), /unknown mark/);
  assert.throws(() => decodeLines(new Uint8Array([0x41, 0x01]), ids), /unknown mark/);
});
