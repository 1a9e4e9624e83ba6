/**
 * The Go template subset of `line_format` and `label_format`, parsed once
 * per query and rendered per line against the line's labels.
 *
 * Supported: text; actions `{{ … }}` (with `{{-` and `-}}` trimming
 * spaces); field references `.name` (a missing label is `""`: Loki runs
 * its templates with `missingkey=zero`); string literals (`"…"` with Go
 * escapes, or backticks) and integer literals; function calls with
 * arguments, and pipes (`{{ .a | ToUpper }}`: the piped value becomes the
 * last argument); `__line__` (Loki's function for the current line). Functions:
 * `ToUpper`, `ToLower`, `Title`, `TrimSpace`, `Trim s cutset`,
 * `TrimLeft s cutset`, `TrimRight s cutset`, `TrimPrefix s prefix`,
 * `TrimSuffix s suffix`, `Replace s old new n` (Go's strings functions);
 * `upper`, `lower`, `title`, `trim`, `trimPrefix prefix s`,
 * `trimSuffix suffix s`, `replace old new s`, `substr start end s`,
 * `trunc n s`, `default fallback value` (Sprig's); and `printf` with `%s`,
 * `%d`, `%v` and `%%`.
 *
 * Refused when parsed (a {@linkcode TemplateError}): `if`, `range`, `with`,
 * `define`, `template`, `block`, variables (`$x`), parentheses, nested
 * fields (`.a.b`), `.` alone, comments and unknown functions.
 *
 * @module
 */

/** A template that cannot be parsed or uses an unsupported construct. */
export class TemplateError extends Error {
  /** Creates the error. */
  constructor(message: string) {
    super(message);
    this.name = "TemplateError";
  }
}

type Value = string | number;
type Operand =
  | { kind: "field"; name: string }
  | { kind: "literal"; value: Value }
  | { kind: "call"; name: string };
type Command = Operand[];
type Node = string | Command[];

interface Fn {
  /** Number of arguments, or `-1` for any (at least one). */
  arity: number;
  call: (args: Value[]) => Value;
}

const str = (v: Value) => String(v);
const int = (v: Value, fn: string): number => {
  const n = typeof v === "number" ? v : Number(v);
  if (!Number.isInteger(n)) throw new TemplateError(`${fn}: expected an integer, got "${v}"`);
  return n;
};
const escapeRe = (s: string) => s.replace(/[\\^$.*+?()[\]{}|-]/g, "\\$&");
const trimSet = (s: string, cutset: string, left: boolean, right: boolean) => {
  if (cutset === "") return s;
  const set = `[${escapeRe(cutset)}]+`;
  if (left) s = s.replace(new RegExp(`^${set}`, "u"), "");
  if (right) s = s.replace(new RegExp(`${set}$`, "u"), "");
  return s;
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
  default: { arity: 2, call: ([d, v]) => (str(v) === "" ? d : v) },
  printf: { arity: -1, call: printf },
};

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
 * assert.throws(() => new Template("{{ if .a }}x{{ end }}"), /unsupported template action "if"/);
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
    checkArity(this.#nodes);
    this.usesLine = this.#nodes.some((n) =>
      typeof n !== "string" &&
      n.some((c) => c.some((o) => o.kind === "field" && o.name === "__line__"))
    );
  }

  /**
   * Renders against `fields` (label values, plus `__line__` if used).
   *
   * @throws {TemplateError} If a function gets an argument it cannot use.
   */
  render(fields: Record<string, string>): string {
    let out = "";
    for (const node of this.#nodes) {
      if (typeof node === "string") out += node;
      else out += str(runPipeline(node, fields));
    }
    return out;
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
  // Calls only head a command (the parser refuses them as arguments).
  const name = (o as { name: string }).name;
  // Loki's templates run with missingkey=zero: a missing label is "".
  return Object.hasOwn(fields, name) ? fields[name] : "";
}

function parseTemplate(src: string): Node[] {
  const nodes: Node[] = [];
  let i = 0;
  while (i < src.length) {
    const open = src.indexOf("{{", i);
    if (open < 0) {
      nodes.push(src.slice(i));
      break;
    }
    let text = src.slice(i, open);
    let j = open + 2;
    if (src[j] === "-" && /\s/.test(src[j + 1] ?? "")) {
      text = text.trimEnd();
      j++;
    }
    if (text) nodes.push(text);
    const { commands, end, trimAfter } = parseAction(src, j);
    nodes.push(commands);
    i = end;
    if (trimAfter) { while (i < src.length && /\s/.test(src[i])) i++; }
  }
  return nodes;
}

function parseAction(
  src: string,
  start: number,
): { commands: Command[]; end: number; trimAfter: boolean } {
  const commands: Command[] = [];
  let command: Command = [];
  let i = start;
  for (;;) {
    while (i < src.length && /\s/.test(src[i])) i++;
    if (i >= src.length) throw new TemplateError('unclosed action: expected "}}"');
    const rest = src.slice(i);
    const close = /^-?\}\}/.exec(rest);
    if (close && (close[0].length === 2 || i === start || /\s/.test(src[i - 1]))) {
      if (command.length === 0) {
        throw new TemplateError(
          commands.length === 0 ? "empty action" : 'missing command after "|"',
        );
      }
      commands.push(command);
      return { commands, end: i + close[0].length, trimAfter: close[0].length === 3 };
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
      if (
        ["if", "else", "end", "range", "with", "define", "template", "block", "break", "continue"]
          .includes(name)
      ) {
        throw new TemplateError(`unsupported template action "${name}"`);
      }
      if (name === "__line__") {
        // Loki's function for the current line.
        command.push({ kind: "field", name });
        i += name.length;
        continue;
      }
      if (name === "true" || name === "false" || name === "nil") {
        throw new TemplateError(`unsupported template constant "${name}"`);
      }
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
    } else if (c === "(" || c === ")") {
      throw new TemplateError("unsupported parenthesised template expression");
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

/** Checks the arity of every call (a piped value counts as the last argument). */
function checkArity(nodes: Node[]): void {
  for (const node of nodes) {
    if (typeof node === "string") continue;
    node.forEach((command, k) => {
      const [head] = command;
      if (head.kind !== "call") {
        if (command.length > 1) throw new TemplateError("a value cannot take arguments");
        return;
      }
      const given = command.length - 1 + (k > 0 ? 1 : 0);
      const { arity } = FUNCTIONS[head.name];
      if (arity === -1 ? given < 1 : given !== arity) {
        throw new TemplateError(
          `function "${head.name}" takes ${arity === -1 ? "at least 1" : arity} argument${
            arity === 1 ? "" : "s"
          }, got ${given}`,
        );
      }
    });
  }
}
