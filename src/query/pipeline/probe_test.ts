import assert from "node:assert/strict";
import { parseLogQL } from "../logql.ts";
import { jsonStage } from "./json.ts";
import { labelFilterStage } from "./label_filter.ts";
import { LabelsBuilder } from "./labels.ts";
import { compilePipeline } from "./mod.ts";
import { compileProbe } from "./probe.ts";
import { Rng } from "../../../testing/prng.ts";
import type { StreamLabels } from "../../storage/catalog.ts";

/** What `| json | <filter>` makes of a line, stage by stage, with no probe. */
function unprobed(query: string) {
  const [parser, filter] = parseLogQL(query).pipeline;
  assert.ok(parser.kind === "json" && filter.kind === "label_filter");
  const json = jsonStage(parser);
  const test = labelFilterStage(filter.predicate);
  return (
    stream: StreamLabels,
    line: string,
    metadata?: Record<string, string>,
  ) => {
    const entry = { line, labels: new LabelsBuilder(stream, metadata) };
    if (!json(entry) || !test(entry)) return undefined;
    return { line: entry.line, ...entry.labels.final(new Map()) };
  };
}

const QUERIES = [
  '{app="web"} | json | status >= 500',
  '{app="web"} | json | status = "502"',
  '{app="web"} | json | status != ""',
  '{app="web"} | json | app = "web" and level = "error"', // the stream's app, not the line's
  '{app="web"} | json | app_extracted = "x"',
  '{app="web"} | json | status_extracted >= 500',
  '{app="web"} | json | req_status >= 500 or level = "error"',
  '{app="web"} | json | __error__ = ""',
  '{app="web"} | json | __error__ != ""',
  '{app="web"} | json | took > 250ms',
];

Deno.test("a probed | json | filter answers what the stages answer, line by line", () => {
  const rng = Object.assign(new Rng(), { state: 2026 });
  const keys = [
    "status",
    "app",
    "level",
    "msg",
    "req",
    "status_extracted",
    "st\\u0061tus",
    "took",
    "__error__", // a parsed label like any other: it fails no line
  ];
  const values = [
    '"502"',
    "503",
    "200",
    '"x"',
    '"error"',
    '"1s"',
    '"abc"',
    "null",
    "[1,2]",
    "true",
    '"say \\"hi\\""',
  ];
  const line = (): string => {
    switch (rng.below(10)) {
      case 0:
        return "not json at all status=502";
      case 1:
        return '{"status":502,}'; // invalid: JSON.parse decides
      case 2:
        return rng.pick(['{"msg":"ok",}', "not json", '{"msg":"ok"']); // invalid, no name in it
      case 3:
        return '{\t"msg":"tab before the key"}';
      default: {
        const fields: string[] = [];
        for (let n = rng.below(6); n >= 0; n--) {
          const key = rng.pick(keys);
          const value = key === "req"
            ? `{"status":${rng.pick(["502", "200", '"x"'])}}`
            : rng.pick(values);
          fields.push(`"${key}":${value}`);
        }
        return `{${fields.join(",")}}`;
      }
    }
  };
  const streams: StreamLabels[] = [
    { key: '{"app":"web"}', labels: { app: "web" } },
    { key: '{"app":"web","status":"500"}', labels: { app: "web", status: "500" } },
  ];
  for (const query of QUERIES) {
    const expected = unprobed(query);
    const pipeline = compilePipeline(parseLogQL(query).pipeline);
    let kept = 0;
    // Past the probe's trial, whether it stays on or not.
    for (let n = 0; n < 1200; n++) {
      const stream = rng.pick(streams);
      const text = line();
      const metadata = rng.below(5) === 0 ? { status: rng.pick(["503", "200"]) } : undefined;
      const got = pipeline.forStream(stream).process(text, metadata);
      assert.deepEqual(got, expected(stream, text, metadata), `${query} on ${text}`);
      if (got) kept++;
    }
    assert.ok(kept > 0, `${query} keeps some lines`);
  }
});

Deno.test("a probe comes only with | json and a label filter right after it", () => {
  const probeOf = (query: string) => compileProbe(parseLogQL(query).pipeline);
  assert.ok(probeOf('{app="web"} | json | status >= 500'));
  assert.equal(probeOf('{app="web"} | json status="s" | status >= 500'), undefined);
  assert.equal(probeOf('{app="web"} | logfmt | status >= 500'), undefined);
  assert.equal(probeOf('{app="web"} | json | line_format "{{.msg}}" | status >= 500'), undefined);
  assert.equal(probeOf('{app="web"} | json'), undefined);
});
