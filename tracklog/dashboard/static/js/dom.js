// DOM helpers. Every piece of data reaches the page as a text node or an attribute value set
// through the DOM API: nothing here (or anywhere in the dashboard) parses data as HTML.

import { href } from "./state.js";

/** Make an element: h("a", {href: "#/x", class: "c"}, "text", child, [more]). */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "class") el.className = value;
    else if (name === "dataset") Object.assign(el.dataset, value);
    else if (name.startsWith("on") && typeof value === "function") {
      el.addEventListener(name.slice(2), value);
    } else el.setAttribute(name, value === true ? "" : String(value));
  }
  append(el, children);
  return el;
}

/** Append children (nodes, strings, numbers, nested arrays; null skipped) as nodes/text. */
export function append(el, children) {
  for (const child of [children].flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

/** Replace an element's children. */
export function replace(el, ...children) {
  el.replaceChildren();
  return append(el, children);
}

const numberFormat = new Intl.NumberFormat("en-US");

/** A count as people read it (1,234). */
export function num(n) {
  return n === null || n === undefined ? "–" : numberFormat.format(n);
}

/** A ratio as a percentage with one decimal (0.1234 -> 12.3%). */
export function pct(r) {
  return r === null || r === undefined ? "–" : `${(r * 100).toFixed(1)}%`;
}

const clocks = new Map();

/**
 * An ISO time as "2026-11-01 12:00:00": in UTC as stored, or on the clock of `tz` (the zone
 * an answer used, never the browser's).
 */
export function time(iso, tz = "UTC") {
  if (!iso) return "–";
  if (tz === "UTC") return iso.replace("T", " ").replace(/\.\d+Z$|Z$/, "");
  if (!clocks.has(tz)) {
    clocks.set(tz, new Intl.DateTimeFormat("sv-SE", { timeZone: tz, year: "numeric", month: "2-digit",
      day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23" }));
  }
  return clocks.get(tz).format(new Date(iso));
}

/**
 * A link to a route of this dashboard, with each path segment encoded; it keeps the range and
 * the test-events switch of the page it is on.
 */
export function link(text, ...segments) {
  return h("a", { href: href(segments.map(encodeURIComponent).join("/")) }, text);
}

/**
 * A name with its id after it, smaller ("Acme g1"); just the id when there is no name. In a
 * table with an id column of its own, `withId` false leaves the id to that column.
 */
export function named(name, id, segments = null, withId = true) {
  const shown = name === null || name === undefined || name === "" ? String(id) : String(name);
  const main = segments ? link(shown, ...segments) : h("span", {}, shown);
  main.classList.add("name");
  const idText = withId && shown !== String(id) ? h("span", { class: "id" }, String(id)) : null;
  return h("span", { class: "named" }, main, idText);
}

function cls(c) {
  return [c.num ? "num" : null, c.nowrap ? "nowrap" : null, c.id ? "id" : null].filter(Boolean).join(" ") || null;
}

/**
 * A table in a box that scrolls sideways on its own (the page never does): columns
 * [{label, cell(row) -> node|text, num?, id?, nowrap?, key?: data-col}], rows. `head(c, th)`
 * may add to a column's header cell (sorting).
 */
export function table(columns, rows, attrs = {}, { head = null } = {}) {
  const heads = h("tr", {}, columns.map((c) => {
    const th = h("th", { class: cls(c), dataset: c.key ? { col: c.key } : null, scope: "col" }, c.label);
    if (head) head(c, th);
    return th;
  }));
  const body = rows.map((row) =>
    h("tr", {}, columns.map((c) => h("td", { class: cls(c), dataset: c.key ? { col: c.key } : null }, c.cell(row)))));
  return h("div", { class: "table-scroll" }, h("table", attrs, h("thead", {}, heads), h("tbody", {}, body)));
}

/** A titled card holding a section of a page; `tools` sit at the right of the title. */
export function card(title, ...children) {
  return h("section", { class: "card" }, h("div", { class: "card-head" }, h("h2", {}, title), h("div", { class: "tools" })), children);
}

/** A health tier in words. */
export const TIERS = { active: "Active", at_risk: "At risk", dormant: "Dormant" };
export const tierWord = (tier) => TIERS[tier] || String(tier);

/** A duration in seconds as people read it (1h 5m, 3d 4h, 42s). */
export function duration(seconds) {
  if (seconds === null || seconds === undefined) return "–";
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`;
  if (s < 86400) return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
  return `${Math.floor(s / 86400)}d ${Math.floor((s % 86400) / 3600)}h`;
}

/** One big number with a label; `key` is its data-stat name for tests and styling. */
export function stat(label, value, key) {
  return h("div", { class: "stat", dataset: { stat: key } }, h("div", { class: "value" }, value),
    h("div", { class: "label" }, label));
}

/** A notice: "empty", "unavailable", "error" or "info". */
export function notice(kind, text) {
  return h("p", { class: `notice ${kind}`, dataset: { notice: kind } }, text);
}

/** JSON shown as text, pretty-printed. */
export function json(value) {
  return h("pre", { class: "json" }, JSON.stringify(value, null, 2));
}
