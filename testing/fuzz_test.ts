import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { Mutator } from "./fuzz.ts";

Deno.test("Mutator: seeds are never changed, even a Node Buffer whose slice is a view", () => {
  const seed = Buffer.from("a seed of some length, for mutations to work on");
  const copy = new Uint8Array(seed);
  const mutator = new Mutator([seed], 1);
  for (let i = 0; i < 500; i++) mutator.next();
  assert.deepEqual(new Uint8Array(seed), copy);
});

Deno.test("Mutator: one time in `intact`, a seed as it is", () => {
  const seed = new TextEncoder().encode('{"a":1}');
  const mutator = new Mutator([seed], 3);
  let intact = 0;
  for (let i = 0; i < 1000; i++) if (mutator.next(4).join() === seed.join()) intact++;
  assert.ok(intact > 150 && intact < 350, `${intact} of 1000`);
});
