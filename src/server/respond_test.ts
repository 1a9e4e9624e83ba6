import assert from "node:assert/strict";
import { json } from "./respond.ts";

Deno.test("json(): an answer over 1 MiB goes out in pieces that decode to the same JSON, surrogate pairs whole", async () => {
  // `{"s":"` is 6 code units: the emoji's first half is the 262,144th, the last of a piece.
  const s = "a".repeat(256 * 1024 - 7) + "😀" + "é".repeat(600_000) + "😀".repeat(300_000);
  const body = { s, t: 1795219200000000001n };
  const res = json(body);
  assert.equal(res.headers.get("content-type"), "application/json");
  const text = await res.text();
  assert.ok(text.length > 1024 * 1024);
  assert.equal(text, `{"s":${JSON.stringify(s)},"t":1795219200000000001}`);
  assert.ok(!text.includes("\ufffd"));
});

Deno.test("json(): a small answer is one text with bigints as integers", async () => {
  const res = json({ status: "success", data: [{ ts: 5n, line: "hé" }] }, 201);
  assert.equal(res.status, 201);
  assert.equal(await res.text(), '{"status":"success","data":[{"ts":5,"line":"hé"}]}');
});
