// @ts-check
/// <reference lib="dom" />
/**
 * The page's elements, and small builders for HTML and SVG nodes.
 *
 * @module
 */

/**
 * The element with `id`, checked to be a `type`.
 *
 * @template {Element} T
 * @param {string} id
 * @param {{ new (): T; name: string }} type
 * @returns {T}
 */
function byId(id, type) {
  const node = document.getElementById(id);
  if (!(node instanceof type)) throw new Error(`#${id} is missing or not a ${type.name}`);
  return node;
}

/** The elements the script drives. */
export const el = {
  form: byId("query-form", HTMLFormElement),
  q: byId("q", HTMLInputElement),
  range: byId("range", HTMLSelectElement),
  abs: byId("abs", HTMLElement),
  from: byId("from", HTMLInputElement),
  to: byId("to", HTMLInputElement),
  limit: byId("limit", HTMLInputElement),
  live: byId("live", HTMLButtonElement),
  theme: byId("theme", HTMLButtonElement),
  forgetKey: byId("forget-key", HTMLButtonElement),
  error: byId("query-error", HTMLElement),
  labelKeys: byId("label-keys", HTMLUListElement),
  histogram: byId("histogram", HTMLElement),
  legend: byId("legend", HTMLElement),
  volumeTotal: byId("volume-total", HTMLElement),
  status: byId("status", HTMLElement),
  tailStatus: byId("tail-status", HTMLElement),
  results: byId("results", HTMLElement),
  lines: byId("lines", HTMLOListElement),
  older: byId("older", HTMLButtonElement),
  resume: byId("resume", HTMLButtonElement),
  keyDialog: byId("key-dialog", HTMLDialogElement),
  keyReason: byId("key-reason", HTMLElement),
  keyInput: byId("key-input", HTMLInputElement),
};

/** @typedef {Node | string | null | undefined | false} Child */
/** @typedef {Record<string, string | number>} Attrs */

/**
 * Creates an element: `h("li.row.x", { attr: value }, ...children)`.
 *
 * @param {string} tag
 * @param {Attrs} [attrs]
 * @param {Child[]} children
 * @returns {HTMLElement}
 */
export function h(tag, attrs = {}, ...children) {
  const [name, ...classes] = tag.split(".");
  const node = document.createElement(name);
  return build(node, classes, attrs, children);
}

/**
 * Creates an SVG element, like {@link h}.
 *
 * @param {string} tag
 * @param {Attrs} [attrs]
 * @param {Child[]} children
 * @returns {SVGElement}
 */
export function svg(tag, attrs = {}, ...children) {
  const [name, ...classes] = tag.split(".");
  const node = document.createElementNS("http://www.w3.org/2000/svg", name);
  return build(node, classes, attrs, children);
}

/**
 * @template {Element} T
 * @param {T} node
 * @param {string[]} classes
 * @param {Attrs} attrs
 * @param {Child[]} children
 * @returns {T}
 */
function build(node, classes, attrs, children) {
  if (classes.length > 0) node.setAttribute("class", classes.join(" "));
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, String(value));
  node.append(
    .../** @type {(Node | string)[]} */ (
      children.filter((c) => c !== null && c !== undefined && c !== false)
    ),
  );
  return node;
}

/** Two overlapping pages. */
export function copyIcon() {
  return svg(
    "svg",
    { viewBox: "0 0 16 16", width: 13, height: 13, "aria-hidden": "true" },
    svg("rect", { x: 5.5, y: 5.5, width: 8, height: 9, rx: 1.5 }),
    svg("path", { d: "M3.5 10.5h-1v-8.5a1 1 0 0 1 1-1h7v1" }),
  );
}

/**
 * Copies text to the clipboard.
 *
 * @param {string} text
 */
export async function copyText(text) {
  try {
    await navigator.clipboard.writeText(text);
  } catch {
    // No clipboard API (plain http on a LAN address): the old way.
    const area = /** @type {HTMLTextAreaElement} */ (
      h("textarea", { style: "position:fixed;opacity:0" }, text)
    );
    document.body.append(area);
    area.select();
    document.execCommand("copy");
    area.remove();
  }
}
