/**
 * Pushes generated logs to a loge server's `POST /api/v1/push`, with bounded concurrency and an
 * optional target rate, and measures what the server acknowledged.
 *
 * Payload (JSON; msgpack encodes the same object):
 * `{"streams":[{"stream":{"app":"web",…},"values":[["<unix ns>","line"],…]},…]}`, one stream per
 * distinct label set in the batch. The other formats send the same streams as other systems'
 * clients do: `loki-protobuf` a `logproto.PushRequest` in one snappy block to
 * `POST /loki/api/v1/push` (`loki_push.ts`), `otlp-protobuf` an OTLP `ExportLogsServiceRequest` to
 * `POST /otlp/v1/logs` (`otlp_push.ts`), `es-bulk` an Elasticsearch bulk body to `POST /_bulk`
 * (`es_bulk_push.ts`).
 *
 * @module
 */

import { percentile } from "./stats.ts";
import { encode as encodeMsgpack } from "@msgpack/msgpack";
import protobuf from "protobufjs";
import type { LogEntry, LogGenerator } from "./generator/mod.ts";
import { encodeLokiPush } from "./loki_push.ts";
import { encodeOtlpLogs, encodeOtlpLogsJson, otlpServerArgs } from "./otlp_push.ts";
import { encodeEsBulk, esBulkServerArgs } from "./es_bulk_push.ts";
import { HttpPoster } from "./http_poster.ts";

/** Wire formats of a push request. */
export type PushFormat =
  | "json"
  | "msgpack"
  | "protobuf"
  | "loki-protobuf"
  | "loki-json"
  | "otlp-protobuf"
  | "otlp-json"
  | "es-bulk";

/** The wire formats, for flag validation. */
export const PUSH_FORMATS: readonly PushFormat[] = [
  "json",
  "msgpack",
  "protobuf",
  "loki-protobuf",
  "loki-json",
  "otlp-protobuf",
  "otlp-json",
  "es-bulk",
];

/** The push route of loge's own formats. */
export const PUSH_PATH = "/api/v1/push";
/** The route of Loki's push API (`loki-protobuf`, `loki-json`). */
export const LOKI_PUSH_PATH = "/loki/api/v1/push";
/** Loki's route of OTLP logs (`otlp-protobuf`, `otlp-json`). */
export const OTLP_PATH = "/otlp/v1/logs";

/** One stream of a push payload. */
export interface PushStream {
  /** The stream's labels. */
  stream: Readonly<Record<string, string>>;
  /** `[unix nanoseconds as a decimal string, line]` pairs. */
  values: [string, string][];
}

/** The body of a push request, before encoding. */
export interface PushPayload {
  /** The streams, one per distinct label set. */
  streams: PushStream[];
}

/** Encodes a {@linkcode PushPayload} into one wire format. */
export interface PushEncoder {
  /** The `Content-Type` header to send. */
  contentType: string;
  /** The route to post to: {@linkcode PUSH_PATH} unless set. */
  path?: string;
  /** Encodes a payload. */
  encode(payload: PushPayload): Uint8Array<ArrayBuffer>;
}

/** Where the protobuf schema lives, relative to this file. */
export const PUSH_PROTO_URL: URL = new URL("../src/ingest/push.proto", import.meta.url);

const labelKeys = new WeakMap<object, string>();

function labelKey(labels: Readonly<Record<string, string>>): string {
  let key = labelKeys.get(labels);
  if (key === undefined) {
    key = JSON.stringify(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    labelKeys.set(labels, key);
  }
  return key;
}

/**
 * Groups entries by label set into a push payload, keeping their order within each stream.
 *
 * @example
 * ```ts
 * import { buildPayload } from "./push_client.ts";
 * import { generateLogs } from "./generator/mod.ts";
 * const payload = buildPayload(generateLogs(1000));
 * console.log(payload.streams.length, payload.streams[0].values[0]);
 * ```
 */
export function buildPayload(entries: Iterable<LogEntry>): PushPayload {
  const byKey = new Map<string, PushStream>();
  for (const { ts, labels, line } of entries) {
    const key = labelKey(labels);
    let stream = byKey.get(key);
    if (stream === undefined) {
      stream = { stream: labels, values: [] };
      byKey.set(key, stream);
    }
    stream.values.push([ts.toString(), line]);
  }
  return { streams: [...byKey.values()] };
}

const textEncoder = new TextEncoder();

/**
 * The encoder of a wire format. For `protobuf` it loads the schema at
 * {@linkcode PUSH_PROTO_URL} (or `protoUrl`) and needs a `PushRequest` message.
 *
 * @example
 * ```ts
 * import { createEncoder } from "./push_client.ts";
 * const encoder = await createEncoder("msgpack");
 * const body = encoder.encode({ streams: [{ stream: { app: "web" }, values: [["1", "hi"]] }] });
 * console.log(encoder.contentType, body.length);
 * ```
 * @throws {Error} For `protobuf`, if the schema is missing or has no usable `PushRequest`.
 */
export async function createEncoder(
  format: PushFormat,
  protoUrl: URL = PUSH_PROTO_URL,
): Promise<PushEncoder> {
  switch (format) {
    case "json":
    case "loki-json":
      // Loki's JSON push body is loge's.
      return {
        contentType: "application/json",
        path: format === "json" ? PUSH_PATH : LOKI_PUSH_PATH,
        encode: (payload) => textEncoder.encode(JSON.stringify(payload)),
      };
    case "msgpack":
      return {
        contentType: "application/msgpack",
        // Never backed by a SharedArrayBuffer.
        encode: (payload) => encodeMsgpack(payload) as Uint8Array<ArrayBuffer>,
      };
    case "protobuf":
      return await protobufEncoder(protoUrl);
    case "loki-protobuf":
      return {
        contentType: "application/x-protobuf",
        path: LOKI_PUSH_PATH,
        encode: encodeLokiPush,
      };
    case "otlp-protobuf":
    case "otlp-json":
      return format === "otlp-json"
        ? { contentType: "application/json", path: OTLP_PATH, encode: encodeOtlpLogsJson }
        : { contentType: "application/x-protobuf", path: OTLP_PATH, encode: encodeOtlpLogs };
    case "es-bulk":
      return { contentType: "application/x-ndjson", path: "/_bulk", encode: encodeEsBulk };
  }
}

/**
 * The server flags a push of `format` needs for its streams to be the corpus's: OTLP's stream
 * attributes and bulk's stream fields name the corpus's labels; the other formats carry them.
 *
 * @example
 * ```ts
 * import { serverArgsFor } from "./push_client.ts";
 * console.log(serverArgsFor("json")); // []
 * console.log(serverArgsFor("es-bulk")[0]); // --es-stream-fields
 * ```
 */
export function serverArgsFor(format: PushFormat): string[] {
  if (format === "otlp-protobuf" || format === "otlp-json") return otlpServerArgs();
  if (format === "es-bulk") return esBulkServerArgs();
  return [];
}

/**
 * Builds a protobuf encoder from the project's schema. Two shapes of `PushRequest.streams` are
 * understood: Loki's (`string labels` like `{app="web"}`, `repeated entries` of
 * `{timestamp: google.protobuf.Timestamp | int64, line}`) and the JSON mirror
 * (`map<string,string> stream`, `repeated values` of `{ts|timestamp, line}`).
 */
async function protobufEncoder(url: URL): Promise<PushEncoder> {
  let text: string;
  try {
    text = await Deno.readTextFile(url);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) {
      throw new Error(`Cannot push protobuf: protobuf schema not found at ${url.pathname}`);
    }
    throw err;
  }
  const fail = (why: string) =>
    new Error(`Cannot push protobuf: unsupported schema ${url.pathname}: ${why}`);
  const root = new protobuf.Root();
  const parsed = protobuf.parse(text, root, { keepCase: true });
  for (const file of parsed.imports ?? []) {
    const common = protobuf.common.get(file);
    if (common === null) throw fail(`cannot resolve import "${file}"`);
    root.addJSON(common.nested ?? {});
  }
  root.resolveAll();
  const request = findType(root, "PushRequest");
  if (request === undefined) throw fail("no message PushRequest");
  const streamsField = request.fields.streams;
  if (streamsField?.resolvedType == null || !streamsField.repeated) {
    throw fail("PushRequest has no repeated message field `streams`");
  }
  const streamType = streamsField.resolvedType as protobuf.Type;
  const labelsField = streamType.fields.labels ?? streamType.fields.stream;
  const entriesField = streamType.fields.entries ?? streamType.fields.values;
  if (labelsField === undefined || entriesField?.resolvedType == null) {
    throw fail(`${streamType.name} needs \`labels\`/\`stream\` and \`entries\`/\`values\``);
  }
  const entryType = entriesField.resolvedType as protobuf.Type;
  const tsField = entryType.fields.timestamp ?? entryType.fields.ts;
  if (tsField === undefined || entryType.fields.line === undefined) {
    throw fail(`${entryType.name} needs \`timestamp\`/\`ts\` and \`line\``);
  }
  const labelsAsString = !labelsField.map && labelsField.type === "string";
  const tsAsMessage = tsField.resolvedType != null;
  const tsAsString = tsField.type === "string";
  const toTs = (ns: string): unknown => {
    if (tsAsString) return ns;
    if (!tsAsMessage) return ns; // int64/uint64/fixed64: protobufjs parses decimal strings.
    const n = BigInt(ns);
    return { seconds: (n / 1_000_000_000n).toString(), nanos: Number(n % 1_000_000_000n) };
  };
  const labelStrings = new WeakMap<object, string>();
  const toLabels = (labels: Readonly<Record<string, string>>): unknown => {
    if (!labelsAsString) return labels;
    let s = labelStrings.get(labels);
    if (s === undefined) {
      s = `{${Object.entries(labels).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(", ")}}`;
      labelStrings.set(labels, s);
    }
    return s;
  };
  return {
    contentType: "application/protobuf",
    encode: (payload) =>
      request.encode({
        streams: payload.streams.map((s) => ({
          [labelsField.name]: toLabels(s.stream),
          [entriesField.name]: s.values.map(([ts, line]) => ({
            [tsField.name]: toTs(ts),
            line,
          })),
        })),
      }).finish() as Uint8Array<ArrayBuffer>,
  };
}

function findType(ns: protobuf.NamespaceBase, name: string): protobuf.Type | undefined {
  for (const child of ns.nestedArray) {
    if (child instanceof protobuf.Type && child.name === name) return child;
    if (child instanceof protobuf.Namespace || child instanceof protobuf.Type) {
      const found = findType(child, name);
      if (found !== undefined) return found;
    }
  }
  return undefined;
}

/** Options of {@linkcode runPush}. */
export interface PushOptions {
  /**
   * Base URL of the server, e.g. `http://localhost:3000`; the encoder's path (`/api/v1/push`
   * unless it says otherwise) is appended.
   */
  addr: string;
  /**
   * Source of the lines (a `LogGenerator`, a `WideJsonGenerator`); line indices 0, 1, 2, … are
   * sent in order of claim.
   */
  generator: Pick<LogGenerator, "at">;
  /** Encoder of the wire format. */
  encoder: PushEncoder;
  /** Lines per second to aim for; `0` sends as fast as possible. */
  rate: number;
  /** Stop claiming batches after this many milliseconds (`Infinity` for no limit). */
  durationMs: number;
  /** Stop after this many lines (`Infinity` for no limit). */
  lines: number;
  /** Concurrent in-flight requests. */
  workers: number;
  /** Lines per request. */
  batch: number;
  /** Per-request timeout in milliseconds. */
  timeoutMs: number;
  /** Aborting stops claiming new batches; in-flight requests finish. */
  signal?: AbortSignal;
}

/** Result of {@linkcode runPush}. Bytes are payload bytes; MB is 10^6 bytes. */
export interface PushSummary {
  /** Lines in requests the server answered with 2xx. */
  lines: number;
  /** Lines in requests that failed. */
  failedLines: number;
  /** Requests sent (all outcomes). */
  requests: number;
  /** Wall time from the first claim to the last response, in seconds. */
  seconds: number;
  /** `lines / seconds`. */
  linesPerSec: number;
  /** Payload bytes of acknowledged requests. */
  bytes: number;
  /** `bytes / 1e6 / seconds`. */
  mbPerSec: number;
  /** Failed requests: `httpErrors + networkErrors`. */
  errors: number;
  /** Requests answered with a non-2xx status. */
  httpErrors: number;
  /** Requests that got no response (refused, reset, timed out). */
  networkErrors: number;
  /** The first failure, or `null`. */
  firstError: string | null;
  /** Latency of requests that got a response, including reading the response body. */
  latencyMs: { p50: number; p99: number; max: number };
}

/** An error's message with its causes ("fetch failed" alone says little). */
function describe(err: unknown): string {
  const parts: string[] = [];
  for (let e: unknown = err; e !== undefined && parts.length < 4;) {
    if (e instanceof Error) {
      if (e.name === "TimeoutError") parts.push("request timed out");
      else parts.push(e.message);
      e = e.cause;
    } else {
      parts.push(String(e));
      break;
    }
  }
  return parts.join(": ");
}

/** The URL an encoder's bodies are posted to on the server at `addr`. */
export function pushUrl(addr: string, encoder: Pick<PushEncoder, "path">): string {
  return `${addr.replace(/\/+$/, "")}${encoder.path ?? PUSH_PATH}`;
}

const round = (x: number, digits: number) => Math.round(x * 10 ** digits) / 10 ** digits;

/**
 * Pushes batches of generated lines until `durationMs` or `lines` is reached, with `workers`
 * requests in flight, and returns what happened. With `rate > 0`, line `i` is not sent before
 * `i / rate` seconds after the start (a batch leaves when its last line is due).
 *
 * @example Push 10 000 lines as msgpack
 * ```ts ignore
 * import { createEncoder, runPush } from "./push_client.ts";
 * import { LogGenerator } from "./generator/mod.ts";
 * const summary = await runPush({
 *   addr: "http://localhost:3000",
 *   generator: new LogGenerator({ start: BigInt(Date.now()) * 1_000_000n, rate: 1e6 }),
 *   encoder: await createEncoder("msgpack"),
 *   rate: 0,
 *   durationMs: Infinity,
 *   lines: 10_000,
 *   workers: 4,
 *   batch: 1000,
 *   timeoutMs: 30_000,
 * });
 * console.log(summary.linesPerSec, summary.latencyMs.p99);
 * ```
 */
export async function runPush(options: PushOptions): Promise<PushSummary> {
  const { generator, encoder, rate, durationMs, lines: limit, workers, batch, timeoutMs } = options;
  const url = pushUrl(options.addr, encoder);
  const start = performance.now();
  const deadline = start + durationMs;
  let next = 0;
  let lines = 0;
  let failedLines = 0;
  let requests = 0;
  let bytes = 0;
  let httpErrors = 0;
  let networkErrors = 0;
  let firstError: string | null = null;
  let latencies = new Float64Array(1024);
  let latencyCount = 0;

  const stopped = () => options.signal?.aborted === true;
  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        options.signal?.removeEventListener("abort", done);
        resolve();
      }
      options.signal?.addEventListener("abort", done, { once: true });
    });

  const loop = async () => {
    const poster = new HttpPoster(url);
    try {
      await pushBatches(poster);
    } finally {
      poster.close();
    }
  };
  const pushBatches = async (poster: HttpPoster) => {
    while (!stopped()) {
      const from = next;
      const count = Math.min(batch, limit - from);
      if (count <= 0) return;
      if (rate > 0) {
        const due = start + ((from + count) / rate) * 1000;
        if (due > deadline) return;
        next = from + count; // Claim before waiting, so other workers take the next batch.
        const wait = due - performance.now();
        if (wait > 0) await sleep(wait);
        if (stopped()) return;
      } else {
        if (performance.now() >= deadline) return;
        next = from + count;
      }

      const entries: LogEntry[] = new Array(count);
      for (let i = 0; i < count; i++) entries[i] = generator.at(from + i);
      const body = encoder.encode(buildPayload(entries));
      requests++;
      const t0 = performance.now();
      let failure: string | null = null;
      try {
        const res = await poster.post(body, encoder.contentType, timeoutMs);
        const ms = performance.now() - t0;
        if (latencyCount === latencies.length) {
          const grown = new Float64Array(latencies.length * 2);
          grown.set(latencies);
          latencies = grown;
        }
        latencies[latencyCount++] = ms;
        if (res.status >= 200 && res.status < 300) {
          lines += count;
          bytes += body.length;
        } else {
          httpErrors++;
          failure = `HTTP ${res.status}: ${res.text.slice(0, 200)}`.trim();
        }
      } catch (err) {
        networkErrors++;
        failure = `${url}: ${describe(err)}`;
      }
      if (failure !== null) {
        failedLines += count;
        firstError ??= failure;
      }
    }
  };

  await Promise.all(Array.from({ length: workers }, loop));
  const seconds = (performance.now() - start) / 1000;
  const sorted = latencies.slice(0, latencyCount).sort();
  return {
    lines,
    failedLines,
    requests,
    seconds: round(seconds, 3),
    linesPerSec: seconds > 0 ? Math.round(lines / seconds) : 0,
    bytes,
    mbPerSec: seconds > 0 ? round(bytes / 1e6 / seconds, 2) : 0,
    errors: httpErrors + networkErrors,
    httpErrors,
    networkErrors,
    firstError,
    latencyMs: {
      p50: sorted.length ? round(percentile(sorted, 50), 2) : 0,
      p99: sorted.length ? round(percentile(sorted, 99), 2) : 0,
      max: sorted.length ? round(percentile(sorted, 100), 2) : 0,
    },
  };
}

/**
 * A human-readable, multi-line rendering of a summary.
 *
 * @example
 * ```ts ignore
 * import { formatSummary, runPush } from "./push_client.ts";
 * console.log(formatSummary(await runPush(options)));
 * ```
 */
export function formatSummary(s: PushSummary): string {
  const lines = [
    `lines sent   ${s.lines} in ${s.requests} requests over ${s.seconds.toFixed(2)}s`,
    `throughput   ${s.linesPerSec} lines/s, ${s.mbPerSec.toFixed(2)} MB/s (payload)`,
    `latency      p50 ${s.latencyMs.p50.toFixed(2)} ms, p99 ${s.latencyMs.p99.toFixed(2)} ms, ` +
    `max ${s.latencyMs.max.toFixed(2)} ms`,
    `errors       ${s.errors} (${s.httpErrors} http, ${s.networkErrors} network, ` +
    `${s.failedLines} lines lost)`,
  ];
  if (s.firstError !== null) lines.push(`first error  ${s.firstError}`);
  return lines.join("\n");
}
