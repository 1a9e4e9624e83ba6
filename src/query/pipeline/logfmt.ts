/**
 * The `| logfmt` parser: `key=value` pairs (values bare or double-quoted
 * with Go escapes) as parsed labels, names sanitised as for `| json`.
 * Standalone keys and empty values are skipped unless `--keep-empty`. A
 * malformed pair is skipped; with `--strict` parsing stops there instead and
 * the line gets `__error__="LogfmtParserErr"`.
 *
 * @module
 */

import type { LogfmtParser } from "../ast.ts";
import { sanitizeLabelKey } from "./label_key.ts";
import type { Stage } from "./mod.ts";

/** The `__error__` value of a line `| logfmt --strict` cannot parse. */
export const LOGFMT_PARSER_ERR = "LogfmtParserErr";

/** One decoded pair, or a syntax error at a position. */
export type LogfmtPair = { key: string; value: string | undefined } | { error: string };

const isSpace = (c: string) => c <= " ";

/**
 * Decodes logfmt `line` into pairs as Loki's decoder does, calling `emit`
 * for each until it returns false; a malformed pair is reported as
 * `{ error }` and decoding resumes after it (an unterminated quote ends the line).
 *
 * @example
 * ```ts
 * import { decodeLogfmt, type LogfmtPair } from "./logfmt.ts";
 * import assert from "node:assert/strict";
 * const pairs: LogfmtPair[] = [];
 * decodeLogfmt('level=warn msg="disk \\"a\\" full" flag', (pair) => pairs.push(pair) > 0);
 * assert.deepEqual(pairs, [
 *   { key: "level", value: "warn" },
 *   { key: "msg", value: 'disk "a" full' },
 *   { key: "flag", value: undefined },
 * ]);
 * ```
 */
export function decodeLogfmt(line: string, emit: (pair: LogfmtPair) => boolean): void {
  let i = 0;
  const n = line.length;
  const skipToSpace = () => {
    while (i < n && !isSpace(line[i])) i++;
  };
  while (i < n) {
    while (i < n && isSpace(line[i])) i++;
    if (i >= n) return;
    const start = i;
    while (i < n && !isSpace(line[i]) && line[i] !== "=" && line[i] !== '"') i++;
    if (i === start) {
      const c = line[i];
      skipToSpace();
      if (!emit({ error: `logfmt syntax error at pos ${start + 1} : unexpected '${c}'` })) return;
      continue;
    }
    const key = line.slice(start, i);
    // Loki's decoder refuses a key with an invalid UTF-8 sequence (U+FFFD when decoded).
    if (key.includes("\uFFFD")) {
      const at = i;
      skipToSpace();
      if (!emit({ error: `logfmt syntax error at pos ${at + 1} : invalid key` })) return;
      continue;
    }
    if (i >= n || isSpace(line[i])) {
      if (!emit({ key, value: undefined })) return;
      continue;
    }
    if (line[i] === '"') {
      const at = i;
      skipToSpace();
      if (!emit({ error: `logfmt syntax error at pos ${at + 1} : unexpected '"'` })) return;
      continue;
    }
    i++; // "="
    if (i >= n || isSpace(line[i])) {
      if (!emit({ key, value: "" })) return;
      continue;
    }
    if (line[i] === '"') {
      // As Loki's decoder: the pair ends at the closing quote, whatever follows.
      const open = i;
      i++;
      while (i < n && line[i] !== '"') i += line[i] === "\\" ? 2 : 1;
      if (i >= n) {
        emit({ error: `logfmt syntax error at pos ${n + 1} : unterminated quoted value` });
        return;
      }
      i++;
      const value = unquote(line.slice(open + 1, i - 1));
      if (value === undefined) {
        if (!emit({ error: `logfmt syntax error at pos ${i + 1} : invalid quoted value` })) return;
        continue;
      }
      if (!emit({ key, value })) return;
      continue;
    }
    const vstart = i;
    while (i < n && !isSpace(line[i]) && line[i] !== "=" && line[i] !== '"') i++;
    if (i < n && !isSpace(line[i])) {
      const at = i;
      skipToSpace();
      if (!emit({ error: `logfmt syntax error at pos ${at + 1} : unexpected '${line[at]}'` })) {
        return;
      }
      continue;
    }
    if (!emit({ key, value: line.slice(vstart, i) })) return;
  }
}

const ESCAPED: Readonly<Record<string, string>> = {
  '"': '"',
  "\\": "\\",
  "/": "/",
  "'": "'",
  b: "\b",
  f: "\f",
  n: "\n",
  r: "\r",
  t: "\t",
};

/**
 * The text between a quoted value's quotes with its escapes undone as Loki's
 * decoder undoes them (JSON's, and `\'`; raw control characters stay), or
 * `undefined` for an escape it refuses.
 *
 * @example
 * ```ts
 * import { unquote } from "./logfmt.ts";
 * import assert from "node:assert/strict";
 * assert.equal(unquote(String.raw`say \"hi\"\tand \u00e9 \'x\'`), "say \"hi\"\tand é 'x'");
 * assert.equal(unquote("a\nb"), "a\nb"); // a raw newline is kept
 * assert.equal(unquote(String.raw`bad \q`), undefined);
 * ```
 */
export function unquote(text: string): string | undefined {
  let at = text.indexOf("\\");
  if (at === -1) return text;
  let out = "";
  let from = 0;
  for (; at !== -1; at = text.indexOf("\\", from)) {
    out += text.slice(from, at);
    const c = text[at + 1];
    if (c === "u") {
      const hex = text.slice(at + 2, at + 6);
      if (!/^[0-9a-fA-F]{4}$/.test(hex)) return undefined;
      out += String.fromCharCode(parseInt(hex, 16));
      from = at + 6;
    } else {
      const escaped = ESCAPED[c];
      if (escaped === undefined) return undefined;
      out += escaped;
      from = at + 2;
    }
  }
  // A lone surrogate escape becomes U+FFFD, as Go's decoder makes it.
  return (out + text.slice(from)).toWellFormed();
}

/**
 * The stage of `parser`.
 *
 * @example
 * ```ts
 * import { logfmtStage } from "./logfmt.ts";
 * import { LabelsBuilder } from "./labels.ts";
 * import assert from "node:assert/strict";
 * const line = 'level=info msg="hello \\"you\\"" took=25ms flag empty=';
 * const labels = new LabelsBuilder({ key: "{}", labels: {} });
 * logfmtStage({ kind: "logfmt", strict: false, keepEmpty: false })({ line, labels });
 * assert.deepEqual(labels.final(new Map()).parsed, {
 *   level: "info", msg: 'hello "you"', took: "25ms",
 * });
 * const strict = new LabelsBuilder({ key: "{}", labels: {} });
 * logfmtStage({ kind: "logfmt", strict: true, keepEmpty: true })({ line: "a=1 =x b=2", labels: strict });
 * assert.equal(strict.get("a"), "1");
 * assert.equal(strict.get("b"), undefined);
 * assert.equal(strict.errorLabel("__error__"), "LogfmtParserErr");
 * ```
 */
export function logfmtStage(parser: LogfmtParser): Stage {
  const { strict, keepEmpty, fields } = parser;
  if (fields) return extractionStage(fields, strict);
  return (entry) => {
    const labels = entry.labels;
    decodeLogfmt(entry.line, (pair) => {
      if ("error" in pair) {
        if (!strict) return true;
        labels.setError(LOGFMT_PARSER_ERR, pair.error);
        return false;
      }
      const value = pair.value ?? "";
      if (value === "" && !keepEmpty) return true;
      const name = sanitizeLabelKey(pair.key, true);
      if (name !== "") labels.setParsed(name, value);
      return true;
    });
    return true;
  };
}

/**
 * `| logfmt name="key", …`, as Loki's expression parser: each name is
 * `""` until a pair of its key (sanitised as for `| logfmt`) sets it (the
 * last such pair wins); a name the stream or the metadata has gets
 * `_extracted` (then only when found, and the first pair wins). Empty values
 * count.
 */
function extractionStage(fields: readonly { name: string; key: string }[], strict: boolean): Stage {
  const namesByKey = Map.groupBy(fields, (f) => f.key);
  return (entry) => {
    const labels = entry.labels;
    for (const { name } of fields) {
      if (labels.parsedName(name) === name) labels.setParsed(name, "", true);
    }
    decodeLogfmt(entry.line, (pair) => {
      if ("error" in pair) {
        if (!strict) return true;
        labels.setError(LOGFMT_PARSER_ERR, pair.error);
        return false;
      }
      for (const { name } of namesByKey.get(sanitizeLabelKey(pair.key, true)) ?? []) {
        labels.setParsed(name, pair.value ?? "", labels.parsedName(name) === name);
      }
      return true;
    });
    return true;
  };
}
