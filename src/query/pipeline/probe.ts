/**
 * A first look at lines under `| json | <label filter>`: the filter's labels
 * alone, scanned from a line, tell whether the filter drops it, so a line a
 * selective filter drops (most of them, in a search for errors by status)
 * costs no other label. A line that passes, or that the scan cannot tell,
 * goes through the stages as before: what a query answers does not change.
 * A line that does not even mention the filter's labels (`status` written
 * nowhere in it) is only checked to be JSON, and the filter's answer on its
 * stream's labels alone is its answer.
 *
 * @module
 */

import type { StreamLabels } from "../../storage/catalog.ts";
import type { LabelPredicate, PipelineStage } from "../ast.ts";
import { isPlainJsonObject, scanJsonLabels } from "./json_scan.ts";
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
 * For each name, its longest run of letters and digits: a label of that name
 * parsed from a JSON object whose keys hold no escapes has it written in the
 * line. `undefined` when a name has none.
 */
function anchorsOf(names: ReadonlySet<string>): string[] | undefined {
  const anchors: string[] = [];
  for (const name of names) {
    const runs = name.match(/[a-zA-Z0-9]+/g);
    if (runs === null) return undefined;
    anchors.push(runs.reduce((a, b) => b.length > a.length ? b : a));
  }
  return anchors;
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
  const anchors = anchorsOf(wanted);
  // What the filter makes of a stream's lines that give it no label: most
  // lines, in a search for a field that few lines have.
  const unparsed = new Map<StreamLabels, boolean>();
  const testUnparsed = (line: string, stream: StreamLabels, metadata?: Record<string, string>) =>
    test({ line, labels: new LabelsBuilder(stream, metadata) });
  return (line, stream, metadata) => {
    // A line that mentions none of the names gives none of them: checking that
    // it is JSON costs less than reading its labels.
    if (
      anchors !== undefined && !anchors.some((a) => line.includes(a)) && isPlainJsonObject(line)
    ) {
      if (metadata !== undefined) return testUnparsed(line, stream, metadata);
      let passes = unparsed.get(stream);
      if (passes === undefined) unparsed.set(stream, passes = testUnparsed(line, stream));
      return passes;
    }
    const leaves = scanJsonLabels(line, wanted);
    // Not a line the scan handles: the stages decide.
    if (leaves === undefined) return true;
    const labels = new LabelsBuilder(stream, metadata);
    for (let i = 0; i < leaves.length; i += 2) labels.setParsed(leaves[i], leaves[i + 1]);
    return test({ line, labels });
  };
}
