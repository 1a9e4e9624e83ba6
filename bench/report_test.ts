import assert from "node:assert/strict";
import {
  formatBytes,
  formatInt,
  formatMB,
  formatMs,
  formatPercent,
  formatRatio,
  formatSpeedup,
  mark,
  markdownTable,
  reportTable,
} from "./report.ts";

Deno.test("markdownTable() pads columns and escapes pipes", () => {
  assert.equal(
    markdownTable(["a", "long header"], [["x | y", ""], ["1", "2"]]),
    [
      "| a      | long header |",
      "|--------|-------------|",
      "| x \\| y | —           |",
      "| 1      | 2           |",
    ].join("\n"),
  );
});

Deno.test("markdownTable() counts emoji marks as two columns", () => {
  const table = markdownTable(["ok", "b"], [["✅", "x"], ["no", "y"]]);
  const [, , first, second] = table.split("\n");
  assert.equal(first, "| ✅ | x |");
  assert.equal(second, "| no | y |");
});

Deno.test("markdownTable() rejects a row of the wrong length", () => {
  assert.throws(
    () => markdownTable(["a", "b"], [["1"]]),
    /row has 1 cells, expected 2/,
  );
});

Deno.test("reportTable() writes every column and the pass/fail mark", () => {
  const table = reportTable([
    {
      figure: "query",
      value: "3 ms",
      baseline: "rg: 30 ms",
      ratio: "10× faster",
      target: "≤ 50 ms",
      pass: true,
    },
    { figure: "size", value: "40 B/line", target: "≤ 1.1×", pass: false },
    { figure: "latency", value: "2 ms" },
  ]);
  const lines = table.split("\n");
  assert.equal(lines.length, 5);
  assert.match(lines[0], /^\| figure +\| loge +\| baseline +\| ratio +\| target +\| +\|$/);
  assert.match(lines[2], /\| query .*\| rg: 30 ms .*\| 10× faster \| ≤ 50 ms \| ✅ \|$/);
  assert.match(lines[3], /\| size .*\| — .*\| ≤ 1.1× .*\| ❌ \|$/);
  assert.match(lines[4], /\| latency +\| 2 ms +\| — +\| — +\| — +\| — +\|$/);
});

Deno.test("mark() marks pass, fail and nothing to judge", () => {
  assert.deepEqual([mark(true), mark(false), mark(undefined)], ["✅", "❌", "—"]);
});

Deno.test("number formats", () => {
  assert.equal(formatMs(0.4123), "0.412 ms");
  assert.equal(formatMs(12.345), "12.3 ms");
  assert.equal(formatMs(412.4), "412 ms");
  assert.equal(formatMs(3210), "3.21 s");
  assert.equal(formatInt(1234567.4), "1,234,567");
  assert.equal(formatInt(999), "999");
  assert.equal(formatMB(12_345_678), "12.3 MB");
  assert.equal(formatRatio(12.34), "12×");
  assert.equal(formatRatio(1.0999), "1.1×");
  assert.equal(formatRatio(0.9312), "0.93×");
  assert.equal(formatRatio(Infinity), "∞×");
  assert.equal(formatSpeedup(12.3), "12× faster");
  assert.equal(formatSpeedup(1), "1.0× faster");
  assert.equal(formatSpeedup(0.4), "2.5× slower");
  assert.equal(formatBytes(0), "0 B");
  assert.equal(formatBytes(999), "999 B");
  assert.equal(formatBytes(1000), "1.00 kB");
  assert.equal(formatBytes(65_536), "65.5 kB");
  assert.equal(formatBytes(999_500), "1.00 MB");
  assert.equal(formatBytes(556_451_719), "556 MB");
  assert.equal(formatBytes(1.234e9), "1.23 GB");
  assert.equal(formatPercent(0), "0%");
  assert.equal(formatPercent(0.0093), "0.93%");
  assert.equal(formatPercent(0.02), "2.0%");
  assert.equal(formatPercent(0.123), "12%");
});
