/**
 * The bench client's encoders of OTLP logs: an `ExportLogsServiceRequest` in protobuf, not
 * compressed (the OpenTelemetry SDKs' default), the body of `POST /otlp/v1/logs` with
 * `Content-Type: application/x-protobuf`, written by hand as `loki_push.ts` is; or in OTLP's JSON
 * encoding (`application/json`), as the OpenTelemetry Collector's `otlphttp` exporter sends it
 * with `encoding: json`.
 *
 * Each stream of the payload is one `ResourceLogs` whose resource attributes are the stream's
 * labels, with one `ScopeLogs` holding a `LogRecord` per line: `time_unix_nano` and a string
 * `body`. The server maps the resource attributes to labels when they are named by
 * `--otlp-stream-attributes` ({@linkcode otlpServerArgs}), so the stored streams are those of the
 * JSON push of the same payload.
 *
 * ```proto
 * message ExportLogsServiceRequest { repeated ResourceLogs resource_logs = 1; }
 * message ResourceLogs { Resource resource = 1; repeated ScopeLogs scope_logs = 2; }
 * message Resource     { repeated KeyValue attributes = 1; }
 * message ScopeLogs    { InstrumentationScope scope = 1; repeated LogRecord log_records = 2; }
 * message LogRecord    { fixed64 time_unix_nano = 1; AnyValue body = 5; }
 * message KeyValue     { string key = 1; AnyValue value = 2; }
 * message AnyValue     { string string_value = 1; }
 * ```
 *
 * @module
 */

import { LABEL_NAMES } from "./generator/mod.ts";
import type { PushPayload } from "./push_client.ts";
import { ProtobufWriter } from "./protobuf_writer.ts";

/** The server flags that make the corpus's labels stream labels of OTLP pushes. */
export function otlpServerArgs(): string[] {
  return ["--otlp-stream-attributes", LABEL_NAMES.join(",")];
}

/**
 * Encodes a push payload as an OTLP `ExportLogsServiceRequest` (protobuf).
 *
 * @example
 * ```ts
 * import { encodeOtlpLogs } from "./otlp_push.ts";
 * const body = encodeOtlpLogs({ streams: [{ stream: { app: "web" }, values: [["5", "hi"]] }] });
 * console.log(body.length); // 45
 * ```
 * @throws {RangeError} If a timestamp is not a decimal string of non-negative nanoseconds.
 */
export function encodeOtlpLogs(payload: PushPayload): Uint8Array<ArrayBuffer> {
  const w = new ProtobufWriter();
  for (const s of payload.streams) {
    w.messageField(1, (resourceLogs) => {
      resourceLogs.messageField(1, (resource) => {
        for (const [key, value] of Object.entries(s.stream)) {
          resource.messageField(1, (kv) => {
            kv.stringField(1, key);
            kv.messageField(2, (any) => any.stringField(1, value));
          });
        }
      });
      resourceLogs.messageField(2, (scopeLogs) => {
        for (const [ts, line] of s.values) {
          scopeLogs.messageField(2, (record) => {
            record.fixed64Field(1, BigInt(nanos(ts)));
            record.messageField(5, (any) => any.stringField(1, line));
          });
        }
      });
    });
  }
  return w.finish();
}

/** `ts`, checked to be decimal nanoseconds. */
function nanos(ts: string): string {
  if (!/^\d+$/.test(ts)) {
    throw new RangeError(`Cannot encode OTLP logs: bad timestamp ${JSON.stringify(ts)}`);
  }
  return ts;
}

const textEncoder = new TextEncoder();

/**
 * Encodes a push payload as an OTLP `ExportLogsServiceRequest` in OTLP's JSON encoding: field
 * names in lowerCamelCase, `timeUnixNano` a decimal string, the same messages as
 * {@linkcode encodeOtlpLogs}.
 *
 * @example
 * ```ts
 * import { encodeOtlpLogsJson } from "./otlp_push.ts";
 * const body = encodeOtlpLogsJson({ streams: [{ stream: { app: "web" }, values: [["5", "hi"]] }] });
 * console.log(new TextDecoder().decode(body));
 * ```
 * @throws {RangeError} If a timestamp is not a decimal string of non-negative nanoseconds.
 */
export function encodeOtlpLogsJson(payload: PushPayload): Uint8Array<ArrayBuffer> {
  const resourceLogs = payload.streams.map((s) => ({
    resource: {
      attributes: Object.entries(s.stream).map(([key, value]) => ({
        key,
        value: { stringValue: value },
      })),
    },
    scopeLogs: [{
      logRecords: s.values.map(([ts, line]) => ({
        timeUnixNano: nanos(ts),
        body: { stringValue: line },
      })),
    }],
  }));
  return textEncoder.encode(JSON.stringify({ resourceLogs }));
}
