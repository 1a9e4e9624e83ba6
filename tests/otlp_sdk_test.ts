/**
 * The OpenTelemetry JS logs SDK, run under Node as its users run it
 * (tests/otel/run.mjs), exports to `POST /otlp/v1/logs` through both OTLP/HTTP
 * exporters (JSON and protobuf); every record comes back exactly through
 * Loki's `query_range`, with its labels and structured metadata as Loki maps
 * them. The packages are pinned in tests/otel/package.json and installed by
 * `.ci/run` (`npm ci --prefix tests/otel`).
 */
import assert from "node:assert/strict";
import { type StoredRow, storedRows } from "../testing/http.ts";
import { withServer } from "../testing/server.ts";

const OTEL = new URL("./otel/", import.meta.url).pathname;
const T0 = 1_700_000_000n * 1_000_000_000n;

/** Runs `node run.mjs <exporter> <url>`; it must exit 0 without complaint. */
async function emit(exporter: string, url: string): Promise<void> {
  for (const pkg of ["@opentelemetry/sdk-logs", `@opentelemetry/exporter-logs-otlp-${exporter}`]) {
    try {
      await Deno.stat(`${OTEL}node_modules/${pkg}/package.json`);
    } catch {
      throw new Error(
        `package ${pkg} is not installed: run \`npm ci --prefix tests/otel\` (.ci/run does)`,
      );
    }
  }
  const out = await new Deno.Command("node", {
    args: [`${OTEL}run.mjs`, exporter, url],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(out.stderr);
  assert.equal(out.code, 0, `${exporter} exited with ${out.code}: ${stderr}`);
  assert.equal(stderr, "", `${exporter} complained`);
}

type Row = StoredRow;

/** What service `service` stored, oldest first. */
const stored = (url: string, service: string) => storedRows(url, `{service_name="${service}"}`);

/** What run.mjs's three records become, worked out by hand from Loki's mapping. */
function expected(service: string): Row[] {
  const labels = { service_name: service, deployment_environment: "test" };
  const scope = { scope_name: "shop.orders", scope_version: "2.0.1", host_name: "web-1" };
  return [
    [labels, String(T0 + 1n), "order placed", {
      order_id: "o-17",
      order_items: "3",
      severity_number: "9",
      severity_text: "INFO",
      flags: "1",
      trace_id: "4bf92f3577b34da6a3ce929d0e0e4736",
      span_id: "00f067aa0ba902b7",
      ...scope,
      detected_level: "info",
    }],
    [labels, String(T0 + 2n), '{"code":502,"msg":"payment failed","retry":false}', {
      user_id: "u1",
      severity_number: "17",
      severity_text: "ERROR",
      ...scope,
      detected_level: "error",
    }],
    [labels, String(T0 + 3n), "stock low: ünïcode ✓", {
      severity_number: "13",
      severity_text: "WARN",
      ...scope,
      detected_level: "warn",
    }],
  ];
}

for (const exporter of ["http", "proto"]) {
  Deno.test(`OpenTelemetry SDK, exporter-logs-otlp-${exporter}: every record read back as mapped`, async () => {
    await withServer(async ({ url }) => {
      const before = BigInt(Date.now()) * 1_000_000n;
      await emit(exporter, url);
      const rows = await stored(url, `checkout-${exporter}`);
      // The SDK stamps each record's observed time when it is emitted.
      for (const row of rows) {
        const observed = BigInt(row[3].observed_timestamp);
        assert.ok(observed >= before - 1_000_000_000n, `observed_timestamp ${observed}`);
        delete row[3].observed_timestamp;
      }
      assert.deepEqual(rows, expected(`checkout-${exporter}`));
    });
  });
}
