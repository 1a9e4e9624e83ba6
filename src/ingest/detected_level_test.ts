import assert from "node:assert/strict";
import {
  addDetectedLevels,
  detectLevel,
  levelFromKeywords,
  levelFromLine,
} from "./detected_level.ts";
import { decodePush, PushFormat } from "./decode.ts";

// Cases from Loki's own tests (loki pkg/distributor/field_detection_test.go).

Deno.test("keywords: the earliest level word standing as a word wins, in any case", () => {
  const cases: [string, string][] = [
    ["this is a warning log", "warn"],
    ["this is a DEBUG message", "debug"],
    ["debug: something happened", "debug"],
    ["CRITICAL: something happened", "critical"],
    ["[ERR] this is an error message", "error"],
    ["(fatal) something happened", "fatal"],
    ["an info", "info"],
    ["2024-01-01T10:00:00Z info request failed -l warning --log-level misc:error", "info"],
    ["warning: degraded, info follows", "warn"],
    ["component=misc:error [info] processed", "info"],
    ["fooerror [error] message", "error"],
    ["fooerror errorbar misc:error error_code", "unknown"],
    [
      "2024/01/01 10:00:00 [error] 1234#1234: *1 connect() failed (111: Connection refused)",
      "error",
    ],
    [
      '192.168.1.1 - - [01/Jan/2024:10:00:00 +0000] "GET /api/error-handler HTTP/1.1" 500 1234',
      "unknown",
    ],
    ["2024-01-01 10:00:00.000  INFO 1234 --- [main] com.example.App : Starting", "info"],
    ["this is a terror attack", "unknown"],
    ["there were multiple errors", "unknown"],
    ["errorCode is invalid", "unknown"],
    ["debugging the issue", "unknown"],
    ["information is available", "unknown"],
    ["trace_id is abc123", "unknown"],
    ["", "unknown"],
  ];
  for (const [line, level] of cases) assert.equal(levelFromKeywords(line), level, line);
});

Deno.test("lines: a JSON or logfmt level field first, then the keywords", () => {
  const cases: [string, string][] = [
    ['{"foo":"bar","msg":"keyword error not picked up","level":"critical"}', "critical"],
    ['{"FOO":"bar","MSG":"keyword error not picked up","LEVEL":"Critical"}', "critical"],
    ['{"foo":"bar","msg":"keyword warn not picked up","SEVERITY":"FATAL"}', "fatal"],
    ['{"foo":"bar","msg":"keyword warn not picked up","level":"ERR"}', "error"],
    ['{"foo":"bar","msg":"message with keyword INFO get picked up"}', "info"],
    ['{"log":{"level":"debug"},"msg":"error"}', "debug"],
    // Deeper than one level down: not a level field; the keyword decides.
    ['{"msg":"error","a":{"b":{"level":"warn"}}}', "error"],
    // A number is no level field (pino's levels): the keyword decides.
    ['{"level":50,"msg":"boom"}', "unknown"],
    ['{"errorCode": 123}', "unknown"],
    // Quoted text is no field, arrays are not walked, a fault ends the walk, not what came before.
    ['{"msg":"say \\"level\\":\\"fatal\\"","level":"trc"}', "trace"],
    ['{"items":[{"level":"fatal"}],"level":"dbg"}', "debug"],
    ['{"level" : "dbg" oops}', "debug"],
    ['{"message": "[error] occurred"}', "error"],
    ['foo=bar msg="message with info and not level should get picked up"', "info"],
    ['foo=bar msg="keyword error not picked up" level=Warn', "warn"],
    ['foo=bar msg="keyword error not picked up" level=Trace', "trace"],
    ['foo=bar msg="message with keyword but it should not get picked up" level=NA', "unknown"],
    ['Foo=bar MSG="Message with keyword but not picked up" Severity=critical', "critical"],
    ['FOO=bar MSG="keyword error not picked up" LEVEL=Information', "info"],
    // logfmt keys rank by the list's order, not the line's.
    ["lvl=debug level=error", "error"],
    ["errorCode=123", "unknown"],
    ["error=something", "error"],
  ];
  for (const [line, level] of cases) assert.equal(levelFromLine(line), level, line);
});

Deno.test("metadata: level fields, then severity_number, then the line", () => {
  assert.equal(detectLevel("error", { severity_number: "7" }), "debug");
  assert.equal(detectLevel("", { severity_number: "foo" }), "info");
  assert.equal(detectLevel("", { severity_number: "0" }), "unknown");
  assert.equal(detectLevel("", { severity_number: "21" }), "fatal");
  assert.equal(detectLevel("", { severity_number: "25" }), "unknown");
  assert.equal(detectLevel("ERROR x", { SeverityText: "INFO", severity_number: "17" }), "info");
  assert.equal(detectLevel("ERROR x", { level: "Notice" }), "Notice");
  assert.equal(detectLevel("ERROR x", { trace_id: "abc" }), "error");
});

Deno.test("payloads: every line of a stream without a level label gets one; others are left alone", () => {
  const payload = addDetectedLevels({
    lines: 5,
    streams: [
      {
        key: '{"app":"api"}',
        ts: [1n, 2n, 3n],
        lines: ["level=warn msg=x", "plain", "ok"],
        metadata: [undefined, '{"trace_id":"t1","lvl":"dbg"}', '{"detected_level":"ERROR"}'],
      },
      { key: '{"app":"api","severity":"info"}', ts: [4n], lines: ["ERROR"] },
      { key: '{"app":"web"}', ts: [5n], lines: ["{}"] },
    ],
  });
  assert.deepEqual(payload.streams.map((s) => s.metadata), [
    [
      '{"detected_level":"warn"}',
      '{"trace_id":"t1","lvl":"dbg","detected_level":"debug"}',
      '{"detected_level":"error"}',
    ],
    undefined,
    ['{"detected_level":"unknown"}'],
  ]);
  assert.equal(payload.lines, 5);
});

Deno.test("Loki's push formats derive detected_level; loge's own do not", () => {
  const body = new TextEncoder().encode(JSON.stringify({
    streams: [{ stream: { app: "web" }, values: [["1", "WARN disk"]] }],
  }));
  assert.deepEqual(decodePush(PushFormat.LokiJson, body).streams[0].metadata, [
    '{"detected_level":"warn"}',
  ]);
  assert.equal(decodePush(PushFormat.Json, body).streams[0].metadata, undefined);
});
