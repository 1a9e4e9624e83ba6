import assert from "node:assert/strict";
import snappy from "snappyjs";
import { decodeSnappy, SnappyError, snappyLength, uncompressSnappy } from "./snappy.ts";

const encoder = new TextEncoder();

/** Inputs that exercise every element kind: literals of each length form, copies of each offset size, overlaps. */
function vectors(): Uint8Array[] {
  const random = (n: number, seed: number) => {
    const out = new Uint8Array(n);
    let x = seed;
    for (let i = 0; i < n; i++) {
      x = (x * 1103515245 + 12345) >>> 0;
      out[i] = x >>> 24;
    }
    return out;
  };
  const repeated = (text: string, n: number) => encoder.encode(text.repeat(n));
  const mixed = new Uint8Array(200_000);
  mixed.set(random(70_000, 1));
  mixed.set(random(70_000, 1), 100_000); // a copy 100 000 bytes back: 4-byte offsets
  return [
    new Uint8Array(),
    encoder.encode("a"),
    random(59, 2),
    random(60, 3),
    random(300, 4), // literal length in 1 extra byte
    random(70_000, 5), // literal length in 2 extra bytes
    repeated("a", 1000), // overlapping copies of one byte
    repeated("abc", 5000),
    repeated(`level=info msg="GET /api" dur=12ms\n`, 3000),
    mixed,
  ];
}

Deno.test("decodeSnappy decodes what an independent encoder (snappyjs) wrote", () => {
  for (const raw of vectors()) {
    const block = snappy.compress(raw);
    assert.equal(snappyLength(block), raw.length);
    assert.deepEqual(decodeSnappy(block), raw, `input of ${raw.length} bytes`);
    assert.deepEqual(decodeSnappy(block, raw.length), raw);
  }
});

Deno.test("decodeSnappy follows copies with 4-byte offsets, which 64 KiB-block encoders never write", () => {
  // length 12; literal "abcd"; copy-4 of 8 bytes from 4 back (overlapping)
  const block = new Uint8Array([0x0c, 0x0c, 0x61, 0x62, 0x63, 0x64, 0x1f, 0x04, 0x00, 0x00, 0x00]);
  assert.equal(new TextDecoder().decode(decodeSnappy(block)), "abcdabcdabcd");
});

Deno.test("decodeSnappy refuses malformed blocks with a reason, never hangs or overruns", () => {
  const good = snappy.compress(encoder.encode("hello hello hello hello, world"));
  const cases: [Uint8Array, RegExp][] = [
    [new Uint8Array(), /truncated length header/],
    [new Uint8Array([0x80, 0x80]), /truncated length header/],
    [new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0x01]), /length header over 32 bits/],
    [new Uint8Array([0xff, 0xff, 0xff, 0xff, 0x1f]), /length header over 32 bits/],
    // declares 4 GiB from 5 bytes
    [new Uint8Array([0xff, 0xff, 0xff, 0xff, 0x0f]), /more than 5 bytes of snappy can hold/],
    // literal of 3 bytes with 1 present
    [new Uint8Array([0x03, 0x08, 0x61]), /literal at 1 runs past the input/],
    // literal longer than the declared length
    [
      new Uint8Array([0x01, 0x04, 0x61, 0x62]),
      /output runs past the declared length: 2 bytes, not 1/,
    ],
    // 2-byte literal length cut short
    [new Uint8Array([0x03, 0xf4, 0x00]), /truncated literal length/],
    // copy before any output
    [new Uint8Array([0x04, 0x01, 0x01]), /copy offset 1 at output byte 0 is out of range/],
    // offset 0
    [new Uint8Array([0x05, 0x00, 0x61, 0x01, 0x00]), /copy offset 0/],
    // copy tag without its offset bytes
    [new Uint8Array([0x05, 0x00, 0x61, 0x02]), /truncated copy at 3/],
    [new Uint8Array([0x05, 0x00, 0x61, 0x03, 0x01, 0x00]), /truncated copy at 3/],
    // copy past the declared length
    [
      new Uint8Array([0x03, 0x00, 0x61, 0x01, 0x01]),
      /output runs past the declared length: 5 bytes, not 3/,
    ],
    // fewer bytes than declared
    [new Uint8Array([0x02, 0x00, 0x61]), /block holds 1 bytes, not the declared 2/],
  ];
  for (const [block, reason] of cases) {
    assert.throws(
      () => decodeSnappy(block),
      (e: unknown) => e instanceof SnappyError && reason.test(e.message),
      `${[...block]} should fail with ${reason}`,
    );
  }
  assert.throws(() => decodeSnappy(good, 29), /declares 30 bytes, over the limit of 29/);
});

Deno.test("decodeSnappy survives random corruption of valid blocks", () => {
  const block = snappy.compress(
    encoder.encode(`ts=1 level=warn msg="disk 91% full"\n`.repeat(200)),
  );
  let x = 7;
  for (let round = 0; round < 2000; round++) {
    const bad = block.slice();
    for (let k = 0; k < 3; k++) {
      x = (x * 1103515245 + 12345) >>> 0;
      bad[x % bad.length] = x >>> 24;
    }
    try {
      const out = decodeSnappy(bad, 1 << 20);
      assert.equal(out.length, snappyLength(bad));
    } catch (error) {
      assert.ok(error instanceof SnappyError, String(error));
    }
  }
});

Deno.test("uncompressSnappy decodes as decodeSnappy does, and refuses what it refuses with its reasons", () => {
  const block = snappy.compress(
    encoder.encode(`ts=1 level=warn msg="disk 91% full" host=db-${"x".repeat(40)}\n`.repeat(300)),
  );
  assert.deepEqual(uncompressSnappy(block), decodeSnappy(block));
  let x = 11;
  for (let round = 0; round < 500; round++) {
    const bad = block.slice();
    x = (x * 1103515245 + 12345) >>> 0;
    bad[x % bad.length] ^= 1 + (x >>> 24) % 255;
    let ours: Uint8Array | Error;
    try {
      ours = decodeSnappy(bad);
    } catch (error) {
      ours = error as Error;
    }
    if (ours instanceof Error) {
      assert.throws(() => uncompressSnappy(bad), (e: unknown) => e instanceof SnappyError);
    } else {
      // Both accept a block whose damage still decodes to the declared length.
      assert.deepEqual(uncompressSnappy(bad), ours);
    }
  }
});
