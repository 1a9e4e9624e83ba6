/**
 * End-to-end tests of the read path against the real `loge serve` process.
 *
 * `--api-key`: which endpoints it guards.
 *
 * @module
 */

import assert from "node:assert/strict";
import { pushJson, withServer } from "../../testing/server.ts";
import { call, type Entry, payloadOf } from "../../testing/http.ts";
import { T0 } from "./fixture.ts";

const MISSING =
  "missing API key: send Authorization: Bearer <key>, or Basic with the key as password";

Deno.test("--api-key guards the read endpoints, not push", () =>
  withServer(async ({ url }) => {
    const auth = (key?: string): Record<string, string> =>
      key === undefined ? {} : { authorization: key };
    assert.equal(
      (await pushJson(url, payloadOf([[{ app: "a" }, T0, "pushed without a key"]]))).status,
      200,
    );
    const reads: [string, unknown][] = [
      ["/api/v1/query", { query: '{app="a"}' }],
      ["/api/v1/volume", { query: '{app="a"}' }],
      ["/api/v1/labels", undefined],
      ["/api/v1/label/app/values", undefined],
      ["/api/v1/stats", undefined],
    ];
    for (const [path, body] of reads) {
      for (
        const [header, error] of [
          [undefined, MISSING],
          ["Bearer wrong", "invalid API key"],
          ["Bearer s3cret2", "invalid API key"],
          ["Bearer s3cre", "invalid API key"],
          ["Basic czNjcmV0", MISSING],
          ["s3cret", MISSING],
          [`Basic ${btoa("grafana:wrong")}`, "invalid API key"],
        ] as [string | undefined, string][]
      ) {
        const r = await call(url, path, { body, headers: auth(header) });
        assert.equal(r.status, 401, `${path} with ${header}: ${r.text}`);
        assert.deepEqual(r.body, { status: "error", error }, path);
        assert.equal(r.headers.get("www-authenticate"), 'Bearer realm="loge"');
      }
      for (const header of ["Bearer s3cret", `Basic ${btoa("grafana:s3cret")}`]) {
        const ok = await call(url, path, { body, headers: auth(header) });
        assert.equal(ok.status, 200, `${path} with ${header}: ${ok.text}`);
        assert.equal(ok.body.status, "success");
      }
    }
    const r = await call(url, "/api/v1/query", {
      body: {},
      headers: auth("Bearer s3cret"),
    });
    assert.deepEqual(r.body.data.map((e: Entry) => e.line), ["pushed without a key"]);
  }, { args: ["--api-key", "s3cret"] }));

Deno.test("without --api-key the read endpoints need no key", () =>
  withServer(async ({ url }) => {
    for (
      const [path, body] of [
        ["/api/v1/query", {}],
        ["/api/v1/volume", {}],
        ["/api/v1/labels", undefined],
        ["/api/v1/label/app/values", undefined],
        ["/api/v1/stats", undefined],
      ] as [string, unknown][]
    ) {
      assert.equal((await call(url, path, { body })).status, 200, path);
      // A stray header is ignored.
      assert.equal(
        (await call(url, path, { body, headers: { authorization: "Bearer whatever" } })).status,
        200,
        path,
      );
    }
  }));
