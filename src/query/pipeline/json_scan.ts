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
 * visits them; a name seen twice comes twice (the labels keep the first, as
 * Loki's do).
 *
 * @module
 */

import { sanitizeLabelKey } from "./label_key.ts";

let text = "";
let at = 0;
let out: string[] = [];
/** The names to yield, or all of them. */
let wanted: ReadonlySet<string> | undefined;
/** Whether a key of an object scanned under no prefix held escapes. */
let keysEscaped = false;
/**
 * Whether the line holds no backslash and no control character: then a
 * string ends at the next quote, found natively.
 */
let plainStrings = false;
// deno-lint-ignore no-control-regex -- control characters are what it looks for
const ESCAPE_OR_CONTROL = /[\\\x00-\x1f]/;

/** Label names by key, for top-level keys and for nested ones; keys repeat from line to line. */
const topNames = new Map<string, string>();
const nestedNames = new Map<string, string>();
/** Entries each name cache holds before it starts over. */
const NAME_CACHE_SIZE = 4096;

/**
 * The label name of `key` under `prefix`; `null` (no label) under `null`. A
 * blank key gives `prefix`: its leaves are named as its parent's, and `""`
 * (at the top) is no label.
 */
function nameOf(key: string, prefix: string | null): string | null {
  if (prefix === null) return null;
  const cache = prefix === "" ? topNames : nestedNames;
  let part = cache.get(key);
  if (part === undefined) {
    if (cache.size >= NAME_CACHE_SIZE) cache.clear();
    part = sanitizeLabelKey(key, prefix === "");
    cache.set(key, part);
  }
  return part === "" ? prefix : prefix === "" ? part : `${prefix}_${part}`;
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

/**
 * Moves past the string starting at `at` (a quote); whether it holds escapes
 * (then only {@linkcode unescaped} knows whether they are valid).
 */
function skipString(): boolean {
  if (plainStrings) {
    const close = text.indexOf('"', at + 1);
    if (close < 0) throw GIVE_UP;
    at = close + 1;
    return false;
  }
  for (at++;;) {
    const c = text.charCodeAt(at);
    if (c === 0x22) {
      at++;
      return false;
    }
    if (c === 0x5c) {
      at += 2;
      for (;;) {
        const e = text.charCodeAt(at);
        if (e === 0x5c) at += 2;
        else if (e === 0x22) break;
        else if (!(e >= 0x20)) throw GIVE_UP;
        else at++;
      }
      at++;
      return true;
    }
    // NaN past the end; control characters are not allowed raw.
    if (!(c >= 0x20)) throw GIVE_UP;
    at++;
  }
}

/** The value of a string with escapes, from its opening quote at `open` to `at`: JSON.parse undoes them. */
function unescaped(open: number): string {
  try {
    return JSON.parse(text.slice(open, at));
  } catch {
    throw GIVE_UP;
  }
}

/** A string starting at `at` (a quote); its value. */
function string(): string {
  const open = at;
  return skipString() ? unescaped(open) : text.slice(open + 1, at - 1);
}

/** A string starting at `at`, checked and dropped; whether it held escapes. */
function checkString(): boolean {
  const open = at;
  if (!skipString()) return false;
  unescaped(open);
  return true;
}

function digits(): number {
  const start = at;
  for (let c = text.charCodeAt(at); c >= 0x30 && c <= 0x39; c = text.charCodeAt(at)) at++;
  return at - start;
}

/** Moves past the number starting at `at`. */
function skipNumber(): void {
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
}

/** A number starting at `at`, as written. */
function number(): string {
  const start = at;
  skipNumber();
  return text.slice(start, at);
}

function literal(word: string): string {
  if (!text.startsWith(word, at)) throw GIVE_UP;
  at += word.length;
  return word;
}

/**
 * The value at `at`: its text when `keep` is set, else `undefined`, as for
 * what makes no label (null, arrays); objects are flattened under `name`
 * instead (checked and dropped under `null`).
 */
function value(name: string | null, keep: boolean): string | undefined {
  const c = text.charCodeAt(at);
  if (c === 0x22) {
    if (keep) return string();
    checkString();
    return undefined;
  }
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
  if (keep) return number();
  skipNumber();
  return undefined;
}

/**
 * An object at `at`; its leaves are labels under `prefix` (none under `null`:
 * its keys are checked, and whether any held escapes is noted in
 * {@linkcode keysEscaped}).
 */
function object(prefix: string | null): void {
  at++;
  space();
  if (text.charCodeAt(at) === 0x7d) {
    at++;
    return;
  }
  for (;;) {
    if (text.charCodeAt(at) !== 0x22) throw GIVE_UP;
    let name: string | null = null;
    if (prefix === null) keysEscaped = checkString() || keysEscaped;
    else name = nameOf(string(), prefix);
    space();
    if (text.charCodeAt(at) !== 0x3a) throw GIVE_UP;
    at++;
    space();
    const keep = name !== null && name !== "" && (wanted === undefined || wanted.has(name));
    const v = value(name, keep);
    if (v !== undefined && keep) out.push(name!, v);
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
    value(null, false);
    space();
    const c = text.charCodeAt(at++);
    if (c === 0x5d) return;
    if (c !== 0x2c) throw GIVE_UP;
    space();
  }
}

/** Whether `line` is a JSON object the scan reads, its leaves labels under `prefix`. */
function scan(line: string, prefix: string | null, only?: ReadonlySet<string>): boolean {
  text = line;
  at = 0;
  wanted = only;
  keysEscaped = false;
  plainStrings = !ESCAPE_OR_CONTROL.test(line);
  try {
    space();
    if (text.charCodeAt(at) !== 0x7b) return false;
    object(prefix);
    space();
    return at === text.length;
  } catch (error) {
    // Deep nesting overflows the stack: JSON.parse decides that too.
    if (error === GIVE_UP || error instanceof RangeError) return false;
    throw error;
  } finally {
    text = "";
    wanted = undefined;
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
  out = [];
  return scan(line, "", only) ? out : undefined;
}

/**
 * Whether `line` is a JSON object {@linkcode scanJsonLabels} reads whose keys
 * hold no escapes, checked without making a label: then the letters and
 * digits of every label name it makes are written in the line as they are
 * (keys are only trimmed, have other characters replaced with `_` and are
 * joined with `_`).
 *
 * @example
 * ```ts
 * import { isPlainJsonObject } from "./json_scan.ts";
 * import assert from "node:assert/strict";
 * assert.equal(isPlainJsonObject('{"msg":"a \\"quoted\\" word","req":{"ms":1.5}}'), true);
 * assert.equal(isPlainJsonObject('{"st\\u0061tus":502}'), false); // a key with an escape
 * assert.equal(isPlainJsonObject('{"a":1,}'), false);
 * ```
 */
export function isPlainJsonObject(line: string): boolean {
  return scan(line, null) && !keysEscaped;
}
