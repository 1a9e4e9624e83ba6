/**
 * End-to-end tests of the read path against the real `loge serve` process.
 *
 * `GET /api/v1/labels` and `GET /api/v1/label/{name}/values`, with and without time bounds.
 *
 * @module
 */

import assert from "node:assert/strict";
import { withServer } from "../../testing/server.ts";
import { call, lines, push, stats, waitFor } from "../../testing/http.ts";
import { T0 } from "./fixture.ts";

Deno.test("labels and label values, with and without time bounds", () =>
  withServer(async ({ url }) => {
    const empty = await call(url, "/api/v1/labels");
    assert.deepEqual(empty.body, { status: "success", data: [] });
    const HOUR = 3_600_000_000_000n;
    await push(url, [[{ app: "web", env: "prod" }, T0, "old"]]);
    await waitFor("the flush", async () => (await stats(url)).rows_in_memory === 0);
    await push(url, [[{ app: "api", region: "eu" }, T0 + HOUR, "new"]]);
    await push(url, [[{ app: "web", env: "dev" }, T0 + 2n * HOUR, "newer"]]);
    const get = async (path: string) => {
      const r = await call(url, path);
      assert.equal(r.status, 200, `${path}: ${r.text}`);
      assert.equal(r.body.status, "success");
      return r.body.data;
    };
    assert.deepEqual(await get("/api/v1/labels"), ["app", "env", "region"]);
    assert.deepEqual(await get("/api/v1/label/app/values"), ["api", "web"]);
    assert.deepEqual(await get("/api/v1/label/env/values"), ["dev", "prod"]);
    assert.deepEqual(await get("/api/v1/label/region/values"), ["eu"]);
    assert.deepEqual(await get("/api/v1/label/nope/values"), []);
    // Bounds are inclusive nanoseconds.
    const mid = T0 + HOUR / 2n;
    assert.deepEqual(await get(`/api/v1/labels?end=${mid}`), ["app", "env"]);
    assert.deepEqual(await get(`/api/v1/labels?end=${T0}`), ["app", "env"]);
    assert.deepEqual(await get(`/api/v1/labels?end=${T0 - 1n}`), []);
    assert.deepEqual(await get(`/api/v1/label/app/values?end=${mid}`), ["web"]);
    assert.deepEqual(await get(`/api/v1/label/env/values?start=0&end=${T0}`), ["prod"]);
    assert.deepEqual(await get(`/api/v1/label/region/values?end=${mid}`), []);
    assert.deepEqual(await get(`/api/v1/label/app/values?start=${T0 + 1n}`), ["api", "web"]);
    assert.deepEqual(await get(`/api/v1/label/env/values?start=${T0 + 1n}`), ["dev"]);
    assert.deepEqual(
      await get(`/api/v1/label/app/values?start=${T0 + 2n * HOUR + 1n}`),
      [],
    );
    for (
      const [path, error] of [
        [
          "/api/v1/labels?start=abc",
          'start must be a non-negative integer of unix nanoseconds, got "abc"',
        ],
        [
          `/api/v1/label/app/values?start=${T0 + 1n}&end=${T0}`,
          `start (${T0 + 1n}) is after end (${T0})`,
        ],
      ]
    ) {
      const r = await call(url, path);
      assert.equal(r.status, 400, r.text);
      assert.deepEqual(r.body, { status: "error", error });
    }
  }, { args: ["--flush-interval", "100ms", "--compact-interval", "0"] }));

Deno.test({
  name: "label values bounded by time leave out streams with no lines in the window",
  fn: () =>
    withServer(async ({ url }) => {
      const HOUR = 3_600_000_000_000n;
      // One payload: both streams share one in-memory batch, then one flush file.
      await push(url, [[{ app: "old", env: "a" }, T0, "old"], [{ app: "new" }, T0 + HOUR, "new"]]);
      const values = async (path: string) => (await call(url, path)).body.data;
      for (const state of ["memory", "flush file"]) {
        if (state === "flush file") {
          await waitFor("the flush", async () => (await stats(url)).rows_in_memory === 0);
        }
        assert.deepEqual(
          await values(`/api/v1/label/app/values?start=${T0 + 1n}`),
          ["new"],
          state,
        );
        assert.deepEqual(await values(`/api/v1/label/app/values?end=${T0}`), ["old"], state);
        assert.deepEqual(await values(`/api/v1/labels?start=${T0 + 1n}`), ["app"], state);
        // The query path agrees: nothing of app="old" lies in the window.
        assert.deepEqual(await lines(url, { start: T0 + 1n }), ["new"], state);
      }
    }, { args: ["--flush-interval", "100ms", "--compact-interval", "0"] }),
});
