import assert from "node:assert/strict";
import {
  LabelKeyCache,
  MAX_LABEL_NAME_LENGTH,
  MAX_LABEL_VALUE_LENGTH,
  PushError,
  validatePush,
} from "./payload.ts";

Deno.test("lone surrogates become U+FFFD in lines, label values and metadata", () => {
  const p = validatePush({
    streams: [{
      stream: { app: "x\ud83d" },
      values: [["1", "a\ude00b", { "k\ud83d": "\udc00v" }], ["2", "fine \ud83d\ude00"]],
    }],
  });
  const s = p.streams[0];
  assert.equal(s.key, '{"app":"x\ufffd"}');
  assert.deepEqual(s.lines, ["a\ufffdb", "fine \ud83d\ude00"]);
  assert.deepEqual(JSON.parse(s.metadata![0]!), { "k\ufffd": "\ufffdv" });
});

Deno.test("label names and values over Loki's lengths are refused, naming the label", () => {
  const push = (stream: Record<string, string>) =>
    validatePush({ streams: [{ stream, values: [["1", "x"]] }] });
  push({ ["n".repeat(MAX_LABEL_NAME_LENGTH)]: "v" });
  push({ app: "v".repeat(MAX_LABEL_VALUE_LENGTH) });
  assert.throws(
    () => push({ ["n".repeat(MAX_LABEL_NAME_LENGTH + 1)]: "v" }),
    (e: unknown) => e instanceof PushError && /longer than 1024/.test(e.message),
  );
  assert.throws(
    () => push({ app: "v".repeat(8 * 1024 * 1024) }),
    (e: unknown) =>
      e instanceof PushError && e.message === "stream 0: label app is 8388608 characters long, " +
          "over the limit of 2048",
  );
});

Deno.test("the label key cache stays within its bound in characters", () => {
  const cache = new LabelKeyCache(100_000);
  for (let i = 0; i < 10_000; i++) {
    const sent = `{"app":"${"v".repeat(2000)}${i}"}`;
    cache.set(sent, sent);
    assert.ok(cache.size <= 100_000, `${cache.size} characters held`);
  }
  cache.set("x".repeat(200_000), "y"); // larger than the bound: never held
  assert.equal(cache.get("x".repeat(200_000)), undefined);
});
