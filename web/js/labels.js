// @ts-check
/// <reference lib="dom" />
/**
 * The label browser: keys in the window, and each key's values on demand.
 *
 * @module
 */

import { api, windowParams } from "./api.js";
import { el, h } from "./dom.js";
import { shown } from "./state.js";

/** @typedef {import("./state.js").Window} Window */

const MAX_LABEL_VALUES = 500;

/**
 * Lists the label keys in the window, reopening the keys that were open.
 *
 * @param {Window} win
 */
export async function loadLabelKeys(win) {
  const open = new Set(
    [...el.labelKeys.querySelectorAll("details[open]")].map((d) =>
      /** @type {HTMLElement} */ (d).dataset.key
    ),
  );
  /** @type {string[]} */
  const keys = await api(`api/v1/labels?${windowParams(win)}`);
  el.labelKeys.replaceChildren(
    ...keys.map((key) => {
      const details = /** @type {HTMLDetailsElement} */ (h(
        "details",
        { "data-key": key },
        h("summary", {}, key, " ", h("small")),
        h("ul"),
      ));
      details.addEventListener("toggle", () => details.open && loadLabelValues(details));
      details.open = open.has(key);
      return h("li", {}, details);
    }),
  );
  if (keys.length === 0) el.labelKeys.append(h("li.note", {}, "No labels in range."));
}

/**
 * Fills a key's list with its values; clicking one narrows the query.
 *
 * @param {HTMLDetailsElement} details
 */
async function loadLabelValues(details) {
  const key = details.dataset.key ?? "";
  const path = `api/v1/label/${encodeURIComponent(key)}/values?${windowParams(shown.window)}`;
  const list = /** @type {HTMLUListElement} */ (details.querySelector("ul"));
  try {
    /** @type {string[]} */
    const values = await api(path);
    /** @type {HTMLElement} */ (details.querySelector("small")).textContent = `(${values.length})`;
    const items = values.slice(0, MAX_LABEL_VALUES).map((value) =>
      h(
        "li",
        {},
        h("button.value", {
          type: "button",
          "data-action": "filter",
          "data-name": key,
          "data-value": value,
          title: `Add ${key}="${value}" to the query`,
        }, value),
      )
    );
    if (values.length > MAX_LABEL_VALUES) {
      items.push(h("li.note", {}, `…and ${values.length - MAX_LABEL_VALUES} more`));
    }
    list.replaceChildren(...items);
  } catch (error) {
    const e = /** @type {Error} */ (error);
    if (e.name !== "AbortError") list.replaceChildren(h("li.note", {}, e.message));
  }
}
