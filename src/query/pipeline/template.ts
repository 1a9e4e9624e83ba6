/**
 * The Go template subset of `line_format` and `label_format`, parsed once
 * per query and rendered per line against the line's labels.
 *
 * Supported: text; actions `{{ … }}` (with `{{-` and `-}}` trimming
 * spaces); `{{ if … }}`, `{{ else if … }}`, `{{ else }}` and `{{ end }}`
 * (false: `""`, `0` and `false`); field references `.name` (a missing label
 * is `""`: Loki runs its templates with `missingkey=zero`); string literals
 * (`"…"` with Go escapes, or backticks), integer literals, `true` and
 * `false`; function calls with arguments, and pipes (`{{ .a | ToUpper }}`:
 * the piped value becomes the last argument); `__line__` (Loki's function
 * for the current line). Functions: `ToUpper`, `ToLower`, `Title`,
 * `TrimSpace`, `Trim s cutset`, `TrimLeft s cutset`, `TrimRight s cutset`,
 * `TrimPrefix s prefix`, `TrimSuffix s suffix`, `Replace s old new n` (Go's
 * strings functions); `upper`, `lower`, `title`, `trim`, `trimPrefix prefix
 * s`, `trimSuffix suffix s`, `replace old new s`, `substr start end s`,
 * `trunc n s`, `default fallback value`, `contains sub s`, `hasPrefix p s`,
 * `hasSuffix p s`, `repeat n s`, `b64enc`, `b64dec`, `add`, `sub`, `mul`,
 * `div`, `mod` (Sprig's; integers); `alignLeft n s`, `alignRight n s`
 * (Loki's); Go's `eq`, `ne`, `lt`, `le`, `gt`, `ge`, `and`, `or`, `not`; and
 * `printf` with `%s`, `%d`, `%v` and `%%`.
 *
 * Parentheses group a pipeline as an argument: `{{ if and (eq .a "x") .b }}`.
 * `repeat`, `indent`, `nindent`, `alignLeft` and `alignRight` fail on a line
 * (`TemplateFormatErr`) rather than make more than 1 Mi characters.
 *
 * Refused when parsed (a {@linkcode TemplateError}): `range`, `with`,
 * `define`, `template`, `block`, variables (`$x`), nested fields (`.a.b`),
 * `.` alone, comments and unknown functions.
 *
 * @module
 */

import { RE2JS } from "re2js";
import { checkTestCost, checkTestTime, MAX_REGEX_LENGTH } from "../re2.ts";
import { parseBytes, parseDuration } from "./label_filter.ts";

/** A template that cannot be parsed or uses an unsupported construct. */
export class TemplateError extends Error {
  /** Creates the error. */
  constructor(message: string) {
    super(message);
    this.name = "TemplateError";
  }
}

type Value = string | number | boolean;
type Operand =
  | { kind: "field"; name: string }
  | { kind: "literal"; value: Value }
  | { kind: "call"; name: string }
  | { kind: "pipeline"; commands: Command[] };
type Command = Operand[];
/** `{{ if }}` … `{{ else if }}` … `{{ else }}` … `{{ end }}`. */
interface IfNode {
  branches: { test: Command[]; body: Node[] }[];
  otherwise: Node[];
}
type Node = string | Command[] | IfNode;
/** What one action is: output, or a part of an `if`. */
type Action =
  | { kind: "pipeline" | "if" | "elseif"; commands: Command[] }
  | { kind: "else" | "end" };

interface Fn {
  /** Number of arguments, or `-n` for at least n. */
  arity: number;
  call: (args: Value[]) => Value;
}

const str = (v: Value) => String(v);
const int = (v: Value, fn: string): number => {
  const n = typeof v === "number" ? v : Number(v);
  if (!Number.isInteger(n)) throw new TemplateError(`${fn}: expected an integer, got "${v}"`);
  return n;
};
/** The code point of `s` that ends at `end`, as a string (a surrogate pair whole). */
const codePointBefore = (s: string, end: number) => {
  const low = s.charCodeAt(end - 1);
  const pair = low >= 0xdc00 && low <= 0xdfff && end >= 2 &&
    s.charCodeAt(end - 2) >= 0xd800 && s.charCodeAt(end - 2) <= 0xdbff;
  return s.slice(pair ? end - 2 : end - 1, end);
};
/** Go's `strings.Trim`: the code points of `cutset` off either end, in one pass (no regex). */
const trimSet = (s: string, cutset: string, left: boolean, right: boolean) => {
  if (cutset === "") return s;
  const set = new Set(cutset);
  let start = 0;
  let end = s.length;
  while (left && start < end) {
    const c = String.fromCodePoint(s.codePointAt(start)!);
    if (!set.has(c)) break;
    start += c.length;
  }
  while (right && end > start) {
    const c = codePointBefore(s, end);
    if (!set.has(c)) break;
    end -= c.length;
  }
  return s.slice(start, end);
};
const title = (s: string) =>
  s.replace(/(^|[^\p{L}\p{N}_'])(\p{L})/gu, (_, a, b) => a + b.toUpperCase());
const trimPrefix = (s: string, p: string) => (p !== "" && s.startsWith(p) ? s.slice(p.length) : s);
const trimSuffix = (
  s: string,
  p: string,
) => (p !== "" && s.endsWith(p) ? s.slice(0, -p.length) : s);
const replace = (s: string, old: string, by: string, n: number) => {
  if (n < 0) return s.replaceAll(old, by);
  let out = s;
  let from = 0;
  for (let i = 0; i < n; i++) {
    const at = out.indexOf(old, from);
    if (at < 0) break;
    out = out.slice(0, at) + by + out.slice(at + old.length);
    from = at + by.length + (old === "" ? 1 : 0);
  }
  return out;
};
/** Go templates' truth: empty, zero and false are false. */
const truthy = (v: Value) => v !== "" && v !== 0 && v !== false;
/** Go's comparison of two basic values, which must be of one kind. */
const compare = (a: Value, b: Value, fn: string): number => {
  if (typeof a !== typeof b || typeof a === "boolean" && fn !== "eq" && fn !== "ne") {
    throw new TemplateError(`${fn}: incompatible types for comparison`);
  }
  return a < b ? -1 : a > b ? 1 : 0;
};
/** Sprig's integer of a value: an integer's text counts, anything else is 0. */
const toInt = (v: Value): number => {
  if (typeof v === "number") return Math.trunc(v);
  if (typeof v === "boolean") return v ? 1 : 0;
  return /^[-+]?[0-9]+$/.test(v.trim()) ? Number(v.trim()) : 0;
};
const arithmetic = (fn: string, op: (a: number, b: number) => number): Fn => ({
  arity: 2,
  call: ([a, b]) => {
    const [x, y] = [toInt(a), toInt(b)];
    if ((fn === "div" || fn === "mod") && y === 0) {
      throw new TemplateError(`${fn}: division by zero`);
    }
    return op(x, y);
  },
});
/**
 * The most characters `repeat`, `indent` and the aligners may make for one
 * line: a count from a query or a label must not hold the process's memory.
 */
const MAX_MADE = 1 << 20;
/** `length`, when a function making it stays within {@linkcode MAX_MADE}. */
const made = (length: number, fn: string) => {
  if (length > MAX_MADE) {
    throw new TemplateError(`${fn}: ${length} characters is over the limit of ${MAX_MADE}`);
  }
  return length;
};
/** Loki's alignLeft/alignRight: pad to `n` characters, or cut to them. */
const align = (n: number, s: string, right: boolean) => {
  made(n, right ? "alignRight" : "alignLeft");
  const chars = [...s];
  if (n < 0 || n === chars.length) return s;
  if (n > chars.length) {
    const pad = " ".repeat(n - chars.length);
    return right ? pad + s : s + pad;
  }
  return (right ? chars.slice(chars.length - n) : chars.slice(0, n)).join("");
};
const base64Decode = (s: string) => {
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(Uint8Array.fromBase64(s));
  } catch {
    throw new TemplateError(`b64dec: ${JSON.stringify(s)} is not base64 of UTF-8 text`);
  }
};
const base64Encode = (s: string) => new TextEncoder().encode(s).toBase64();

/** Compiled RE2 patterns of the regex functions, by pattern. */
const regexes = new Map<string, RE2JS>();
function re2(pattern: string, fn: string): RE2JS {
  let re = regexes.get(pattern);
  if (re === undefined) {
    // As every LogQL regex: a pattern from a label is no exception.
    if (pattern.length > MAX_REGEX_LENGTH) {
      throw new TemplateError(`${fn}: a pattern over ${MAX_REGEX_LENGTH} characters`);
    }
    try {
      re = RE2JS.compile(pattern);
    } catch (error) {
      throw new TemplateError(`${fn}: ${(error as Error).message}`);
    }
    if (regexes.size >= 256) regexes.clear();
    regexes.set(pattern, re);
  }
  return re;
}

/** Each match of `re` in `s` as Go's `FindAll` finds them (no empty match right after one). */
function* matchesOf(re: RE2JS, s: string) {
  checkTestCost(s.length, re.programSize());
  const m = re.matcher(s);
  let end = -1;
  // Each find may scan the rest of the text: the time the line's finds took decides.
  for (;;) {
    checkTestTime();
    if (!m.find()) return;
    if (m.start() === m.end() && m.start() === end) continue;
    end = m.end();
    yield m;
  }
}

/** `repl` with Go's `Expand`: `$1`, `${1}`, `$name`, `${name}`, `$$`. */
function expand(re: RE2JS, m: ReturnType<RE2JS["matcher"]>, repl: string): string {
  const names = re.namedGroups() as Record<string, number>;
  return repl.replace(/\$(?:\$|\{([A-Za-z0-9_]+)\}|([A-Za-z0-9_]+))?/g, (all, braced, bare) => {
    if (all === "$$") return "$";
    const name: string | undefined = braced ?? bare;
    if (name === undefined) return "$";
    const index = /^[0-9]+$/.test(name) ? Number(name) : names[name];
    return index !== undefined && index <= re.groupCount() ? m.group(index) ?? "" : "";
  });
}

function regexReplace(pattern: string, s: string, repl: string, literal: boolean): string {
  const fn = literal ? "regexReplaceAllLiteral" : "regexReplaceAll";
  const re = re2(pattern, fn);
  let out = "";
  let from = 0;
  for (const m of matchesOf(re, s)) {
    out += s.slice(from, m.start()) + (literal ? repl : expand(re, m, repl));
    from = m.end();
  }
  return out + s.slice(from);
}

/** A float as Go's `%v` prints it: shortest digits, an exponent below 1e-4 or from 1e6 (`3e+06`). */
function goFloat(n: number): string {
  if (!Number.isFinite(n)) return Number.isNaN(n) ? "NaN" : n > 0 ? "+Inf" : "-Inf";
  if (n === 0) return "0";
  const [mantissa, exponent] = n.toExponential().split("e");
  const exp = Number(exponent);
  if (exp < -4 || exp >= 6) {
    return `${mantissa}e${exp < 0 ? "-" : "+"}${String(Math.abs(exp)).padStart(2, "0")}`;
  }
  return String(n);
}

/** Go's `url.QueryEscape`: bytes outside `[A-Za-z0-9-_.~]` as `%XX`, space as `+`. */
const queryEscape = (s: string) =>
  encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
    .replaceAll("%20", "+");
const queryUnescape = (s: string) => {
  try {
    return decodeURIComponent(s.replaceAll("+", " "));
  } catch {
    throw new TemplateError(`urldecode: invalid escape in ${JSON.stringify(s)}`);
  }
};
const indent = (n: number, s: string, fn: string) => {
  const pad = " ".repeat(Math.max(0, n));
  made(s.length + pad.length * (s.split("\n").length), fn);
  return pad + s.replaceAll("\n", "\n" + pad);
};

const printf = (args: Value[]) => {
  const [format, ...rest] = args.map(str);
  let k = 0;
  return format.replace(/%([sdv%])/g, (_, verb) => {
    if (verb === "%") return "%";
    return k < rest.length ? rest[k++] : `%!${verb}(MISSING)`;
  });
};

const FUNCTIONS: Readonly<Record<string, Fn>> = {
  ToUpper: { arity: 1, call: ([s]) => str(s).toUpperCase() },
  ToLower: { arity: 1, call: ([s]) => str(s).toLowerCase() },
  Title: { arity: 1, call: ([s]) => title(str(s)) },
  TrimSpace: { arity: 1, call: ([s]) => str(s).trim() },
  Trim: { arity: 2, call: ([s, c]) => trimSet(str(s), str(c), true, true) },
  TrimLeft: { arity: 2, call: ([s, c]) => trimSet(str(s), str(c), true, false) },
  TrimRight: { arity: 2, call: ([s, c]) => trimSet(str(s), str(c), false, true) },
  TrimPrefix: { arity: 2, call: ([s, p]) => trimPrefix(str(s), str(p)) },
  TrimSuffix: { arity: 2, call: ([s, p]) => trimSuffix(str(s), str(p)) },
  Replace: {
    arity: 4,
    call: ([s, o, b, n]) => replace(str(s), str(o), str(b), int(n, "Replace")),
  },
  upper: { arity: 1, call: ([s]) => str(s).toUpperCase() },
  lower: { arity: 1, call: ([s]) => str(s).toLowerCase() },
  title: { arity: 1, call: ([s]) => title(str(s)) },
  trim: { arity: 1, call: ([s]) => str(s).trim() },
  trimPrefix: { arity: 2, call: ([p, s]) => trimPrefix(str(s), str(p)) },
  trimSuffix: { arity: 2, call: ([p, s]) => trimSuffix(str(s), str(p)) },
  replace: { arity: 3, call: ([o, b, s]) => replace(str(s), str(o), str(b), -1) },
  substr: {
    arity: 3,
    call: ([a, b, s]) => {
      const text = str(s);
      const start = int(a, "substr");
      const end = int(b, "substr");
      if (start < 0) return text.slice(0, end);
      if (end < 0 || end > text.length) return text.slice(start);
      return text.slice(start, end);
    },
  },
  trunc: {
    arity: 2,
    call: ([n, s]) => {
      const text = str(s);
      const c = int(n, "trunc");
      return c >= 0 ? text.slice(0, c) : text.slice(Math.max(0, text.length + c));
    },
  },
  default: { arity: 2, call: ([d, v]) => (truthy(v) ? v : d) },
  contains: { arity: 2, call: ([sub, s]) => str(s).includes(str(sub)) },
  hasPrefix: { arity: 2, call: ([p, s]) => str(s).startsWith(str(p)) },
  hasSuffix: { arity: 2, call: ([p, s]) => str(s).endsWith(str(p)) },
  repeat: {
    arity: 2,
    call: ([n, s]) => {
      const count = Math.max(0, int(n, "repeat"));
      made(str(s).length * count, "repeat");
      return str(s).repeat(count);
    },
  },
  b64enc: { arity: 1, call: ([s]) => base64Encode(str(s)) },
  b64dec: { arity: 1, call: ([s]) => base64Decode(str(s)) },
  add: arithmetic("add", (a, b) => a + b),
  sub: arithmetic("sub", (a, b) => a - b),
  mul: arithmetic("mul", (a, b) => a * b),
  div: arithmetic("div", (a, b) => Math.trunc(a / b)),
  mod: arithmetic("mod", (a, b) => a % b),
  alignLeft: { arity: 2, call: ([n, s]) => align(int(n, "alignLeft"), str(s), false) },
  alignRight: { arity: 2, call: ([n, s]) => align(int(n, "alignRight"), str(s), true) },
  eq: {
    arity: -2,
    call: ([a, ...rest]) => rest.some((b) => compare(a, b, "eq") === 0),
  },
  ne: { arity: 2, call: ([a, b]) => compare(a, b, "ne") !== 0 },
  lt: { arity: 2, call: ([a, b]) => compare(a, b, "lt") < 0 },
  le: { arity: 2, call: ([a, b]) => compare(a, b, "le") <= 0 },
  gt: { arity: 2, call: ([a, b]) => compare(a, b, "gt") > 0 },
  ge: { arity: 2, call: ([a, b]) => compare(a, b, "ge") >= 0 },
  and: { arity: -1, call: (args) => args.find((v) => !truthy(v)) ?? args[args.length - 1] },
  or: { arity: -1, call: (args) => args.find(truthy) ?? args[args.length - 1] },
  not: { arity: 1, call: ([v]) => !truthy(v) },
  trimAll: { arity: 2, call: ([c, s]) => trimSet(str(s), str(c), true, true) },
  indent: { arity: 2, call: ([n, s]) => indent(int(n, "indent"), str(s), "indent") },
  nindent: { arity: 2, call: ([n, s]) => "\n" + indent(int(n, "nindent"), str(s), "nindent") },
  urlencode: { arity: 1, call: ([s]) => queryEscape(str(s)) },
  urldecode: { arity: 1, call: ([s]) => queryUnescape(str(s)) },
  count: { arity: 2, call: ([p, s]) => [...matchesOf(re2(str(p), "count"), str(s))].length },
  regexReplaceAll: { arity: 3, call: ([p, s, r]) => regexReplace(str(p), str(s), str(r), false) },
  regexReplaceAllLiteral: {
    arity: 3,
    call: ([p, s, r]) => regexReplace(str(p), str(s), str(r), true),
  },
  bytes: {
    arity: 1,
    call: ([s]) => {
      const n = parseBytes(str(s).trim());
      if (n === undefined) throw new TemplateError(`bytes: cannot parse ${JSON.stringify(s)}`);
      return goFloat(n);
    },
  },
  duration: { arity: 1, call: ([s]) => durationSeconds(str(s), "duration") },
  duration_seconds: { arity: 1, call: ([s]) => durationSeconds(str(s), "duration_seconds") },
  printf: { arity: -1, call: printf },
};

function durationSeconds(s: string, fn: string): string {
  const seconds = parseDuration(s.trim());
  if (seconds === undefined) throw new TemplateError(`${fn}: cannot parse ${JSON.stringify(s)}`);
  return goFloat(seconds);
}

const ESCAPES: Readonly<Record<string, string>> = {
  n: "\n",
  t: "\t",
  r: "\r",
  "\\": "\\",
  '"': '"',
  a: "\x07",
  b: "\b",
  f: "\f",
  v: "\v",
};

/**
 * A parsed template.
 *
 * @example
 * ```ts
 * import { Template } from "./template.ts";
 * import assert from "node:assert/strict";
 * const t = new Template('{{.status}} {{ .path | ToUpper }} {{ default "-" .user }}');
 * assert.equal(t.render({ status: "200", path: "/a" }), "200 /A -");
 * assert.equal(new Template("{{.missing}}").render({}), ""); // missingkey=zero, as Loki
 * const level = new Template('{{ if eq .level "error" }}E{{ else if .level }}{{ .level }}{{ else }}-{{ end }}');
 * assert.deepEqual(["error", "info", ""].map((l) => level.render({ level: l })), ["E", "info", "-"]);
 * assert.throws(() => new Template("{{ range .a }}x{{ end }}"), /unsupported template action "range"/);
 * ```
 */
export class Template {
  readonly #nodes: Node[];
  /** Whether the template reads `__line__`. */
  readonly usesLine: boolean;

  /**
   * Parses `source`.
   *
   * @throws {TemplateError} If it is malformed or uses an unsupported construct.
   */
  constructor(source: string) {
    this.#nodes = parseTemplate(source);
    let usesLine = false;
    for (const commands of pipelinesOf(this.#nodes)) {
      checkArity(commands);
      usesLine ||= commands.some((c) => c.some((o) => o.kind === "field" && o.name === "__line__"));
    }
    this.usesLine = usesLine;
  }

  /**
   * Renders against `fields` (label values, plus `__line__` if used).
   *
   * @throws {TemplateError} If a function gets an argument it cannot use.
   */
  render(fields: Record<string, string>): string {
    return renderNodes(this.#nodes, fields);
  }
}

function renderNodes(nodes: readonly Node[], fields: Record<string, string>): string {
  let out = "";
  for (const node of nodes) {
    if (typeof node === "string") out += node;
    else if (Array.isArray(node)) out += str(runPipeline(node, fields));
    else {
      const branch = node.branches.find((b) => truthy(runPipeline(b.test, fields)));
      out += renderNodes(branch ? branch.body : node.otherwise, fields);
    }
  }
  return out;
}

/** Every pipeline of `nodes`: `if` tests and bodies, and those in parentheses, included. */
function* pipelinesOf(nodes: readonly Node[]): Generator<Command[]> {
  for (const node of nodes) {
    if (typeof node === "string") continue;
    if (Array.isArray(node)) {
      yield* withNested(node);
      continue;
    }
    for (const { test, body } of node.branches) {
      yield* withNested(test);
      yield* pipelinesOf(body);
    }
    yield* pipelinesOf(node.otherwise);
  }
}

function* withNested(commands: Command[]): Generator<Command[]> {
  yield commands;
  for (const command of commands) {
    for (const o of command) if (o.kind === "pipeline") yield* withNested(o.commands);
  }
}

function runPipeline(commands: Command[], fields: Record<string, string>): Value {
  let piped: Value | undefined;
  for (const command of commands) {
    const [head, ...rest] = command;
    const args = rest.map((o) => operandValue(o, fields));
    if (piped !== undefined) args.push(piped);
    if (head.kind === "call") {
      piped = FUNCTIONS[head.name].call(args);
    } else {
      piped = operandValue(head, fields);
    }
  }
  return piped!;
}

function operandValue(o: Operand, fields: Record<string, string>): Value {
  if (o.kind === "literal") return o.value;
  if (o.kind === "pipeline") return runPipeline(o.commands, fields);
  // Calls only head a command (the parser refuses them as arguments).
  const name = (o as { name: string }).name;
  // Loki's templates run with missingkey=zero: a missing label is "".
  return Object.hasOwn(fields, name) ? fields[name] : "";
}

function parseTemplate(src: string): Node[] {
  // The open `if`s, innermost last, and where their nodes go now.
  const open: { node: IfNode; into: Node[] }[] = [];
  const top: Node[] = [];
  let into = top;
  let i = 0;
  while (i < src.length) {
    const start = src.indexOf("{{", i);
    if (start < 0) {
      into.push(src.slice(i));
      break;
    }
    let text = src.slice(i, start);
    let j = start + 2;
    if (src[j] === "-" && /\s/.test(src[j + 1] ?? "")) {
      text = text.trimEnd();
      j++;
    }
    if (text) into.push(text);
    const { action, end, trimAfter } = parseAction(src, j);
    const inner = open[open.length - 1];
    switch (action.kind) {
      case "pipeline":
        into.push(action.commands);
        break;
      case "if": {
        const node: IfNode = { branches: [{ test: action.commands, body: [] }], otherwise: [] };
        into.push(node);
        open.push({ node, into: node.branches[0].body });
        into = node.branches[0].body;
        break;
      }
      case "elseif":
      case "else":
        if (!inner || inner.into === inner.node.otherwise) {
          throw new TemplateError(`unexpected "else"${inner ? ' after "else"' : ""}`);
        }
        if (action.kind === "elseif") {
          const branch = { test: action.commands, body: [] };
          inner.node.branches.push(branch);
          into = inner.into = branch.body;
        } else into = inner.into = inner.node.otherwise;
        break;
      case "end":
        if (!inner) throw new TemplateError('unexpected "end"');
        open.pop();
        into = open.length > 0 ? open[open.length - 1].into : top;
        break;
    }
    i = end;
    if (trimAfter) { while (i < src.length && /\s/.test(src[i])) i++; }
  }
  if (open.length > 0) throw new TemplateError('unclosed "if": expected "{{ end }}"');
  return top;
}

/** The closing `}}` or `-}}` at `i` (after spaces): its length, or 0. */
function closeAt(src: string, i: number, start: number): number {
  const close = /^-?\}\}/.exec(src.slice(i, i + 3));
  return close && (close[0].length === 2 || i === start || /\s/.test(src[i - 1]))
    ? close[0].length
    : 0;
}

function parseAction(
  src: string,
  start: number,
): { action: Action; end: number; trimAfter: boolean } {
  let i = start;
  while (i < src.length && /\s/.test(src[i])) i++;
  const word = /^(if|else\s+if|else|end)(?![A-Za-z0-9_])/.exec(src.slice(i))?.[1];
  if (word === "else" || word === "end") {
    i += word.length;
    while (i < src.length && /\s/.test(src[i])) i++;
    const close = closeAt(src, i, start);
    if (!close) throw new TemplateError(`unexpected text after "${word}"`);
    return { action: { kind: word }, end: i + close, trimAfter: close === 3 };
  }
  const kind = word === undefined ? "pipeline" : word === "if" ? "if" : "elseif";
  if (word !== undefined) i += word.length;
  const { commands, end, trimAfter } = parseCommands(src, i, start, false);
  return { action: { kind, commands }, end, trimAfter };
}

/** The commands of a pipeline from `from` to the action's end, or to `)` when `nested`. */
function parseCommands(
  src: string,
  from: number,
  start: number,
  nested: boolean,
): { commands: Command[]; end: number; trimAfter: boolean } {
  const commands: Command[] = [];
  let command: Command = [];
  let i = from;
  for (;;) {
    while (i < src.length && /\s/.test(src[i])) i++;
    if (i >= src.length) throw new TemplateError('unclosed action: expected "}}"');
    const rest = src.slice(i);
    const close = nested ? (src[i] === ")" ? 1 : 0) : closeAt(src, i, start);
    if (nested && closeAt(src, i, start)) throw new TemplateError('unclosed "(": expected ")"');
    if (close) {
      if (command.length === 0) {
        throw new TemplateError(
          commands.length === 0 ? "empty action" : 'missing command after "|"',
        );
      }
      commands.push(command);
      return { commands, end: i + close, trimAfter: !nested && close === 3 };
    }
    const c = src[i];
    if (c === "|") {
      if (command.length === 0) throw new TemplateError('missing command before "|"');
      commands.push(command);
      command = [];
      i++;
    } else if (c === '"') {
      let value = "";
      let k = i + 1;
      for (;;) {
        if (k >= src.length) throw new TemplateError("unterminated quoted string");
        const d = src[k];
        if (d === '"') break;
        if (d === "\\") {
          const e = src[k + 1];
          if (!(e in ESCAPES)) throw new TemplateError(`unknown escape sequence "\\${e ?? ""}"`);
          value += ESCAPES[e];
          k += 2;
        } else {
          value += d;
          k++;
        }
      }
      command.push({ kind: "literal", value });
      i = k + 1;
    } else if (c === "`") {
      const end = src.indexOf("`", i + 1);
      if (end < 0) throw new TemplateError("unterminated raw string");
      command.push({ kind: "literal", value: src.slice(i + 1, end) });
      i = end + 1;
    } else if (/[-0-9]/.test(c)) {
      const m = /^-?[0-9]+/.exec(rest);
      if (!m || /^[.eExX]/.test(rest.slice(m[0].length))) {
        throw new TemplateError(
          `unsupported number ${JSON.stringify(rest.split(/\s/)[0])}: only integers`,
        );
      }
      command.push({ kind: "literal", value: Number(m[0]) });
      i += m[0].length;
    } else if (c === ".") {
      const m = /^\.([A-Za-z_][A-Za-z0-9_]*)/.exec(rest);
      if (!m) {
        throw new TemplateError(
          'unsupported field reference: "." must be followed by a label name',
        );
      }
      if (rest[m[0].length] === ".") {
        throw new TemplateError(`unsupported nested field reference ".${m[1]}.…"`);
      }
      command.push({ kind: "field", name: m[1] });
      i += m[0].length;
    } else if (/[A-Za-z_]/.test(c)) {
      const name = /^[A-Za-z_][A-Za-z0-9_]*/.exec(rest)![0];
      if (["if", "else", "end"].includes(name)) {
        throw new TemplateError(`"${name}" must begin an action`);
      }
      if (["range", "with", "define", "template", "block", "break", "continue"].includes(name)) {
        throw new TemplateError(`unsupported template action "${name}"`);
      }
      if (name === "__line__") {
        // Loki's function for the current line.
        command.push({ kind: "field", name });
        i += name.length;
        continue;
      }
      if (name === "true" || name === "false") {
        command.push({ kind: "literal", value: name === "true" });
        i += name.length;
        continue;
      }
      if (name === "nil") throw new TemplateError('unsupported template constant "nil"');
      const fn = FUNCTIONS[name];
      if (!fn || !Object.hasOwn(FUNCTIONS, name)) {
        throw new TemplateError(`unsupported template function "${name}"`);
      }
      if (command.length > 0) {
        throw new TemplateError(`function "${name}" used as an argument: use a pipe instead`);
      }
      command.push({ kind: "call", name });
      i += name.length;
    } else if (c === "$") {
      throw new TemplateError("unsupported template variable");
    } else if (c === "(") {
      const inner = parseCommands(src, i + 1, start, true);
      command.push({ kind: "pipeline", commands: inner.commands });
      i = inner.end;
    } else if (c === ")") {
      throw new TemplateError('unexpected ")"');
    } else if (c === "/" && src[i + 1] === "*") {
      throw new TemplateError("unsupported template comment");
    } else {
      throw new TemplateError(`unexpected ${JSON.stringify(c)} in action`);
    }
    if (command.length === 1 && command[0].kind !== "call" && commands.length > 0) {
      throw new TemplateError('only a function can follow "|"');
    }
  }
}

/** Checks the arity of every call of a pipeline (a piped value counts as the last argument). */
function checkArity(commands: Command[]): void {
  commands.forEach((command, k) => {
    const [head] = command;
    if (head.kind !== "call") {
      if (command.length > 1) throw new TemplateError("a value cannot take arguments");
      return;
    }
    const given = command.length - 1 + (k > 0 ? 1 : 0);
    const { arity } = FUNCTIONS[head.name];
    if (arity < 0 ? given < -arity : given !== arity) {
      throw new TemplateError(
        `function "${head.name}" takes ${arity < 0 ? `at least ${-arity}` : arity} argument${
          Math.abs(arity) === 1 ? "" : "s"
        }, got ${given}`,
      );
    }
  });
}
