import assert from "node:assert/strict";
import { parseSustainedClientOptions, type SustainedClientOptions } from "./sustained_client.ts";

const VALID: SustainedClientOptions = {
  addr: "http://127.0.0.1:3000",
  seed: 42,
  start: "1795219200000000000",
  rate: 300_000,
  batch: 1000,
  poolBatches: 128,
  client: 1,
  clients: 2,
  concurrency: 4,
  durationMs: 60_000,
  timeoutMs: 120_000,
};

Deno.test("parseSustainedClientOptions() accepts valid options", () => {
  assert.deepEqual(parseSustainedClientOptions(JSON.stringify(VALID)), VALID);
});

Deno.test("parseSustainedClientOptions() names the bad option", () => {
  const bad = (patch: Record<string, unknown>) => JSON.stringify({ ...VALID, ...patch });
  assert.throws(() => parseSustainedClientOptions(bad({ client: 2 })), /client: 2 is not below 2/);
  assert.throws(
    () => parseSustainedClientOptions(bad({ concurrency: 129 })),
    /concurrency: 129 is above poolBatches 128/,
  );
  // Timestamps are rewritten as 19 digits: a start of fewer cannot be.
  assert.throws(
    () => parseSustainedClientOptions(bad({ start: "179521920000000000" })),
    /option start: expected 19 decimal digits/,
  );
  assert.throws(() => parseSustainedClientOptions(bad({ rate: 0 })), /option rate/);
  assert.throws(
    () => parseSustainedClientOptions(bad({ durationMs: -1 })),
    /option durationMs: expected an integer >= 0/,
  );
});
