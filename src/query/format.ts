/**
 * The LogQL printer: a parsed log query written back in Loki's normal form,
 * the text Loki's `syntax.Expr.String()` produces (`pkg/logql/syntax/ast.go`
 * and the label filters' `String` methods in `pkg/logql/log/label_filter.go`):
 *
 * - matchers as `name="value"` joined by `, ` inside `{…}` (`{}` for none);
 * - one space between stages; line filters as `|= "a" or "b"`;
 * - `| json a="path",b="c[0]"`, `| logfmt --strict --keep-empty a="key"`,
 *   `| regexp "…"`, `| pattern "…"`, `| unpack`, `| decolorize`;
 * - label filters with every `and`/`or` in parentheses, `( a , b )` and
 *   `( a or b )`, comparisons without spaces (`status>=500`, `=` written `==`);
 * - `| line_format "…"`, `| label_format a=b,c="{{.x}}"`, `| drop a,b="v"`;
 * - strings quoted as Go's `strconv.Quote` does; numbers as Go's
 *   `strconv.FormatFloat(v, 'f', -1, 64)`; durations and byte sizes as written
 *   (Loki would print `1h30m0s` and `1.5kB`, which lose the spelling).
 *
 * Where Loki's output depends on its regex simplifier (a label filter `=~`
 * whose regex it cannot reduce to literals prints in backticks), this printer
 * always double-quotes.
 *
 * @module
 */

import type { LabelMatcher, LabelPredicate, LogSelectorExpr, PipelineStage } from "./ast.ts";

/**
 * Quotes `text` as Go's `strconv.Quote` does: `\a \b \f \n \r \t \v \\ \"`,
 * other control characters as `\xNN`, other unprintable characters as
 * `\uNNNN` or `\UNNNNNNNN`; printable Unicode is kept as is.
 *
 * @example Usage
 * ```ts
 * import { quoteGo } from "./format.ts";
 * import assert from "node:assert/strict";
 * assert.equal(quoteGo('say "hi"\n'), '"say \\"hi\\"\\n"');
 * assert.equal(quoteGo("\x1b[0m é\u00a0"), '"\\x1b[0m é\\u00a0"');
 * ```
 *
 * @param text The string to quote.
 * @returns The double-quoted, escaped string.
 */
export function quoteGo(text: string): string {
  let out = '"';
  for (const ch of text) {
    const cp = ch.codePointAt(0)!;
    const simple = GO_ESCAPES[ch];
    if (simple !== undefined) out += simple;
    else if (cp === 0x20 || (cp >= 0xd800 && cp <= 0xdfff) || PRINTABLE.test(ch)) {
      // A lone surrogate has no Go spelling; kept raw, it reads back unchanged.
      out += ch;
    } else if (cp < 0x20 || cp === 0x7f) out += `\\x${hex(cp, 2)}`;
    else if (cp < 0x10000) out += `\\u${hex(cp, 4)}`;
    else out += `\\U${hex(cp, 8)}`;
  }
  return out + '"';
}

const GO_ESCAPES: Readonly<Record<string, string>> = {
  "\x07": "\\a",
  "\b": "\\b",
  "\f": "\\f",
  "\n": "\\n",
  "\r": "\\r",
  "\t": "\\t",
  "\v": "\\v",
  "\\": "\\\\",
  '"': '\\"',
};

/** Go's `unicode.IsPrint` minus the ASCII space: letters, marks, numbers, punctuation, symbols. */
const PRINTABLE = /^[\p{L}\p{M}\p{N}\p{P}\p{S}]$/u;

function hex(n: number, width: number): string {
  return n.toString(16).padStart(width, "0");
}

/**
 * Writes a number as Go's `strconv.FormatFloat(v, 'f', -1, 64)`: the
 * shortest digits that read back to `v`, never an exponent.
 */
function formatFloat(v: number): string {
  if (Object.is(v, -0)) return "-0";
  if (!Number.isFinite(v)) return Number.isNaN(v) ? "NaN" : v > 0 ? "+Inf" : "-Inf";
  const s = String(v);
  const m = /^(-?)(\d)(?:\.(\d+))?e([+-]\d+)$/.exec(s);
  if (!m) return s;
  const digits = m[2] + (m[3] ?? "");
  const exp = Number(m[4]);
  if (exp >= 0) return m[1] + digits.padEnd(exp + 1, "0");
  return `${m[1]}0.${"0".repeat(-exp - 1)}${digits}`;
}

/** Prometheus' `labels.Matcher.String()`: `name="value"` with `%q`. */
function printMatcher(m: LabelMatcher): string {
  return `${m.name}${m.op}${quoteGo(m.value)}`;
}

/** A `| json` extraction path in the syntax `parseLogQL` and Loki's jsonexpr read. */
function printJsonPath(path: (string | number)[]): string {
  return path.map((seg, i) => {
    if (typeof seg === "number") return `[${seg}]`;
    if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(seg)) return i === 0 ? seg : `.${seg}`;
    return `[${JSON.stringify(seg)}]`;
  }).join("");
}

function printPredicate(p: LabelPredicate): string {
  switch (p.kind) {
    case "and":
      return `( ${printPredicate(p.left)} , ${printPredicate(p.right)} )`;
    case "or":
      return `( ${printPredicate(p.left)} or ${printPredicate(p.right)} )`;
    case "match":
      return printMatcher(p.matcher);
    case "compare":
      return `${p.name}${p.op}${p.type === "number" ? formatFloat(p.value) : p.text}`;
  }
}

/**
 * Writes one pipeline stage in Loki's normal form.
 *
 * @example Usage
 * ```ts
 * import { formatStage } from "./format.ts";
 * import assert from "node:assert/strict";
 * assert.equal(formatStage({ kind: "line_filter", op: "|=", value: "a", or: ["b"] }), '|= "a" or "b"');
 * assert.equal(formatStage({ kind: "logfmt", strict: true, keepEmpty: false }), "| logfmt --strict");
 * ```
 *
 * @param stage The stage.
 * @returns Its LogQL text.
 */
export function formatStage(stage: PipelineStage): string {
  switch (stage.kind) {
    case "line_filter":
      return `${stage.op} ${[stage.value, ...stage.or ?? []].map(quoteGo).join(" or ")}`;
    case "json":
      return stage.fields
        ? `| json ${
          stage.fields.map((f) => `${f.name}=${quoteGo(printJsonPath(f.path))}`).join(",")
        }`
        : "| json";
    case "logfmt":
      return `| logfmt${stage.strict ? " --strict" : ""}${stage.keepEmpty ? " --keep-empty" : ""}${
        stage.fields ? ` ${stage.fields.map((f) => `${f.name}=${quoteGo(f.key)}`).join(",")}` : ""
      }`;
    case "unpack":
    case "decolorize":
      return `| ${stage.kind}`;
    case "regexp":
    case "pattern":
      return `| ${stage.kind} ${quoteGo(stage.pattern)}`;
    case "label_filter":
      return `| ${printPredicate(stage.predicate)}`;
    case "line_format":
      return `| line_format ${quoteGo(stage.template)}`;
    case "label_format":
      return `| label_format ${
        stage.formats.map((f) => `${f.name}=${"rename" in f ? f.rename : quoteGo(f.template)}`)
          .join(",")
      }`;
    case "drop":
    case "keep":
      return `| ${stage.kind} ${
        stage.labels.map((l) => l.matcher ? printMatcher(l.matcher) : l.name).join(",")
      }`;
  }
}

/**
 * Writes a parsed log query back as LogQL in Loki's normal form; parsing the
 * result with `parseLogQL` gives back an equal expression.
 *
 * @example Usage
 * ```ts
 * import { formatLogQL } from "./format.ts";
 * import { parseLogQL } from "./logql.ts";
 * import assert from "node:assert/strict";
 * assert.equal(
 *   formatLogQL(parseLogQL('{ app = "web",level=~`err.*` }|="timeout"')),
 *   '{app="web", level=~"err.*"} |= "timeout"',
 * );
 * assert.equal(
 *   formatLogQL(parseLogQL('{app="web"} | json | status >= 500 and dur > 1.5s or level = "error"')),
 *   '{app="web"} | json | ( ( status>=500 , dur>1.5s ) or level="error" )',
 * );
 * assert.equal(formatLogQL(parseLogQL('|= "x"')), '{} |= "x"');
 * ```
 *
 * @param expr The parsed query.
 * @returns Its LogQL text.
 */
export function formatLogQL(expr: LogSelectorExpr): string {
  const selector = `{${expr.matchers.map(printMatcher).join(", ")}}`;
  return [selector, ...expr.pipeline.map(formatStage)].join(" ");
}
