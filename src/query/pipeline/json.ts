/**
 * The `| json` parser: every field of a JSON object line as a parsed label,
 * flattened as Loki does (nested keys joined with `_`, arrays and nulls
 * skipped, names sanitised), or with `| json a="b.c", d="e[0]"` only the addressed
 * values (objects and arrays as JSON text). A line that is not a JSON object
 * gets `__error__="JSONParserErr"`.
 *
 * @module
 */

import type { JsonParser } from "../ast.ts";
import type { LabelsBuilder } from "./labels.ts";
import { scanJsonLabels } from "./json_scan.ts";
import { sanitizeLabelKey } from "./label_key.ts";
import type { Stage } from "./mod.ts";

/** The `__error__` value of a line `| json` or `| unpack` cannot parse. */
export const JSON_PARSER_ERR = "JSONParserErr";

/** A JSON number kept as written (`1.50` stays `1.50`, big integers stay exact). */
class RawNumber {
  constructor(readonly source: string) {}
}

/**
 * Parses `line` as a JSON object, numbers kept as written; records the error
 * in `labels` and returns `undefined` when it is not one.
 */
export function parseJsonObject(
  line: string,
  labels: LabelsBuilder,
): Record<string, unknown> | undefined {
  let value: unknown;
  try {
    value = JSON.parse(
      line,
      (_key, v, context?: { source?: string }) =>
        typeof v === "number" && context?.source !== undefined ? new RawNumber(context.source) : v,
    );
  } catch (error) {
    labels.setError(JSON_PARSER_ERR, (error as Error).message);
    return undefined;
  }
  if (
    typeof value !== "object" || value === null || Array.isArray(value) ||
    value instanceof RawNumber
  ) {
    labels.setError(JSON_PARSER_ERR, "Value looks like a JSON value, but not an object");
    return undefined;
  }
  return value as Record<string, unknown>;
}

/** A leaf value as a label value: strings unescaped, numbers and booleans as written. */
function leaf(v: unknown): string | undefined {
  if (typeof v === "string") return v;
  if (v instanceof RawNumber) return v.source;
  if (typeof v === "boolean") return String(v);
  return undefined;
}

/**
 * Calls `visit` with each leaf of a JSON object (from {@linkcode parseJsonObject})
 * as `| json` names it: nested keys joined with `_`, names sanitised, arrays
 * and nulls skipped, numbers as written; `path` holds the keys that lead to it.
 *
 * @example
 * ```ts
 * import { flattenJson, parseJsonObject } from "./json.ts";
 * import { LabelsBuilder } from "./labels.ts";
 * import assert from "node:assert/strict";
 * const obj = parseJsonObject('{"req":{"user-id":7,"tags":["a"]},"ok":true}', new LabelsBuilder({ key: "{}", labels: {} }));
 * const leaves: [string, string, string[]][] = [];
 * flattenJson(obj!, (name, value, path) => leaves.push([name, value, path]));
 * assert.deepEqual(leaves, [["req_user_id", "7", ["req", "user-id"]], ["ok", "true", ["ok"]]]);
 * ```
 */
export function flattenJson(
  obj: Record<string, unknown>,
  visit: (name: string, value: string, path: string[]) => void,
  prefix = "",
  path: string[] = [],
): void {
  for (const [key, v] of Object.entries(obj)) {
    // A blank key adds nothing to the name, as in Loki: its object's leaves
    // are named as its parent's, and a leaf of its own takes the parent's name.
    const part = sanitizeLabelKey(key, prefix === "");
    const name = part === "" ? prefix : prefix === "" ? part : `${prefix}_${part}`;
    if (typeof v === "object" && v !== null && !Array.isArray(v) && !(v instanceof RawNumber)) {
      flattenJson(v as Record<string, unknown>, visit, name, [...path, key]);
      continue;
    }
    const value = leaf(v);
    if (value !== undefined && name !== "") visit(name, value, [...path, key]);
  }
}

// JSON.rawJSON (V8 ≥ 11.4) is not in TypeScript's lib yet.
const rawJSON = (JSON as unknown as { rawJSON(text: string): unknown }).rawJSON;

/** JSON text of a value, numbers as written. */
function toJson(v: unknown): string {
  return JSON.stringify(v, (_k, x) => (x instanceof RawNumber ? rawJSON(x.source) : x));
}

function lookup(obj: unknown, path: readonly (string | number)[]): string {
  let v = obj;
  for (const step of path) {
    if (typeof step === "number") {
      if (!Array.isArray(v) || step >= v.length) return "";
      v = v[step];
    } else {
      if (typeof v !== "object" || v === null || Array.isArray(v) || v instanceof RawNumber) {
        return "";
      }
      if (!Object.hasOwn(v, step)) return "";
      v = (v as Record<string, unknown>)[step];
    }
  }
  return v === null ? "" : leaf(v) ?? toJson(v);
}

/**
 * The stage of `parser`.
 *
 * @example
 * ```ts
 * import { jsonStage } from "./json.ts";
 * import { LabelsBuilder } from "./labels.ts";
 * import assert from "node:assert/strict";
 * const stream = { key: '{"app":"web"}', labels: { app: "web" } };
 * const labels = new LabelsBuilder(stream);
 * const line = '{"app":"x","req":{"path":"/a","ms":1.50},"tags":["a"],"ok":true}';
 * assert.equal(jsonStage({ kind: "json" })({ line, labels }), true);
 * assert.deepEqual(labels.final(new Map()).parsed, {
 *   app_extracted: "x", req_path: "/a", req_ms: "1.50", ok: "true",
 * });
 * const picked = new LabelsBuilder(stream);
 * const stage = jsonStage({ kind: "json", fields: [{ name: "first", path: ["tags", 0] }] });
 * stage({ line, labels: picked });
 * assert.deepEqual(picked.final(new Map()).parsed, { first: "a" });
 * ```
 */
export function jsonStage(parser: JsonParser): Stage {
  const fields = parser.fields;
  if (!fields) {
    return (entry) => {
      const leaves = scanJsonLabels(entry.line);
      if (leaves !== undefined) {
        for (let i = 0; i < leaves.length; i += 2) entry.labels.setParsed(leaves[i], leaves[i + 1]);
        return true;
      }
      // Not a line the scan handles: JSON.parse decides, and names the error.
      const obj = parseJsonObject(entry.line, entry.labels);
      if (obj) flattenJson(obj, (name, value) => entry.labels.setParsed(name, value));
      return true;
    };
  }
  return (entry) => {
    // As Loki's expression parser, an empty line is left alone.
    if (entry.line === "") return true;
    const obj = parseJsonObject(entry.line, entry.labels);
    if (obj) { for (const f of fields) entry.labels.setParsed(f.name, lookup(obj, f.path), true); }
    return true;
  };
}
