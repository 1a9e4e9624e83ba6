/**
 * End-to-end tests of the read path against the real `loge serve` process.
 *
 * `POST /api/v1/volume`: lines per bucket by level.
 *
 * @module
 */

import assert from "node:assert/strict";
import { withServer } from "../../testing/server.ts";
import { call, type Labels, push } from "../../testing/http.ts";
import { MS, T0 } from "./fixture.ts";

Deno.test("volume counts lines per bucket by level, with and without a line filter", () =>
  withServer(async ({ url }) => {
    const info = { app: "vol", level: "info" };
    const error = { app: "vol", level: "error" };
    const rows: [Labels, bigint, string][] = [];
    for (let k = 0; k < 10; k++) {
      rows.push([
        info,
        T0 + BigInt(k) * MS,
        k === 3 || k === 7 ? `info ${k} timeout` : `info ${k}`,
      ]);
    }
    for (const k of [2, 5, 8]) {
      rows.push([error, T0 + BigInt(k) * MS, k === 5 ? `error ${k} timeout` : `error ${k}`]);
    }
    rows.push([{ app: "vol" }, T0 + 4n * MS, "no level"]);
    rows.push([{ app: "other", level: "info" }, T0 + MS, "other timeout"]);
    await push(url, rows);

    const volume = async (body: unknown) => {
      const r = await call(url, "/api/v1/volume", { body });
      assert.equal(r.status, 200, r.text);
      assert.equal(r.body.status, "success");
      return r.body.data;
    };
    const step = 5n * MS;
    const all = await volume({ query: '{app="vol"}', start: T0, end: T0 + 9n * MS, step });
    assert.deepEqual(all, {
      start: T0,
      end: T0 + 9n * MS,
      step: Number(step),
      series: [
        { labels: {}, counts: [[T0, 1], [T0 + step, 0]] },
        { labels: { level: "error" }, counts: [[T0, 1], [T0 + step, 2]] },
        { labels: { level: "info" }, counts: [[T0, 5], [T0 + step, 5]] },
      ],
    });
    // With a line filter: only matching lines count (series without any may be absent).
    const filtered = await volume({
      query: '{app="vol"} |= "timeout"',
      start: T0,
      end: T0 + 9n * MS,
      step,
    });
    const nonEmpty = (data: { series: { labels: Labels; counts: [bigint, number][] }[] }) =>
      data.series.filter((s) => s.counts.some(([, n]) => n > 0));
    assert.deepEqual(nonEmpty(filtered), [
      { labels: { level: "error" }, counts: [[T0, 0], [T0 + step, 1]] },
      { labels: { level: "info" }, counts: [[T0, 1], [T0 + step, 1]] },
    ]);
    // Default step over the stored span: the counts sum to the matching lines.
    const total = (data: { series: { counts: [bigint, number][] }[] }) =>
      data.series.reduce((sum, s) => sum + s.counts.reduce((a, [, n]) => a + n, 0), 0);
    const whole = await volume({ query: '{app="vol"}' });
    assert.equal(total(whole), 14);
    assert.equal(whole.start, T0);
    assert.equal(whole.end, T0 + 9n * MS);
    assert.equal(total(await volume({ query: '|= "timeout"' })), 4);
    assert.equal(total(await volume({})), 15);
    assert.equal(
      total(await volume({ query: '{level=~"err.*"}', start: T0 + 5n * MS, end: T0 + 8n * MS })),
      2,
    );
    for (
      const [body, error] of [
        [{ step: 0 }, 'step must be a positive integer of nanoseconds, got "0"'],
        [
          { start: T0, end: T0 + 9n * MS, step: 1 },
          "step 1 makes more than 2000 buckets over the range; use a larger step",
        ],
        [{ query: '{app="vol"' }, 'cannot parse query at 11: expected "," or "}"'],
      ] as [unknown, string][]
    ) {
      const r = await call(url, "/api/v1/volume", { body });
      assert.equal(r.status, 400, r.text);
      assert.equal(r.body.error, error);
    }
  }));
