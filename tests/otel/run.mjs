// Runs the OpenTelemetry JS logs SDK against a loge server, as its users run
// it: `node run.mjs <exporter> <loge url>`, where <exporter> is `http`
// (@opentelemetry/exporter-logs-otlp-http, OTLP JSON) or `proto`
// (@opentelemetry/exporter-logs-otlp-proto, OTLP protobuf). The records
// emitted are the ones tests/otlp_sdk_test.ts expects back. Exit code 1: the
// export failed; 2: timeout.
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const [exporterName, url] = process.argv.slice(2);

setTimeout(() => {
  console.error(`${exporterName}: not done after 20 s`);
  process.exit(2);
}, 20_000).unref();

const { context, trace, TraceFlags } = require("@opentelemetry/api");
const { resourceFromAttributes } = require("@opentelemetry/resources");
const { LoggerProvider, SimpleLogRecordProcessor } = require("@opentelemetry/sdk-logs");
const { OTLPLogExporter } = require(`@opentelemetry/exporter-logs-otlp-${exporterName}`);

/** First time: seconds and nanoseconds (HrTime); each record 1 ns later. */
const T0 = 1_700_000_000;

const exporter = new OTLPLogExporter({ url: `${url}/otlp/v1/logs` });
const provider = new LoggerProvider({
  resource: resourceFromAttributes({
    "service.name": `checkout-${exporterName}`,
    "deployment.environment": "test",
    "host.name": "web-1",
  }),
  processors: [new SimpleLogRecordProcessor({ exporter })],
});
const logger = provider.getLogger("shop.orders", "2.0.1");

const traced = trace.setSpanContext(context.active(), {
  traceId: "4bf92f3577b34da6a3ce929d0e0e4736",
  spanId: "00f067aa0ba902b7",
  traceFlags: TraceFlags.SAMPLED,
});
logger.emit({
  timestamp: [T0, 1],
  severityNumber: 9,
  severityText: "INFO",
  body: "order placed",
  attributes: { "order.id": "o-17", "order.items": 3 },
  context: traced,
});
logger.emit({
  timestamp: [T0, 2],
  severityNumber: 17,
  severityText: "ERROR",
  body: { msg: "payment failed", code: 502, retry: false },
  attributes: { "user.id": "u1" },
});
logger.emit({
  timestamp: [T0, 3],
  severityNumber: 13,
  severityText: "WARN",
  body: "stock low: ünïcode ✓",
});

await provider.forceFlush();
await provider.shutdown();
