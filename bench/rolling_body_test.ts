import assert from "node:assert/strict";
import { decodePush, PushFormat } from "../src/ingest/decode.ts";
import { LogGenerator } from "./generator/mod.ts";
import { buildPayload, createEncoder, type PushPayload } from "./push_client.ts";
import { RollingBody } from "./rolling_body.ts";

const json = await createEncoder("json");

/** The server's reading of `body`: line → timestamp. */
function decoded(body: Uint8Array): Map<string, bigint> {
  const payload = decodePush(PushFormat.Json, body);
  const byLine = new Map<string, bigint>();
  for (const s of payload.streams) s.lines.forEach((line, i) => byLine.set(line, s.ts[i]));
  return byLine;
}

Deno.test("RollingBody.advance() moves every timestamp the server decodes by k × the step", () => {
  const generator = new LogGenerator({ seed: 3, rate: 1000 });
  const entries = [...generator.entries(5000, 1000)];
  const payload = buildPayload(entries);
  const body = new RollingBody(json.encode(payload), payload);
  assert.equal(body.lines, 1000);
  // Odd digits all the way up, so that carries cross every position.
  const step = 987_654_321_987_654_321n;
  for (let k = 0n; k < 4n; k++) {
    if (k > 0n) body.advance(step);
    const got = decoded(body.body);
    assert.equal(got.size, 1000);
    let newest = 0n;
    for (const e of entries) {
      const expected = e.ts + k * step;
      assert.equal(got.get(e.line), expected, e.line);
      if (expected > newest) newest = expected;
    }
    assert.equal(body.lastTs, newest);
    assert.equal(body.shiftNs, k * step);
  }
});

function onePair(ts: string, line = "hello"): PushPayload {
  return { streams: [{ stream: { app: "web" }, values: [[ts, line]] }] };
}

Deno.test("RollingBody.advance() carries into the highest digit", () => {
  const payload = onePair("1799999999999999999");
  const body = new RollingBody(json.encode(payload), payload);
  body.advance(1n);
  assert.deepEqual([...decoded(body.body).values()], [1_800_000_000_000_000_000n]);
  body.advance(0n);
  assert.equal(body.lastTs, 1_800_000_000_000_000_000n);
});

Deno.test("RollingBody.advance() refuses to outgrow 19 digits or move back", () => {
  const payload = onePair("9999999999999999990");
  const bytes = json.encode(payload);
  const before = bytes.slice();
  const body = new RollingBody(bytes, payload);
  assert.throws(() => body.advance(10n), /would outgrow 19 digits/);
  assert.throws(() => body.advance(-1n), /Cannot move timestamps back by 1 ns/);
  assert.deepEqual(body.body, before);
  // Past the server's int64 range, so read back as text.
  body.advance(9n);
  assert.match(new TextDecoder().decode(body.body), /\["9999999999999999999","hello"\]/);
});

Deno.test("RollingBody finds timestamps, not look-alikes inside lines", () => {
  const line = 'copied ["1795219200000000000","x"] from a push';
  const payload = onePair("1795219200000000001", line);
  const body = new RollingBody(json.encode(payload), payload);
  body.advance(10n);
  assert.deepEqual([...decoded(body.body)], [[line, 1_795_219_200_000_000_011n]]);
});

Deno.test("RollingBody names a body that does not hold the payload's timestamps", () => {
  const short = onePair("179521920000000000");
  assert.throws(
    () => new RollingBody(json.encode(short), short),
    /found 0 19-digit timestamps, expected 1/,
  );
  const other = onePair("1795219200000000000");
  assert.throws(
    () => new RollingBody(json.encode(onePair("1795219200000000005")), other),
    /timestamp 0 is 1795219200000000005, expected 1795219200000000000/,
  );
});
