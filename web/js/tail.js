// @ts-check
/// <reference lib="dom" />
/**
 * The live tail: polls for lines newer than the newest shown, and pauses
 * while the user reads above the bottom.
 *
 * @module
 */

import { api, queryBody, toEntry } from "./api.js";
import { el, h } from "./dom.js";
import { boundary, dedupe, renderRow, scrollToBottom } from "./results.js";
import { current, shown } from "./state.js";
import { showFailure } from "./status.js";

/** @typedef {import("./state.js").Entry} Entry */
/** @typedef {import("./state.js").Boundary} Boundary */

const TAIL_INTERVAL_MS = 1000;
const TAIL_BATCH = 1000;
const TAIL_MAX_ROWS = 2000;

/** Polls for lines newer than the newest shown, about once a second. */
export function startTail() {
  current.tail = { timer: 0, paused: false, pending: [] };
  el.older.hidden = true;
  el.tailStatus.textContent = "● Live";
  if (!shown.newest) shown.newest = { ts: shown.window.start, seen: new Map() };
  scheduleTail(current.run.id);
}

export function stopTail() {
  clearTimeout(current.tail.timer);
  current.tail.timer = 0;
  el.tailStatus.textContent = "";
  el.resume.hidden = true;
}

/** @param {number} id */
function scheduleTail(id) {
  current.tail.timer = setTimeout(() => pollTail(id), TAIL_INTERVAL_MS);
}

/**
 * One poll: lines from the newest timestamp on, minus those already shown.
 *
 * @param {number} id
 */
async function pollTail(id) {
  if (!document.hidden) {
    try {
      const edge = /** @type {Boundary} */ (shown.newest); // set by startTail
      /** @type {Entry[]} */
      const got = (await api("api/v1/query", queryBody(edge.ts, 0n, TAIL_BATCH))).map(toEntry);
      if (id !== current.run.id) return;
      /** @type {(Entry | null)[]} */
      const fresh = dedupe(got, edge).reverse();
      if (fresh.length > 0) {
        shown.newest = boundary(fresh, fresh[fresh.length - 1]?.ts, edge);
        if (got.length === TAIL_BATCH) fresh.unshift(null); // older lines skipped
        receive(fresh);
      }
    } catch (error) {
      if (id !== current.run.id) return;
      showFailure(error);
    }
  }
  if (id === current.run.id) scheduleTail(id);
}

/**
 * Appends tailed lines (oldest first; null marks skipped lines), or holds
 * them while the user reads above.
 *
 * @param {(Entry | null)[]} entries
 */
function receive(entries) {
  const { tail } = current;
  if (tail.paused) {
    tail.pending.push(...entries);
    tail.pending.splice(0, tail.pending.length - TAIL_MAX_ROWS);
    el.resume.textContent = `Paused · ${tail.pending.length} new lines ↓`;
    el.resume.hidden = false;
    return;
  }
  el.lines.querySelector(".empty-results")?.remove();
  el.lines.append(
    ...entries.map((e) => {
      if (!e) return h("li.gap", {}, "… some lines were skipped (too many per poll)");
      const row = renderRow(e);
      row.classList.add("fresh");
      return row;
    }),
  );
  while (el.lines.childElementCount > TAIL_MAX_ROWS) el.lines.firstElementChild?.remove();
  el.tailStatus.textContent = `● Live · ${el.lines.childElementCount} lines`;
  scrollToBottom();
}

/** Scrolling up pauses the tail; back at the bottom resumes it. */
export function onResultsScroll() {
  const { tail } = current;
  if (!tail.timer) return;
  const r = el.results;
  const atBottom = r.scrollHeight - r.scrollTop - r.clientHeight < 24;
  if (atBottom === !tail.paused) return;
  tail.paused = !atBottom;
  el.tailStatus.textContent = tail.paused ? "❚❚ Paused (scroll down to resume)" : "● Live";
  if (!tail.paused) resumeTail();
}

/** Shows the lines held while paused and follows the bottom again. */
export function resumeTail() {
  const { tail } = current;
  tail.paused = false;
  el.resume.hidden = true;
  const pending = tail.pending;
  tail.pending = [];
  if (pending.length > 0) receive(pending);
  scrollToBottom();
}
