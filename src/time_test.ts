import assert from "node:assert/strict";
import { formatTime, parseTime } from "./time.ts";

Deno.test("times parse from RFC 3339 and unix ns, and format back", () => {
  assert.equal(parseTime("1700000000000000001"), 1700000000000000001n);
  assert.equal(parseTime("2023-11-14T22:13:20Z"), 1700000000000000000n);
  assert.equal(parseTime("2023-11-14T23:13:20.000000001+01:00"), 1700000000000000001n);
  assert.equal(parseTime("yesterday"), undefined);
  assert.equal(parseTime("2023-11-14 22:13:20"), undefined);
  assert.equal(formatTime(1700000000000000001n), "2023-11-14T22:13:20.000000001Z");
  assert.equal(formatTime(1700000000000000000n), "2023-11-14T22:13:20Z");
});
