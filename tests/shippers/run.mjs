// Runs a real log shipper against a loge server, as its users run it, and
// exits once everything is sent: `node run.mjs <shipper> <loge url> [push key]`, where
// <shipper> is `pino` (pino + pino-loki, JSON), `winston` (winston +
// winston-loki, snappy protobuf) or `winston-json` (winston-loki with
// `json: true`). The lines logged are the ones tests/loki_shippers_test.ts
// expects back. With a push key, the shipper sends it as its users configure
// credentials: HTTP basic auth with the key as password. Exit code 1: the
// shipper reported an error; 2: timeout.
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const [shipper, url, key] = process.argv.slice(2);

/** First timestamp, in milliseconds; each line is 1 ms later. */
const T0 = 1_700_000_000_000;

setTimeout(() => {
  console.error(`${shipper}: not done after 20 s`);
  process.exit(2);
}, 20_000).unref();

if (shipper === "pino") {
  const pino = require("pino");
  const transport = pino.transport({
    target: "pino-loki",
    options: {
      host: url,
      batching: { interval: 0.2 },
      labels: { app: "checkout", env: "test" },
      propsToLabels: ["component"],
      structuredMetaKey: "meta",
      ...(key ? { basicAuth: { username: "pino", password: key } } : {}),
    },
  });
  let now = T0;
  const logger = pino({ base: null, level: "debug", timestamp: () => `,"time":${now}` }, transport);
  logger.info({ meta: { trace_id: "4bf92f35", user_id: "u1" } }, "order placed");
  now++;
  logger.warn({ component: "stock" }, "stock low");
  now++;
  logger.error({ err_code: "E42" }, "payment failed");
  now++;
  logger.debug("cache miss: ünïcode ✓");
  // As pino's users do, just end: pino closes the transport at exit, and
  // pino-loki sends what it holds when closed.
} else if (shipper === "winston" || shipper === "winston-json") {
  const winston = require("winston");
  const LokiTransport = require("winston-loki");
  let failed = false;
  const transport = new LokiTransport({
    host: url,
    json: shipper === "winston-json",
    labels: { app: shipper === "winston" ? "billing" : "billing-json" },
    interval: 0.2,
    replaceTimestamp: false,
    clearOnError: true,
    ...(key ? { basicAuth: `winston:${key}` } : {}),
    onConnectionError: (error) => {
      console.error(`${shipper}: ${error.message}`);
      failed = true;
    },
  });
  const expected = shipper === "winston" ? "application/x-protobuf" : "application/json";
  if (transport.batcher.contentType !== expected) {
    console.error(
      `${shipper}: winston-loki sends ${transport.batcher.contentType}, not ${expected}`,
    );
    process.exit(1);
  }
  const logger = winston.createLogger({ level: "debug", transports: [transport] });
  const at = (i) => new Date(T0 + i).toISOString();
  logger.info("invoice sent", { timestamp: at(0), invoice: "7", user_id: "u1" });
  logger.warn("retrying", { timestamp: at(1), labels: { component: "mailer" } });
  logger.error("card declined", { timestamp: at(2), code: "E51" });
  logger.debug("ünïcode ✓", { timestamp: at(3) });
  // Wait for the first batch to start, then for it to finish.
  await new Promise((resolve) => setTimeout(resolve, 300));
  await transport.flush();
  transport.close();
  process.exit(failed ? 1 : 0);
} else {
  console.error(`unknown shipper ${JSON.stringify(shipper)}; use pino, winston or winston-json`);
  process.exit(64);
}
