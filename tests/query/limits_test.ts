/**
 * End-to-end tests of the read path against the real `loge serve` process.
 *
 * Limits: the default, the cap, and the 400s of invalid limits.
 *
 * @module
 */

import assert from "node:assert/strict";
import { pushJson, withServer } from "../../testing/server.ts";
import { call, lines } from "../../testing/http.ts";
import { T0 } from "./fixture.ts";

Deno.test("limit defaults to 100 and is capped at 5000; invalid limits are 400", () =>
  withServer(async ({ url }) => {
    const n = 6000;
    const res = await pushJson(url, {
      streams: [{
        stream: { app: "bulk" },
        values: Array.from({ length: n }, (_, i) => [String(T0 + BigInt(i)), `bulk ${i}`]),
      }],
    });
    assert.equal(res.status, 200);
    const newest = (count: number) => Array.from({ length: count }, (_, i) => `bulk ${n - 1 - i}`);
    assert.deepEqual(await lines(url, {}), newest(100));
    assert.deepEqual(await lines(url, { query: '{app="bulk"}', limit: 7 }), newest(7));
    assert.deepEqual(await lines(url, { limit: 5000 }), newest(5000));
    assert.deepEqual(await lines(url, { limit: 10_000 }), newest(5000));
    assert.deepEqual(await lines(url, { limit: null }), newest(100));
    assert.deepEqual(await lines(url, { limit: "3" }), newest(3));
    assert.deepEqual(
      await lines(url, { query: '|= "bulk 12"', limit: 3 }),
      ["bulk 1299", "bulk 1298", "bulk 1297"],
    );
    assert.deepEqual(
      await lines(url, { query: '|= "bulk 12"', limit: 5000 }),
      [
        "bulk 12",
        ...Array.from({ length: 10 }, (_, i) => `bulk 12${i}`),
        ...Array.from({ length: 100 }, (_, i) => `bulk ${1200 + i}`),
      ]
        .sort((x, y) => Number(y.slice(5)) - Number(x.slice(5))),
    );
    for (const limit of [0, -1, 1.5, "ten", true, [5]]) {
      const r = await call(url, "/api/v1/query", { body: { limit } });
      assert.equal(r.status, 400, `limit ${JSON.stringify(limit)}: ${r.text}`);
      assert.deepEqual(r.body, {
        status: "error",
        error: `limit must be a positive integer, got ${JSON.stringify(limit)}`,
      });
    }
  }));
