import assert from "node:assert/strict";
import {
  LabelMatcherError,
  toLogQuery,
  validateLabelMatcher,
  validateLabelMatchers,
} from "./read_request.ts";

Deno.test("validateLabelMatcher() converts API matchers", () => {
  for (const type of ["=", "!=", "=~", "!~"]) {
    assert.deepEqual(validateLabelMatcher({ name: "app", value: "w.*", type }, 0), {
      name: "app",
      op: type,
      value: "w.*",
    });
  }
  assert.deepEqual(
    validateLabelMatcher({ name: "app", value: "(", type: "=", extra: 1 }, 0),
    { name: "app", op: "=", value: "(" },
  );
});

Deno.test("validateLabelMatcher() names the matcher index in every error", () => {
  const cases: [unknown, string][] = [
    [null, 'expected an object {"name", "value", "type"}, got null'],
    ["app=web", 'expected an object {"name", "value", "type"}, got "app=web"'],
    [[1], 'expected an object {"name", "value", "type"}, got an array'],
    [{ value: "web", type: "=" }, '"name" must be a string, got nothing'],
    [{ name: 5, value: "web", type: "=" }, '"name" must be a string, got number 5'],
    [
      { name: "app-name", value: "web", type: "=" },
      'invalid label name "app-name": must match [a-zA-Z_][a-zA-Z0-9_]*',
    ],
    [{ name: "app", type: "=" }, '"value" must be a string, got nothing'],
    [{ name: "app", value: null, type: "=" }, '"value" must be a string, got null'],
    [
      { name: "app", value: "web", type: "==" },
      '"type" must be one of "=", "!=", "=~", "!~", got "=="',
    ],
    [
      { name: "app", value: "web" },
      '"type" must be one of "=", "!=", "=~", "!~", got nothing',
    ],
    [{ name: "app", value: "a(", type: "=~" }, 'invalid regex "a(": Unterminated group'],
    [{ name: "app", value: "[", type: "!~" }, 'invalid regex "[": Unterminated character class'],
  ];
  for (const [input, reason] of cases) {
    assert.throws(
      () => validateLabelMatcher(input, 3),
      (e: unknown) =>
        e instanceof LabelMatcherError && e.index === 3 &&
        e.name === "LabelMatcherError" && e.message === `invalid matcher at index 3: ${reason}`,
      reason,
    );
  }
});

Deno.test("validateLabelMatchers() validates an array, reporting the failing index", () => {
  assert.deepEqual(validateLabelMatchers(undefined), []);
  assert.deepEqual(validateLabelMatchers([]), []);
  assert.deepEqual(
    validateLabelMatchers([{ name: "a", value: "1", type: "=" }, {
      name: "b",
      value: "2",
      type: "!=",
    }]),
    [{ name: "a", op: "=", value: "1" }, { name: "b", op: "!=", value: "2" }],
  );
  assert.throws(
    () =>
      validateLabelMatchers([{ name: "a", value: "1", type: "=" }, {
        name: "b",
        value: "(",
        type: "=~",
      }]),
    {
      name: "LabelMatcherError",
      message: 'invalid matcher at index 1: invalid regex "(": Unterminated group',
    },
  );
  assert.throws(() => validateLabelMatchers({ name: "a" }), {
    name: "QueryError",
    message: "invalid matchers: expected an array, got an object",
  });
});

Deno.test("validateLabelMatcher() quotes at most 100 characters of a bad regex", () => {
  assert.throws(
    () => validateLabelMatcher({ name: "a", value: "b".repeat(300) + "(", type: "=~" }, 0),
    {
      name: "LabelMatcherError",
      message: `invalid matcher at index 0: invalid regex "${
        "b".repeat(100)
      }…": Unterminated group`,
    },
  );
});

Deno.test("direction defaults to backward; forward is accepted; anything else is a QueryError", () => {
  assert.equal(toLogQuery({}).direction, "backward");
  assert.equal(toLogQuery({ direction: "forward" }).direction, "forward");
  assert.throws(() => toLogQuery({ direction: "sideways" }), {
    name: "QueryError",
    message: 'direction must be "backward" or "forward", got "sideways"',
  });
});

Deno.test("line filters of a query are pushed down; `line` joins them", () => {
  const q = toLogQuery({ query: '{app="web"} != "debug"', line: "timeout" });
  assert.deepEqual(q.pushdown, [
    { kind: "line_filter", op: "|=", value: "timeout" },
    { kind: "line_filter", op: "!=", value: "debug" },
  ]);
  assert.deepEqual(q.pipeline, []);
});
