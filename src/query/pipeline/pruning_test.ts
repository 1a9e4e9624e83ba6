import assert from "node:assert/strict";
import { parseLogQL } from "../logql.ts";
import { requiredPipelineTerms } from "./pruning.ts";

const terms = (q: string) => requiredPipelineTerms(parseLogQL(q).pipeline).map((t) => t.value);

Deno.test("requiredPipelineTerms: equality filters after a parser, in top-level ands", () => {
  assert.deepEqual(terms('{a="b"} | json | trace_id="abc" | user="al", n="x" or n="y"'), ["abc"]);
  assert.deepEqual(terms('{a="b"} | logfmt | user="alice" and status >= 500'), ["alice"]);
  assert.deepEqual(terms('{a="b"} |= "x" | unpack | k="v"'), ["v"]);
  assert.deepEqual(terms('{a="b"} | regexp "(?P<p>\\\\S+)" | p="a\\"b"'), ['a"b']);
});

Deno.test("requiredPipelineTerms: nothing before a parser, after a rewrite, or for escaped values", () => {
  assert.deepEqual(terms('{a="b"} | user="alice" | json'), []);
  assert.deepEqual(terms('{a="b"} | decolorize | json | user="alice"'), []);
  assert.deepEqual(terms('{a="b"} | json | label_format user=x | user="alice"'), []);
  assert.deepEqual(terms('{a="b"} | unpack | json | user="alice"'), []);
  assert.deepEqual(
    terms('{a="b"} | json | user!="alice", user=~"a.*", __error__="JSONParserErr"'),
    [],
  );
  for (const v of ['a\\"b', "a/b", "a<b", "é", "tab\\t", "", "it's"]) {
    assert.deepEqual(terms(`{a="b"} | json | user="${v}"`), [], v);
  }
  // A logfmt value may carry `'` as `\'`, which the parser undoes.
  assert.deepEqual(terms(`{a="b"} | logfmt lvl="level" | lvl="it's"`), []);
  assert.deepEqual(terms(`{a="b"} | logfmt lvl="level" | lvl="warn"`), ["warn"]);
  assert.deepEqual(terms('{a="b"} | json | drop x | user="a b"'), ["a b"]);
});
