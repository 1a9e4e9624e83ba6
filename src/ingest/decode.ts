/**
 * Push body formats: which decoder a `Content-Type` selects, and decoding a
 * body into a validated {@linkcode PushPayload}.
 *
 * @module
 */

import { Decoder as MsgpackDecoder } from "@msgpack/msgpack";
import { PushError, type PushPayload, validatePush } from "./payload.ts";
import { decodePushProtobuf } from "./protobuf.ts";

/** Push body formats; the number is stored with each WAL record. */
export enum PushFormat {
  Json = 1,
  Msgpack = 2,
  Protobuf = 3,
}

const FORMATS: Record<string, PushFormat> = {
  "application/json": PushFormat.Json,
  "application/msgpack": PushFormat.Msgpack,
  "application/x-msgpack": PushFormat.Msgpack,
  "application/vnd.msgpack": PushFormat.Msgpack,
  "application/protobuf": PushFormat.Protobuf,
  "application/x-protobuf": PushFormat.Protobuf,
};

/** The media types accepted by the push endpoint. */
export const PUSH_MEDIA_TYPES: readonly string[] = Object.keys(FORMATS);

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
  const media = (contentType ?? "").split(";")[0].trim().toLowerCase();
  return FORMATS[media];
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

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
    decode: (bytes, offset, length) => utf8.decode(bytes.subarray(offset, offset + length)),
  },
});

/** Replaces every byte string of a decoded msgpack value with its strict UTF-8 text. */
function strictStrings(value: unknown): unknown {
  if (value instanceof Uint8Array) return utf8.decode(value);
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
    if (format === PushFormat.Json) raw = JSON.parse(utf8.decode(body));
    else if (format === PushFormat.Msgpack) raw = strictStrings(msgpack.decode(body));
    else raw = decodePushProtobuf(body);
  } catch (error) {
    throw new PushError(
      `cannot decode ${PushFormat[format].toLowerCase()} body: ${(error as Error).message}`,
    );
  }
  return validatePush(raw);
}
