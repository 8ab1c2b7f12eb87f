// What every page shares: the range and test-event switch (kept in the URL, state.js),
// sections that load on their own and show a clear state when the server lacks an endpoint
// or answers an error, titles, headline comparisons and filter forms.

import { ApiError, Unauthorized, Unavailable } from "./api.js";
import { card, h, notice, pct, replace } from "./dom.js";
import { rangeParams } from "./state.js";

/**
 * The common query parameters: the range and `include_test`. A page on its default range
 * sends no `from` at all: it then asks exactly what a bare API call answers.
 */
export function common() {
  return rangeParams();
}

/** Tell the app the key or session is gone; it brings the login form back. */
export function unauthorized(error) {
  window.dispatchEvent(new CustomEvent("tracklog:unauthorized", { detail: error.message }));
}

/** The notice for a failed load, or rethrow what is not an API failure. */
export function failure(error) {
  if (error instanceof Unauthorized) {
    unauthorized(error);
    return notice("error", error.message);
  }
  if (error instanceof Unavailable) {
    return notice("unavailable", `Not available: ${error.message}`);
  }
  if (error instanceof ApiError) {
    return notice("error", `${error.message} (${error.code})`);
  }
  if (error && error.name === "AbortError") return notice("info", "Stopped.");
  console.warn(error); // a bug in the page, not the data: keep it visible to developers
  return notice("error", `The page failed: ${error}`);
}

/**
 * A card whose body comes from `load(body, tools)` (async); errors become notices. `tools`
 * is the box at the right of the card's title (CSV buttons).
 */
export function section(title, load, attrs = {}) {
  const body = h("div", { class: "body" }, notice("info", "Loading…"));
  const el = card(title, body);
  const tools = el.querySelector(".tools");
  for (const [k, v] of Object.entries(attrs)) el.dataset[k] = v;
  el.dataset.state = "loading";
  (async () => {
    try {
      const content = await load(body, tools);
      if (content !== undefined) replace(body, content);
      el.dataset.state = "ready";
    } catch (error) {
      replace(body, failure(error));
      el.dataset.state = error instanceof Unavailable ? "unavailable" : "error";
    }
  })();
  return el;
}

/** The browser tab's title: the page and, when there is one, its subject first. */
export function setTitle(page, subject = null) {
  document.title = `${subject ? `${subject} · ` : ""}${page} — Tracklog`;
}

/** A page's title line; it names the browser tab too. */
export function title(text, ...extra) {
  setTitle(text);
  return h("div", { class: "page-title" }, h("h1", {}, text), extra);
}

/**
 * A headline's change against the previous period: "▲ 12.5%" (green), "▼ 3.0%" (red), "no
 * change", or "new" when the previous period had none. The previous value is the tooltip.
 */
export function change(now, before, { what = "the previous period", format = String } = {}) {
  let text;
  let kind;
  let ratio = null;
  if (before === null || before === undefined || now === null || now === undefined) return null;
  if (before === 0) {
    text = now === 0 ? "no change" : "new";
    kind = now === 0 ? "flat" : "up";
  } else {
    ratio = (now - before) / Math.abs(before);
    kind = ratio > 0 ? "up" : ratio < 0 ? "down" : "flat";
    text = ratio === 0 ? "no change" : `${ratio > 0 ? "▲" : "▼"} ${pct(Math.abs(ratio))}`;
  }
  return h("span", { class: `change ${kind}`, title: `${format(before)} in ${what}`,
    dataset: { previous: before, change: ratio === null ? "" : ratio.toFixed(4), kind } }, text,
  h("span", { class: "vs" }, ` vs ${format(before)} before`));
}

/**
 * A small GET form whose values live in the route's query string (so pages are linkable).
 * A field is {name, label, value?, placeholder?, options?, type?, size?} or {widget} (an
 * element holding its own inputs, e.g. a picker, with an optional flush() before submit).
 */
export function filterForm(fields, params, onSubmit) {
  const inputs = fields.map((f) => {
    if (f.widget) return f.widget;
    const attrs = { name: f.name, value: params.get(f.name) ?? f.value ?? "", placeholder: f.placeholder || "" };
    let input;
    if (f.options) {
      input = h("select", { name: f.name }, f.options.map((o) => {
        const [value, label] = Array.isArray(o) ? o : [o, o];
        return h("option", { value, selected: (params.get(f.name) ?? f.value) === value }, label);
      }));
    } else {
      input = h("input", { ...attrs, type: f.type || "text", size: f.size || null, list: f.list || null });
    }
    return h("label", {}, f.label, input);
  });
  const form = h("form", { class: "filters" }, inputs, h("button", { type: "submit" }, "Apply"));
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    for (const f of fields) if (f.widget && f.widget.flush) f.widget.flush();
    const next = new URLSearchParams();
    for (const [k, v] of new FormData(form)) if (String(v).trim()) next.append(k, String(v).trim());
    onSubmit(next);
  });
  return form;
}
