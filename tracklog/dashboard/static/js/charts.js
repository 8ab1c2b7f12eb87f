// Charts drawn by the vendored uPlot (canvas: data never becomes markup), each with a legend
// of totals in plain text beside it so the numbers can be read without hovering.

import uPlot from "../vendor/uplot/uPlot.esm.js";
import { h, num } from "./dom.js";

const COLORS = ["#2f6fde", "#e0622b", "#2a9d6f", "#b23fb8", "#c49a00", "#5b6b7f", "#d43f5a",
  "#1f9bb8", "#7a5cd6", "#8a6d3b", "#4c8c2b"];

export const color = (i) => COLORS[i % COLORS.length];

/** Seconds since the epoch of an ISO date or time (dates are UTC midnights). */
export function epoch(iso) {
  return Date.parse(iso.length === 10 ? `${iso}T00:00:00Z` : iso) / 1000;
}

/**
 * A line chart. x: ISO strings; series: [{label, values, total?}]. Returns an element that
 * holds the chart and a legend; the chart is drawn once the element is in the page.
 */
export function lineChart(x, series, { height = 220, percent = false, bars = false } = {}) {
  const plot = h("div", { class: "chart" });
  const legend = h("ul", { class: "legend" }, series.map((s, i) =>
    h("li", { dataset: { series: s.label } },
      h("span", { class: "swatch", dataset: { color: i } }),
      h("span", { class: "name" }, s.label),
      s.total === undefined ? null : h("span", { class: "total" }, num(s.total)))));
  legend.querySelectorAll(".swatch").forEach((el, i) => el.style.setProperty("background", color(i)));
  const holder = h("div", { class: "chart-block" }, plot, legend);
  if (!x.length) return holder;
  const data = [x.map(epoch), ...series.map((s) => s.values)];
  const step = x.length > 1 ? data[0][1] - data[0][0] : 0;
  const opts = {
    height,
    width: 600,
    legend: { show: false },
    cursor: { drag: { x: false, y: false } },
    scales: {
      // Bars are centred on their bucket: leave half a bucket free at both ends.
      x: { time: true, range: bars && x.length > 1 ? (u, min, max) => [min - step / 2, max + step / 2] : undefined }, y: { range: (u, min, max) => [0, Math.max(1, max) * 1.05] } },
    axes: [{}, { values: (u, ticks) => ticks.map((t) => (percent ? `${Math.round(t * 100)}%` : num(t))) }],
    series: [{}, ...series.map((s, i) => ({
      label: s.label,
      stroke: color(i),
      width: 2,
      fill: bars ? color(i) + "55" : null,
      paths: bars ? uPlot.paths.bars({ size: [0.8, 40] }) : undefined,
      points: { show: x.length < 40 },
    }))],
  };
  // Draw when the element has a width (after it is attached), and follow resizes.
  // (Deferred a frame: drawing inside the observer's callback would resize what it observes.)
  const observer = new ResizeObserver(() => requestAnimationFrame(() => {
    const width = Math.max(300, plot.clientWidth);
    if (!plot.uplot) plot.uplot = new uPlot({ ...opts, width }, data, plot);
    else if (Math.abs(plot.uplot.width - width) > 4) plot.uplot.setSize({ width, height });
  }));
  observer.observe(plot);
  return holder;
}

/** Horizontal bars for a few named values (top events, funnel steps); widths via CSSOM. */
export function bars(rows, { max = Math.max(1, ...rows.map((r) => r.value)) } = {}) {
  return h("div", { class: "hbars" }, rows.map((r, i) => {
    const bar = h("span", { class: "bar" });
    bar.style.width = `${(100 * r.value) / max}%`;
    bar.style.background = color(i);
    return h("div", { class: "hbar" }, h("span", { class: "label" }, r.label), h("span", { class: "track" }, bar),
      h("span", { class: "value" }, r.text ?? num(r.value)));
  }));
}
