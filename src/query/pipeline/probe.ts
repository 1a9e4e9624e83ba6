/**
 * A first look at lines under `| json | <label filter>`: the filter's labels
 * alone, scanned from a line, tell whether the filter drops it, so a line a
 * selective filter drops (most of them, in a search for errors by status)
 * costs no other label. A line that passes, or that the scan cannot tell,
 * goes through the stages as before: what a query answers does not change.
 *
 * @module
 */

import type { StreamLabels } from "../../storage/catalog.ts";
import type { LabelPredicate, PipelineStage } from "../ast.ts";
import { scanJsonLabels } from "./json_scan.ts";
import { labelFilterStage } from "./label_filter.ts";
import { EXTRACTED_SUFFIX, LabelsBuilder } from "./labels.ts";

/**
 * Whether the stages would surely drop `line` of `stream` with its structured
 * `metadata` (`false`); `true` when it may pass.
 */
export type LineProbe = (
  line: string,
  stream: StreamLabels,
  metadata?: Record<string, string>,
) => boolean;

/** The label names `predicate` reads. */
function namesOf(predicate: LabelPredicate, out: Set<string>): Set<string> {
  if (predicate.kind === "match") out.add(predicate.matcher.name);
  else if (predicate.kind === "compare") out.add(predicate.name);
  else {
    namesOf(predicate.left, out);
    namesOf(predicate.right, out);
  }
  return out;
}

/**
 * The probe of `stages` (a pipeline after its pushed-down line filters):
 * one when they start with `| json` (no field list) and a label filter,
 * else `undefined`.
 *
 * @example
 * ```ts
 * import { compileProbe } from "./probe.ts";
 * import { parseLogQL } from "../logql.ts";
 * import assert from "node:assert/strict";
 * const probe = compileProbe(parseLogQL('{app="web"} | json | status >= 500').pipeline)!;
 * const stream = { key: '{"app":"web"}', labels: { app: "web" } };
 * assert.equal(probe('{"msg":"ok","status":200}', stream), false);
 * assert.equal(probe('{"msg":"upstream failed","status":502}', stream), true);
 * assert.equal(probe('{"msg":"no status"}', stream, { status: "503" }), true);
 * assert.equal(probe("not json", stream), true); // the filter keeps a line with __error__
 * assert.equal(compileProbe(parseLogQL('{app="web"} | logfmt | status >= 500').pipeline), undefined);
 * ```
 */
export function compileProbe(stages: readonly PipelineStage[]): LineProbe | undefined {
  const [parser, filter] = stages;
  if (parser?.kind !== "json" || parser.fields || filter?.kind !== "label_filter") return undefined;
  const names = namesOf(filter.predicate, new Set());
  // A label the filter reads may come from a key of its name, or of its name
  // less the suffix a parsed label gets when the stream has that name.
  const wanted = new Set(names);
  for (const name of names) {
    if (name.endsWith(EXTRACTED_SUFFIX)) wanted.add(name.slice(0, -EXTRACTED_SUFFIX.length));
  }
  const test = labelFilterStage(filter.predicate);
  return (line, stream, metadata) => {
    const leaves = scanJsonLabels(line, wanted);
    // Not a line the scan handles: the stages decide.
    if (leaves === undefined) return true;
    const labels = new LabelsBuilder(stream, metadata);
    for (let i = 0; i < leaves.length; i += 2) labels.setParsed(leaves[i], leaves[i + 1]);
    return test({ line, labels });
  };
}
