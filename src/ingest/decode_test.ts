import assert from "node:assert/strict";
import { encode as encodeMsgpack } from "@msgpack/msgpack";
import protobuf from "protobufjs";
import { decodePush, formatOf, PushFormat } from "./decode.ts";
import { PushError } from "./payload.ts";

const payload = {
  streams: [
    {
      stream: { env: "prod", app: "web" },
      values: [["1700000000000000001", "GET /", { trace: "a1" }], ["1700000000000000002", "ünï"]],
    },
    { stream: { app: "api", empty: "" }, values: [["5", "x"]] },
  ],
};

function expectRight(p: ReturnType<typeof decodePush>) {
  assert.equal(p.lines, 3);
  assert.equal(p.streams[0].key, '{"app":"web","env":"prod"}');
  assert.deepEqual(p.streams[0].ts, [1700000000000000001n, 1700000000000000002n]);
  assert.deepEqual(p.streams[0].lines, ["GET /", "ünï"]);
  assert.deepEqual(p.streams[0].metadata, ['{"trace":"a1"}', undefined]);
  assert.equal(p.streams[1].key, '{"app":"api"}');
  assert.equal(p.streams[1].metadata, undefined);
}

Deno.test("JSON, msgpack and protobuf decode to the same payload", async () => {
  expectRight(decodePush(PushFormat.Json, new TextEncoder().encode(JSON.stringify(payload))));
  expectRight(decodePush(PushFormat.Msgpack, encodeMsgpack(payload)));
  const root = await protobuf.load(new URL("./push.proto", import.meta.url).pathname);
  const PushRequest = root.lookupType("loge.PushRequest");
  const message = PushRequest.fromObject({
    streams: payload.streams.map((s) => ({
      stream: s.stream,
      values: s.values.map(([timestamp, line, metadata]) => ({ timestamp, line, metadata })),
    })),
  });
  expectRight(decodePush(PushFormat.Protobuf, PushRequest.encode(message).finish()));
});

Deno.test("content types select formats", () => {
  assert.equal(formatOf("application/JSON; charset=utf-8"), PushFormat.Json);
  assert.equal(formatOf("application/x-protobuf"), PushFormat.Protobuf);
  assert.equal(formatOf("text/plain"), undefined);
  assert.equal(formatOf(null), undefined);
});

Deno.test("each invalid payload names its first problem and where it is", () => {
  const cases: [unknown, RegExp, number?, number?][] = [
    [{}, /^payload has no streams$/],
    [{ streams: [] }, /^payload has no streams$/],
    [{ streams: [{ values: [["1", "x"]] }] }, /^stream 0: stream has no labels$/, 0],
    [{ streams: [{ stream: {}, values: [["1", "x"]] }] }, /^stream 0: stream has no labels$/, 0],
    [{ streams: [{ stream: { a: "b" }, values: [] }] }, /^stream 0: stream has no values$/, 0],
    [
      { streams: [{ stream: { "1a": "b" }, values: [["1", "x"]] }] },
      /label name "1a" must match/,
      0,
    ],
    [
      { streams: [{ stream: { a: "b" }, values: [["1", "x"], ["1.5", "y"]] }] },
      /^stream 0, value 1: timestamp must be an integer nanosecond string, got "1.5"$/,
      0,
      1,
    ],
    [
      { streams: [{ stream: { a: "b" }, values: [[1, "x"]] }] },
      /timestamp must be an integer nanosecond string, got number 1/,
      0,
      0,
    ],
    [
      { streams: [{ stream: { a: "b" }, values: [["99999999999999999999", "x"]] }] },
      /timestamp must be/,
      0,
      0,
    ],
    [
      { streams: [{ stream: { a: "b" }, values: [["1", 5]] }] },
      /^stream 0, value 0: line must be a string, got number 5$/,
      0,
      0,
    ],
    [
      { streams: [{ stream: { a: "b" }, values: [["1", "x", { k: 1 }]] }] },
      /metadata k must be a string/,
      0,
      0,
    ],
  ];
  for (const [raw, message, stream, value] of cases) {
    assert.throws(
      () => decodePush(PushFormat.Json, new TextEncoder().encode(JSON.stringify(raw))),
      (e) => {
        assert.ok(e instanceof PushError);
        assert.match(e.message, message);
        assert.equal(e.stream, stream);
        assert.equal(e.value, value);
        return true;
      },
    );
  }
});

Deno.test("undecodable bytes are a PushError", () => {
  assert.throws(
    () => decodePush(PushFormat.Json, new TextEncoder().encode("{nope")),
    /cannot decode json body/,
  );
  assert.throws(
    () => decodePush(PushFormat.Json, new Uint8Array([0x22, 0xff, 0x22])),
    /cannot decode json body/,
  );
  assert.throws(
    () => decodePush(PushFormat.Msgpack, new Uint8Array([0xc1])),
    /cannot decode msgpack body/,
  );
  assert.throws(
    () => decodePush(PushFormat.Protobuf, new Uint8Array([0x0a, 0x05, 0x01])),
    /cannot decode protobuf body/,
  );
});

/** `bytes` with the first occurrence of ASCII `marker` replaced by `bad` (same length). */
function replaced(bytes: Uint8Array, marker: string, bad: number[]): Uint8Array {
  const m = new TextEncoder().encode(marker);
  const out = bytes.slice();
  for (let i = 0; i + m.length <= out.length; i++) {
    if (m.every((b, j) => out[i + j] === b)) {
      out.set(bad, i);
      return out;
    }
  }
  throw new Error(`marker ${marker} not found`);
}

Deno.test("invalid UTF-8 is refused alike by JSON, msgpack and protobuf", async () => {
  const root = await protobuf.load(new URL("./push.proto", import.meta.url).pathname);
  const PushRequest = root.lookupType("loge.PushRequest");
  const encoders: [PushFormat, (p: typeof payload) => Uint8Array][] = [
    [PushFormat.Json, (p) => new TextEncoder().encode(JSON.stringify(p))],
    [PushFormat.Msgpack, (p) => encodeMsgpack(p)],
    [PushFormat.Protobuf, (p) =>
      PushRequest.encode(PushRequest.fromObject({
        streams: p.streams.map((s) => ({
          stream: s.stream,
          values: s.values.map(([timestamp, line, metadata]) => ({ timestamp, line, metadata })),
        })),
      })).finish()],
  ];
  const invalid: [string, number[]][] = [
    ["lone 0xff", [0x78, 0xff, 0x79]],
    ["overlong '/'", [0x78, 0xc0, 0xaf]],
    ["CESU-8 surrogate", [0xed, 0xa0, 0xbd]],
  ];
  for (const [format, encode] of encoders) {
    for (const [what, bad] of invalid) {
      for (const where of ["line", "label", "metadata"]) {
        const p = structuredClone(payload);
        if (where === "line") p.streams[0].values[1][1] = "QQQ";
        if (where === "label") p.streams[0].stream.env = "QQQ";
        if (where === "metadata") p.streams[0].values[0][2] = { trace: "QQQ" };
        const body = replaced(encode(p), "QQQ", bad);
        assert.throws(
          () => decodePush(format, body),
          (e: unknown) => e instanceof PushError && /cannot decode/.test(e.message),
          `${PushFormat[format]}: ${what} in a ${where} was accepted`,
        );
      }
    }
  }
});
