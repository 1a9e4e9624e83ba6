/**
 * Push body formats: which decoder a `Content-Type` selects, and decoding a
 * body into a validated {@linkcode PushPayload}.
 *
 * @module
 */

import { Decoder as MsgpackDecoder } from "@msgpack/msgpack";
import { PushError, type PushPayload, validatePush } from "./payload.ts";
import { decodeLokiPush } from "./loki_protobuf.ts";
import { decodePushProtobuf } from "./protobuf.ts";
import { addDetectedLevels } from "./detected_level.ts";
import { addServiceName } from "./service_name.ts";
import { decodeEsBulk, unframeEsBulk } from "./es_bulk.ts";
import { decodeOtlp, unframeOtlp } from "./otlp_record.ts";
import { snappyLength, uncompressSnappy } from "./snappy.ts";
import type { ReceivedBody } from "./received_body.ts";
import { decodeUtf8 } from "../utf8.ts";

/**
 * Push body formats. The number is stored with each WAL record beside the
 * body as it arrived (after gzip, before any other decoding), and replay
 * decodes it the same way: numbers are never reused.
 */
export enum PushFormat {
  /** 1: loge's JSON (`POST /api/v1/push`). */
  Json = 1,
  /** 2: loge's msgpack. */
  Msgpack = 2,
  /** 3: loge's protobuf (`push.proto`). */
  Protobuf = 3,
  /**
   * 4: Loki's `logproto.PushRequest` in one snappy block (`POST /loki/api/v1/push`);
   * streams without `service_name` get one derived, lines of streams without a
   * level label a `detected_level`.
   */
  LokiProtobuf = 4,
  /** 5: Loki's JSON (`POST /loki/api/v1/push`): loge's JSON, derived labels as for 4. */
  LokiJson = 5,
  /**
   * 6: an Elasticsearch bulk body (`POST /_bulk`) behind a header line with
   * its field mapping and arrival time (`es_bulk.ts` `frameEsBulk`).
   */
  EsBulk = 6,
  /**
   * 7: OTLP logs in protobuf (`POST /otlp/v1/logs`, `POST /v1/logs`) behind a
   * header line with their mapping and arrival time (`otlp_record.ts`).
   */
  OtlpProtobuf = 7,
  /** 8: OTLP logs in JSON, framed as 7. */
  OtlpJson = 8,
}

/** Each format as messages name it. */
const FORMAT_NAMES: Record<PushFormat, string> = {
  [PushFormat.Json]: "json",
  [PushFormat.Msgpack]: "msgpack",
  [PushFormat.Protobuf]: "protobuf",
  [PushFormat.LokiProtobuf]: "snappy protobuf",
  [PushFormat.LokiJson]: "json",
  [PushFormat.EsBulk]: "bulk",
  [PushFormat.OtlpProtobuf]: "OTLP protobuf",
  [PushFormat.OtlpJson]: "OTLP JSON",
};

/** Each format as metrics label it: one word each, Loki's and OTLP's apart from loge's. */
export const FORMAT_IDS: Record<PushFormat, string> = {
  [PushFormat.Json]: "json",
  [PushFormat.Msgpack]: "msgpack",
  [PushFormat.Protobuf]: "protobuf",
  [PushFormat.LokiProtobuf]: "loki_protobuf",
  [PushFormat.LokiJson]: "loki_json",
  [PushFormat.EsBulk]: "es_bulk",
  [PushFormat.OtlpProtobuf]: "otlp_protobuf",
  [PushFormat.OtlpJson]: "otlp_json",
};

const FORMATS: Record<string, PushFormat> = {
  "application/json": PushFormat.Json,
  "application/msgpack": PushFormat.Msgpack,
  "application/x-msgpack": PushFormat.Msgpack,
  "application/vnd.msgpack": PushFormat.Msgpack,
  "application/protobuf": PushFormat.Protobuf,
  "application/x-protobuf": PushFormat.Protobuf,
};

const LOKI_FORMATS: Record<string, PushFormat> = {
  "application/json": PushFormat.LokiJson,
  "application/x-protobuf": PushFormat.LokiProtobuf,
  "application/protobuf": PushFormat.LokiProtobuf,
};

/** The media types accepted by the push endpoint. */
export const PUSH_MEDIA_TYPES: readonly string[] = Object.keys(FORMATS);

/** The media types accepted by Loki's push endpoint. */
export const LOKI_PUSH_MEDIA_TYPES: readonly string[] = Object.keys(LOKI_FORMATS);

const mediaType = (contentType: string | null) =>
  (contentType ?? "").split(";")[0].trim().toLowerCase();

/**
 * The format for a `Content-Type` header value, or `undefined` when unsupported.
 *
 * @example
 * ```ts
 * import { formatOf, PushFormat } from "./decode.ts";
 * import assert from "node:assert/strict";
 * assert.equal(formatOf("application/json; charset=utf-8"), PushFormat.Json);
 * ```
 */
export function formatOf(contentType: string | null): PushFormat | undefined {
  return FORMATS[mediaType(contentType)];
}

/**
 * The format for a `Content-Type` on Loki's push endpoint, or `undefined` when unsupported.
 *
 * @example
 * ```ts
 * import { lokiFormatOf, PushFormat } from "./decode.ts";
 * import assert from "node:assert/strict";
 * assert.equal(lokiFormatOf("application/x-protobuf"), PushFormat.LokiProtobuf);
 * assert.equal(lokiFormatOf("application/msgpack"), undefined);
 * ```
 */
export function lokiFormatOf(contentType: string | null): PushFormat | undefined {
  return LOKI_FORMATS[mediaType(contentType)];
}

/**
 * Bytes a body of `format` decodes to before it is parsed: a snappy block's
 * declared length, else the body's own length. Checked against the body
 * limit before anything is decoded.
 *
 * @throws {PushError} when a snappy header is malformed.
 *
 * @example
 * ```ts
 * import { decodedSize, PushFormat } from "./decode.ts";
 * import { ReceivedBody } from "./received_body.ts";
 * import assert from "node:assert/strict";
 * const body = (...parts: number[][]) => new ReceivedBody(parts.map((p) => new Uint8Array(p)));
 * assert.equal(decodedSize(PushFormat.LokiProtobuf, body([0xac], [0x02])), 300);
 * assert.equal(decodedSize(PushFormat.Json, body([1, 2, 3], [4, 5, 6, 7])), 7);
 * ```
 */
export function decodedSize(format: PushFormat, body: ReceivedBody): number {
  if (format !== PushFormat.LokiProtobuf) return body.size;
  try {
    // The length is a varint of at most 5 bytes at the block's start.
    const head = new Uint8Array(Math.min(5, body.size));
    body.copy(head, 0, head.length);
    return snappyLength(head);
  } catch (error) {
    throw new PushError(`cannot decode snappy protobuf body: ${(error as Error).message}`);
  }
}

/**
 * msgpack with strings held to valid UTF-8, as JSON and protobuf bodies are:
 * the library's own decoder would turn invalid bytes into other characters.
 * Strings come out as bytes (`rawStrings`) and are decoded strictly; map keys
 * go through a key decoder that is strict too.
 */
const msgpack = new MsgpackDecoder({
  rawStrings: true,
  keyDecoder: {
    canBeCached: () => true,
    decode: (bytes, offset, length) => decodeUtf8(bytes.subarray(offset, offset + length)),
  },
});

/** Replaces every byte string of a decoded msgpack value with its strict UTF-8 text. */
function strictStrings(value: unknown): unknown {
  if (value instanceof Uint8Array) return decodeUtf8(value);
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) value[i] = strictStrings(value[i]);
  } else if (typeof value === "object" && value !== null) {
    const record = value as Record<string, unknown>;
    for (const k of Object.keys(record)) record[k] = strictStrings(record[k]);
  }
  return value;
}

/**
 * Decodes and validates a push body.
 *
 * @throws {PushError} when the bytes do not decode or the payload is invalid.
 */
export function decodePush(format: PushFormat, body: Uint8Array): PushPayload {
  let raw: unknown;
  try {
    if (format === PushFormat.LokiProtobuf) {
      return addDetectedLevels(decodeLokiPush(uncompressSnappy(body)));
    }
    if (format === PushFormat.EsBulk) {
      const { header, body: bulk } = unframeEsBulk(body);
      const { payload } = decodeEsBulk(bulk, header);
      if (payload) return payload;
      throw new PushError("bulk body has no document to store");
    }
    if (format === PushFormat.OtlpProtobuf || format === PushFormat.OtlpJson) {
      const { header, body: otlp } = unframeOtlp(body);
      const { payload } = decodeOtlp(format === PushFormat.OtlpJson, otlp, header);
      if (payload.lines > 0) return addDetectedLevels(payload);
      throw new PushError("OTLP body has no record to store");
    }
    if (format === PushFormat.Json || format === PushFormat.LokiJson) {
      raw = JSON.parse(decodeUtf8(body));
    } else if (format === PushFormat.Msgpack) raw = strictStrings(msgpack.decode(body));
    else if (format === PushFormat.Protobuf) raw = decodePushProtobuf(body);
    else throw new Error(`unknown push format ${format}`);
  } catch (error) {
    if (error instanceof PushError) throw error;
    throw new PushError(
      `cannot decode ${FORMAT_NAMES[format] ?? "push"} body: ${(error as Error).message}`,
    );
  }
  if (format === PushFormat.LokiJson) {
    const streams = (raw as { streams?: unknown })?.streams;
    if (Array.isArray(streams)) {
      for (const s of streams) {
        const labels = (s as { stream?: unknown })?.stream;
        if (typeof labels === "object" && labels !== null) {
          addServiceName(labels as Record<string, unknown>);
        }
      }
    }
  }
  const payload = validatePush(raw);
  return format === PushFormat.LokiJson ? addDetectedLevels(payload) : payload;
}
