/**
 * Real shippers, run under Node as their users run them (tests/shippers/run.mjs),
 * push to `POST /loki/api/v1/push`; every line comes back exactly through
 * `POST /api/v1/query`. The packages are pinned in tests/shippers/package.json
 * and installed by `.ci/run` (`npm ci --prefix tests/shippers`).
 */
import assert from "node:assert/strict";
import { type Entry, query } from "../testing/http.ts";
import { withServer } from "../testing/server.ts";

const SHIPPERS = new URL("./shippers/", import.meta.url).pathname;
const T0 = 1_700_000_000_000n * 1_000_000n;

/**
 * Runs `node run.mjs <shipper> <url> [key]`; it must exit 0 without complaint,
 * unless it is to be `refused` (pino-loki drops what fails at exit silently:
 * the caller checks that nothing was stored).
 */
async function ship(shipper: string, url: string, key = "", refused = false): Promise<void> {
  for (const pkg of ["pino", "pino-loki", "winston", "winston-loki", "snappy"]) {
    try {
      await Deno.stat(`${SHIPPERS}node_modules/${pkg}/package.json`);
    } catch {
      throw new Error(
        `shipper package ${pkg} is not installed: run \`npm ci --prefix tests/shippers\` (.ci/run does)`,
      );
    }
  }
  const out = await new Deno.Command("node", {
    args: [`${SHIPPERS}run.mjs`, shipper, url, ...(key ? [key] : [])],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(out.stderr);
  if (refused) return;
  assert.equal(out.code, 0, `${shipper} exited with ${out.code}: ${stderr}`);
  assert.equal(stderr, "", `${shipper} complained`);
}

/** What `app` stored, oldest first: `[labels, ts, line, metadata]`. */
async function stored(url: string, app: string) {
  const { entries } = await query(url, {
    query: `{app="${app}"}`,
    limit: 100,
    direction: "forward",
  });
  return entries.map((e: Entry) => [e.labels, BigInt(e.timestamp), e.line, e.metadata]);
}

Deno.test("pino + pino-loki (JSON, structured metadata) read back exactly", async () => {
  await withServer(async ({ url }) => {
    await ship("pino", url);
    const labels = (level: string, extra: Record<string, string> = {}) => ({
      app: "checkout",
      env: "test",
      level,
      service_name: "checkout",
      ...extra,
    });
    assert.deepEqual(await stored(url, "checkout"), [
      [
        labels("info"),
        T0,
        '{"level":30,"time":1700000000000,"meta":{"trace_id":"4bf92f35","user_id":"u1"},"msg":"order placed"}',
        { trace_id: "4bf92f35", user_id: "u1" },
      ],
      [
        labels("warning", { component: "stock" }),
        T0 + 1_000_000n,
        '{"level":40,"time":1700000000001,"component":"stock","msg":"stock low"}',
        undefined,
      ],
      [
        labels("error"),
        T0 + 2_000_000n,
        '{"level":50,"time":1700000000002,"err_code":"E42","msg":"payment failed"}',
        undefined,
      ],
      [
        labels("debug"),
        T0 + 3_000_000n,
        '{"level":20,"time":1700000000003,"msg":"cache miss: ünïcode ✓"}',
        undefined,
      ],
    ]);
  });
});

/** What winston-loki sends for run.mjs's four lines: the line is `message + " " + JSON(meta)`. */
function winstonLines(app: string, metadata: boolean) {
  const labels = (level: string, extra: Record<string, string> = {}) => ({
    app,
    level,
    service_name: app,
    ...extra,
  });
  const rows: [Record<string, string>, bigint, string, Record<string, string>][] = [
    [labels("info"), T0, "invoice sent", { invoice: "7", user_id: "u1", level: "info" }],
    [labels("warn", { component: "mailer" }), T0 + 1_000_000n, "retrying", { level: "warn" }],
    [labels("error"), T0 + 2_000_000n, "card declined", { code: "E51", level: "error" }],
    [labels("debug"), T0 + 3_000_000n, "ünïcode ✓", { level: "debug" }],
  ];
  return rows.map(([l, ts, message, meta]) => [
    l,
    ts,
    `${message} ${JSON.stringify(meta)}`,
    metadata ? meta : undefined,
  ]);
}

Deno.test("winston + winston-loki (snappy protobuf) read back exactly", async () => {
  await withServer(async ({ url }) => {
    await ship("winston", url);
    assert.deepEqual(await stored(url, "billing"), winstonLines("billing", false));
  });
});

Deno.test("winston + winston-loki with json: true (structured metadata) read back exactly", async () => {
  await withServer(async ({ url }) => {
    await ship("winston-json", url);
    assert.deepEqual(await stored(url, "billing-json"), winstonLines("billing-json", true));
  });
});

Deno.test("with --push-api-key, pino-loki and winston-loki send the key as basic auth; without it they are refused", async () => {
  const key = "shipper-k3y-5d1e";
  await withServer(async ({ url }) => {
    await ship("pino", url, "wrong", true);
    await ship("winston", url, "", true);
    assert.deepEqual(await stored(url, "checkout"), []);
    assert.deepEqual(await stored(url, "billing"), []);
    await ship("pino", url, key);
    await ship("winston", url, key);
    assert.equal((await stored(url, "checkout")).length, 4);
    assert.deepEqual(await stored(url, "billing"), winstonLines("billing", false));
  }, { args: ["--push-api-key", key] });
});
