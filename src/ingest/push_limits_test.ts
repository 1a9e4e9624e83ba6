import assert from "node:assert/strict";
import {
  checkPushLimits,
  MAX_LABEL_NAMES_PER_STREAM,
  MAX_STREAMS_PER_PUSH,
} from "./push_limits.ts";
import { PushError } from "./payload.ts";

const payload = (key: string, lines: string[]) => ({
  streams: [{ key, ts: lines.map((_, i) => BigInt(i)), lines }],
  lines: lines.length,
});

Deno.test("checkPushLimits: line sizes are UTF-8 bytes, measured independently by TextEncoder", () => {
  const lines = ["a".repeat(100), "é".repeat(50), "€".repeat(34), "😀".repeat(25), "ab"];
  for (const line of lines) {
    const bytes = new TextEncoder().encode(line).length;
    checkPushLimits(payload('{"app":"a"}', [line]), bytes);
    assert.throws(
      () => checkPushLimits(payload('{"app":"a"}', ["ok", line]), bytes - 1),
      (e: unknown) =>
        e instanceof PushError &&
        e.message ===
          `a line of stream {"app":"a"} is ${bytes} bytes, over the limit of ${
            bytes - 1
          } (--max-line-size)`,
    );
  }
  checkPushLimits(payload('{"app":"a"}', ["a".repeat(1 << 20)]), 0); // 0: no limit
});

Deno.test("checkPushLimits: at most 15 labels a stream", () => {
  const labels = (n: number) =>
    JSON.stringify(Object.fromEntries(Array.from({ length: n }, (_, i) => [`l${i}`, "v"])));
  checkPushLimits(payload(labels(MAX_LABEL_NAMES_PER_STREAM), ["x"]), 0);
  assert.throws(
    () => checkPushLimits(payload(labels(MAX_LABEL_NAMES_PER_STREAM + 1), ["x"]), 0),
    /has 16 labels, over the limit of 15/,
  );
});

Deno.test("checkPushLimits: at most 100,000 streams a push", () => {
  const streams = (n: number) => ({
    streams: Array.from({ length: n }, (_, i) => ({ key: `{"s":"${i}"}`, ts: [1n], lines: ["x"] })),
    lines: n,
  });
  checkPushLimits(streams(MAX_STREAMS_PER_PUSH), 0);
  assert.throws(
    () => checkPushLimits(streams(MAX_STREAMS_PER_PUSH + 1), 0),
    /push has 100001 streams, over the limit of 100000/,
  );
});
