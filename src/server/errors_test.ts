import assert from "node:assert/strict";
import { errorResponse, lokiFlavor } from "./errors.ts";
import { MetricQueryError } from "../query/metric/series.ts";
import { QueryTimeoutError } from "../query/deadline.ts";

Deno.test("errorResponse(): a metric query the client must change is a 400, not an internal error", async () => {
  const error = new MetricQueryError("maximum number of series (500) reached for a single query");
  const res = errorResponse(error);
  assert.equal(res.status, 400);
  assert.deepEqual(await res.json(), { status: "error", error: error.message });
  const loki = errorResponse(error, lokiFlavor);
  assert.equal(loki.status, 400);
  assert.equal(await loki.text(), `${error.message}\n`);
  assert.equal(errorResponse(new QueryTimeoutError(1000)).status, 504);
});
