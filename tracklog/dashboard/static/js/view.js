// What every page shares: the global range and test-event switch, and sections that load
// on their own and show a clear state when the server lacks an endpoint or answers an error.

import { ApiError, Unauthorized, Unavailable } from "./api.js";
import { card, h, notice, replace } from "./dom.js";

const RANGE = "tracklog.range";
const TEST = "tracklog.includeTest";
export const DEFAULT_DAYS = 30;

export function rangeDays() {
  return Number(sessionStorage.getItem(RANGE) || DEFAULT_DAYS);
}
export function setRangeDays(days) {
  sessionStorage.setItem(RANGE, String(days));
}
export function includeTest() {
  return sessionStorage.getItem(TEST) === "1";
}
export function setIncludeTest(on) {
  sessionStorage.setItem(TEST, on ? "1" : "0");
}

/**
 * The common query parameters. The API's own default is the last 30 days, so that range sends
 * no `from` at all: the page then asks exactly what a bare API call answers.
 */
export function common() {
  const params = {};
  const days = rangeDays();
  if (days !== DEFAULT_DAYS) {
    params.from = new Date(Date.now() - days * 86400e3).toISOString();
  }
  if (includeTest()) params.include_test = "true";
  return params;
}

/** Tell the app the key is gone; it brings the login form back. */
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

/** A card whose body comes from `load(body)` (async); errors become notices. */
export function section(title, load, attrs = {}) {
  const body = h("div", { class: "body" }, notice("info", "Loading…"));
  const el = card(title, body);
  for (const [k, v] of Object.entries(attrs)) el.dataset[k] = v;
  el.dataset.state = "loading";
  (async () => {
    try {
      const content = await load(body);
      if (content !== undefined) replace(body, content);
      el.dataset.state = "ready";
    } catch (error) {
      replace(body, failure(error));
      el.dataset.state = error instanceof Unavailable ? "unavailable" : "error";
    }
  })();
  return el;
}

/** A page's title line. */
export function title(text, ...extra) {
  return h("div", { class: "page-title" }, h("h1", {}, text), extra);
}

/** A small GET form whose values live in the route's query string (so pages are linkable). */
export function filterForm(fields, params, onSubmit) {
  const inputs = fields.map((f) => {
    const attrs = { name: f.name, value: params.get(f.name) ?? f.value ?? "", placeholder: f.placeholder || "" };
    let input;
    if (f.options) {
      input = h("select", { name: f.name }, f.options.map((o) =>
        h("option", { value: o, selected: (params.get(f.name) ?? f.value) === o }, o)));
    } else {
      input = h("input", { ...attrs, type: f.type || "text", size: f.size || null });
    }
    return h("label", {}, f.label, input);
  });
  const form = h("form", { class: "filters" }, inputs, h("button", { type: "submit" }, "Apply"));
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const next = new URLSearchParams();
    for (const [k, v] of new FormData(form)) if (String(v).trim()) next.set(k, String(v).trim());
    onSubmit(next);
  });
  return form;
}
