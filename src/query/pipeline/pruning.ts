/**
 * Pruning with parsers: an equality label filter after a parser
 * (`| json | trace_id="4bf9…"`, `| logfmt | user="alice"`) implies that the
 * line contains the value, so the planner can feed it to content filters and
 * the needle search exactly as a `|=` value.
 *
 * The rule, stage by stage until the first stage that could break it:
 *
 * - only a label filter after a parser (`json`, `logfmt`, `regexp`,
 *   `pattern`, `unpack`) counts, and no stage before it may rewrite the line
 *   (`line_format`, `decolorize`, and `unpack` for parsers after it) or set
 *   labels from templates or renames (`label_format`);
 * - of that filter, only the leaves of its top-level `and`s that are
 *   `name="value"` with a non-empty value and a name not starting with `__`;
 * - for `json`, `logfmt` and `unpack`, only values an encoder writes as they
 *   are: printable ASCII without `"`, `\`, `/`, `<`, `>` and `&` (which some
 *   JSON encoders escape) and `'` (which logfmt may write as `\'`); `regexp`
 *   and `pattern` capture text of the line verbatim, so any value counts when
 *   only they came before;
 * - a label of the stream wins over a parsed one (that becomes
 *   `name_extracted`), so the planner applies a term only to streams without
 *   that label (see {@linkcode RequiredLabelTerm}).
 *
 * Metadata: a label filter also sees structured metadata (which wins over a
 * parsed label of the same name, as in Loki), so a line whose metadata, not
 * its text, holds the value matches the filter. The planner therefore applies
 * these values only where that cannot happen or is covered: to block filters
 * of segments whose filters hold metadata terms too (`filters_cover_metadata`
 * in the index; older files are pruned by `|=` values alone), never to the
 * catalog's file filters, and as needles only in blocks and head streams
 * without metadata (see `lineTermsOf` in `plan.ts`).
 *
 * @module
 */

import type { LabelPredicate, PipelineStage } from "../ast.ts";

/** A value every matching line contains, unless its stream has label `label`. */
export interface RequiredLabelTerm {
  /** The filtered label: streams with this label are not pruned by `value`. */
  readonly label: string;
  /** The value the line must contain. */
  readonly value: string;
}

const ENCODED_AS_IS = /^[\x20-\x7e]*$/;
// `'`: logfmt values may carry it as `\'`, which `| logfmt` undoes as Loki does.
const ESCAPED_BY_SOME = /["\\/<>&']/;

function leaves(p: LabelPredicate, out: { name: string; value: string }[]): void {
  if (p.kind === "and") {
    leaves(p.left, out);
    leaves(p.right, out);
  } else if (p.kind === "match" && p.matcher.op === "=") {
    out.push({ name: p.matcher.name, value: p.matcher.value });
  }
}

/**
 * The values that lines must contain by the rule above.
 *
 * @example
 * ```ts
 * import { requiredPipelineTerms } from "./pruning.ts";
 * import { parseLogQL } from "../logql.ts";
 * import assert from "node:assert/strict";
 * const terms = (q: string) => requiredPipelineTerms(parseLogQL(q).pipeline);
 * assert.deepEqual(terms('{a="b"} | json | trace_id="4bf92f35" and level=~"e.*"'), [
 *   { label: "trace_id", value: "4bf92f35" },
 * ]);
 * assert.deepEqual(terms('{a="b"} | logfmt | msg="a \\"quoted\\" word"'), []);
 * assert.deepEqual(terms('{a="b"} | pattern "<_> <path>" | path="/x&y"'), [
 *   { label: "path", value: "/x&y" },
 * ]);
 * assert.deepEqual(terms('{a="b"} | line_format "{{.x}}" | json | id="abc"'), []);
 * assert.deepEqual(terms('{a="b"} | json | id="abc" or id="def"'), []);
 * ```
 */
export function requiredPipelineTerms(stages: readonly PipelineStage[]): RequiredLabelTerm[] {
  const out: RequiredLabelTerm[] = [];
  let parsed = false;
  let encoded = false;
  // After `unpack`, the line is its `_entry`: a later parser would not parse the stored line.
  let unpacked = false;
  for (const stage of stages) {
    switch (stage.kind) {
      case "json":
      case "logfmt":
      case "unpack":
        if (unpacked) return out;
        parsed = encoded = true;
        unpacked = stage.kind === "unpack";
        break;
      case "regexp":
      case "pattern":
        if (unpacked) return out;
        parsed = true;
        break;
      case "label_filter": {
        if (!parsed) break;
        const found: { name: string; value: string }[] = [];
        leaves(stage.predicate, found);
        for (const { name, value } of found) {
          if (value === "" || name.startsWith("__")) continue;
          if (encoded && (!ENCODED_AS_IS.test(value) || ESCAPED_BY_SOME.test(value))) continue;
          if (!out.some((t) => t.label === name && t.value === value)) {
            out.push({ label: name, value });
          }
        }
        break;
      }
      case "line_filter":
      case "drop":
      case "keep":
        break;
      case "line_format":
      case "decolorize":
      case "label_format":
        return out;
    }
  }
  return out;
}
