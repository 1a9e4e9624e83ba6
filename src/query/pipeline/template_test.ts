import assert from "node:assert/strict";
import { Template, TemplateError } from "./template.ts";

const render = (t: string, fields: Record<string, string> = {}) => new Template(t).render(fields);

Deno.test("templates: fields, pipes, literals, trimming", () => {
  const f = { a: "  Hello World  ", p: "/api/x", n: "" };
  assert.equal(render("{{.p}}|{{ .p | ToUpper }}", f), "/api/x|/API/X");
  assert.equal(render("{{ .a | TrimSpace | ToLower }}", f), "hello world");
  assert.equal(render("x  {{- .p -}}  y", f), "x/api/xy");
  assert.equal(render("{{.missing}}", f), ""); // missingkey=zero, as Loki
  assert.equal(render('{{ default "none" .n }} {{ .n | default "d" }}', f), "none d");
  assert.equal(render('{{`raw`}} {{"q\\n"}}'), "raw q\n");
});

Deno.test("templates: the string functions", () => {
  const f = { s: "--abc--", t: "hello world", u: "a.b.c" };
  assert.equal(render('{{ Trim .s "-" }}', f), "abc");
  assert.equal(render('{{ TrimLeft .s "-" }}|{{ TrimRight .s "-" }}', f), "abc--|--abc");
  assert.equal(render('{{ TrimPrefix .s "--" }}|{{ TrimSuffix .s "--" }}', f), "abc--|--abc");
  assert.equal(render("{{ Title .t }}|{{ title .t }}", f), "Hello World|Hello World");
  assert.equal(render('{{ Replace .u "." "/" 1 }}|{{ Replace .u "." "/" -1 }}', f), "a/b.c|a/b/c");
  assert.equal(render('{{ .u | replace "." "_" }}', f), "a_b_c");
  assert.equal(
    render("{{ .t | substr 0 5 }}|{{ .t | trunc 3 }}|{{ .t | upper }}", f),
    "hello|hel|HELLO WORLD",
  );
  assert.equal(render('{{ .s | trimPrefix "--" }}|{{ .s | trimSuffix "--" }}', f), "abc--|--abc");
  assert.equal(render('{{ printf "%s=%d%%" .u 5 }}', f), "a.b.c=5%");
  assert.equal(render("{{ __line__ | upper }}", { __line__: "l" }), "L");
});

Deno.test("templates: unsupported constructs and wrong arities are refused when parsed", () => {
  for (
    const [t, message] of [
      ["{{ if .a }}x{{ end }}", 'unsupported template action "if"'],
      ["{{ range .a }}{{ end }}", 'unsupported template action "range"'],
      ["{{ $x := 1 }}", "unsupported template variable"],
      ["{{ .a.b }}", 'unsupported nested field reference ".a.…"'],
      ["{{ (.a) }}", "unsupported parenthesised template expression"],
      ["{{ nope .a }}", 'unsupported template function "nope"'],
      ["{{ __timestamp__ }}", 'unsupported template function "__timestamp__"'],
      ["{{ ToUpper }}", 'function "ToUpper" takes 1 argument, got 0'],
      ['{{ .a | Replace "x" "y" }}', 'function "Replace" takes 4 arguments, got 3'],
      ["{{ .a ", 'unclosed action: expected "}}"'],
      ["{{ }}", "empty action"],
      ["{{ .a | .b }}", 'only a function can follow "|"'],
    ]
  ) {
    assert.throws(
      () => new Template(t),
      (e: unknown) => e instanceof TemplateError && e.message === message,
      t,
    );
  }
});
