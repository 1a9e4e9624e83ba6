import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { gzipSync } from "node:zlib";
import { receiveBody } from "./body.ts";

Deno.test("receiveBody: a gzip body comes out as a plain Uint8Array, whose slice() is a copy", async () => {
  const text = "a line\n".repeat(1000);
  const req = new Request("http://loge/api/v1/push", {
    method: "POST",
    headers: { "content-encoding": "gzip" },
    body: new Uint8Array(gzipSync(new TextEncoder().encode(text))),
  });
  const body = await receiveBody(req, { maxBytes: 1 << 20 });
  assert.equal(body.parts.length, 1);
  const [part] = body.parts;
  assert.equal(Buffer.isBuffer(part), false);
  assert.equal(new TextDecoder().decode(part), text);
  assert.notEqual(part.slice(0, 2).buffer, part.buffer);
});
