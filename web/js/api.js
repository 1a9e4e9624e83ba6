// @ts-check
/// <reference lib="dom" />
/**
 * The read API: requests with the saved API key (asking for one on 401),
 * exact big integers, and errors with the server's message and position.
 *
 * @module
 */

import { el } from "./dom.js";
import { current, view } from "./state.js";

/** @typedef {import("./state.js").Entry} Entry */
/** @typedef {import("./state.js").Window} Window */

export const KEY_STORE = "loge.apiKey";

/** An API failure, with the server's message and (for parse errors) position. */
export class ApiError extends Error {
  /**
   * @param {number} status
   * @param {string} message
   * @param {number} [position]
   */
  constructor(status, message, position) {
    super(message);
    this.status = status;
    this.position = position;
  }
}

/**
 * Parses an API response. Integers of 16+ digits (nanosecond timestamps,
 * beyond 2^53) become their digit strings, read from the source text, so
 * no precision is lost.
 *
 * @param {string} text
 * @returns {any}
 */
export function parseJSON(text) {
  return JSON.parse(
    text,
    /**
     * @param {string} _key
     * @param {unknown} value
     * @param {{ source?: string }} [context]
     */
    (_key, value, context) =>
      typeof value === "number" && context?.source && /^-?\d{16,}$/.test(context.source)
        ? context.source
        : value,
  );
}

/**
 * Calls a read endpoint (POST when `body` is given) and returns its `data`.
 * On 401 it asks for the API key and retries.
 *
 * @param {string} path
 * @param {object} [body]
 * @param {AbortSignal} [signal]
 * @returns {Promise<any>}
 */
export async function api(path, body, signal = current.run.controller.signal) {
  return (await answer(path, body, signal)).data;
}

/**
 * One page of the view's lines over `[start, end]`, newest first, and whether
 * older lines may follow: the page is full, or the server cut it short of
 * its limit (`"truncated": true`: the lines passed its --max-response-size).
 *
 * @param {bigint} start
 * @param {bigint} end
 * @param {number} limit
 * @returns {Promise<{ entries: Entry[], more: boolean }>}
 */
export async function queryLines(start, end, limit) {
  const body = queryBody(start, end, limit);
  const page = await answer("api/v1/query", body, current.run.controller.signal);
  /** @type {Entry[]} */
  const entries = page.data.map(toEntry);
  return { entries, more: entries.length === limit || page.truncated === true };
}

/**
 * The whole JSON answer of a read endpoint, as {@link api} calls it.
 *
 * @param {string} path
 * @param {object | undefined} body
 * @param {AbortSignal} signal
 * @returns {Promise<any>}
 */
async function answer(path, body, signal) {
  const res = await authorized(path, {
    method: body ? "POST" : "GET",
    headers: body ? { "content-type": "application/json" } : {},
    body: body && JSON.stringify(body),
    signal,
  });
  const data = await answerOf(res);
  if (!res.ok || data.status === "error") throw failure(res, data);
  return data;
}

/**
 * Opens a stream of server-sent events from a read endpoint (`GET`). On 401
 * it asks for the API key and retries; other refusals are thrown.
 *
 * @param {string} path
 * @param {AbortSignal} signal
 * @returns {Promise<ReadableStream<Uint8Array>>}
 */
export async function openStream(path, signal) {
  const res = await authorized(path, { headers: { accept: "text/event-stream" }, signal });
  if (!res.ok || !res.body) throw failure(res, await answerOf(res));
  return res.body;
}

/**
 * Fetches with the saved API key; on 401 asks for a key and tries again.
 *
 * @param {string} path
 * @param {RequestInit & { headers: Record<string, string> }} init
 * @returns {Promise<Response>}
 */
async function authorized(path, init) {
  for (;;) {
    const key = localStorage.getItem(KEY_STORE);
    const headers = key ? { ...init.headers, authorization: `Bearer ${key}` } : init.headers;
    const res = await fetch(path, { ...init, headers });
    if (res.status !== 401) return res;
    const { error } = await answerOf(res);
    // Sent before a key was saved (another request's prompt): try that one first.
    if (localStorage.getItem(KEY_STORE) !== key) continue;
    await askForKey(key ? `The saved key was rejected: ${error}` : error);
  }
}

/**
 * The JSON of an answer, or `{ error }` with its text when it is not JSON.
 *
 * @param {Response} res
 * @returns {Promise<any>}
 */
async function answerOf(res) {
  const text = await res.text();
  try {
    return parseJSON(text);
  } catch {
    return { error: text || res.statusText };
  }
}

/**
 * The error of a refused answer.
 *
 * @param {Response} res
 * @param {any} data
 */
function failure(res, data) {
  return new ApiError(res.status, data.error ?? res.statusText, data.position);
}

/**
 * The query body; times are sent as exact digit strings (0 or absent = unbounded).
 *
 * @param {bigint} start
 * @param {bigint} end
 * @param {number} limit
 */
function queryBody(start, end, limit) {
  return { query: view.q, start: String(start), end: String(end), limit };
}

/**
 * `start`/`end` query parameters for the GET endpoints.
 *
 * @param {Window} window
 */
export function windowParams({ start, end }) {
  return new URLSearchParams({ start: String(start), end: String(end) });
}

/**
 * Turns an API line into an entry with a BigInt timestamp.
 *
 * @param {{ timestamp: string | number, line: string, labels?: Record<string, string>, metadata?: Record<string, unknown> }} raw
 * @returns {Entry}
 */
export function toEntry(raw) {
  return {
    ts: BigInt(raw.timestamp),
    line: raw.line,
    labels: raw.labels ?? {},
    metadata: raw.metadata,
  };
}

/** @type {Promise<void> | null} */
let keyPrompt = null;

/**
 * Shows the key dialog once for all waiting requests; rejects on cancel.
 *
 * @param {string | undefined} reason
 * @returns {Promise<void>}
 */
function askForKey(reason) {
  keyPrompt ??= new Promise((resolve, reject) => {
    el.keyReason.textContent = reason || "This server needs an API key to read logs.";
    el.keyInput.value = "";
    el.keyDialog.addEventListener("close", () => {
      keyPrompt = null;
      const key = el.keyInput.value.trim();
      if (el.keyDialog.returnValue === "save" && key) {
        localStorage.setItem(KEY_STORE, key);
        updateKeyButton();
        resolve();
      } else {
        reject(new ApiError(401, "An API key is required to read logs from this server."));
      }
    }, { once: true });
    el.keyDialog.returnValue = "";
    el.keyDialog.showModal();
  });
  return keyPrompt;
}

/** Shows "Forget key" while a key is saved. */
export function updateKeyButton() {
  el.forgetKey.hidden = !localStorage.getItem(KEY_STORE);
}
