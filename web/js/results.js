// @ts-check
/// <reference lib="dom" />
/**
 * The result rows: rendering, details, highlighting, and paging to older
 * lines without repeating those at the boundary timestamp.
 *
 * @module
 */

import { queryLines } from "./api.js";
import { copyIcon, el, h } from "./dom.js";
import { current, MAX_LIMIT, rowEntries, shown, view } from "./state.js";
import { setStatus, showFailure } from "./status.js";
import { formatTime, fullTime } from "./time.js";

/** @typedef {import("./state.js").Entry} Entry */
/** @typedef {import("./state.js").Boundary} Boundary */

/**
 * Replaces the results with `entries` (newest first; oldest first when live).
 *
 * @param {Entry[]} entries
 */
export function showLines(entries) {
  el.results.classList.remove("stale");
  el.lines.replaceChildren();
  el.older.hidden = true;
  el.resume.hidden = true;
  shown.oldest = boundary(entries, entries.at(-1)?.ts);
  shown.newest = boundary(entries, entries[0]?.ts);
  if (entries.length === 0) {
    el.lines.append(h("li.empty-results", {}, "No lines match in this time range."));
    return;
  }
  const ordered = view.live ? [...entries].reverse() : entries;
  el.lines.append(...ordered.map(renderRow));
  if (view.live) scrollToBottom();
  else el.results.scrollTop = 0;
}

export function scrollToBottom() {
  el.results.scrollTop = el.results.scrollHeight;
}

/** Appends lines older than those shown, continuing from the oldest timestamp. */
export async function loadOlder() {
  const { oldest } = shown;
  if (!oldest) return;
  el.older.disabled = true;
  try {
    // The request includes the boundary timestamp: ask for what is shown there, plus a page.
    const repeated = [...oldest.seen.values()].reduce((a, b) => a + b, 0);
    let limit = Math.min(view.limit + repeated, MAX_LIMIT);
    let got = await queryLines(shown.window.start, oldest.ts, limit);
    let fresh = dedupe(got.entries, oldest);
    /** @type {HTMLElement[]} */
    const gap = [];
    if (fresh.length === 0 && got.more && oldest.ts > shown.window.start) {
      // More lines share the boundary timestamp than one answer holds (its limit or its size
      // bound): step past it, and say that some of them may not be shown.
      gap.push(
        h(
          "li.gap",
          {},
          `… lines at ${fullTime(oldest.ts)} that one answer cannot hold are skipped`,
        ),
      );
      limit = view.limit;
      got = await queryLines(shown.window.start, oldest.ts - 1n, limit);
      fresh = got.entries;
    }
    el.lines.append(...gap, ...fresh.map(renderRow));
    if (fresh.length > 0) shown.oldest = boundary(fresh, fresh[fresh.length - 1].ts, oldest);
    shown.hasMore = got.more;
    el.older.hidden = !shown.hasMore;
    setStatus(`${el.lines.querySelectorAll(".row").length} lines`);
  } catch (error) {
    showFailure(error);
  } finally {
    el.older.disabled = false;
  }
}

/** @param {Entry} e */
const entryKey = (e) => `${JSON.stringify(e.labels)}\n${e.line}`;

/**
 * The boundary of a page: timestamp `ts` and a count of each line at it,
 * so that the next request (inclusive of `ts`) can skip what is shown.
 * Extends `previous` when it has the same timestamp.
 *
 * @param {(Entry | null)[]} entries
 * @param {bigint | undefined} ts
 * @param {Boundary | null} [previous]
 * @returns {Boundary | null}
 */
export function boundary(entries, ts, previous) {
  if (ts === undefined) return null;
  const seen = new Map(previous?.ts === ts ? previous.seen : []);
  for (const e of entries) {
    if (!e || e.ts !== ts) continue;
    const key = entryKey(e);
    seen.set(key, (seen.get(key) ?? 0) + 1);
  }
  return { ts, seen };
}

/**
 * Drops the lines of `entries` already shown at the boundary timestamp.
 *
 * @param {Entry[]} entries
 * @param {Boundary | null} edge
 * @returns {Entry[]}
 */
export function dedupe(entries, edge) {
  if (!edge) return entries;
  const budget = new Map(edge.seen);
  return entries.filter((e) => {
    if (e.ts !== edge.ts) return true;
    const key = entryKey(e);
    const n = budget.get(key) ?? 0;
    if (n === 0) return true;
    budget.set(key, n - 1);
    return false;
  });
}

/**
 * Builds one result row: toggle, time, label chips, highlighted line, copy.
 *
 * @param {Entry} entry
 * @returns {HTMLElement}
 */
export function renderRow(entry) {
  const chips = Object.entries(entry.labels).map(([name, value]) =>
    h(
      "button.chip",
      {
        type: "button",
        "data-action": "filter",
        "data-name": name,
        "data-value": value,
        title: `Add ${name}="${value}" to the query (shift-click to exclude)`,
      },
      h("span.k", {}, name),
      h("span.v", {}, value),
    )
  );
  const row = h(
    `li.row.lvl-${levelClass(entry.labels.level)}`,
    {},
    h(
      "button.toggle",
      { type: "button", "data-action": "expand", "aria-expanded": "false", title: "Details" },
      looksLikeJSON(entry.line) ? "{}" : "›",
    ),
    h("time", { title: fullTime(entry.ts) }, formatTime(entry.ts)),
    h("div.text", {}, ...chips, h("span.line", {}, ...highlight(entry.line))),
    h("button.copy", { type: "button", "data-action": "copy", title: "Copy line" }, copyIcon()),
  );
  rowEntries.set(row, entry);
  return row;
}

/**
 * Maps a level label value onto one of the colour classes.
 *
 * @param {string | undefined} level
 * @returns {string}
 */
export function levelClass(level) {
  if (level === undefined) return "none";
  const l = level.toLowerCase();
  if (/^(err|fatal|crit|panic|emerg|alert)/.test(l)) return "error";
  if (l.startsWith("warn")) return "warn";
  if (l.startsWith("info") || l === "notice") return "info";
  if (l.startsWith("debug")) return "debug";
  if (l.startsWith("trace")) return "trace";
  return "other";
}

/** @param {string} line */
const looksLikeJSON = (line) => /^\s*[{[][\s\S]*[}\]]\s*$/.test(line);

/**
 * Expands or collapses a row's details: labels, metadata, pretty JSON.
 *
 * @param {Element} row
 */
export function toggleDetails(row) {
  const open = row.querySelector(".details");
  row.querySelector(".toggle")?.setAttribute("aria-expanded", String(!open));
  if (open) return open.remove();
  const entry = rowEntries.get(row);
  if (!entry) return;
  /** @type {[string, string, boolean?][]} */
  const fields = [
    ["timestamp", fullTime(entry.ts)],
    ...Object.entries(entry.labels).map((
      [k, v],
    ) => /** @type {[string, string, boolean]} */ ([k, v, true])),
    ...Object.entries(entry.metadata ?? {}).map((
      [k, v],
    ) => /** @type {[string, string]} */ ([k, String(v)])),
  ];
  const table = h(
    "table",
    {},
    ...fields.map(([name, value, isLabel]) =>
      h(
        "tr",
        {},
        h("th", {}, name),
        h(
          "td",
          {},
          value,
          isLabel && filterButton(name, value, "=", "+", "Filter for this value"),
          isLabel && filterButton(name, value, "!=", "−", "Filter out this value"),
        ),
      )
    ),
  );
  row.append(h("div.details", {}, table, renderLineBody(entry.line)));
}

/**
 * @param {string} name
 * @param {string} value
 * @param {string} op
 * @param {string} text
 * @param {string} title
 */
function filterButton(name, value, op, text, title) {
  return h("button", {
    type: "button",
    "data-action": "filter",
    "data-name": name,
    "data-value": value,
    "data-op": op,
    title,
  }, text);
}

/**
 * The line pretty-printed when it is JSON, else as is.
 *
 * @param {string} line
 */
function renderLineBody(line) {
  if (looksLikeJSON(line)) {
    try {
      JSON.parse(line);
      return h("pre.json", {}, ...prettyJSON(line));
    } catch { /* not JSON after all: shown as text */ }
  }
  return h("pre", {}, line);
}

/**
 * Re-indents valid JSON text token by token, so numbers keep their exact
 * digits (JSON.parse would round integers beyond 2^53).
 *
 * @param {string} text
 * @returns {(string | Node)[]}
 */
function prettyJSON(text) {
  const tokens = text.match(/"(?:[^"\\]|\\.)*"|[{}[\],:]|[^\s{}[\],:"]+/g) ?? [];
  /** @type {(string | Node)[]} */
  const out = [];
  let depth = 0;
  const newline = () => "\n" + "  ".repeat(depth);
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i];
    const next = tokens[i + 1];
    if (t === "{" || t === "[") {
      if (next === "}" || next === "]") {
        out.push(t + next);
        i++;
      } else {
        depth++;
        out.push(t + newline());
      }
    } else if (t === "}" || t === "]") {
      depth--;
      out.push(newline() + t);
    } else if (t === ",") out.push("," + newline());
    else if (t === ":") out.push(": ");
    else {
      const kind = t[0] === '"' ? (next === ":" ? "key" : "str") : /^[-\d]/.test(t) ? "num" : "lit";
      out.push(h(`span.${kind}`, {}, t));
    }
  }
  return out;
}

/**
 * The line as text nodes and <mark>s around every match of the query's terms.
 *
 * @param {string} line
 * @returns {(string | Node)[]}
 */
function highlight(line) {
  /** @type {[number, number][]} */
  const ranges = [];
  for (const re of current.highlighters) {
    for (const m of line.matchAll(re)) {
      if (m[0]) ranges.push([m.index, m.index + m[0].length]);
    }
  }
  if (ranges.length === 0) return [line];
  ranges.sort((a, b) => a[0] - b[0]);
  /** @type {(string | Node)[]} */
  const out = [];
  let at = 0;
  for (const [start, end] of ranges) {
    if (end <= at) continue;
    const from = Math.max(start, at);
    if (from > at) out.push(line.slice(at, from));
    out.push(h("mark", {}, line.slice(from, end)));
    at = end;
  }
  if (at < line.length) out.push(line.slice(at));
  return out;
}
