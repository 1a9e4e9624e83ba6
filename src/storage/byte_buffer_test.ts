import assert from "node:assert/strict";
import { ByteReader, ByteWriter } from "./byte_buffer.ts";

Deno.test("writes that outgrow the buffer land in the grown one", () => {
  const w = new ByteWriter(2);
  w.u8(7);
  w.uvarint(300);
  w.bytes(new Uint8Array(10).fill(9));
  w.i64(-5n);
  w.bigUvarint(2n ** 63n);
  const r = new ByteReader(w.bytes());
  assert.equal(r.u8(), 7);
  assert.equal(r.uvarint(), 300);
  assert.deepEqual([...r.bytes(10)], new Array(10).fill(9));
  assert.equal(r.i64(), -5n);
  assert.equal(r.bigUvarint(), 2n ** 63n);
  assert.throws(() => r.u8(), RangeError);
});
