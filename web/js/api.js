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
  for (;;) {
    /** @type {Record<string, string>} */
    const headers = body ? { "content-type": "application/json" } : {};
    const key = localStorage.getItem(KEY_STORE);
    if (key) headers.authorization = `Bearer ${key}`;
    const res = await fetch(path, {
      method: body ? "POST" : "GET",
      headers,
      body: body && JSON.stringify(body),
      signal,
    });
    const text = await res.text();
    let data;
    try {
      data = parseJSON(text);
    } catch {
      data = { error: text || res.statusText };
    }
    if (res.status === 401) {
      await askForKey(key ? `The saved key was rejected: ${data.error}` : data.error);
      continue;
    }
    if (!res.ok || data.status === "error") {
      throw new ApiError(res.status, data.error ?? res.statusText, data.position);
    }
    return data.data;
  }
}

/**
 * The query body; times are sent as exact digit strings (0 or absent = unbounded).
 *
 * @param {bigint} start
 * @param {bigint} end
 * @param {number} limit
 */
export function queryBody(start, end, limit) {
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
