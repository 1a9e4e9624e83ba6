/**
 * The label-name rule, shared by push validation, the LogQL parser and the
 * read API: Prometheus' and Loki's `[a-zA-Z_][a-zA-Z0-9_]*`.
 *
 * @module
 */

import { GoStringError, unquoteGo } from "./go_string.ts";

const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** The rule as error messages state it. */
export const LABEL_NAME_RULE = "must match [a-zA-Z_][a-zA-Z0-9_]*";

/**
 * Reports whether `name` is a valid label name: `[a-zA-Z_][a-zA-Z0-9_]*`.
 *
 * @example Usage
 * ```ts
 * import { isValidLabelName } from "./labels.ts";
 * import assert from "node:assert/strict";
 * assert.equal(isValidLabelName("service_name"), true);
 * assert.equal(isValidLabelName("service-name"), false);
 * ```
 *
 * @param name The candidate label name.
 * @returns `true` if the name is valid.
 */
export function isValidLabelName(name: string): boolean {
  return LABEL_NAME.test(name);
}

/**
 * Parses a label set written as a selector of `=` matchers, the form Loki's
 * protobuf push carries (`{app="api", env="prod"}`, Prometheus'
 * `LabelSet.String()`): values are double-quoted with Go escapes (`\n`,
 * `\"`, `\u00e9`, …) or backtick-quoted raw text; whitespace and a trailing
 * comma are allowed. Positions in messages are 1-based.
 *
 * @example
 * ```ts
 * import { parseLabelSet } from "./labels.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual(parseLabelSet('{app="api", msg="say \\"hi\\"",raw=`C:\\x`}'), {
 *   app: "api",
 *   msg: 'say "hi"',
 *   raw: "C:\\x",
 * });
 * assert.throws(() => parseLabelSet('{app=~"a.*"}'), /at 5: only "=" makes a label set, got "=~"/);
 * ```
 *
 * @throws {Error} `cannot parse label set at <position>: <reason>`.
 */
export function parseLabelSet(text: string): Record<string, string> {
  let i = 0;
  const fail = (at: number, reason: string): never => {
    throw new Error(`cannot parse label set at ${at + 1}: ${reason}`);
  };
  const space = () => {
    while (i < text.length && /\s/.test(text[i])) i++;
  };
  const labels: Record<string, string> = {};
  space();
  if (text[i] !== "{") fail(i, 'expected "{"');
  i++;
  space();
  while (text[i] !== "}") {
    const start = i;
    while (i < text.length && /[A-Za-z0-9_]/.test(text[i])) i++;
    const name = text.slice(start, i);
    if (!isValidLabelName(name)) {
      fail(
        start,
        name === "" ? "expected a label name" : `label name "${name}" ${LABEL_NAME_RULE}`,
      );
    }
    if (Object.hasOwn(labels, name)) fail(start, `label ${name} appears twice`);
    space();
    const op = /^(=~|!=|!~|=)/.exec(text.slice(i, i + 2))?.[0];
    if (op === undefined) fail(i, 'expected "="');
    if (op !== "=") fail(i, `only "=" makes a label set, got "${op}"`);
    i++;
    space();
    labels[name] = text[i] === "`" ? rawValue() : quotedValue();
    space();
    if (text[i] === ",") {
      i++;
      space();
    } else if (text[i] !== "}") fail(i, 'expected "," or "}"');
  }
  i++;
  space();
  if (i < text.length) fail(i, 'unexpected text after "}"');
  return labels;

  function rawValue(): string {
    const end = text.indexOf("`", i + 1);
    if (end < 0) fail(i, "unterminated raw string: expected closing backtick");
    const value = text.slice(i + 1, end);
    i = end + 1;
    return value;
  }

  function quotedValue(): string {
    if (text[i] !== '"') fail(i, 'expected a quoted value ("..." or `...`)');
    try {
      const { value, end } = unquoteGo(text, i);
      i = end;
      return value;
    } catch (error) {
      if (error instanceof GoStringError) fail(error.index, error.reason);
      throw error;
    }
  }
}
