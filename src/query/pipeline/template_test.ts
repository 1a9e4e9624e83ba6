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

Deno.test("templates: if, else if, else and end, with Go's truth and comparisons", () => {
  // Parentheses group a pipeline as an argument.
  const t = '{{ if and (eq .level "warn") (ne .code "") }}W{{ .code | printf "%s!" }}{{ end }}';
  assert.equal(render(t, { level: "warn", code: "7" }), "W7!");
  assert.equal(render(t, { level: "warn" }), "");
  assert.equal(render('{{ (printf "%s-%s" .a (upper .b)) | lower }}', { a: "X", b: "y" }), "x-y");
  assert.throws(() => new Template("{{ (ne) }}"), /function "ne" takes 2 arguments, got 0/);
  const level =
    '{{- if eq .level "error" "fatal" -}} ERR {{- else if .level -}} {{ .level | upper }} {{- else -}} ? {{- end -}}';
  assert.deepEqual(
    ["error", "fatal", "info", ""].map((l) => render(level, { level: l })),
    ["ERR", "ERR", "INFO", "?"],
  );
  // Nested, and false for "", 0 and false.
  const nested = "{{ if .a }}a{{ if .b }}b{{ else }}-{{ end }}{{ end }}|";
  assert.equal(render(nested, { a: "1", b: "1" }), "ab|");
  assert.equal(render(nested, { a: "1" }), "a-|");
  assert.equal(render(nested, {}), "|");
  assert.equal(render("{{ if 0 }}y{{ else }}n{{ end }}{{ if false }}y{{ else }}n{{ end }}"), "nn");
  assert.equal(render('{{ if not .a }}none{{ end }}{{ or .a "b" }}{{ and .a "b" }}', {}), "noneb");
  assert.equal(render('{{ if lt .a "b" }}<{{ end }}{{ if ge 3 2 }}>={{ end }}', { a: "a" }), "<>=");
  // Go refuses to compare a label (text) with a number.
  assert.throws(
    () => render("{{ if eq .status 500 }}x{{ end }}", { status: "500" }),
    TemplateError,
  );
});

Deno.test("templates: Sprig's and Loki's other functions", () => {
  const f = { s: "Hello, 世界", n: "7" };
  assert.equal(
    render("[{{ alignLeft 8 .s }}][{{ alignRight 3 .s }}][{{ alignLeft 12 .s }}]", f),
    "[Hello, 世][ 世界][Hello, 世界   ]",
  );
  assert.equal(
    render("[{{ alignRight 12 .s }}][{{ alignLeft -1 .s }}]", f),
    "[   Hello, 世界][Hello, 世界]",
  );
  assert.equal(
    render('{{ contains "llo" .s }} {{ hasPrefix "He" .s }} {{ hasSuffix "x" .s }}', f),
    "true true false",
  );
  assert.equal(render('{{ repeat 3 "ab" }}'), "ababab");
  assert.equal(render("{{ .s | b64enc }}", f), "SGVsbG8sIOS4lueVjA==");
  assert.equal(render("{{ .e | b64dec }}", { e: "SGVsbG8sIOS4lueVjA==" }), "Hello, 世界");
  assert.throws(() => render("{{ .e | b64dec }}", { e: "%%%" }), TemplateError);
  assert.equal(
    render("{{ add .n 3 }} {{ sub .n 10 }} {{ mul .n 6 }} {{ div .n 2 }} {{ mod .n 4 }}", f),
    "10 -3 42 3 3",
  );
  assert.equal(render('{{ add "x" 1 }}'), "1"); // Sprig: what is no integer counts 0
  assert.throws(() => render("{{ div 1 0 }}"), TemplateError);
  // A count from a query or a label cannot make a line hold the process's memory.
  for (const t of ["{{ repeat .n .s }}", "{{ indent .n .s }}", "{{ alignLeft .n .s }}"]) {
    assert.throws(() => render(t, { n: "100000000", s: "ab" }), /over the limit of 1048576/, t);
  }
  assert.equal(
    render("{{ repeat 2 __line__ | b64enc | b64dec }}", { __line__: "x".repeat(300_000) }).length,
    600_000,
  );
  assert.equal(
    render('{{ .b | trimAll "op" }}|{{ "a\\n b" | indent 2 }}|{{ "x" | nindent 1 }}', {
      b: "blop",
    }),
    "bl|  a\n   b|\n x",
  );
  // Code points of the cutset off either end; a long run that does not reach
  // the end costs one pass (a regex search for it cost a pass per position).
  const run = "a".repeat(200_000);
  assert.equal(render('{{ Trim .s "a" }}', { s: `${run}b${run}` }), "b");
  assert.equal(render('{{ TrimRight .s "a" }}', { s: `${run}b` }), `${run}b`);
  assert.equal(render('{{ TrimLeft .s "a" }}', { s: `b${run}` }), `b${run}`);
  assert.equal(render('{{ Trim .s "😀x" }}', { s: "😀x😀yx😀" }), "y");
  assert.equal(render('{{ Trim .s "]-" }}', { s: "-]a]-" }), "a");
  assert.equal(render("{{ .u | urlencode }}", { u: "a b&c=d/é~" }), "a+b%26c%3Dd%2F%C3%A9~");
  assert.equal(render("{{ .u | urldecode }}", { u: "a+b%26c%3Dd%2F%C3%A9~" }), "a b&c=d/é~");
  // Bytes and durations as Go prints a float64: 3e+06 from a million on.
  assert.equal(
    render("{{ .a | bytes }} {{ .b | bytes }} {{ .c | bytes }}", {
      a: "3 kB",
      b: "3MB",
      c: "1KiB",
    }),
    "3000 3e+06 1024",
  );
  assert.equal(
    render("{{ .a | duration }} {{ .b | duration_seconds }}", { a: "3ms", b: "3m10s" }),
    "0.003 190",
  );
});

Deno.test("templates: RE2 regex functions, as Go's regexp", () => {
  const f = { s: "abc abc abc", p: "paper" };
  assert.equal(
    render('{{ .s | count "abc" }} {{ .s | count "a|b|c" }} {{ count "x*" "ab" }}', f),
    "3 9 3",
  );
  assert.equal(render('{{ regexReplaceAll "(p)" .p "t" }}', f), "tater");
  assert.equal(render('{{ regexReplaceAll "p(?P<v>[ae])" .p "${v}$1|$$" }}', f), "aa|$ee|$r");
  assert.equal(render('{{ regexReplaceAll "(p)" .p "$1x" }}', f), "aer"); // $1x names a group "1x"
  assert.equal(render('{{ regexReplaceAllLiteral "(p)" .p "${1}" }}', f), "${1}a${1}er");
  assert.equal(render('{{ regexReplaceAll "a*" "baaac" "-" }}', f), "-b-c-"); // no empty match after one
  assert.throws(() => render('{{ regexReplaceAll "a(" .p "" }}', f), TemplateError);
  assert.throws(() => render("{{ .p | count .r }}", { ...f, r: "a".repeat(20_000) }), /over 16384/);
});

Deno.test("templates: unsupported constructs and wrong arities are refused when parsed", () => {
  for (
    const [t, message] of [
      ["{{ range .a }}{{ end }}", 'unsupported template action "range"'],
      ["{{ if .a }}x", 'unclosed "if": expected "{{ end }}"'],
      ["x{{ end }}", 'unexpected "end"'],
      ["{{ else }}", 'unexpected "else"'],
      ["{{ if .a }}{{ else }}{{ else }}{{ end }}", 'unexpected "else" after "else"'],
      ["{{ end .a }}", 'unexpected text after "end"'],
      ["{{ .a | if }}", '"if" must begin an action'],
      ["{{ if }}{{ end }}", "empty action"],
      ["{{ eq .a }}", 'function "eq" takes at least 2 arguments, got 1'],
      ["{{ nil }}", 'unsupported template constant "nil"'],
      ["{{ $x := 1 }}", "unsupported template variable"],
      ["{{ .a.b }}", 'unsupported nested field reference ".a.…"'],
      ["{{ (.a }}", 'unclosed "(": expected ")"'],
      ["{{ .a) }}", 'unexpected ")"'],
      ["{{ () }}", "empty action"],
      ["{{ (.a) 1 }}", "a value cannot take arguments"],
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
