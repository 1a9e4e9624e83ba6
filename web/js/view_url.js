// @ts-check
/// <reference lib="dom" />
/**
 * The view ⇄ the URL and the form controls.
 *
 * @module
 */

import { el } from "./dom.js";
import { DEFAULT_LIMIT, DEFAULT_RANGE, MAX_LIMIT, view } from "./state.js";
import { fromLocalInput, localISO, nowNs, parseRange, parseTimeParam } from "./time.js";

/** @typedef {import("./state.js").Window} Window */

/** Loads the view from the URL. */
export function viewFromURL() {
  const p = new URLSearchParams(location.search);
  view.q = p.get("q") ?? "";
  view.from = parseTimeParam(p.get("from"));
  view.to = parseTimeParam(p.get("to"));
  const range = p.get("range");
  view.range = view.from || view.to
    ? "custom"
    : range !== null && parseRange(range) !== undefined
    ? range
    : DEFAULT_RANGE;
  view.limit = clampLimit(p.get("limit"));
  view.live = p.get("live") === "1";
}

/**
 * Writes the view to the URL (a new history entry when `push`).
 *
 * @param {boolean} push
 */
export function viewToURL(push) {
  const p = new URLSearchParams();
  if (view.q) p.set("q", view.q);
  if (view.range === "custom") {
    if (view.from) p.set("from", view.from);
    if (view.to) p.set("to", view.to);
  } else {
    p.set("range", view.range);
  }
  if (view.limit !== DEFAULT_LIMIT) p.set("limit", String(view.limit));
  if (view.live) p.set("live", "1");
  const search = `?${p}`;
  if (search === location.search) return;
  history[push ? "pushState" : "replaceState"](null, "", search);
}

/**
 * A limit from the URL or the form, within the server's bounds.
 *
 * @param {string | null} value
 * @returns {number}
 */
export function clampLimit(value) {
  const n = Math.round(Number(value));
  return Number.isFinite(n) && n >= 1 ? Math.min(n, MAX_LIMIT) : DEFAULT_LIMIT;
}

/** Shows the view in the form controls. */
export function viewToForm() {
  el.q.value = view.q;
  if (view.range !== "custom" && !el.range.querySelector(`option[value="${view.range}"]`)) {
    el.range.add(new Option(`Last ${view.range}`, view.range), el.range.options.length - 1);
  }
  el.range.value = view.range;
  el.abs.hidden = view.range !== "custom";
  el.from.value = view.from ? localISO(BigInt(view.from)) : "";
  el.to.value = view.to ? localISO(BigInt(view.to)) : "";
  el.limit.value = String(view.limit);
  el.live.setAttribute("aria-pressed", String(view.live));
}

/** Takes the absolute inputs the user edited (untouched ones keep their nanoseconds). */
export function readAbsoluteInputs() {
  for (const name of /** @type {const} */ (["from", "to"])) {
    const shownValue = view[name] ? localISO(BigInt(view[name])) : "";
    if (el[name].value !== shownValue) view[name] = fromLocalInput(el[name].value);
  }
}

/**
 * The concrete [start, end] of the view, resolved now.
 *
 * @returns {Window}
 */
export function resolveWindow() {
  if (view.range !== "custom") {
    const end = nowNs();
    return { start: end - (parseRange(view.range) ?? 0n), end };
  }
  return {
    start: view.from ? BigInt(view.from) : 0n,
    end: view.to ? BigInt(view.to) : nowNs(),
  };
}
