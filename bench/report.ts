/**
 * Rendering of benchmark figures: a Markdown table with aligned columns, and the number formats
 * its cells use.
 *
 * @module
 */

/** One row of the report table. Empty cells are written as `—`. */
export interface ReportRow {
  /** What is measured, e.g. `needle trace id, no time bound`. */
  figure: string;
  /** loge's figure, e.g. `12.3 ms p50 · 15.0 ms p95`. */
  value: string;
  /** The same work done by a baseline tool, e.g. `rg -F: 98.1 ms`. */
  baseline?: string;
  /** How the two compare, e.g. `8.0× faster`. */
  ratio?: string;
  /** The target, e.g. `≤ 50 ms p50`. */
  target?: string;
  /** Whether the target is met; `undefined` when there is no target or no figure. */
  pass?: boolean;
}

/** The column titles of {@linkcode reportTable}. */
export const REPORT_COLUMNS: readonly string[] = [
  "figure",
  "loge",
  "baseline",
  "ratio",
  "target",
  "",
];

/**
 * The pass/fail mark of a row: `✅` pass, `❌` fail, `—` when there is nothing to judge.
 *
 * @example
 * ```ts
 * import { mark } from "./report.ts";
 * console.log(mark(true), mark(false), mark(undefined)); // ✅ ❌ —
 * ```
 */
export function mark(pass: boolean | undefined): string {
  return pass === undefined ? "—" : pass ? "✅" : "❌";
}

/** Escapes a table cell: pipes and newlines would break the row. */
function cell(text: string | undefined): string {
  if (text === undefined || text === "") return "—";
  return text.replaceAll("|", "\\|").replaceAll("\n", " ");
}

/**
 * A Markdown table with padded columns, from a header and rows of cells.
 *
 * @example
 * ```ts
 * import { markdownTable } from "./report.ts";
 * console.log(markdownTable(["a", "bb"], [["1", "2"]]));
 * // | a | bb |
 * // |---|----|
 * // | 1 | 2  |
 * ```
 * @throws {RangeError} If a row's length differs from the header's.
 */
export function markdownTable(header: readonly string[], rows: readonly string[][]): string {
  for (const row of rows) {
    if (row.length !== header.length) {
      throw new RangeError(
        `Cannot render table: row has ${row.length} cells, expected ${header.length}`,
      );
    }
  }
  const all = [header.map((h) => cell(h === "" ? " " : h)), ...rows.map((r) => r.map(cell))];
  const widths = header.map((_, i) => Math.max(1, ...all.map((r) => width(r[i]))));
  const line = (r: string[]) =>
    `| ${r.map((c, i) => c + " ".repeat(widths[i] - width(c))).join(" | ")} |`;
  const rule = `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`;
  return [line(all[0]), rule, ...all.slice(1).map(line)].join("\n");
}

/** Display width: emoji marks take two columns in a terminal. */
function width(text: string): number {
  let w = 0;
  for (const ch of text) w += /\p{Extended_Pictographic}/u.test(ch) ? 2 : 1;
  return w;
}

/**
 * The report table of benchmark rows.
 *
 * @example
 * ```ts
 * import { reportTable } from "./report.ts";
 * console.log(reportTable([{ figure: "ingest", value: "1 lines/s", target: "≥ 2", pass: false }]));
 * ```
 */
export function reportTable(rows: readonly ReportRow[]): string {
  return markdownTable(
    REPORT_COLUMNS,
    rows.map((
      r,
    ) => [r.figure, r.value, r.baseline ?? "", r.ratio ?? "", r.target ?? "", mark(r.pass)]),
  );
}

/**
 * Milliseconds with three significant digits: `0.412 ms`, `12.3 ms`, `412 ms`, `3.21 s`.
 *
 * @example
 * ```ts
 * import { formatMs } from "./report.ts";
 * console.log(formatMs(12.345), formatMs(3210)); // 12.3 ms 3.21 s
 * ```
 */
export function formatMs(ms: number): string {
  if (ms >= 1000) return `${(ms / 1000).toPrecision(3)} s`;
  if (ms >= 100) return `${Math.round(ms)} ms`;
  return `${ms.toPrecision(3)} ms`;
}

/**
 * An integer with thin thousands separators: `1,234,567`.
 *
 * @example
 * ```ts
 * import { formatInt } from "./report.ts";
 * console.log(formatInt(1234567.4)); // 1,234,567
 * ```
 */
export function formatInt(n: number): string {
  return Math.round(n).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ",");
}

/**
 * Bytes in MB (10^6), with one decimal: `12.3 MB`.
 *
 * @example
 * ```ts
 * import { formatMB } from "./report.ts";
 * console.log(formatMB(12_345_678)); // 12.3 MB
 * ```
 */
export function formatMB(bytes: number): string {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}

/**
 * Bytes with a unit of powers of 10 and three significant digits: `512 B`, `64.0 kB`, `5.12 MB`,
 * `1.23 GB`.
 *
 * @example
 * ```ts
 * import { formatBytes } from "./report.ts";
 * console.log(formatBytes(512), formatBytes(65_536), formatBytes(5_120_000)); // 512 B 65.5 kB 5.12 MB
 * ```
 */
export function formatBytes(bytes: number): string {
  const units = ["B", "kB", "MB", "GB", "TB"];
  let i = 0;
  let x = Math.round(bytes);
  while (Math.abs(x) >= 999.5 && i < units.length - 1) {
    x /= 1000;
    i++;
  }
  return i === 0 ? `${x} B` : `${x.toPrecision(3)} ${units[i]}`;
}

/**
 * A fraction as a percentage with two significant digits: `0.93%`, `12%`, `0%`.
 *
 * @example
 * ```ts
 * import { formatPercent } from "./report.ts";
 * console.log(formatPercent(0.0093), formatPercent(0.123), formatPercent(0)); // 0.93% 12% 0%
 * ```
 */
export function formatPercent(fraction: number): string {
  const p = fraction * 100;
  if (p === 0) return "0%";
  return `${p >= 10 ? Math.round(p) : p.toPrecision(2)}%`;
}

/**
 * A ratio with two significant digits and a `×`: `0.93×`, `12×`, `1.1×`.
 *
 * @example
 * ```ts
 * import { formatRatio } from "./report.ts";
 * console.log(formatRatio(12.34), formatRatio(0.9312)); // 12× 0.93×
 * ```
 */
export function formatRatio(x: number): string {
  if (!Number.isFinite(x)) return "∞×";
  return `${x >= 10 ? Math.round(x) : x.toPrecision(2)}×`;
}

/**
 * How much faster loge is, from `baseline time / loge time`: `12× faster`, or `2.5× slower` when
 * the ratio is below 1.
 *
 * @example
 * ```ts
 * import { formatSpeedup } from "./report.ts";
 * console.log(formatSpeedup(12.3), formatSpeedup(0.4)); // 12× faster 2.5× slower
 * ```
 */
export function formatSpeedup(ratio: number): string {
  return ratio >= 1 ? `${formatRatio(ratio)} faster` : `${formatRatio(1 / ratio)} slower`;
}
