/**
 * The limits a push is held to when it arrives, after it is decoded and
 * before anything is stored, whatever its format: the size of a line
 * (`--max-line-size`), the number of labels of a stream (Loki's
 * `max_label_names_per_series`) and the number of streams. A push over any
 * of them is refused whole (400, naming the stream). They are not checked again when the WAL is replayed:
 * what was acknowledged stays stored whatever the limits are then.
 *
 * @module
 */

import { PushError, type PushPayload } from "./payload.ts";
import { utf8Length } from "../utf8.ts";

/** What a push is held to: see {@linkcode checkPushLimits}. */
export interface PayloadLimits {
  /** Longest line in bytes of UTF-8 (`--max-line-size`); 0: no limit. */
  readonly maxLineBytes: number;
  /** Most labels a stream may have (`--max-label-names-per-series`). */
  readonly maxLabelNames: number;
}

/**
 * Most streams in one push: far more than a shipper sends (pino-loki sends a
 * stream a line, a thousand lines a batch), few enough that a push of empty
 * streams cannot make a million objects.
 */
export const MAX_STREAMS_PER_PUSH = 100_000;

/** Loki's defaults: `max_line_size` 256 KiB, `max_label_names_per_series` 15. */
export const DEFAULT_PAYLOAD_LIMITS: PayloadLimits = Object.freeze({
  maxLineBytes: 256 * 1024,
  maxLabelNames: 15,
});

/** Labels per stream key, for keys seen lately; starts over when full. */
const labelCounts = new Map<string, number>();
const LABEL_COUNT_CACHE_SIZE = 4096;

function labelCount(key: string): number {
  let count = labelCounts.get(key);
  if (count === undefined) {
    count = Object.keys(JSON.parse(key)).length;
    if (labelCounts.size >= LABEL_COUNT_CACHE_SIZE) labelCounts.clear();
    labelCounts.set(key, count);
  }
  return count;
}

/** A stream's labels for a message, cut short when long. */
function named(key: string): string {
  return key.length > 200 ? `${key.slice(0, 200)}…` : key;
}

/**
 * Throws when `payload` breaks a limit: more than {@linkcode MAX_STREAMS_PER_PUSH}
 * streams, a stream with more than `limits.maxLabelNames` labels, or a line
 * over `limits.maxLineBytes` bytes (0: no limit).
 *
 * @throws {PushError} naming the stream and the limit.
 *
 * @example
 * ```ts
 * import { checkPushLimits } from "./push_limits.ts";
 * import assert from "node:assert/strict";
 * const payload = { streams: [{ key: '{"app":"web"}', ts: [1n], lines: ["héllo"] }], lines: 1 };
 * checkPushLimits(payload, { maxLineBytes: 6, maxLabelNames: 15 }); // "héllo" is 6 bytes
 * assert.throws(
 *   () => checkPushLimits(payload, { maxLineBytes: 5, maxLabelNames: 15 }),
 *   /is 6 bytes, over the limit of 5 \(--max-line-size\)/,
 * );
 * ```
 */
export function checkPushLimits(payload: PushPayload, limits: PayloadLimits): void {
  const { maxLineBytes, maxLabelNames } = limits;
  if (payload.streams.length > MAX_STREAMS_PER_PUSH) {
    throw new PushError(
      `push has ${payload.streams.length} streams, over the limit of ${MAX_STREAMS_PER_PUSH}`,
    );
  }
  for (const { key, lines } of payload.streams) {
    const labels = labelCount(key);
    if (labels > maxLabelNames) {
      throw new PushError(
        `stream ${named(key)} has ${labels} labels, over the limit of ${maxLabelNames} ` +
          "(--max-label-names-per-series)",
      );
    }
    if (maxLineBytes <= 0) continue;
    for (const line of lines) {
      // A UTF-16 unit is at most 3 bytes of UTF-8: most lines need no count.
      if (line.length * 3 <= maxLineBytes) continue;
      const bytes = utf8Length(line);
      if (bytes > maxLineBytes) {
        throw new PushError(
          `a line of stream ${
            named(key)
          } is ${bytes} bytes, over the limit of ${maxLineBytes} (--max-line-size)`,
        );
      }
    }
  }
}
