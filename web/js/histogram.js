// @ts-check
/// <reference lib="dom" />
/**
 * The volume histogram: stacked bars per level with a time axis; dragging
 * across it zooms into that range.
 *
 * @module
 */

import { api } from "./api.js";
import { el, h, svg } from "./dom.js";
import { levelClass } from "./results.js";
import { runView } from "./run.js";
import { current, shown, view } from "./state.js";
import { formatTime } from "./time.js";
import { viewToForm } from "./view_url.js";

/** @typedef {import("./state.js").Window} Window */
/** @typedef {import("./state.js").Series & { cls: string }} ClassedSeries */

const LEVELS = ["error", "warn", "info", "debug", "trace", "other", "none", "all"];

/**
 * Fetches the volume over the window and draws it.
 *
 * @param {Window} win
 */
export async function loadVolume(win) {
  const { id } = current.run;
  el.volumeTotal.textContent = "";
  try {
    const data = await api("api/v1/volume", {
      query: view.q,
      start: String(win.start),
      end: String(win.end),
    });
    if (id !== current.run.id) return;
    shown.volume = {
      start: BigInt(data.start ?? win.start),
      end: BigInt(data.end ?? win.end),
      step: BigInt(data.step),
      series: data.series.map(
        /** @param {{ labels?: { level?: string }, counts: [string, string | number][] }} s */
        (s) => ({
          level: s.labels?.level,
          counts: s.counts.map(([t, n]) => [BigInt(t), Number(n)]),
        }),
      ),
    };
  } catch (error) {
    const e = /** @type {{ name?: string, status?: number, message?: string }} */ (error);
    if (id !== current.run.id || e.name === "AbortError") return;
    shown.volume = null;
    // A bad query is already shown under the bar.
    const text = e.status === 400 ? "" : `Volume unavailable: ${e.message}`;
    el.histogram.replaceChildren(h("div.empty", {}, text));
    el.legend.replaceChildren();
    return;
  }
  drawHistogram();
}

/**
 * Draws the volume as stacked bars per bucket (one colour per level),
 * with a time axis; dragging across it zooms into that range.
 */
export function drawHistogram() {
  const vol = shown.volume;
  if (!vol) return;
  const width = el.histogram.clientWidth;
  const height = el.histogram.clientHeight;
  const left = 40;
  const top = 4;
  const plotH = height - 18 - top;
  const plotW = width - left - 4;
  const buckets = Number((vol.end - vol.start) / vol.step) + 1;
  const barW = plotW / buckets;
  /** @type {ClassedSeries[]} */
  const series = vol.series
    .map((s) => {
      const alone = s.level === undefined && vol.series.length === 1;
      return { ...s, cls: alone ? "all" : levelClass(s.level) };
    })
    .sort((a, b) => LEVELS.indexOf(a.cls) - LEVELS.indexOf(b.cls));
  // stacks[i] = [[series, count], ...] for bucket i.
  /** @type {[ClassedSeries, number][][]} */
  const stacks = Array.from({ length: buckets }, () => []);
  for (const s of series) {
    for (const [t, n] of s.counts) {
      const i = Number((t - vol.start) / vol.step);
      if (n > 0 && i >= 0 && i < buckets) stacks[i].push([s, n]);
    }
  }
  const totals = stacks.map((stack) => stack.reduce((sum, [, n]) => sum + n, 0));
  const max = Math.max(1, ...totals);
  const total = totals.reduce((a, b) => a + b, 0);
  el.volumeTotal.textContent = `${total.toLocaleString()} lines in range`;
  renderLegend(series);
  if (total === 0) {
    el.histogram.replaceChildren(h("div.empty", {}, "No lines in this time range."));
    return;
  }
  const root = svg("svg", { width, height, viewBox: `0 0 ${width} ${height}` });
  root.append(
    svg("line.grid", { x1: left, x2: width, y1: top + plotH + 0.5, y2: top + plotH + 0.5 }),
    svg("text.axis", { x: left - 6, y: top + 8, "text-anchor": "end" }, compact(max)),
    svg("text.axis", { x: left - 6, y: top + plotH, "text-anchor": "end" }, "0"),
  );
  const span = vol.end - vol.start + vol.step;
  for (const [x, label] of timeTicks(vol.start, span, plotW)) {
    root.append(svg("text.axis", { x: left + x, y: height - 3, "text-anchor": "middle" }, label));
  }
  stacks.forEach((stack, i) => {
    if (totals[i] === 0) return;
    const x = left + i * barW;
    const t = vol.start + BigInt(i) * vol.step;
    const tip = [formatTime(t), ...stack.map(([s, n]) => `${s.level ?? "lines"}: ${n}`)];
    const bar = svg("g", {}, svg("title", {}, tip.join("\n")));
    bar.append(svg("rect.hit", { x, y: top, width: barW, height: plotH }));
    let y = top + plotH;
    for (const [s, n] of stack) {
      const barH = (n / max) * plotH;
      y -= barH;
      bar.append(svg(`rect.bar.lvl-${s.cls}`, {
        x: x + (barW > 4 ? 0.5 : 0),
        y,
        width: Math.max(barW - (barW > 4 ? 1 : 0), 0.5),
        height: barH,
      }));
    }
    root.append(bar);
  });
  root.append(svg("rect.sel", { x: 0, y: top, width: 0, height: plotH, visibility: "hidden" }));
  el.histogram.replaceChildren(root);
  enableZoom(root, { left, plotW, span });
}

/**
 * One entry per level (click to filter by it); none for a single unlabelled series.
 *
 * @param {ClassedSeries[]} series
 */
function renderLegend(series) {
  const items = series.length < 2 && series[0]?.level === undefined ? [] : series;
  el.legend.replaceChildren(
    ...items.map((s) => {
      const sum = s.counts.reduce((a, [, n]) => a + n, 0).toLocaleString();
      if (s.level === undefined) return h("span", {}, h("i.lvl-none"), `no level ${sum}`);
      return h(
        "button",
        {
          type: "button",
          "data-action": "filter",
          "data-name": "level",
          "data-value": s.level,
          title: `Add level="${s.level}" to the query`,
        },
        h(`i.lvl-${s.cls}`),
        `${s.level} ${sum}`,
      );
    }),
  );
}

/**
 * About one label per 110 px, at even fractions of the span.
 *
 * @param {bigint} start
 * @param {bigint} span
 * @param {number} plotW
 * @returns {[number, string][]}
 */
function timeTicks(start, span, plotW) {
  const count = Math.max(2, Math.floor(plotW / 110));
  const long = span > 86_400_000_000_000n;
  const short = span < 600_000_000_000n;
  return Array.from({ length: count }, (_, k) => {
    const frac = (k + 0.5) / count;
    const t = start + BigInt(Math.round(Number(span) * frac));
    const text = formatTime(t);
    const label = long ? text.slice(5, 16) : short ? text.slice(11, 19) : text.slice(11, 16);
    return [frac * plotW, label];
  });
}

/** @param {number} n */
const compact = (n) => n >= 10_000 ? `${Math.round(n / 1000)}k` : String(n);

/**
 * Click-drag on the histogram selects a time range and runs it as an absolute range.
 *
 * @param {SVGElement} root
 * @param {{ left: number, plotW: number, span: bigint }} geometry
 */
function enableZoom(root, { left, plotW, span }) {
  const sel = root.querySelector(".sel");
  if (!sel) return;
  /** @param {number} x */
  const clampX = (x) => Math.min(Math.max(x, left), left + plotW);
  /** @param {PointerEvent} event */
  const xOf = (event) => clampX(event.clientX - root.getBoundingClientRect().left);
  /** @type {number | null} */
  let x0 = null;
  root.addEventListener("pointerdown", (event) => {
    x0 = xOf(event);
    root.setPointerCapture(event.pointerId);
  });
  root.addEventListener("pointermove", (event) => {
    if (x0 === null) return;
    const x = xOf(event);
    sel.setAttribute("x", String(Math.min(x, x0)));
    sel.setAttribute("width", String(Math.abs(x - x0)));
    sel.setAttribute("visibility", "visible");
  });
  root.addEventListener("pointerup", (event) => {
    if (x0 === null) return;
    const [a, b] = [x0, xOf(event)].sort((p, q) => p - q);
    x0 = null;
    sel.setAttribute("visibility", "hidden");
    if (b - a < 3 || !shown.volume) return;
    const start = shown.volume.start;
    /** @param {number} x */
    const at = (x) => start + BigInt(Math.round(Number(span) * (x - left) / plotW));
    view.range = "custom";
    view.from = String(at(a));
    view.to = String(at(b));
    viewToForm();
    runView();
  });
}
