// Charts drawn by the vendored uPlot (canvas: data never becomes markup), each with a legend
// of totals in plain text beside it, labelled axes, the values under the cursor in a tooltip
// (text nodes), a click that opens the people behind a point, and a CSV of its data.

import uPlot from "../vendor/uplot/uPlot.esm.js";
import { csvButton } from "./csv.js";
import { h, num } from "./dom.js";

const COLORS = ["#2f6fde", "#e0622b", "#2a9d6f", "#b23fb8", "#c49a00", "#5b6b7f", "#d43f5a",
  "#1f9bb8", "#7a5cd6", "#8a6d3b", "#4c8c2b"];

export const color = (i) => COLORS[i % COLORS.length];

/** A #rrggbb colour mixed with white (0: itself, 1: white): opaque, so stacked bars never mix. */
function tint(hex, amount) {
  const c = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
  return `#${c.map((v) => Math.round(v + (255 - v) * amount).toString(16).padStart(2, "0")).join("")}`;
}

/** Seconds since the epoch of an ISO date or time (dates are UTC midnights). */
export function epoch(iso) {
  return Date.parse(iso.length === 10 ? `${iso}T00:00:00Z` : iso) / 1000;
}

const WEEKDAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];

/**
 * A bucket's start as the answer gives it, in words on the answer zone's clock. The API
 * writes each start with the zone's offset, so its date and time are already local.
 */
export function bucketLabel(iso, interval = "day") {
  const date = iso.slice(0, 10);
  const weekday = WEEKDAYS[new Date(`${date}T00:00:00Z`).getUTCDay()];
  if (interval === "month") return date.slice(0, 7);
  if (interval === "week") return `week of ${date}`;
  if (interval === "hour" && iso.length > 10) return `${date} ${iso.slice(11, 16)}`;
  return `${date} (${weekday})`;
}

// Whole-number steps for counts: an axis of people is never ticked at 0.25.
const WHOLE = [1, 2, 5].flatMap((m) => Array.from({ length: 10 }, (_, e) => m * 10 ** e)).sort((a, b) => a - b);

/** An axis unit in words: the per-interval x label ("Day (UTC)"). */
export function xLabel(interval, tz) {
  const unit = { hour: "Hour", day: "Day", week: "Week (from Monday)", month: "Month" }[interval] || "Day";
  return `${unit}, ${tz}`;
}

/**
 * A line (or bar) chart. x: ISO strings; series: [{label, values, total?, color?}].
 * Options:
 *  tz        the zone the answer used; the axis and the hover show its clock, not the browser's
 *  partial   per x, whether that period is unfinished; drawn dashed and pale, "partial" on hover
 *  interval  hour/day/week/month, for the x axis label and the hover
 *  yLabel    the y axis label (the unit: "Events", "Users")
 *  onPoint   ({series, index}) => void: a click on a point (drill-down); null: not clickable
 *  csv       a file name: a "Download CSV" button for the chart's data
 *  stacked   stack the series with positive values (lifecycle); values may be negative
 * Returns an element holding the chart and its legend; the chart is drawn once it is attached.
 */
export function lineChart(x, series, {
  height = 220, percent = false, bars = false, tz = "UTC", partial = [], interval = "day",
  yLabel = "", onPoint = null, csv = null, stacked = false, xTitle = null,
} = {}) {
  const plot = h("div", { class: "chart" });
  const colorOf = (i) => series[i].color || color(i);
  const legend = h("ul", { class: "legend" }, series.map((s, i) =>
    h("li", { dataset: { series: s.label } },
      h("span", { class: "swatch", dataset: { color: i } }),
      h("span", { class: "name" }, s.label),
      s.total === undefined ? null : h("span", { class: "total" }, num(s.total)))));
  legend.querySelectorAll(".swatch").forEach((el, i) => el.style.setProperty("background", colorOf(i)));
  const unfinished = partial.filter(Boolean).length;
  const xText = xTitle || xLabel(interval, tz);
  const notes = [
    unfinished ? h("p", { class: "hint partial-note" }, "Dashed or pale: periods not over yet or cut by the range.") : null,
    x.length ? h("p", { class: "hint chart-help" }, onPoint ? "Hover for values; click a point to see the people behind it." : "Hover for values.") : null,
  ];
  const download = csv && x.length
    ? csvButton(csv, async () => ({
      header: [xText, ...series.map((s) => s.label), "partial"],
      rows: x.map((t, k) => [t, ...series.map((s) => s.values[k]), partial[k] ? "true" : "false"]),
    }))
    : null;
  const holder = h("div", { class: "chart-block", dataset: { timezone: tz, partial: unfinished, xLabel: xText, yLabel } },
    plot, legend, h("div", { class: "chart-foot" }, notes, download));
  if (!x.length) return holder;
  plot.setAttribute("role", "img");
  plot.setAttribute("aria-label", `${yLabel || "Values"} per ${xText}: ${series.map((s) => s.label).join(", ")}`);

  // Dates (active users, an account's days) are local days already: drawn as UTC midnights
  // and shown in UTC they read as themselves. Instants are shown on the answer zone's clock.
  const zone = x[0].length === 10 ? "UTC" : tz;
  // Stacked series are drawn as running sums, the biggest first so the smaller stay on top.
  const drawn = series.map((s) => s.values.slice());
  let order = series.map((_, i) => i);
  if (stacked) {
    const sums = x.map(() => 0);
    series.forEach((s, i) => {
      if (s.values.some((v) => v < 0)) return;
      drawn[i] = s.values.map((v, k) => (sums[k] += v || 0));
    });
    order = order.slice().reverse();
  }
  // A finished part and an unfinished part per series: the unfinished one holds the partial
  // points (and, for lines, their neighbours, so the dashed segment joins the solid one).
  const near = (k) => partial[k] || (!bars && (partial[k - 1] || partial[k + 1]));
  const parts = order.flatMap((i) => [
    { i, values: unfinished ? drawn[i].map((v, k) => (partial[k] ? null : v)) : drawn[i] },
    ...(unfinished ? [{ i, dashed: true, values: drawn[i].map((v, k) => (near(k) ? v : null)) }] : []),
  ]);
  const data = [x.map(epoch), ...parts.map((p) => p.values)];
  const step = x.length > 1 ? data[0][1] - data[0][0] : 0;
  const tick = (t) => (percent ? `${Math.round(t * 100)}%` : num(t));

  // Weeks and months are ticked at their own starts (uPlot's own ticks fall mid-week),
  // thinned to fit, and named by their local date.
  const bucketTicks = interval === "week" || interval === "month" ? {
    splits: (u) => {
      const n = Math.max(1, Math.ceil(data[0].length / Math.max(2, Math.floor(u.width / 90))));
      return data[0].filter((_, k) => k % n === 0);
    },
    values: (u, splits) => splits.map((t) => {
      const k = data[0].indexOf(t);
      return k < 0 ? "" : interval === "month" ? x[k].slice(0, 7) : x[k].slice(0, 10);
    }),
  } : {};

  const tip = h("div", { class: "chart-tip", hidden: true, role: "status" });
  function showTip(u) {
    const k = u.cursor.idx;
    if (k === null || k === undefined || u.cursor.left < 0) {
      tip.hidden = true;
      return;
    }
    const rows = series.map((s, i) => {
      const sw = h("span", { class: "swatch" });
      sw.style.setProperty("background", colorOf(i));
      const v = s.values[k];
      return h("div", { class: "tip-row", dataset: { series: s.label, value: v ?? "" } }, sw,
        h("span", { class: "name" }, s.label), h("span", { class: "v" }, v === null || v === undefined ? "–" : tick(v)));
    });
    tip.replaceChildren(h("div", { class: "tip-x", dataset: { t: x[k] } }, bucketLabel(x[k], interval),
      partial[k] ? h("span", { class: "tip-partial" }, " · partial") : null), ...rows);
    tip.dataset.index = String(k);
    tip.hidden = false;
    // Beside the cursor, on the side with room, inside the plot (never past the page's edge).
    const width = u.over.clientWidth;
    const left = u.cursor.left + 14;
    const w = tip.offsetWidth;
    tip.style.setProperty("left", `${left + w > width ? Math.max(0, u.cursor.left - 14 - w) : left}px`);
    tip.style.setProperty("top", `${Math.max(0, Math.min(u.cursor.top - 10, u.over.clientHeight - tip.offsetHeight))}px`);
  }

  const opts = {
    height,
    width: 600,
    legend: { show: false },
    cursor: { drag: { x: false, y: false }, points: { show: !bars } },
    tzDate: (ts) => uPlot.tzDate(new Date(ts * 1e3), zone),
    scales: {
      // Bars are centred on their bucket: leave half a bucket free at both ends.
      x: { time: true, range: bars && x.length > 1 ? (u, min, max) => [min - step / 2, max + step / 2] : undefined },
      y: { range: (u, min, max) => [Math.min(0, min) * 1.05, (percent ? Math.max(0.01, max) : Math.max(1, max)) * 1.05] },
    },
    axes: [
      { label: xText, labelSize: 24, labelFont: "12px system-ui, sans-serif", ...bucketTicks },
      { label: yLabel || null, labelSize: yLabel ? 24 : 0, labelFont: "12px system-ui, sans-serif",
        values: (u, ticks) => ticks.map(tick), ...(percent ? {} : { incrs: WHOLE }) },
    ],
    series: [{}, ...parts.map(({ i, dashed }) => ({
      label: dashed ? `${series[i].label} (unfinished)` : series[i].label,
      stroke: colorOf(i),
      width: 2,
      dash: dashed && !bars ? [5, 4] : undefined,
      fill: !bars ? null : stacked ? tint(colorOf(i), dashed ? 0.7 : 0.15) : colorOf(i) + (dashed ? "33" : "aa"),
      paths: bars ? uPlot.paths.bars({ size: [0.8, 40] }) : undefined,
      points: { show: !bars && x.length < 40 },
    }))],
    hooks: { setCursor: [showTip] },
  };

  function pick(u) {
    // The series nearest the cursor at the hovered bucket (the stack segment under it).
    const k = u.cursor.idx;
    if (k === null || k === undefined) return null;
    let best = null;
    parts.forEach((p, j) => {
      const v = p.values[k];
      if (v === null || v === undefined) return;
      if (stacked) {
        // A stacked bar holds the cursor between its top and the next one down.
        const top = u.valToPos(v, "y");
        const below = v >= 0 && p.i > 0 ? drawn[p.i - 1][k] || 0 : 0;
        const bottom = u.valToPos(below, "y");
        const inside = u.cursor.top >= Math.min(top, bottom) - 3 && u.cursor.top <= Math.max(top, bottom) + 3;
        if (inside) best = { d: 0, i: p.i };
        return;
      }
      const d = Math.abs(u.valToPos(v, "y") - u.cursor.top);
      if (!best || d < best.d) best = { d, i: p.i };
    });
    return best && { series: best.i, index: k };
  }

  // Draw when the element has a width (after it is attached), and follow resizes.
  // (Deferred a frame: drawing inside the observer's callback would resize what it observes.)
  const observer = new ResizeObserver(() => requestAnimationFrame(() => {
    const width = Math.max(260, plot.clientWidth);
    if (!plot.uplot) {
      plot.uplot = new uPlot({ ...opts, width }, data, plot);
      plot.uplot.over.append(tip);
      plot.uplot.over.addEventListener("mouseleave", () => { tip.hidden = true; });
      if (onPoint) {
        plot.classList.add("clickable");
        plot.uplot.over.addEventListener("click", () => {
          const hit = pick(plot.uplot);
          if (hit) onPoint(hit);
        });
      }
      plot.dataset.ready = "1";
    } else if (Math.abs(plot.uplot.width - width) > 4) plot.uplot.setSize({ width, height });
  }));
  observer.observe(plot);
  return holder;
}

/** Horizontal bars for a few named values (top events, funnel steps); widths via CSSOM. */
export function bars(rows, { max = Math.max(1, ...rows.map((r) => r.value)), onClick = null } = {}) {
  return h("div", { class: "hbars" }, rows.map((r, i) => {
    const bar = h("span", { class: "bar" });
    bar.style.width = `${(100 * r.value) / max}%`;
    bar.style.background = color(i);
    const row = h("div", { class: "hbar", dataset: { label: r.label } }, h("span", { class: "label", title: r.label }, r.label),
      h("span", { class: "track" }, bar), h("span", { class: "value" }, r.text ?? num(r.value)));
    if (onClick) {
      row.classList.add("clickable");
      row.addEventListener("click", () => onClick(r, i));
    }
    return row;
  }));
}
