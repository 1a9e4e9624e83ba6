/**
 * The fast path of `| json`: one pass over a JSON object line that yields its
 * leaves as flattened labels (nested keys joined with `_`, arrays and nulls
 * skipped, numbers as written) without building the object. `JSON.parse`
 * with a reviver, which keeps numbers as written, takes five times as long
 * as this on typical log lines.
 *
 * It is a strict subset of JSON.parse: it gives up (returns `false`) on
 * anything it does not scan itself, so that the exact path decides what
 * happens and how an invalid line is reported. It never accepts what
 * JSON.parse refuses. Leaves come in the line's order, as Loki's parser
 * visits them; a name seen twice keeps its last value.
 *
 * @module
 */

import { sanitizeLabelKey } from "./label_key.ts";

let text = "";
let at = 0;
let out: string[] = [];
/** The names to yield, or all of them. */
let wanted: ReadonlySet<string> | undefined;

/** Label names by key, for top-level keys and for nested ones; keys repeat from line to line. */
const topNames = new Map<string, string>();
const nestedNames = new Map<string, string>();
/** Entries each name cache holds before it starts over. */
const NAME_CACHE_SIZE = 4096;

/** The label name of `key` under `prefix`; `null` (no label) under `null` or for an empty key. */
function nameOf(key: string, prefix: string | null): string | null {
  if (prefix === null) return null;
  const cache = prefix === "" ? topNames : nestedNames;
  let part = cache.get(key);
  if (part === undefined) {
    if (cache.size >= NAME_CACHE_SIZE) cache.clear();
    part = sanitizeLabelKey(key, prefix === "");
    cache.set(key, part);
  }
  return part === "" ? null : prefix === "" ? part : `${prefix}_${part}`;
}

class GiveUp extends Error {}
const GIVE_UP = new GiveUp();

function space(): void {
  for (;;) {
    const c = text.charCodeAt(at);
    if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) at++;
    else return;
  }
}

/** A string starting at `at` (a quote); its value. */
function string(): string {
  const start = ++at;
  for (;;) {
    const c = text.charCodeAt(at);
    if (c === 0x22) return text.slice(start, at++);
    if (c === 0x5c) return escapedString(start - 1);
    // NaN past the end; control characters are not allowed raw.
    if (!(c >= 0x20)) throw GIVE_UP;
    at++;
  }
}

/** A string with escapes, from its opening quote at `open`: JSON.parse undoes them. */
function escapedString(open: number): string {
  for (;;) {
    const c = text.charCodeAt(at);
    if (c === 0x5c) at += 2;
    else if (c === 0x22) break;
    else if (!(c >= 0x20)) throw GIVE_UP;
    else at++;
  }
  at++;
  try {
    return JSON.parse(text.slice(open, at));
  } catch {
    throw GIVE_UP;
  }
}

function digits(): number {
  const start = at;
  for (let c = text.charCodeAt(at); c >= 0x30 && c <= 0x39; c = text.charCodeAt(at)) at++;
  return at - start;
}

/** A number starting at `at`, as written. */
function number(): string {
  const start = at;
  if (text.charCodeAt(at) === 0x2d) at++;
  if (text.charCodeAt(at) === 0x30) at++;
  else if (digits() === 0) throw GIVE_UP;
  if (text.charCodeAt(at) === 0x2e) {
    at++;
    if (digits() === 0) throw GIVE_UP;
  }
  const e = text.charCodeAt(at);
  if (e === 0x65 || e === 0x45) {
    at++;
    const sign = text.charCodeAt(at);
    if (sign === 0x2b || sign === 0x2d) at++;
    if (digits() === 0) throw GIVE_UP;
  }
  return text.slice(start, at);
}

function literal(word: string): string {
  if (!text.startsWith(word, at)) throw GIVE_UP;
  at += word.length;
  return word;
}

/**
 * The value at `at`: its label text, or `undefined` for what makes no label
 * (null, arrays); objects are flattened under `name` instead (checked and
 * dropped under `null`).
 */
function value(name: string | null): string | undefined {
  const c = text.charCodeAt(at);
  if (c === 0x22) return string();
  if (c === 0x7b) {
    object(name);
    return undefined;
  }
  if (c === 0x5b) {
    array();
    return undefined;
  }
  if (c === 0x74) return literal("true");
  if (c === 0x66) return literal("false");
  if (c === 0x6e) {
    literal("null");
    return undefined;
  }
  return number();
}

/** An object at `at`; its leaves are labels under `prefix` (none under `null`). */
function object(prefix: string | null): void {
  at++;
  space();
  if (text.charCodeAt(at) === 0x7d) {
    at++;
    return;
  }
  for (;;) {
    if (text.charCodeAt(at) !== 0x22) throw GIVE_UP;
    const name = nameOf(string(), prefix);
    space();
    if (text.charCodeAt(at) !== 0x3a) throw GIVE_UP;
    at++;
    space();
    const v = value(name);
    if (v !== undefined && name !== null && (wanted === undefined || wanted.has(name))) {
      out.push(name, v);
    }
    space();
    const c = text.charCodeAt(at++);
    if (c === 0x7d) return;
    if (c !== 0x2c) throw GIVE_UP;
    space();
  }
}

/** An array at `at`, checked and skipped: arrays make no labels. */
function array(): void {
  at++;
  space();
  if (text.charCodeAt(at) === 0x5d) {
    at++;
    return;
  }
  for (;;) {
    value(null);
    space();
    const c = text.charCodeAt(at++);
    if (c === 0x5d) return;
    if (c !== 0x2c) throw GIVE_UP;
    space();
  }
}

/**
 * The flattened leaves of `line` as `[name, value, name, value, …]`, in the
 * line's order, or `undefined` when the line is not a JSON object this scan
 * handles (then `JSON.parse` decides). With `only`, the leaves of those names
 * alone; the whole line is checked all the same.
 *
 * @example
 * ```ts
 * import { scanJsonLabels } from "./json_scan.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual(
 *   scanJsonLabels('{"status":502,"req":{"path":"/a","ms":1.50},"tags":["x"],"ok":true,"n":null}'),
 *   ["status", "502", "req_path", "/a", "req_ms", "1.50", "ok", "true"],
 * );
 * assert.deepEqual(scanJsonLabels('{"status":502,"req":{"ms":1.50}}', new Set(["req_ms"])), [
 *   "req_ms",
 *   "1.50",
 * ]);
 * assert.equal(scanJsonLabels('{"a":1,}'), undefined);
 * assert.equal(scanJsonLabels("GET / 200"), undefined);
 * ```
 */
export function scanJsonLabels(line: string, only?: ReadonlySet<string>): string[] | undefined {
  text = line;
  at = 0;
  out = [];
  wanted = only;
  try {
    space();
    if (text.charCodeAt(at) !== 0x7b) return undefined;
    object("");
    space();
    return at === text.length ? out : undefined;
  } catch (error) {
    // Deep nesting overflows the stack: JSON.parse decides that too.
    if (error === GIVE_UP || error instanceof RangeError) return undefined;
    throw error;
  } finally {
    text = "";
    wanted = undefined;
  }
}
