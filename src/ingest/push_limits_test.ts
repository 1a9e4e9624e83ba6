import assert from "node:assert/strict";
import { checkPushLimits, DEFAULT_PAYLOAD_LIMITS, MAX_STREAMS_PER_PUSH } from "./push_limits.ts";
import { PushError } from "./payload.ts";

const payload = (key: string, lines: string[]) => ({
  streams: [{ key, ts: lines.map((_, i) => BigInt(i)), lines }],
  lines: lines.length,
});

Deno.test("checkPushLimits: line sizes are UTF-8 bytes, measured independently by TextEncoder", () => {
  const lines = ["a".repeat(100), "é".repeat(50), "€".repeat(34), "😀".repeat(25), "ab"];
  for (const line of lines) {
    const bytes = new TextEncoder().encode(line).length;
    checkPushLimits(payload('{"app":"a"}', [line]), {
      ...DEFAULT_PAYLOAD_LIMITS,
      maxLineBytes: bytes,
    });
    assert.throws(
      () =>
        checkPushLimits(payload('{"app":"a"}', ["ok", line]), {
          ...DEFAULT_PAYLOAD_LIMITS,
          maxLineBytes: bytes - 1,
        }),
      (e: unknown) =>
        e instanceof PushError &&
        e.message ===
          `a line of stream {"app":"a"} is ${bytes} bytes, over the limit of ${
            bytes - 1
          } (--max-line-size)`,
    );
  }
  checkPushLimits(payload('{"app":"a"}', ["a".repeat(1 << 20)]), {
    ...DEFAULT_PAYLOAD_LIMITS,
    maxLineBytes: 0,
  }); // 0: no limit
});

Deno.test("checkPushLimits: at most 15 labels a stream", () => {
  const labels = (n: number) =>
    JSON.stringify(Object.fromEntries(Array.from({ length: n }, (_, i) => [`l${i}`, "v"])));
  checkPushLimits(payload(labels(DEFAULT_PAYLOAD_LIMITS.maxLabelNames), ["x"]), {
    ...DEFAULT_PAYLOAD_LIMITS,
    maxLineBytes: 0,
  });
  assert.throws(
    () =>
      checkPushLimits(payload(labels(DEFAULT_PAYLOAD_LIMITS.maxLabelNames + 1), ["x"]), {
        ...DEFAULT_PAYLOAD_LIMITS,
        maxLineBytes: 0,
      }),
    /has 16 labels, over the limit of 15 \(--max-label-names-per-series\)/,
  );
});

Deno.test("checkPushLimits: at most 100,000 streams a push", () => {
  const streams = (n: number) => ({
    streams: Array.from({ length: n }, (_, i) => ({ key: `{"s":"${i}"}`, ts: [1n], lines: ["x"] })),
    lines: n,
  });
  checkPushLimits(streams(MAX_STREAMS_PER_PUSH), { ...DEFAULT_PAYLOAD_LIMITS, maxLineBytes: 0 });
  assert.throws(
    () =>
      checkPushLimits(streams(MAX_STREAMS_PER_PUSH + 1), {
        ...DEFAULT_PAYLOAD_LIMITS,
        maxLineBytes: 0,
      }),
    /push has 100001 streams, over the limit of 100000/,
  );
});
