/**
 * The bench client's encoder of Elasticsearch bulk bodies, as Filebeat and Vector send them to
 * `POST /_bulk` (`Content-Type: application/x-ndjson`): a `create` action line, then the
 * document, for each line of the payload. A document holds the stream's labels as fields, the
 * line as `message` and the time as `@timestamp` in RFC 3339 with nanoseconds. The server makes
 * the labels stream labels when `--es-stream-fields` names them ({@linkcode esBulkServerArgs}),
 * so the stored streams are those of the JSON push of the same payload.
 *
 * @module
 */

import { LABEL_NAMES } from "./generator/mod.ts";
import type { PushPayload } from "./push_client.ts";

const textEncoder = new TextEncoder();

/** The server flags that make the corpus's labels stream labels of bulk documents. */
export function esBulkServerArgs(): string[] {
  return ["--es-stream-fields", LABEL_NAMES.join(",")];
}

/**
 * Unix nanoseconds (a decimal string) in RFC 3339 with nine fractional digits.
 *
 * @example
 * ```ts
 * import { rfc3339Nanos } from "./es_bulk_push.ts";
 * console.log(rfc3339Nanos("1795219200123456789")); // 2026-11-21T00:00:00.123456789Z
 * ```
 * @throws {RangeError} If `ns` is not a decimal string of non-negative nanoseconds.
 */
export function rfc3339Nanos(ns: string): string {
  if (!/^\d+$/.test(ns)) {
    throw new RangeError(`Cannot encode a bulk body: bad timestamp ${JSON.stringify(ns)}`);
  }
  const n = BigInt(ns);
  const seconds = new Date(Number(n / 1_000_000_000n) * 1000).toISOString().slice(0, 19);
  return `${seconds}.${(n % 1_000_000_000n).toString().padStart(9, "0")}Z`;
}

const ACTION = '{"create":{"_index":"bench"}}\n';

/**
 * Encodes a push payload as a bulk body.
 *
 * @example
 * ```ts
 * import { encodeEsBulk } from "./es_bulk_push.ts";
 * const body = encodeEsBulk({ streams: [{ stream: { app: "web" }, values: [["5", "hi"]] }] });
 * console.log(new TextDecoder().decode(body));
 * ```
 * @throws {RangeError} If a timestamp is not a decimal string of non-negative nanoseconds.
 */
export function encodeEsBulk(payload: PushPayload): Uint8Array<ArrayBuffer> {
  let body = "";
  for (const s of payload.streams) {
    const labels = JSON.stringify(s.stream).slice(1, -1);
    const fields = labels === "" ? "" : `${labels},`;
    for (const [ts, line] of s.values) {
      body += `${ACTION}{"@timestamp":"${rfc3339Nanos(ts)}",${fields}"message":${
        JSON.stringify(line)
      }}\n`;
    }
  }
  return textEncoder.encode(body);
}
