// Query fields that suggest what the workspace holds: event names, property names and their
// top values, from /api/schema (contract section 3). Without it, event names still come from
// /api/analytics/top-events and property fields are plain text.

import { get, offers } from "./api.js";
import { h } from "./dom.js";

const OPERATORS = [["eq", "is"], ["neq", "is not"], ["contains", "contains"], ["gt", ">"], ["gte", "≥"], ["lt", "<"], ["lte", "≤"]];
let ids = 0;
const cache = new Map();

/**
 * What the workspace holds in the range: {events: [{event_name, count, properties:
 * [{name, count, types, top_values}]}], properties: bool (whether properties are known)}.
 */
export function schema(range = {}) {
  const key = JSON.stringify(range);
  if (!cache.has(key)) {
    cache.set(key, (async () => {
      if (await offers("/api/schema")) {
        const data = await get("/api/schema", range);
        return { events: data.events || [], properties: true };
      }
      const top = await get("/api/analytics/top-events", { ...range, limit: 200 });
      return { events: (top.events || []).map((e) => ({ event_name: e.event_name, count: e.count, properties: [] })), properties: false };
    })().catch(() => ({ events: [], properties: false })));
  }
  return cache.get(key);
}

/** Properties of `events` (all events when none is named), merged by name, most used first. */
export function propertiesOf(s, events = []) {
  const merged = new Map();
  for (const e of s.events) {
    if (events.length && !events.includes(e.event_name)) continue;
    for (const p of e.properties || []) {
      const m = merged.get(p.name) || { name: p.name, count: 0, types: new Set(), values: new Map() };
      m.count += p.count || 0;
      for (const t of p.types || []) m.types.add(t);
      for (const v of p.top_values || []) m.values.set(String(v.value), (m.values.get(String(v.value)) || 0) + v.count);
      merged.set(p.name, m);
    }
  }
  return [...merged.values()].sort((a, b) => b.count - a.count);
}

function datalist(values) {
  const id = `suggest-${++ids}`;
  const list = h("datalist", { id });
  const fill = (vs) => list.replaceChildren(...vs.map(([value, hint]) => h("option", { value }, hint ?? "")));
  fill(values || []);
  return { id, list, fill };
}

const split = (v) => (v || "").split(",").map((x) => x.trim()).filter(Boolean);

/**
 * Several values (event names; funnel steps in order) as removable chips and a text field
 * that suggests more. Its value goes in a hidden input `name`, comma-separated.
 * (A div, not a label: a click on a label would press the first chip's remove button.)
 */
export function chipsField({ name, label, value = "", placeholder = "", suggest, ordered = false, size = 18 }) {
  const items = split(value);
  const hidden = h("input", { type: "hidden", name, value: items.join(",") });
  const chips = h("span", { class: "chips" });
  const { id, list, fill } = datalist([]);
  const input = h("input", { type: "text", list: id, placeholder, size, "aria-label": label, dataset: { picker: name } });
  function draw() {
    chips.replaceChildren(...items.map((item, i) => h("span", { class: "chip", dataset: { value: item } },
      ordered ? h("span", { class: "step" }, `${i + 1}.`) : null, item,
      h("button", { type: "button", title: `Remove ${item}`, "aria-label": `Remove ${item}`,
        onclick: () => { items.splice(i, 1); draw(); } }, "×"))));
    hidden.value = items.join(",");
  }
  function add() {
    for (const v of split(input.value)) if (ordered || !items.includes(v)) items.push(v);
    input.value = "";
    draw();
  }
  input.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && input.value.trim()) {
      e.preventDefault();
      add();
    } else if (e.key === "Backspace" && !input.value && items.length) {
      items.pop();
      draw();
    }
  });
  // A suggestion picked from the list arrives as one input event without typing.
  input.addEventListener("input", (e) => {
    if (!e.inputType || e.inputType === "insertReplacementText") add();
  });
  input.addEventListener("change", add);
  draw();
  if (suggest) suggest.then(fill);
  const el = h("div", { class: "picker chips-field", dataset: { field: name } },
    h("span", { class: "picker-label" }, label), h("span", { class: "chip-box" }, chips, input), list, hidden);
  el.flush = add;
  return el;
}

/** One value with suggestions (a breakdown property). */
export function suggestField({ name, label, value = "", placeholder = "", suggest, size = 14 }) {
  const { id, list, fill } = datalist([]);
  if (suggest) suggest.then(fill);
  return h("label", { class: "picker", dataset: { field: name } }, label,
    h("input", { type: "text", name, value, placeholder, list: id, size, dataset: { picker: name } }), list);
}

/**
 * A `where` filter as three fields: a property (suggested), an operator and a value
 * (suggested from the property's top values). Its value is PROPERTY:OP:VALUE in `name`.
 */
export function whereField({ name = "where", label = "Where", value = "", props }) {
  const [p0 = "", op0 = "eq", ...rest] = (value || "").split(":");
  const hidden = h("input", { type: "hidden", name, value });
  const prop = datalist([]);
  const vals = datalist([]);
  const property = h("input", { type: "text", value: p0, placeholder: "property", list: prop.id, size: 12, "aria-label": `${label}: property`, dataset: { picker: `${name}-property` } });
  const op = h("select", { "aria-label": `${label}: operator` }, OPERATORS.map(([v, text]) => h("option", { value: v, selected: v === op0 }, text)));
  const val = h("input", { type: "text", value: rest.join(":"), placeholder: "value", list: vals.id, size: 12, "aria-label": `${label}: value`, dataset: { picker: `${name}-value` } });
  let known = [];
  function sync() {
    hidden.value = property.value.trim() && val.value.trim() !== "" ? `${property.value.trim()}:${op.value}:${val.value.trim()}` : "";
    const p = known.find((k) => k.name === property.value.trim());
    vals.fill(p ? [...p.values].sort((a, b) => b[1] - a[1]).map(([v, n]) => [v, `${n}×`]) : []);
  }
  for (const el of [property, op, val]) {
    el.addEventListener("input", sync);
    el.addEventListener("change", sync);
  }
  if (props) {
    props.then((list) => {
      known = list;
      prop.fill(list.map((p) => [p.name, [...p.types].join(", ")]));
      sync();
    });
  }
  const el = h("div", { class: "picker where-field", dataset: { field: name } },
    h("span", { class: "picker-label" }, label), h("span", { class: "where-parts" }, property, op, val), prop.list, vals.list, hidden);
  el.flush = sync;
  return el;
}
