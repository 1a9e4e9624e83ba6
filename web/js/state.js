// @ts-check
/// <reference lib="dom" />
/**
 * The page's state: the shareable view (mirrored in the URL), what the
 * screen shows, the running request and the live tail.
 *
 * @module
 */

import { el } from "./dom.js";

/** @typedef {{ start: bigint, end: bigint }} Window */
/**
 * A log line from the API.
 * @typedef {{ ts: bigint, line: string, labels: Record<string, string>, metadata?: Record<string, unknown> }} Entry
 */
/**
 * The boundary of a page: timestamp `ts` and a count of each line at it.
 * @typedef {{ ts: bigint, seen: Map<string, number> }} Boundary
 */
/** @typedef {{ level: string | undefined, counts: [bigint, number][] }} Series */
/** @typedef {{ start: bigint, end: bigint, step: bigint, series: Series[] }} Volume */

/**
 * The server's limits, which it writes into the limit input of the page it
 * serves (`value` is the default, `max` the cap).
 */
export const DEFAULT_LIMIT = Number(el.limit.defaultValue);
export const MAX_LIMIT = Number(el.limit.max);
export const DEFAULT_RANGE = "1h";

/**
 * The shareable view, mirrored in the URL. Times are nanosecond digit strings.
 * @type {{ q: string, range: string, from: string, to: string, limit: number, live: boolean }}
 */
export const view = {
  q: "",
  range: DEFAULT_RANGE,
  from: "",
  to: "",
  limit: DEFAULT_LIMIT,
  live: false,
};

/**
 * What the screen currently shows, and where paging and tailing continue from.
 * @type {{ window: Window, oldest: Boundary | null, newest: Boundary | null, volume: Volume | null, hasMore: boolean }}
 */
export const shown = {
  window: { start: 0n, end: 0n },
  /** Oldest timestamp shown and the lines at it (for "load older"). */
  oldest: null,
  /** Newest timestamp shown and the lines at it (for live tail). */
  newest: null,
  volume: null,
  hasMore: false,
};

/** Row element → its entry, for event delegation. @type {WeakMap<Element, Entry>} */
export const rowEntries = new WeakMap();

/**
 * The current run (a newer one supersedes it) and the live tail.
 * @type {{ run: { id: number, controller: AbortController }, tail: { controller: AbortController | null, paused: boolean, pending: (Entry | string)[] }, highlighters: RegExp[] }}
 */
export const current = {
  run: { id: 0, controller: new AbortController() },
  tail: { controller: null, paused: false, pending: [] },
  /** The query's terms, highlighted in lines. */
  highlighters: [],
};
