// @ts-check
/// <reference lib="dom" />
/**
 * The live tail: the server's stream of new lines (`/api/v1/tail`, server-
 * sent events), from the newest line shown on; it pauses while the user
 * reads above the bottom, and reconnects from the newest line shown when
 * the stream ends.
 *
 * @module
 */

import { ApiError, openStream, parseJSON, toEntry } from "./api.js";
import { el, h } from "./dom.js";
import { serverEvents } from "./event_stream.js";
import { boundary, dedupe, renderRow, scrollToBottom } from "./results.js";
import { current, shown, view } from "./state.js";
import { showFailure } from "./status.js";

/** @typedef {import("./state.js").Entry} Entry */
/** @typedef {import("./state.js").Boundary} Boundary */

/** Stored lines the stream replays from the newest shown, at most. */
const TAIL_REPLAY = 1000;
const TAIL_MAX_ROWS = 2000;
const RECONNECT_MS = 2000;
/** Where the server dropped lines for this tail. */
const FELL_BEHIND = "… some lines were skipped (the tail fell behind)";
/** Where a (re)connection's replay started past lines that one answer could not hold. */
const REPLAY_CUT = "… lines since the last shown that one answer cannot hold are skipped";

/** Follows the server's stream of new lines. */
export function startTail() {
  const controller = new AbortController();
  current.tail = { controller, paused: false, pending: [] };
  el.older.hidden = true;
  el.tailStatus.textContent = "● Live";
  if (!shown.newest) shown.newest = { ts: shown.window.start, seen: new Map() };
  follow(controller.signal);
}

export function stopTail() {
  current.tail.controller?.abort();
  current.tail.controller = null;
  el.tailStatus.textContent = "";
  el.resume.hidden = true;
}

/**
 * Reads the stream until it is aborted; a stream that ends or fails is
 * opened again from the newest line shown, unless the server refused it.
 *
 * @param {AbortSignal} signal
 */
async function follow(signal) {
  while (!signal.aborted) {
    try {
      await readStream(signal);
      if (signal.aborted) return;
      el.tailStatus.textContent = "● Live · reconnecting…";
    } catch (error) {
      if (signal.aborted) return;
      showFailure(error);
      // A refused query or key will be refused again.
      if (error instanceof ApiError && error.status >= 400 && error.status < 500) {
        if (error.status !== 429) return stopTail();
      }
      el.tailStatus.textContent = "● Live · reconnecting…";
    }
    await new Promise((r) => setTimeout(r, RECONNECT_MS));
  }
}

/**
 * One stream: the stored lines from the newest shown (those already shown
 * skipped), then new lines as they come.
 *
 * @param {AbortSignal} signal
 */
async function readStream(signal) {
  const edge = /** @type {Boundary} */ (shown.newest); // set by startTail
  const params = new URLSearchParams({
    query: view.q,
    start: String(edge.ts),
    limit: String(TAIL_REPLAY),
  });
  const body = await openStream(`api/v1/tail?${params}`, signal);
  el.tailStatus.textContent = "● Live";
  for await (const { event, data } of serverEvents(body)) {
    const batch = parseJSON(data);
    if (event === "end") throw new Error(`Live tail ended: ${batch.error}`);
    /** @type {Entry[]} */
    const got = batch.entries.map(toEntry);
    /** @type {(Entry | string)[]} */
    const fresh = batch.replay ? dedupe(got, edge) : got;
    // Lines the server could not keep for us, or replayed lines beyond the limit or its size bound.
    if (batch.dropped > 0) fresh.unshift(FELL_BEHIND);
    if (batch.replay && (got.length === TAIL_REPLAY || batch.truncated)) fresh.unshift(REPLAY_CUT);
    // The next stream starts from the newest time shown (lines arrive in any time order).
    const newest = got.reduce((ts, e) => (e.ts > ts ? e.ts : ts), edge.ts);
    if (newest >= /** @type {Boundary} */ (shown.newest).ts) {
      shown.newest = boundary(got, newest, shown.newest);
    }
    if (fresh.length > 0) receive(fresh);
  }
}

/**
 * Appends tailed lines (oldest first; a string marks skipped lines, and says
 * why), or holds them while the user reads above.
 *
 * @param {(Entry | string)[]} entries
 */
function receive(entries) {
  const { tail } = current;
  if (tail.paused) {
    tail.pending.push(...entries);
    tail.pending.splice(0, tail.pending.length - TAIL_MAX_ROWS);
    const lines = tail.pending.filter((e) => typeof e !== "string").length;
    el.resume.textContent = `Paused · ${lines} new lines ↓`;
    el.resume.hidden = false;
    return;
  }
  el.lines.querySelector(".empty-results")?.remove();
  el.lines.append(
    ...entries.map((e) => {
      if (typeof e === "string") return h("li.gap", {}, e);
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
  if (!tail.controller) return;
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
