/**
 * `detected_level` for lines pushed through Loki's API, as Loki's distributor
 * derives it at ingest (loki `pkg/distributor/field_detection.go`,
 * `extractLogLevel`; the `discover_log_levels` limit): a structured-metadata
 * field that Grafana's logs volume and Logs Drilldown group and filter by.
 * It is derived only for streams without a level label (any of
 * {@linkcode LEVEL_FIELDS}), as Loki 3.0 does; those keep their label. For
 * each line of the others, in order of precedence:
 *
 * 1. a `detected_level` the line's metadata already has is normalised;
 * 2. else the first of {@linkcode LEVEL_FIELDS} in its metadata, normalised;
 * 3. else OpenTelemetry's `severity_number` in its metadata, by range;
 * 4. else the line: a JSON object's first string field named in
 *    {@linkcode LEVEL_FIELDS} (its top level or one level down), a logfmt
 *    line's first such key (case-insensitive, in the list's order), or the
 *    earliest level keyword standing as a word (`error`, `WARN`, …);
 *    `unknown` when nothing names a level.
 *
 * Values are normalised to `trace`, `debug`, `info`, `warn`, `error`,
 * `critical` or `fatal` (case-insensitive, with the abbreviations Loki knows:
 * `trc`, `dbg`, `inf`, `information`, `wrn`, `warning`, `err`); other
 * metadata values are kept as written, and a value found in the line that is
 * not a level falls back to the keyword scan.
 *
 * @module
 */

import { decodeLogfmt } from "../query/pipeline/logfmt.ts";
import type { PushPayload, PushStream } from "./payload.ts";

/** The structured-metadata name of the derived level. */
export const DETECTED_LEVEL = "detected_level";

/** The value when nothing names a level. */
export const UNKNOWN_LEVEL = "unknown";

/** Loki's default `log_level_fields`, in order of precedence. */
export const LEVEL_FIELDS: readonly string[] = [
  "level",
  "LEVEL",
  "Level",
  "log.level",
  "severity",
  "SEVERITY",
  "Severity",
  "SeverityText",
  "lvl",
  "LVL",
  "Lvl",
  "severity_text",
  "Severity_Text",
  "SEVERITY_TEXT",
];

/** OpenTelemetry's severity number, in metadata as Loki's OTLP ingest stores it. */
const SEVERITY_NUMBER = "severity_number";

/** Each known spelling, lower-cased, and its level. */
const LEVELS = new Map<string, string>([
  ["trace", "trace"],
  ["trc", "trace"],
  ["debug", "debug"],
  ["dbg", "debug"],
  ["info", "info"],
  ["inf", "info"],
  ["information", "info"],
  ["warn", "warn"],
  ["wrn", "warn"],
  ["warning", "warn"],
  ["error", "error"],
  ["err", "error"],
  ["critical", "critical"],
  ["fatal", "fatal"],
]);

/**
 * The level `value` names (case-insensitive), or `undefined` when it names none.
 *
 * @example
 * ```ts
 * import { levelOf } from "./detected_level.ts";
 * import assert from "node:assert/strict";
 * assert.equal(levelOf("WARNING"), "warn");
 * assert.equal(levelOf("Err"), "error");
 * assert.equal(levelOf("notice"), undefined);
 * ```
 */
export function levelOf(value: string): string | undefined {
  return LEVELS.get(value.toLowerCase());
}

/**
 * The level keywords standing as words, in Loki's order (at one position an
 * earlier one wins): after the start or one of ` \t\n[({"'=|` (not `:`:
 * `misc:error` is no level), before the end or one of ` \t\n[](){}:,!"'=|`
 * (`:` too: `debug: starting`). One pass finds the earliest.
 */
const KEYWORD =
  /(?<=^|[ \t\n[({"'=|])(trace|debug|fatal|critical|error|err|warning|warn|info)(?=$|[ \t\n[\](){}:,!"'=|])/i;

/** Each keyword's level. */
const KEYWORD_LEVELS: Record<string, string> = {
  trace: "trace",
  debug: "debug",
  fatal: "fatal",
  critical: "critical",
  error: "error",
  err: "error",
  warning: "warn",
  warn: "warn",
  info: "info",
};

/**
 * The level of the earliest level keyword standing as a word in `line`
 * (case-insensitive), else `unknown`: Loki's `detectLevelFromLogLine`.
 *
 * @example
 * ```ts
 * import { levelFromKeywords } from "./detected_level.ts";
 * import assert from "node:assert/strict";
 * assert.equal(levelFromKeywords("2024-01-01 WARN disk almost full, error soon"), "warn");
 * assert.equal(levelFromKeywords("[ERROR] upstream timeout"), "error");
 * assert.equal(levelFromKeywords("misc:error errors=0"), "unknown");
 * ```
 */
export function levelFromKeywords(line: string): string {
  const found = KEYWORD.exec(line);
  return found ? KEYWORD_LEVELS[found[1].toLowerCase()] : UNKNOWN_LEVEL;
}

/** A key named in LEVEL_FIELDS with a string value: `"level"`, `:`, the value's opening quote. */
const JSON_LEVEL_KEY = new RegExp(
  `"(?:${LEVEL_FIELDS.map((f) => f.replace(".", "\\.")).join("|")})"[ \\t\\n\\r]*:[ \\t\\n\\r]*"`,
  "g",
);

/**
 * The value of the first string field named in LEVEL_FIELDS of a JSON
 * object line, in its top-level object or an object directly in it, in the
 * line's order: the fields Loki's walk of the line visits (with its default
 * `log_level_from_json_max_depth` of 2). One pass over the line up to the
 * field tracks strings and nesting, without parsing it; as in Loki, the
 * value keeps its escapes and a malformed line still yields a field before
 * the fault.
 */
function jsonLevelValue(line: string): string | undefined {
  JSON_LEVEL_KEY.lastIndex = 0;
  let at = 0;
  let objects = 0;
  let arrays = 0;
  let inString = false;
  for (let m = JSON_LEVEL_KEY.exec(line); m !== null; m = JSON_LEVEL_KEY.exec(line)) {
    for (; at < m.index; at++) {
      const c = line.charCodeAt(at);
      if (inString) {
        if (c === 0x5c) at++;
        else if (c === 0x22) inString = false;
      } else if (c === 0x22) inString = true;
      else if (c === 0x7b) objects++;
      else if (c === 0x7d) objects--;
      else if (c === 0x5b) arrays++;
      else if (c === 0x5d) arrays--;
    }
    // Inside a string (an escaped quote, or one that closes a string), or too deep.
    if (at > m.index || inString || arrays > 0 || objects < 1 || objects > 2) continue;
    const start = m.index + m[0].length;
    for (let end = start; end < line.length; end++) {
      const c = line.charCodeAt(end);
      if (c === 0x5c) end++;
      else if (c === 0x22) return line.slice(start, end);
    }
    return undefined;
  }
  return undefined;
}

const LOWER_LEVEL_FIELDS = LEVEL_FIELDS.map((f) => f.toLowerCase());
/** A logfmt pair whose key is named in LEVEL_FIELDS: a line without one is not decoded. */
const LOGFMT_LEVEL_KEY = new RegExp(
  `(?:^|[\\x00-\\x20"])(?:${
    [...new Set(LOWER_LEVEL_FIELDS)].map((f) => f.replace(".", "\\.")).join("|")
  })=`,
  "i",
);

/** The value of the line's first logfmt key (by the list's order) named in LEVEL_FIELDS. */
function logfmtLevelValue(line: string): string | undefined {
  if (!LOGFMT_LEVEL_KEY.test(line)) return undefined;
  let rank = LEVEL_FIELDS.length;
  let found: string | undefined;
  decodeLogfmt(line, (pair) => {
    // Loki's decoder stops at the first malformed pair.
    if ("error" in pair) return false;
    const r = LOWER_LEVEL_FIELDS.indexOf(pair.key.toLowerCase());
    if (r >= 0 && r < rank) {
      rank = r;
      found = pair.value ?? "";
    }
    return rank > 0;
  });
  return found;
}

/** Whether `line`, spaces aside, starts with `{` and ends with `}`. */
function looksLikeJson(line: string): boolean {
  const text = line.trim();
  return text.startsWith("{") && text.endsWith("}");
}

/**
 * The level a line names by its content: its JSON or logfmt level field,
 * else its keywords (Loki's `extractLogLevelFromLogLine`).
 *
 * @example
 * ```ts
 * import { levelFromLine } from "./detected_level.ts";
 * import assert from "node:assert/strict";
 * assert.equal(levelFromLine('{"msg":"saved","level":"WARN"}'), "warn");
 * assert.equal(levelFromLine('{"log":{"severity":"dbg"}}'), "debug");
 * assert.equal(levelFromLine("ts=1 lvl=err msg=x"), "error");
 * assert.equal(levelFromLine("ts=1 level=notice msg=fatal"), "fatal");
 * assert.equal(levelFromLine("GET /health 200"), "unknown");
 * ```
 */
export function levelFromLine(line: string): string {
  const value = looksLikeJson(line)
    ? jsonLevelValue(line)
    : line.includes("=")
    ? logfmtLevelValue(line)
    : undefined;
  return (value === undefined ? undefined : levelOf(value)) ?? levelFromKeywords(line);
}

/** The level of an OpenTelemetry severity number (Loki: unparseable → info). */
function levelOfSeverityNumber(text: string): string {
  if (!/^[+-]?\d+$/.test(text)) return "info";
  const n = Number(text);
  if (n === 0) return UNKNOWN_LEVEL;
  if (n <= 4) return "trace";
  if (n <= 8) return "debug";
  if (n <= 12) return "info";
  if (n <= 16) return "warn";
  if (n <= 20) return "error";
  if (n <= 24) return "fatal";
  return UNKNOWN_LEVEL;
}

/**
 * The `detected_level` of a line of a stream without a level label, from
 * its structured `metadata` and its text (steps 2–4 of the module's list).
 *
 * @example
 * ```ts
 * import { detectLevel } from "./detected_level.ts";
 * import assert from "node:assert/strict";
 * assert.equal(detectLevel("all good", { severity: "Warning" }), "warn");
 * assert.equal(detectLevel("all good", { lvl: "notice" }), "notice");
 * assert.equal(detectLevel("all good", { severity_number: "17" }), "error");
 * assert.equal(detectLevel("level=info msg=hi"), "info");
 * assert.equal(detectLevel("nothing here"), "unknown");
 * ```
 */
export function detectLevel(line: string, metadata?: Readonly<Record<string, string>>): string {
  if (metadata) {
    for (const field of LEVEL_FIELDS) {
      if (Object.hasOwn(metadata, field)) return levelOf(metadata[field]) ?? metadata[field];
    }
    if (Object.hasOwn(metadata, SEVERITY_NUMBER) && metadata[SEVERITY_NUMBER] !== "") {
      return levelOfSeverityNumber(metadata[SEVERITY_NUMBER]);
    }
  }
  return levelFromLine(line);
}

/** {@linkcode hasLevelLabel}'s answers by key: the same streams arrive in every payload. */
const levelLabelled = new Map<string, boolean>();
/** Keys {@linkcode levelLabelled} holds before it starts over. */
const LEVEL_LABELLED_SIZE = 4096;

/** Whether a stream's canonical label key names one of LEVEL_FIELDS. */
function hasLevelLabel(key: string): boolean {
  let answer = levelLabelled.get(key);
  if (answer === undefined) {
    const labels = JSON.parse(key) as Record<string, string>;
    answer = LEVEL_FIELDS.some((field) => Object.hasOwn(labels, field));
    if (levelLabelled.size >= LEVEL_LABELLED_SIZE) levelLabelled.clear();
    levelLabelled.set(key, answer);
  }
  return answer;
}

/** Metadata JSON of a line that had none, by level: a few distinct values. */
const levelOnly = new Map<string, string>();

function levelOnlyJson(level: string): string {
  let json = levelOnly.get(level);
  if (json === undefined) {
    json = JSON.stringify({ [DETECTED_LEVEL]: level });
    if (levelOnly.size < 64) levelOnly.set(level, json);
  }
  return json;
}

/** The metadata JSON of one line with its `detected_level` set or normalised. */
function withLevel(line: string, metadataJson: string | undefined): string {
  if (metadataJson === undefined) return levelOnlyJson(detectLevel(line));
  const metadata = JSON.parse(metadataJson) as Record<string, string>;
  if (Object.hasOwn(metadata, DETECTED_LEVEL)) {
    const normal = levelOf(metadata[DETECTED_LEVEL]);
    if (normal === undefined || normal === metadata[DETECTED_LEVEL]) return metadataJson;
    metadata[DETECTED_LEVEL] = normal;
  } else {
    metadata[DETECTED_LEVEL] = detectLevel(line, metadata);
  }
  return JSON.stringify(metadata);
}

/**
 * `payload` with a `detected_level` in the metadata of every line of its
 * streams without a level label (an existing one normalised).
 *
 * @example
 * ```ts
 * import { addDetectedLevels } from "./detected_level.ts";
 * import assert from "node:assert/strict";
 * const payload = addDetectedLevels({
 *   lines: 3,
 *   streams: [
 *     { key: '{"app":"web"}', ts: [1n, 2n], lines: ["ERROR boom", "ok"], metadata: [undefined, '{"detected_level":"WARNING"}'] },
 *     { key: '{"app":"web","level":"info"}', ts: [3n], lines: ["ERROR kept as is"] },
 *   ],
 * });
 * assert.deepEqual(payload.streams[0].metadata, ['{"detected_level":"error"}', '{"detected_level":"warn"}']);
 * assert.equal(payload.streams[1].metadata, undefined);
 * ```
 */
export function addDetectedLevels(payload: PushPayload): PushPayload {
  const streams = payload.streams.map((s): PushStream => {
    if (hasLevelLabel(s.key)) return s;
    const metadata = s.lines.map((line, i) => withLevel(line, s.metadata?.[i]));
    return { key: s.key, ts: s.ts, lines: s.lines, metadata };
  });
  return { streams, lines: payload.lines };
}
