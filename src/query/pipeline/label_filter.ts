/**
 * The label filter stage: `| status >= 500 and level="error"`, on labels
 * of every category. String matchers (`= != =~ !~`) see a missing label as
 * `""`. Comparisons (`== != > >= < <=`) parse the label's value as a number,
 * a Go duration (`250ms`, `1h30m`) or a byte size (`1KB` = 1000,
 * `1KiB` = 1024), as the literal is: a missing label fails them, a value that
 * does not parse keeps the line with `__error__="LabelFilterErr"`, and a line
 * that already has an `__error__` passes every comparison, as in Loki.
 * A matcher on `__error__` or `__error_details__` reads the line's failure,
 * not a parsed label of that name.
 *
 * @module
 */

import type { LabelPredicate } from "../ast.ts";
import { compileLabelMatchers } from "../matchers.ts";
import { isErrorLabel, type LabelsBuilder } from "./labels.ts";
import type { Stage } from "./mod.ts";

/** The `__error__` value of a label a comparison cannot parse. */
export const LABEL_FILTER_ERR = "LabelFilterErr";

const DURATION_UNITS: Readonly<Record<string, number>> = {
  ns: 1e-9,
  us: 1e-6,
  "µs": 1e-6,
  "μs": 1e-6,
  ms: 1e-3,
  s: 1,
  m: 60,
  h: 3600,
};

/**
 * Parses a Go duration (`time.ParseDuration`) into seconds; `undefined` if
 * it is not one.
 *
 * @example
 * ```ts
 * import { parseDuration } from "./label_filter.ts";
 * import assert from "node:assert/strict";
 * assert.equal(parseDuration("1h30m"), 5400);
 * assert.equal(parseDuration("-1.5s"), -1.5);
 * assert.equal(parseDuration("250"), undefined);
 * ```
 */
export function parseDuration(text: string): number | undefined {
  const m = /^([-+]?)((?:[0-9]*\.?[0-9]+(?:ns|us|µs|μs|ms|s|m|h))+|0)$/.exec(text);
  if (!m) return undefined;
  let total = 0;
  for (const part of m[2].matchAll(/([0-9]*\.?[0-9]+)(ns|us|µs|μs|ms|s|m|h)/g)) {
    total += Number(part[1]) * DURATION_UNITS[part[2]];
  }
  return m[1] === "-" ? -total : total;
}

const BYTE_UNITS: Readonly<Record<string, number>> = {
  "": 1,
  b: 1,
  k: 1e3,
  kb: 1e3,
  m: 1e6,
  mb: 1e6,
  g: 1e9,
  gb: 1e9,
  t: 1e12,
  tb: 1e12,
  p: 1e15,
  pb: 1e15,
  e: 1e18,
  eb: 1e18,
  kib: 2 ** 10,
  ki: 2 ** 10,
  mib: 2 ** 20,
  mi: 2 ** 20,
  gib: 2 ** 30,
  gi: 2 ** 30,
  tib: 2 ** 40,
  ti: 2 ** 40,
  pib: 2 ** 50,
  pi: 2 ** 50,
  eib: 2 ** 60,
  ei: 2 ** 60,
};

/**
 * Parses a byte size as go-humanize's `ParseBytes` does (units case
 * insensitive, SI and IEC); `undefined` if it is not one.
 *
 * @example
 * ```ts
 * import { parseBytes } from "./label_filter.ts";
 * import assert from "node:assert/strict";
 * assert.equal(parseBytes("1KB"), 1000);
 * assert.equal(parseBytes("1.5 KiB"), 1536);
 * assert.equal(parseBytes("12"), 12);
 * assert.equal(parseBytes("x"), undefined);
 * ```
 */
export function parseBytes(text: string): number | undefined {
  const m = /^\s*([0-9]*\.?[0-9]+)\s*([a-zA-Z]*)\s*$/.exec(text);
  if (!m) return undefined;
  const unit = BYTE_UNITS[m[2].toLowerCase()];
  if (unit === undefined || !Object.hasOwn(BYTE_UNITS, m[2].toLowerCase())) return undefined;
  return Number(m[1]) * unit;
}

/**
 * Parses a Go float (`strconv.ParseFloat`): decimal, exponent, `inf`, `nan`;
 * `undefined` if it is not one.
 *
 * @example
 * ```ts
 * import { parseNumber } from "./label_filter.ts";
 * import assert from "node:assert/strict";
 * assert.equal(parseNumber("1.5e3"), 1500);
 * assert.equal(parseNumber("-Inf"), -Infinity);
 * assert.equal(parseNumber(" 1"), undefined);
 * ```
 */
export function parseNumber(text: string): number | undefined {
  if (/^[-+]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?$/.test(text)) return Number(text);
  if (/^[-+]?(?:inf|infinity)$/i.test(text)) return text.startsWith("-") ? -Infinity : Infinity;
  if (/^nan$/i.test(text)) return NaN;
  return undefined;
}

const PARSERS = { number: parseNumber, duration: parseDuration, bytes: parseBytes };

type Test = (labels: LabelsBuilder) => boolean;

function compile(p: LabelPredicate): Test {
  switch (p.kind) {
    case "and": {
      const left = compile(p.left);
      const right = compile(p.right);
      return (labels) => left(labels) && right(labels);
    }
    case "or": {
      const left = compile(p.left);
      const right = compile(p.right);
      return (labels) => left(labels) || right(labels);
    }
    case "match": {
      const { name } = p.matcher;
      const test = compileLabelMatchers([p.matcher]);
      if (isErrorLabel(name)) return (labels) => test({ [name]: labels.errorLabel(name) });
      return (labels) => test({ [name]: labels.get(name) ?? "" });
    }
    case "compare": {
      const { name, op, value } = p;
      const parse = PARSERS[p.type];
      return (labels) => {
        if (labels.hasError()) return true;
        const text = labels.get(name);
        if (text === undefined) return false;
        const v = parse(text);
        if (v === undefined) {
          labels.setError(LABEL_FILTER_ERR, `cannot parse ${JSON.stringify(text)} as a ${p.type}`);
          return true;
        }
        switch (op) {
          case "==":
            return v === value;
          case "!=":
            return v !== value;
          case ">":
            return v > value;
          case ">=":
            return v >= value;
          case "<":
            return v < value;
          case "<=":
            return v <= value;
        }
      };
    }
  }
}

/**
 * The stage of a label filter.
 *
 * @example
 * ```ts
 * import { labelFilterStage } from "./label_filter.ts";
 * import { LabelsBuilder } from "./labels.ts";
 * import assert from "node:assert/strict";
 * const slow = labelFilterStage({
 *   kind: "compare", name: "took", op: ">", type: "duration", value: 0.25, text: "250ms",
 * });
 * const at = (took: string) => new LabelsBuilder({ key: "{}", labels: {} }, { took });
 * assert.equal(slow({ line: "", labels: at("1s") }), true);
 * assert.equal(slow({ line: "", labels: at("100ms") }), false);
 * ```
 */
export function labelFilterStage(predicate: LabelPredicate): Stage {
  const test = compile(predicate);
  return (entry) => test(entry.labels);
}
