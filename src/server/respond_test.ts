import assert from "node:assert/strict";
import { json, utf8Pieces } from "./respond.ts";

/** The chunks of a response body. */
async function chunks(body: ReadableStream<Uint8Array>): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  for await (const chunk of body) out.push(chunk);
  return out;
}

/** The chunks joined. */
const joined = async (pieces: Uint8Array[]) =>
  new Uint8Array(await new Response(ReadableStream.from(pieces)).arrayBuffer());

Deno.test("json(): an answer over 1 MiB goes out in pieces that decode to the same JSON, surrogate pairs whole", async () => {
  // `{"s":"` is 6 code units: the emoji's first half is the 262,144th, the last of a piece.
  const s = "a".repeat(256 * 1024 - 7) + "😀" + "é".repeat(600_000) + "😀".repeat(300_000);
  const res = json({ s, t: 1795219200000000001n });
  assert.equal(res.headers.get("content-type"), "application/json");
  const expected = `{"s":${JSON.stringify(s)},"t":1795219200000000001}`;
  const pieces = await chunks(res.body!);
  // A piece of 256 Ki code units (one more where it keeps a pair whole), at most 3 bytes a unit.
  assert.equal(pieces.length, Math.ceil(expected.length / (256 * 1024)));
  for (const piece of pieces) {
    assert.ok(piece.length <= 3 * 256 * 1024 + 4, `${piece.length} bytes`);
  }
  const text = new TextDecoder("utf-8", { fatal: true }).decode(await joined(pieces));
  assert.equal(text, expected);
});

Deno.test("utf8Pieces(): a lone high surrogate at a piece's end is one U+FFFD, and the pair after it stays whole", async () => {
  const text = "a".repeat(256 * 1024 - 1) + "\ud800" + "😀b";
  const bytes = await joined(await chunks(utf8Pieces(text)));
  assert.deepEqual(bytes, new TextEncoder().encode(text));
  assert.equal(new TextDecoder().decode(bytes), "a".repeat(256 * 1024 - 1) + "\ufffd😀b");
});

Deno.test("json(): a small answer is one text with bigints as integers", async () => {
  const res = json({ status: "success", data: [{ ts: 5n, line: "hé" }] }, 201);
  assert.equal(res.status, 201);
  assert.equal(await res.text(), '{"status":"success","data":[{"ts":5,"line":"hé"}]}');
});
