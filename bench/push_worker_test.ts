import assert from "node:assert/strict";
import { parseWorkerOptions, type WorkerOptions } from "./push_worker.ts";

const VALID: WorkerOptions = {
  addr: "http://127.0.0.1:3000",
  seed: 42,
  start: "1795219200000000000",
  rate: 200,
  lines: 10_000,
  batch: 1000,
  worker: 1,
  workers: 2,
  concurrency: 4,
  format: "json",
  timeoutMs: 60_000,
};

Deno.test("parseWorkerOptions() accepts valid options", () => {
  assert.deepEqual(parseWorkerOptions(JSON.stringify(VALID)), VALID);
});

Deno.test("parseWorkerOptions() names the bad option", () => {
  const bad = (patch: Record<string, unknown>) => JSON.stringify({ ...VALID, ...patch });
  assert.throws(() => parseWorkerOptions(bad({ worker: 2 })), /worker: 2 is not below 2/);
  assert.throws(
    () => parseWorkerOptions(bad({ lines: 0 })),
    /option lines: expected an integer >= 1/,
  );
  assert.throws(() => parseWorkerOptions(bad({ start: 5 })), /option start/);
  assert.throws(() => parseWorkerOptions(bad({ format: "xml" })), /option format/);
  assert.throws(() => parseWorkerOptions(bad({ rate: 0 })), /option rate/);
  assert.throws(() => parseWorkerOptions(bad({ addr: 1 })), /option addr/);
});
