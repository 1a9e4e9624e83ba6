/**
 * End-to-end tests of the read path against the real `loge serve` process.
 *
 * `GET /api/v1/stats`: files, rows and exact time bounds.
 *
 * @module
 */

import assert from "node:assert/strict";
import { withServer } from "../../testing/server.ts";
import { call, push, stats, waitFor } from "../../testing/http.ts";
import { T0 } from "./fixture.ts";

Deno.test("stats report files, rows and exact 19-digit time bounds", () =>
  withServer(async ({ url }) => {
    const empty = await stats(url);
    assert.equal(empty.status, "success");
    assert.equal(empty.rows_total, 0);
    assert.equal(empty.segments_total, 0);
    assert.equal(empty.min_timestamp, 0);
    assert.equal(empty.max_timestamp, 0);

    await push(url, [[{ app: "s" }, T0 + 1n, "a"], [{ app: "s" }, T0 + 9n, "b"]]);
    await push(url, [[{ app: "s2" }, T0 + 5n, "c"]]);
    const head = await stats(url);
    assert.equal(head.rows_total, 3);
    assert.equal(head.min_timestamp, T0 + 1n);
    assert.equal(head.max_timestamp, T0 + 9n);

    await waitFor("the flush", async () => (await stats(url)).rows_in_memory === 0);
    const r = await call(url, "/api/v1/stats");
    // Written as exact integers, not rounded doubles or strings.
    assert.match(r.text, /"min_timestamp":1700000000000000001[,}]/);
    assert.match(r.text, /"max_timestamp":1700000000000000009[,}]/);
    const s = r.body;
    assert.equal(s.rows_total, 3);
    assert.equal(s.min_timestamp, T0 + 1n);
    assert.equal(s.max_timestamp, T0 + 9n);
    assert.ok(s.segments_total >= 1, r.text);
    assert.equal(s.segments_local, s.segments_total);
    assert.equal(s.segments_remote, 0);
    assert.equal(typeof s.bytes_on_disk, "number");
    assert.ok(s.bytes_on_disk > 0);
  }, { args: ["--flush-interval", "100ms", "--compact-interval", "0"] }));
