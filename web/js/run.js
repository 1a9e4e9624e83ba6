// @ts-check
/// <reference lib="dom" />
/**
 * Running the view: lines, volume and label keys over one resolved window.
 *
 * @module
 */

import { queryLines } from "./api.js";
import { el } from "./dom.js";
import { loadVolume } from "./histogram.js";
import { loadLabelKeys } from "./labels.js";
import { addMatcher, highlightPatterns } from "./query_text.js";
import { showLines } from "./results.js";
import { current, shown, view } from "./state.js";
import { ignoreAbort, setStatus, showFailure, showQueryError } from "./status.js";
import { startTail, stopTail } from "./tail.js";
import { resolveWindow, viewToURL } from "./view_url.js";

/**
 * Runs the view: lines, volume and label keys over one resolved window,
 * then starts the live tail when it is on.
 *
 * @param {{ push?: boolean }} [options]
 */
export async function runView({ push = true } = {}) {
  stopTail();
  current.run.controller.abort();
  current.run = { id: current.run.id + 1, controller: new AbortController() };
  const { id } = current.run;
  viewToURL(push);
  showQueryError(null);
  const win = resolveWindow();
  shown.window = win;
  document.body.classList.add("loading");
  setStatus("Running…");
  const started = performance.now();
  loadVolume(win).catch(ignoreAbort);
  loadLabelKeys(win).catch(ignoreAbort);
  try {
    const { entries, more } = await queryLines(win.start, win.end, view.limit);
    if (id !== current.run.id) return;
    showLines(entries);
    shown.hasMore = more;
    const ms = Math.round(performance.now() - started);
    setStatus(
      `${entries.length} line${entries.length === 1 ? "" : "s"}${
        !more ? "" : entries.length < view.limit ? " (size limit reached)" : " (limit reached)"
      } · ${ms} ms`,
    );
    if (view.live) startTail();
    else el.older.hidden = !shown.hasMore;
  } catch (error) {
    if (id !== current.run.id) return;
    showFailure(error);
    el.results.classList.add("stale");
  } finally {
    if (id === current.run.id) document.body.classList.remove("loading");
  }
}

/** Takes the query's terms for highlighting. */
export function updateHighlighters() {
  current.highlighters = highlightPatterns(view.q);
}

/**
 * Narrows the query by a label and runs it.
 *
 * @param {string} name
 * @param {string} value
 * @param {string} op
 */
export function filterBy(name, value, op) {
  view.q = addMatcher(el.q.value, name, value, op);
  el.q.value = view.q;
  updateHighlighters();
  runView();
}
