/**
 * `label_replace(v, "dst", "replacement", "src", "regex")` (Loki's
 * `LabelReplaceEvaluator`, Prometheus' semantics): where the value of label
 * `src` (`""` when missing) matches the RE2 `regex` whole, label `dst`
 * becomes the replacement with `$1`, `${1}`, `$name`, `${name}` expanded
 * (Go's `Regexp.Expand`); an empty result removes `dst`. No match leaves
 * the series as it is.
 *
 * @module
 */

import { RE2JS } from "re2js";
import type { LabelReplace } from "./ast.ts";
import { replaceLabelsOffThread } from "../off_thread.ts";
import { MAX_STEPS_ON_THREAD, testSteps } from "../re2.ts";
import {
  emptySeries,
  formatLabels,
  type Labels,
  labelsOf,
  MetricQueryError,
  type Series,
} from "./series.ts";

/**
 * Go's `Regexp.Expand` of `template` with the groups of a match: `$$` is
 * `$`, a `$` not followed by a name stays as it is, an unknown group is
 * empty.
 *
 * @example
 * ```ts
 * import { expand } from "./label_replace.ts";
 * import assert from "node:assert/strict";
 * const group = (g: string | number) => ({ 1: "a", host: "h1" } as Record<string, string>)[g];
 * assert.equal(expand("$1-${host}-$$-$2", group), "a-h1-$-");
 * assert.equal(expand("$1x", group), ""); // the group named "1x"
 * ```
 */
export function expand(
  template: string,
  group: (name: string | number) => string | undefined,
): string {
  let out = "";
  let i = 0;
  while (i < template.length) {
    const dollar = template.indexOf("$", i);
    if (dollar < 0) break;
    out += template.slice(i, dollar);
    i = dollar + 1;
    if (template[i] === "$") {
      out += "$";
      i++;
      continue;
    }
    const m = template[i] === "{"
      ? /^\{([A-Za-z0-9_]+)\}/.exec(template.slice(i))
      : /^[A-Za-z0-9_]+/.exec(template.slice(i));
    if (!m) {
      out += "$";
      continue;
    }
    const name = m[1] ?? m[0];
    i += m[0].length;
    out += group(/^[0-9]+$/.test(name) ? Number(name) : name) ?? "";
  }
  return out + template.slice(i);
}

/** What `label_replace` does to one series' labels. */
export type Replacement = Pick<LabelReplace, "dst" | "replacement" | "src" | "regex">;

/**
 * Applies `expr`'s replacement to `input`. The series replaced on the event
 * loop share the bound of one line's tests (`MAX_STEPS_ON_THREAD` in
 * `re2.ts`, counted by `testSteps`): once their `src` values
 * would pass it, the rest are replaced on the query's worker, in one round
 * trip.
 *
 * @example
 * ```ts
 * import { labelReplace } from "./label_replace.ts";
 * import { emptySeries } from "./series.ts";
 * import assert from "node:assert/strict";
 * const s = emptySeries({ pod: "web-1" }, 1);
 * const [out] = await labelReplace(
 *   { dst: "app", replacement: "$1", src: "pod", regex: "(.*)-[0-9]+" },
 *   [s],
 *   1,
 * );
 * assert.deepEqual(out.labels, { app: "web", pod: "web-1" });
 * ```
 *
 * @throws {MetricQueryError} When two series end with the same labels at a step.
 */
export async function labelReplace(
  expr: Replacement,
  input: readonly Series[],
  count: number,
): Promise<Series[]> {
  const re = RE2JS.compile(expr.regex);
  const threads = re.programSize();
  // The series replaced here share one bound, as the tests of one line do; the rest go off.
  let steps = 0;
  const offThread = input.map(({ labels }) =>
    (steps += testSteps(sourceOf(labels, expr).length, threads)) > MAX_STEPS_ON_THREAD
  );
  const replacedOff = offThread.includes(true)
    ? await replaceLabelsOffThread(expr, input.filter((_, i) => offThread[i]).map((s) => s.labels))
    : [];
  let next = 0;
  const out = new Map<string, Series>();
  for (const [i, s] of input.entries()) {
    const labels = offThread[i] ? replacedOff[next++] : replaceLabels(s.labels, expr, re);
    const key = JSON.stringify(labels);
    let o = out.get(key);
    if (!o) out.set(key, o = emptySeries(labels, count));
    for (let k = 0; k < count; k++) {
      if (!s.present[k]) continue;
      if (o.present[k]) {
        throw new MetricQueryError(
          `label_replace gives two series the same labels ${formatLabels(labels)}`,
        );
      }
      o.values[k] = s.values[k];
      o.present[k] = 1;
    }
  }
  return [...out.values()];
}

/** The value `expr` matches its regex against: label `src`, `""` when missing. */
function sourceOf(labels: Labels, expr: Replacement): string {
  return Object.hasOwn(labels, expr.src) ? labels[expr.src] : "";
}

/**
 * `labels` with `expr`'s replacement made, `re` being its regex compiled:
 * the labels themselves when the regex does not match.
 *
 * @example
 * ```ts
 * import { replaceLabels } from "./label_replace.ts";
 * import { RE2JS } from "re2js";
 * import assert from "node:assert/strict";
 * const expr = { dst: "app", replacement: "$1", src: "pod", regex: "(.*)-[0-9]+" };
 * const labels = replaceLabels({ pod: "web-1" }, expr, RE2JS.compile(expr.regex));
 * assert.deepEqual(labels, { app: "web", pod: "web-1" });
 * ```
 */
export function replaceLabels(labels: Labels, expr: Replacement, re: RE2JS): Labels {
  const m = re.matcher(sourceOf(labels, expr));
  if (!m.matches()) return labels;
  const groups = re.namedGroups();
  const value = expand(expr.replacement, (g) => {
    const index = typeof g === "number" ? g : Object.hasOwn(groups, g) ? groups[g] : undefined;
    if (index === undefined || index > m.groupCount()) return undefined;
    return m.group(index) ?? undefined;
  });
  const out: Record<string, string> = { ...labels };
  delete out[expr.dst];
  if (value !== "") out[expr.dst] = value;
  return labelsOf(out);
}
