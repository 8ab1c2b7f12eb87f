// DOM helpers. Every piece of data reaches the page as a text node or an attribute value set
// through the DOM API: nothing here (or anywhere in the dashboard) parses data as HTML.

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

/** An ISO time as "2026-11-01 12:00:00" (UTC, as stored). */
export function time(iso) {
  if (!iso) return "–";
  return iso.replace("T", " ").replace(/\.\d+Z$|Z$/, "");
}

/** A link to a route of this dashboard, with each path segment encoded. */
export function link(text, ...segments) {
  return h("a", { href: "#/" + segments.map(encodeURIComponent).join("/") }, text);
}

/** A table: columns [{label, cell(row) -> node|text, num?: bool, key?: testid}], rows. */
export function table(columns, rows, attrs = {}) {
  const head = h("tr", {}, columns.map((c) => h("th", { class: c.num ? "num" : null }, c.label)));
  const body = rows.map((row) =>
    h(
      "tr",
      {},
      columns.map((c) =>
        h("td", { class: c.num ? "num" : null, dataset: c.key ? { col: c.key } : null }, c.cell(row)),
      ),
    ),
  );
  return h("table", attrs, h("thead", {}, head), h("tbody", {}, body));
}

/** A titled card holding a section of a page. */
export function card(title, ...children) {
  return h("section", { class: "card" }, h("h2", {}, title), children);
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
