// @ts-check
/// <reference lib="dom" />
/**
 * The status line and the query error under the bar.
 *
 * @module
 */

import { ApiError } from "./api.js";
import { el, h } from "./dom.js";
import { view } from "./state.js";

/**
 * @param {string} text
 * @param {boolean} [isError]
 */
export function setStatus(text, isError = false) {
  el.status.textContent = text;
  el.status.className = isError ? "error" : "";
}

/**
 * Shows an error in the status line, or inline under the bar for query errors.
 *
 * @param {any} error
 */
export function showFailure(error) {
  if (error?.name === "AbortError") return;
  const inline = error instanceof ApiError && error.status === 400;
  if (inline) showQueryError(error);
  setStatus(inline ? "Query failed" : error.message, true);
}

/**
 * Logs an error unless it is a cancelled request.
 *
 * @param {any} error
 */
export function ignoreAbort(error) {
  if (error?.name !== "AbortError") console.error(error);
}

/**
 * Shows the query with the character at the server's 1-based position marked.
 *
 * @param {ApiError | null} error
 */
export function showQueryError(error) {
  el.q.removeAttribute("aria-invalid");
  el.error.hidden = !error;
  if (!error) return;
  el.q.setAttribute("aria-invalid", "true");
  /** @type {(string | Node)[]} */
  const parts = [error.message];
  const at = error.position;
  if (at !== undefined && Number.isInteger(at) && at >= 1) {
    const i = Math.min(at - 1, view.q.length);
    parts.push(
      "\n",
      view.q.slice(0, i),
      h("mark", {}, view.q.slice(i, i + 1) || " "),
      view.q.slice(i + 1),
    );
    el.q.focus();
    el.q.setSelectionRange(i, i + 1);
  }
  el.error.replaceChildren(...parts);
}
