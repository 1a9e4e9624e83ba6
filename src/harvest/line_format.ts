/**
 * How a harvested line of text becomes a stored line: `lines` stores it as
 * it is; `ndjson` stores each JSON object as the line, its `label_fields` as
 * labels and its `timestamp_field` (RFC 3339, or unix s, ms, µs or ns) as the
 * time. The time is the arrival time otherwise. Labels are checked as a push
 * checks them: a line that cannot be stored is malformed.
 *
 * @module
 */

import { canonicalLabels } from "../ingest/payload.ts";
import { MAX_TS, parseTime, parseUnixTime } from "../time.ts";
import type { HarvestedLine } from "./batcher.ts";

/** How a line of text maps to a stored line. */
export interface LineFormat {
  readonly format: "lines" | "ndjson";
  readonly labels: Readonly<Record<string, string>>;
  /** With `ndjson`: fields whose values become labels. */
  readonly labelFields?: readonly string[];
  /** With `ndjson`: the field that holds the time. */
  readonly timestampField?: string;
}

/**
 * The stored line of `text`, or the reason it cannot be one.
 *
 * @example
 * ```ts
 * import { mapLine } from "./line_format.ts";
 * import assert from "node:assert/strict";
 * const format = {
 *   format: "ndjson" as const,
 *   labels: { source: "tcp" },
 *   labelFields: ["level"],
 *   timestampField: "ts",
 * };
 * const line = mapLine('{"ts":"2026-01-01T00:00:00Z","level":"warn","msg":"hi"}', format, 5n);
 * assert.deepEqual(line, {
 *   labels: { source: "tcp", level: "warn" },
 *   ts: 1767225600000000000n,
 *   line: '{"ts":"2026-01-01T00:00:00Z","level":"warn","msg":"hi"}',
 * });
 * assert.equal(typeof mapLine("not json", format, 5n), "string");
 * ```
 */
export function mapLine(text: string, f: LineFormat, arrivedNs: bigint): HarvestedLine | string {
  let labels: Record<string, string> = { ...f.labels };
  let ts = arrivedNs;
  if (f.format === "ndjson") {
    let doc: unknown;
    try {
      doc = JSON.parse(text);
    } catch (error) {
      return `not JSON: ${(error as Error).message}`;
    }
    if (typeof doc !== "object" || doc === null || Array.isArray(doc)) {
      return "not a JSON object";
    }
    const fields = doc as Record<string, unknown>;
    for (const name of f.labelFields ?? []) {
      const v = fields[name];
      if (v !== undefined && v !== null && v !== "") {
        labels[name] = typeof v === "string" ? v : JSON.stringify(v);
      }
    }
    const time = f.timestampField ? fields[f.timestampField] : undefined;
    if (time !== undefined && time !== null) {
      const parsed = timeOf(time);
      if (parsed === undefined) {
        return `field ${JSON.stringify(f.timestampField)} is not a time: ${JSON.stringify(time)}`;
      }
      ts = parsed;
    }
  }
  try {
    labels = JSON.parse(canonicalLabels(labels, 0));
  } catch (error) {
    return (error as Error).message.replace(/^stream \d+: /, "");
  }
  return { labels, ts, line: text };
}

/** RFC 3339, or a unix time in s, ms, µs or ns told apart by its size. */
function timeOf(value: unknown): bigint | undefined {
  const text = typeof value === "number" ? String(value) : typeof value === "string" ? value : "";
  const ns = parseUnixTime(text) ?? parseTime(text);
  return ns !== undefined && ns <= MAX_TS ? ns : undefined;
}
