/**
 * End-to-end tests of the read path against the real `loge serve` process.
 *
 * Error answers of the read endpoints: parse errors, bad bodies and matchers, and requests
 * that must never be a 500.
 *
 * @module
 */

import assert from "node:assert/strict";
import { withServer } from "../../testing/server.ts";
import { call, type Entry, push, toJson } from "../../testing/http.ts";
import { T0 } from "./fixture.ts";

Deno.test({
  name: "integers beyond 2^53 and malformed escapes in requests are never a 500",
  fn: () =>
    withServer(async ({ url }) => {
      await push(url, [[{ app: "x" }, T0, "only line"]]);
      const capped = await call(url, "/api/v1/query", { body: '{"limit": 1e30}' });
      assert.equal(capped.status, 200, capped.text);
      const huge = await call(url, "/api/v1/query", { body: '{"limit": 99999999999999999999}' });
      assert.equal(huge.status, 200, huge.text);
      assert.deepEqual(huge.body.data.map((e: Entry) => e.line), ["only line"]);
      const malformed = await call(url, "/api/v1/label/%ZZ/values");
      assert.equal(malformed.status, 400, malformed.text);
      assert.equal(malformed.body.status, "error");
    }),
});

Deno.test("parse errors are 400 with the message and position", () =>
  withServer(async ({ url }) => {
    const filters = 'line filter ("|=", "!=", "|~", "!~", "|>" or "!>")';
    const cases: [string, number, string][] = [
      ['{app="web"', 11, 'expected "," or "}"'],
      ['{app="web" env="x"}', 12, 'expected "," or "}", found "env"'],
      ['{app="web",}', 12, 'expected label name, found "}"'],
      ["{", 2, 'expected label name or "}"'],
      ['{1app="x"}', 2, 'invalid label name "1app": must match [a-zA-Z_][a-zA-Z0-9_]*'],
      ["{app}", 5, 'expected operator "=", "!=", "=~" or "!~", found "}"'],
      ['{app=="x"}', 5, 'unknown operator "==", expected "=", "!=", "=~" or "!~"'],
      ["{app=web}", 6, 'expected quoted string ("..." or `...`), found "web"'],
      ['{app="web}', 6, 'unterminated string: expected closing "'],
      ["{app=`web}", 6, "unterminated raw string: expected closing backtick"],
      [
        String.raw`|= "a\.b"`,
        6,
        String
          .raw`unknown escape sequence "\." (write "\\." for a literal backslash, or use a backtick string)`,
      ],
      [
        String.raw`|= "\u12G4"`,
        5,
        String.raw`invalid escape sequence "\u12G": expected 4 hex digits`,
      ],
      ['{app="web"} error', 13, `expected ${filters} or end of query, found "error"`],
      ['app="web"', 1, `expected "{" or ${filters}, found "app"`],
      [
        '{app="web"} |>> "x"',
        13,
        'unknown line filter operator "|>>", expected "|=", "!=", "|~", "!~", "|>" or "!>"',
      ],
      [
        '{app="web"} |> "<ip>"',
        16,
        'invalid pattern "<ip>": named captures are not allowed in line filter patterns: found <ip>',
      ],
      [
        '{app="web"} | unwrap latency',
        13,
        'unsupported pipeline stage "| unwrap": unwrap belongs to a range aggregation, such as sum_over_time({…} | unwrap x [1m])',
      ],
      ["|= panic", 4, 'expected quoted string ("..." or `...`), found "panic"'],
      ['|= "é😀" x', 10, `expected ${filters} or end of query, found "x"`],
      // Invalid regexes name the pattern and the reason.
      ['{app=~"a("}', 7, 'invalid regex "a(": Unterminated group'],
      ['{app!~"[a"}', 7, 'invalid regex "[a": Unterminated character class'],
      ['|~ "a)"', 4, "invalid regex \"a)\": Unmatched ')'"],
      ['{a="b"} != "(" !~ "*x"', 19, 'invalid regex "*x": Nothing to repeat'],
    ];
    for (const [q, position, reason] of cases) {
      const r = await call(url, "/api/v1/query", { body: { query: q } });
      assert.equal(r.status, 400, `${q}: ${r.text}`);
      assert.deepEqual(r.body, {
        status: "error",
        error: `cannot parse query at ${position}: ${reason}`,
        position,
      }, q);
    }
  }));

Deno.test("bad request bodies and matchers are 400 naming the problem", () =>
  withServer(async ({ url }) => {
    const cases: [string | unknown, string][] = [
      [{ matchers: { name: "app" } }, "invalid matchers: expected an array, got an object"],
      [{ matchers: "app=web" }, 'invalid matchers: expected an array, got "app=web"'],
      [
        { matchers: ["app"] },
        'invalid matcher at index 0: expected an object {"name", "value", "type"}, got "app"',
      ],
      [
        { matchers: [{ value: "web", type: "=" }] },
        'invalid matcher at index 0: "name" must be a string, got nothing',
      ],
      [
        {
          matchers: [{ name: "app", value: "web", type: "=" }, {
            name: "bad-name",
            value: "x",
            type: "=",
          }],
        },
        'invalid matcher at index 1: invalid label name "bad-name": must match [a-zA-Z_][a-zA-Z0-9_]*',
      ],
      [
        { matchers: [{ name: "app", value: 5, type: "=" }] },
        'invalid matcher at index 0: "value" must be a string, got number 5',
      ],
      [
        { matchers: [{ name: "app", value: "web" }] },
        'invalid matcher at index 0: "type" must be one of "=", "!=", "=~", "!~", got nothing',
      ],
      [
        { matchers: [{ name: "app", value: "web", type: "==" }] },
        'invalid matcher at index 0: "type" must be one of "=", "!=", "=~", "!~", got "=="',
      ],
      [
        {
          matchers: [{ name: "app", value: "web", type: "=" }, {
            name: "app",
            value: "a(",
            type: "=~",
          }],
        },
        'invalid matcher at index 1: invalid regex "a(": Unterminated group',
      ],
      [{ line: 5 }, "line must be a string, got number"],
      [{ query: 5 }, "query must be a string, got number"],
      ["[]", "request body must be a JSON object"],
      ['"x"', "request body must be a JSON object"],
    ];
    for (const [body, error] of cases) {
      const r = await call(url, "/api/v1/query", { body });
      assert.equal(r.status, 400, `${toJson(body)}: ${r.text}`);
      assert.deepEqual(r.body, { status: "error", error }, toJson(body));
    }
    const notJson = await call(url, "/api/v1/query", { body: "{not json" });
    assert.equal(notJson.status, 400);
    assert.equal(notJson.body.status, "error");
    assert.match(notJson.body.error, /^cannot decode JSON body: /);
    // An empty body is an empty query.
    assert.equal((await call(url, "/api/v1/query", { body: "" })).status, 200);
  }));
