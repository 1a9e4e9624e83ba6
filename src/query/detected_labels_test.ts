import assert from "node:assert/strict";
import { detectLabels } from "./detected_labels.ts";

Deno.test("labels whose values are all numbers or UUIDs are left out, unless 0/1 flags or static", () => {
  const streams = [
    {
      app: "web",
      pod: "1",
      instance: "10",
      user_id: "7",
      req: "f47ac10b-58cc-4372-a567-0e02b2c3d479",
      flag: "0",
      mixed: "a1",
    },
    {
      app: "api",
      pod: "2",
      instance: "11",
      user_id: "1e3",
      req: "{F47AC10B-58CC-4372-A567-0E02B2C3D480}",
      flag: "1",
      mixed: "7",
    },
    {
      app: "db",
      pod: "3",
      instance: "12",
      user_id: "-4.5",
      req: "urn:uuid:f47ac10b-58cc-4372-a567-0e02b2c3d481",
      flag: "1",
      mixed: "8",
    },
  ];
  assert.deepEqual(detectLabels(streams), [
    { label: "app", cardinality: 3 },
    { label: "flag", cardinality: 2 },
    { label: "instance", cardinality: 3 },
    { label: "mixed", cardinality: 3 },
    { label: "pod", cardinality: 3 },
  ]);
});

Deno.test("three 0/1-like values are ids; a label only some streams have counts its values", () => {
  assert.deepEqual(
    detectLabels([{ a: "0", b: "x" }, { a: "1" }, { a: "2", b: "y" }]),
    [{ label: "b", cardinality: 2 }],
  );
  assert.deepEqual(detectLabels([]), []);
});
