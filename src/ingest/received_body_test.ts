import assert from "node:assert/strict";
import { ReceivedBody } from "./received_body.ts";

/** A body of `size` bytes cut at random places, with its bytes made independently. */
function randomBody(size: number, random: () => number): { body: ReceivedBody; whole: number[] } {
  const whole = Array.from({ length: size }, () => Math.floor(random() * 256));
  const parts: Uint8Array[] = [];
  for (let at = 0; at < size;) {
    const n = Math.min(size - at, 1 + Math.floor(random() * 40));
    parts.push(Uint8Array.from(whole.slice(at, at + n)));
    at += n;
  }
  return { body: new ReceivedBody(parts), whole };
}

function seeded(seed: number): () => number {
  return () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
}

Deno.test("ReceivedBody copies any range of its chunks, and joins them", () => {
  const random = seeded(7);
  for (let n = 0; n < 300; n++) {
    const { body, whole } = randomBody(Math.floor(random() * 200), random);
    assert.equal(body.size, whole.length);
    for (let k = 0; k < 20; k++) {
      const from = Math.floor(random() * (whole.length + 1));
      const to = from + Math.floor(random() * (whole.length - from + 1));
      const into = new Uint8Array(to - from + 3).fill(9);
      body.copy(into, from, to);
      assert.deepEqual([...into], [...whole.slice(from, to), 9, 9, 9]);
    }
    assert.deepEqual([...body.bytes()], whole);
    // Joined once: copies then come from the joined buffer.
    assert.equal(body.bytes(), body.bytes());
    const into = new Uint8Array(whole.length);
    body.copy(into, 0, whole.length);
    assert.deepEqual([...into], whole);
  }
});

Deno.test("ReceivedBody.transient: the body whole, in a buffer the next body reuses", () => {
  const random = seeded(11);
  for (let n = 0; n < 200; n++) {
    const { body, whole } = randomBody(Math.floor(random() * 300), random);
    assert.deepEqual([...body.transient()], whole);
  }
  const first = randomBody(100, random);
  const second = randomBody(100, random);
  const view = first.body.transient();
  assert.deepEqual([...second.body.transient()], second.whole);
  if (first.body.parts.length > 1) assert.deepEqual([...view], second.whole); // overwritten
  const chunk = new Uint8Array([5, 6]);
  assert.equal(new ReceivedBody([chunk]).transient(), chunk);
});

Deno.test("ReceivedBody: an empty body, one chunk kept as it is, ranges out of bounds", () => {
  const empty = new ReceivedBody([]);
  assert.equal(empty.size, 0);
  assert.deepEqual(empty.bytes(), new Uint8Array());
  const chunk = new Uint8Array([1, 2, 3]);
  assert.equal(new ReceivedBody([chunk]).bytes(), chunk);
  const body = new ReceivedBody([chunk, new Uint8Array([4])]);
  assert.throws(
    () => body.copy(new Uint8Array(9), 2, 5),
    /cannot copy bytes \[2, 5\) of a 4-byte body into 9 bytes/,
  );
  assert.throws(() => body.copy(new Uint8Array(9), 3, 2), RangeError);
  assert.throws(() => body.copy(new Uint8Array(1), 0, 2), /into 1 bytes/);
});
