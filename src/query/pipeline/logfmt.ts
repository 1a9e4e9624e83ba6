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
      let value: string;
      try {
        value = JSON.parse(line.slice(open, i));
      } catch {
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
  const { strict, keepEmpty } = parser;
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
