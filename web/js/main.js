// @ts-check
/// <reference lib="dom" />
/**
 * loge web UI: plain DOM, no framework. The view state (query, range,
 * limit, live) lives in the URL; the theme and API key in localStorage.
 * This module wires the events and starts the first run.
 *
 * @module
 */

import { KEY_STORE, updateKeyButton } from "./api.js";
import { copyText, el } from "./dom.js";
import { drawHistogram } from "./histogram.js";
import { loadOlder, toggleDetails } from "./results.js";
import { filterBy, runView, updateHighlighters } from "./run.js";
import { rowEntries, shown, view } from "./state.js";
import { setStatus } from "./status.js";
import { onResultsScroll, resumeTail } from "./tail.js";
import { clampLimit, readAbsoluteInputs, viewFromURL, viewToForm } from "./view_url.js";

const THEME_STORE = "loge.theme";

function toggleTheme() {
  const current = document.documentElement.dataset.theme ??
    (matchMedia("(prefers-color-scheme: dark)").matches ? "dark" : "light");
  const next = current === "dark" ? "light" : "dark";
  document.documentElement.dataset.theme = next;
  localStorage.setItem(THEME_STORE, next);
}

el.form.addEventListener("submit", (event) => {
  event.preventDefault();
  view.q = el.q.value.trim();
  view.limit = clampLimit(el.limit.value);
  el.limit.value = String(view.limit);
  if (view.range === "custom") readAbsoluteInputs();
  updateHighlighters();
  runView();
});
el.range.addEventListener("change", () => {
  view.range = el.range.value;
  if (view.range === "custom") {
    const { start, end } = shown.window;
    view.from = String(start);
    view.to = String(end);
    viewToForm();
    el.from.focus();
  } else {
    view.from = view.to = "";
    viewToForm();
    runView();
  }
});
el.live.addEventListener("click", () => {
  view.live = !view.live;
  viewToForm();
  runView();
});
el.theme.addEventListener("click", toggleTheme);
el.forgetKey.addEventListener("click", () => {
  localStorage.removeItem(KEY_STORE);
  updateKeyButton();
  setStatus("API key forgotten: you will be asked again.");
});
el.older.addEventListener("click", loadOlder);
el.resume.addEventListener("click", resumeTail);
el.results.addEventListener("scroll", onResultsScroll, { passive: true });
document.addEventListener("click", (event) => {
  if (!(event.target instanceof Element)) return;
  const target = event.target.closest("[data-action]");
  if (!(target instanceof HTMLElement || target instanceof SVGElement)) return;
  const row = target.closest(".row");
  const { action, name = "", value = "", op } = target.dataset;
  if (action === "filter") filterBy(name, value, op ?? (event.shiftKey ? "!=" : "="));
  else if (action === "expand" && row) toggleDetails(row);
  else if (action === "copy" && row) {
    copyText(rowEntries.get(row)?.line ?? "").then(() => {
      target.classList.add("done");
      setTimeout(() => target.classList.remove("done"), 1000);
    });
  }
});
document.addEventListener("keydown", (event) => {
  const typing = event.target instanceof Element &&
    event.target.closest("input, select, textarea, [contenteditable]");
  if (event.key === "/" && !typing && !event.ctrlKey && !event.metaKey) {
    event.preventDefault();
    el.q.focus();
    el.q.setSelectionRange(el.q.value.length, el.q.value.length);
  } else if (event.key === "Escape" && event.target === el.q) el.q.blur();
});
addEventListener("popstate", () => {
  viewFromURL();
  viewToForm();
  updateHighlighters();
  runView({ push: false });
});
new ResizeObserver(drawHistogram).observe(el.histogram);

const savedTheme = localStorage.getItem(THEME_STORE);
if (savedTheme) document.documentElement.dataset.theme = savedTheme;
updateKeyButton();
viewFromURL();
viewToForm();
updateHighlighters();
runView({ push: false });
