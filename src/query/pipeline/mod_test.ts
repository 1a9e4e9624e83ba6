import assert from "node:assert/strict";
import { parseLogQL } from "../logql.ts";
import { RE2JS } from "re2js";
import {
  compileRegex,
  CostlyTestError,
  MAX_STEPS_ON_THREAD,
  MAX_TEST_MS_ON_THREAD,
} from "../re2.ts";
import { compilePipeline, splitPushdown } from "./mod.ts";
import { COSTLY_PATTERN, letters } from "../../../testing/costly_regex.ts";

const stream = { key: '{"app":"web"}', labels: { app: "web" } };

/** The pipeline of `query` after its pushed-down line filters, bounded or not. */
function pipelineOf(query: string, bounded?: boolean) {
  const { pipeline } = splitPushdown(parseLogQL(query).pipeline);
  return compilePipeline(pipeline, { bounded }).forStream(stream);
}

// re2js keeps up to 3,003 threads alive at each letter: over 2^18 steps from 88 letters on.
const long = `${letters(3500)}9`;
const short = `${letters(80)}9`;

/** Each stage kind that runs a regex on re2js, its query, and its result for `msg=<long>`. */
const CASES: { query: string; line?: string; parsed?: Record<string, string> }[] = [
  { query: `{app="web"} | logfmt | msg=~".*${COSTLY_PATTERN}"`, parsed: { msg: long } },
  { query: `{app="web"} | logfmt | drop msg=~".*${COSTLY_PATTERN}"`, parsed: {} },
  { query: `{app="web"} | logfmt |~ "${COSTLY_PATTERN}"`, parsed: { msg: long } },
  {
    query: `{app="web"} | regexp "(?P<m>${COSTLY_PATTERN})"`,
    parsed: { m: long.slice(-3001) },
  },
  {
    query:
      `{app="web"} | line_format "{{ regexReplaceAll \\"${COSTLY_PATTERN}\\" .__line__ \\"X\\" }}"`,
    line: `msg=${long.slice(0, 500)}X`,
  },
  {
    query: `{app="web"} | label_format n="{{ count \\"${COSTLY_PATTERN}\\" .__line__ }}"`,
    parsed: { n: "1" },
  },
];

Deno.test("a stage whose regex could hold the event loop refuses a long line bounded (CostlyTestError), and runs it unbounded", () => {
  for (const { query, line, parsed } of CASES) {
    const bounded = pipelineOf(query);
    assert.throws(() => bounded.process(`msg=${long}`), CostlyTestError, query);
    // A short line costs little: it runs.
    bounded.process(`msg=${short}`);
    const out = pipelineOf(query, false).process(`msg=${long}`);
    assert.ok(out !== undefined, query);
    assert.equal(out.line, line ?? `msg=${long}`, query);
    assert.deepEqual(out.parsed ?? {}, parsed ?? {}, query);
  }
});

Deno.test("a costly line is not a template's error, and the stream's next line runs as usual", () => {
  const query =
    `{app="web"} | line_format "{{ regexReplaceAll \\"${COSTLY_PATTERN}\\" .__line__ \\"X\\" }}"`;
  const bounded = pipelineOf(query);
  assert.throws(() => bounded.process(`msg=${long}`), CostlyTestError);
  // The next line of the stream goes through as if the costly one had not come.
  assert.deepEqual(bounded.process("msg=a"), { line: "msg=a", stream });
  // A template's own failure is still a label.
  const failing = pipelineOf('{app="web"} | line_format "{{ div 1 0 }}"');
  const out = failing.process("x");
  assert.equal(out?.parsed?.__error__, "TemplateFormatErr");
});

Deno.test("regex tests outside a pipeline's line are not bounded: the bound ends with the line", () => {
  const run = pipelineOf(`{app="web"} | logfmt | msg=~".*${COSTLY_PATTERN}"`);
  assert.throws(() => run.process(`msg=${long}`), CostlyTestError);
  // As a stream matcher's or a pushed-down line filter's test would be.
  assert.equal(compileRegex(COSTLY_PATTERN).test(long), true);
});

Deno.test("the tests of one line are bounded together: by their steps, and by their time", () => {
  // Each of these on a 1,000-letter value stays under the bound alone; both go over it.
  const [a, b] = [".*[a-z]{200}0", ".*[a-z]{200}1"];
  const value = `01${letters(998)}`; // each holds its pattern's literal: its regex runs
  const steps = (p: string) =>
    value.length * Math.min(value.length, RE2JS.compile(p).programSize());
  assert.ok(steps(a) <= MAX_STEPS_ON_THREAD && steps(a) + steps(b) > MAX_STEPS_ON_THREAD);
  assert.equal(pipelineOf(`{app="web"} | logfmt | msg=~"${a}"`).process(`msg=${value}`), undefined);
  const both = pipelineOf(`{app="web"} | logfmt | msg=~"${a}" or msg=~"${b}"`);
  assert.throws(() => both.process(`msg=${value}`), CostlyTestError);
  // Every find of `count` may scan the rest of the line: 12,000 of them take seconds, each cheap.
  const count = pipelineOf(`{app="web"} | line_format "{{ count \\"[a-z]*9|a\\" .__line__ }}"`);
  const started = performance.now();
  assert.throws(() => count.process("a".repeat(12_000)), CostlyTestError);
  const tookMs = performance.now() - started;
  assert.ok(tookMs < 20 * MAX_TEST_MS_ON_THREAD, `gave up after ${tookMs} ms`);
  const out = pipelineOf(
    `{app="web"} | line_format "{{ count \\"[a-z]*9|a\\" .__line__ }}"`,
    false,
  ).process("a".repeat(1000));
  assert.equal(out?.line, "1000");
});

Deno.test("the finds of a line's template functions share one time bound; a probe's test is not counted twice", () => {
  // 40 counts, each of 600 finds that may scan the rest of the line: ~0.2 s on the event loop.
  const counts = Array.from({ length: 40 }, () => '{{ count \\"[a-z]*9|a\\" .__line__ }}').join(
    " ",
  );
  const many = pipelineOf(`{app="web"} | line_format "${counts}"`);
  const started = performance.now();
  assert.throws(() => many.process("a".repeat(600)), CostlyTestError);
  const tookMs = performance.now() - started;
  assert.ok(tookMs < 10 * MAX_TEST_MS_ON_THREAD, `gave up after ${tookMs} ms`);
  // A value whose test fits the bound once: the json probe tests it before the stage does.
  const pattern = ".*foo.*";
  const threads = RE2JS.compile(pattern).programSize();
  const length = Math.floor(MAX_STEPS_ON_THREAD / threads) - 10;
  assert.ok(2 * length * threads > MAX_STEPS_ON_THREAD);
  const line = JSON.stringify({ msg: `x${"a".repeat(length - 5)}foo` });
  const out = pipelineOf(`{app="web"} | json | msg=~"${pattern}"`).process(line);
  assert.equal(out?.parsed?.msg.length, length - 1);
});
