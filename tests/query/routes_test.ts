/**
 * End-to-end tests of the read path against the real `loge serve` process.
 *
 * Read routes: 404 and 405 answers with JSON errors.
 *
 * @module
 */

import assert from "node:assert/strict";
import { withServer } from "../../testing/server.ts";
import { call } from "../../testing/http.ts";

Deno.test("read routes answer 404 and 405 with JSON errors", () =>
  withServer(async ({ url }) => {
    const cases: [string, string, number, string][] = [
      ["GET", "/api/v1/query", 405, "method GET not allowed on /api/v1/query; use POST"],
      ["PUT", "/api/v1/query", 405, "method PUT not allowed on /api/v1/query; use POST"],
      ["GET", "/api/v1/volume", 405, "method GET not allowed on /api/v1/volume; use POST"],
      ["POST", "/api/v1/labels", 405, "method POST not allowed on /api/v1/labels; use GET"],
      [
        "DELETE",
        "/api/v1/label/app/values",
        405,
        "method DELETE not allowed on /api/v1/label/app/values; use GET",
      ],
      ["POST", "/api/v1/stats", 405, "method POST not allowed on /api/v1/stats; use GET"],
      ["GET", "/api/v1/label/app", 404, "no route for /api/v1/label/app"],
      ["GET", "/api/v1/label//values", 404, "no route for /api/v1/label//values"],
      ["GET", "/api/v1/labels/app", 404, "no route for /api/v1/labels/app"],
      ["GET", "/api/v1/search", 404, "no route for /api/v1/search"],
    ];
    for (const [method, path, status, error] of cases) {
      const r = await call(url, path, { method, body: method === "GET" ? undefined : "{}" });
      assert.equal(r.status, status, `${method} ${path}: ${r.text}`);
      assert.match(r.headers.get("content-type") ?? "", /^application\/json/);
      assert.deepEqual(r.body, { status: "error", error }, `${method} ${path}`);
    }
  }));
