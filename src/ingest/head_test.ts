import assert from "node:assert/strict";
import { lineStart } from "../storage/flush_worker.ts";
import { encodeBatches, MemBatch } from "./head.ts";

Deno.test("each encoded line's bytes are its own, whatever its neighbours", () => {
  // Lone surrogates at line edges would join into one character if the lines
  // were encoded as one string without a separator.
  const lines = ["x\ud83d", "\ude00y", "plain", "é\n", "", "\ud83d\ude00"];
  const batch = new MemBatch();
  batch.add(1, [{ key: '{"app":"a"}', ts: lines.map((_, i) => BigInt(i)), lines }]);
  batch.add(2, [{ key: '{"app":"b"}', ts: [9n], lines: ["ascii only"] }]);
  const encoded = encodeBatches([batch]);
  const decoder = new TextDecoder();
  const read = Array.from(
    encoded.ends,
    (end, i) => decoder.decode(encoded.lines.subarray(lineStart(encoded.ends, i), end)),
  );
  assert.deepEqual(read, [...lines.map((l) => l.toWellFormed()), "ascii only"]);
});

Deno.test("ASCII lines are measured without encoding them twice", () => {
  const batch = new MemBatch();
  batch.add(1, [{ key: "{}", ts: [1n, 2n, 3n], lines: ["a", "", "bc"] }]);
  const { lines, ends } = encodeBatches([batch]);
  assert.deepEqual([...ends], [1, 2, 5]);
  assert.equal(new TextDecoder().decode(lines), "a\n\nbc");
});
