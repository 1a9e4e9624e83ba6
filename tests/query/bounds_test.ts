/**
 * End-to-end tests of the read path against the real `loge serve` process.
 *
 * Time bounds: exact nanoseconds, and the 400s of bad bounds.
 *
 * @module
 */

import assert from "node:assert/strict";
import { withServer } from "../../testing/server.ts";
import { call, lines, push, query } from "../../testing/http.ts";
import { T0 } from "./fixture.ts";

Deno.test("time bounds are exact nanoseconds; bad bounds are 400", () =>
  withServer(async ({ url }) => {
    const t = { app: "t" };
    await push(url, [1n, 2n, 3n, 4n, 5n].map((n) => [t, T0 + n, `t${n}`]));
    // Sent as JSON numbers beyond 2^53: T0 + 2 must not round to T0.
    assert.deepEqual(await lines(url, { start: T0 + 2n, end: T0 + 4n }), ["t4", "t3", "t2"]);
    assert.deepEqual(await lines(url, { start: T0 + 2n }), ["t5", "t4", "t3", "t2"]);
    assert.deepEqual(await lines(url, { end: T0 + 2n }), ["t2", "t1"]);
    assert.deepEqual(await lines(url, { start: T0 + 3n, end: T0 + 3n }), ["t3"]);
    assert.deepEqual(
      await lines(url, { start: String(T0 + 5n), end: String(T0 + 5n) }),
      ["t5"],
    );
    assert.deepEqual(await lines(url, { start: 0, end: 0 }), ["t5", "t4", "t3", "t2", "t1"]);
    assert.deepEqual(await lines(url, { start: null, end: null }), ["t5", "t4", "t3", "t2", "t1"]);
    const { entries } = await query(url, { query: '{app="t"}', limit: 1 });
    assert.equal(entries[0].timestamp, T0 + 5n);
    const bad: [unknown, string][] = [
      [
        { start: T0 + 4n, end: T0 + 3n },
        `start (${T0 + 4n}) is after end (${T0 + 3n})`,
      ],
      [{ start: -1 }, 'start must be a non-negative integer of unix nanoseconds, got "-1"'],
      [{ end: 1.5 }, 'end must be a non-negative integer of unix nanoseconds, got "1.5"'],
      [
        '{"end": 1700000000000000000.5}',
        'end must be a non-negative integer of unix nanoseconds, got "1700000000000000000.5"',
      ],
      [
        { start: "yesterday" },
        'start must be a non-negative integer of unix nanoseconds, got "yesterday"',
      ],
      [
        { end: "9223372036854775808" },
        'end must be a non-negative integer of unix nanoseconds, got "9223372036854775808"',
      ],
    ];
    for (const [body, error] of bad) {
      const r = await call(url, "/api/v1/query", { body });
      assert.equal(r.status, 400, r.text);
      assert.deepEqual(r.body, { status: "error", error });
    }
  }));
