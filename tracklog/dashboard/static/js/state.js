// The view state every page shares, kept in the URL so that a copied link restores it in
// another browser: the range (a preset, or custom dates) and whether test events count.
//
//   range=7d|30d|90d|365d|all     a preset, relative to when the page is opened
//   from=2026-01-01&to=2026-01-31 custom local dates of the workspace's zone, `to` included
//                                 (or ISO instants, as a drill-down link gives them)
//   test=1                        count test events (include_test=true)
//
// Reports default to the last 30 days and lists (accounts, users, events) to all time, as
// the API does; a page on its default range sends no `from`, so it asks exactly what a bare
// API call answers.

export const PRESETS = [
  ["7d", 7, "last 7 days"],
  ["30d", 30, "last 30 days"],
  ["90d", 90, "last 90 days"],
  ["365d", 365, "last 365 days"],
  ["all", null, "all time"],
];
export const GLOBAL = ["range", "from", "to", "test"];
const DAY = 86400e3;
const DATE = /^\d{4}-\d{2}-\d{2}$/;

let state = { range: "30d", from: null, to: null, test: false };
let fallback = "30d"; // the page's default range
let zone = "UTC"; // the workspace's zone, for custom dates (set by setZone)

/** Read the shared state from a route's query; `pageDefault` is the page's own range. */
export function load(params, pageDefault = "30d") {
  fallback = pageDefault;
  const from = params.get("from");
  const to = params.get("to");
  let range = params.get("range");
  if (!PRESETS.some(([name]) => name === range)) range = null;
  if (range === "all" && pageDefault !== "all") range = null; // reports need a bounded range
  state = {
    range: from || to ? "custom" : range || pageDefault,
    from: from || null,
    to: to || null,
    test: params.get("test") === "1",
    explicit: Boolean(range || from || to),
  };
  return state;
}

export const current = () => state;
export const pageDefault = () => fallback;

/** Whether custom dates need the workspace's zone to become instants. */
export const needsZone = () => [state.from, state.to].some((v) => v && DATE.test(v));
export function setZone(tz) {
  zone = tz || "UTC";
}

/** The route's shared params as they go in a URL (only what differs from the defaults). */
export function globals(next = state) {
  const q = new URLSearchParams();
  if (next.range === "custom") {
    if (next.from) q.set("from", next.from);
    if (next.to) q.set("to", next.to);
  } else if (next.range && (next.explicit || next.range !== fallback)) {
    q.set("range", next.range);
  }
  if (next.test) q.set("test", "1");
  return q;
}

/** A dashboard URL: `#/path?params` plus the shared state (unless `keep` is false). */
export function href(path, params = new URLSearchParams(), keep = true) {
  const q = new URLSearchParams();
  for (const [k, v] of params) if (!GLOBAL.includes(k)) q.append(k, v);
  if (keep) for (const [k, v] of globals()) q.set(k, v);
  const query = [...q].length ? `?${q}` : "";
  return `#/${path}${query}`;
}

/** The offset of `tz` at `ms` (ms to add to UTC to get the local clock). */
function offset(ms, tz) {
  const parts = new Intl.DateTimeFormat("en-US", { timeZone: tz, hourCycle: "h23", year: "numeric",
    month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit" })
    .formatToParts(new Date(ms));
  const p = Object.fromEntries(parts.map((x) => [x.type, Number(x.value)]));
  return Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second) - Math.floor(ms / 1000) * 1000;
}

/** The instant local midnight of `date` (YYYY-MM-DD) starts in `tz`. */
export function localMidnight(date, tz = zone) {
  const wall = Date.parse(`${date}T00:00:00Z`);
  let t = wall - offset(wall, tz);
  t = wall - offset(t, tz); // across a DST change the second guess holds
  return new Date(t);
}

/** A local date (YYYY-MM-DD) plus `days`. */
export function addDays(date, days) {
  return new Date(Date.parse(`${date}T00:00:00Z`) + days * DAY).toISOString().slice(0, 10);
}

/** The range as instants {from, to} (Dates; to may be now), or null for all time. */
export function bounds(now = Date.now()) {
  if (state.range === "custom") {
    const from = state.from ? (DATE.test(state.from) ? localMidnight(state.from) : new Date(state.from)) : new Date(0);
    const to = state.to ? (DATE.test(state.to) ? localMidnight(addDays(state.to, 1)) : new Date(state.to)) : new Date(now);
    return { from, to };
  }
  const days = (PRESETS.find(([name]) => name === state.range) || [])[1];
  if (!days) return null;
  return { from: new Date(now - days * DAY), to: new Date(now) };
}

/** The API's range parameters for this state: nothing when it is the page's default. */
export function rangeParams() {
  const params = {};
  if (state.range === "custom") {
    const b = bounds();
    if (state.from) params.from = b.from.toISOString();
    if (state.to) params.to = b.to.toISOString();
  } else if (state.range !== fallback) {
    const b = bounds();
    if (b) params.from = b.from.toISOString();
  }
  if (state.test) params.include_test = "true";
  return params;
}

/** The period just before the range, as API params: what a ▲/▼ compares with. */
export function previousParams(b = bounds()) {
  if (!b) return null;
  const length = b.to - b.from;
  const params = { from: new Date(b.from - length).toISOString(), to: b.from.toISOString() };
  if (state.test) params.include_test = "true";
  return params;
}

/** The range in words, for headings and comparisons ("last 30 days", "2026-01-01 – 2026-01-31"). */
export function describe() {
  if (state.range !== "custom") return (PRESETS.find(([name]) => name === state.range) || [])[2] || "";
  const shown = (v) => (v ? (DATE.test(v) ? v : v.replace("T", " ").replace(/\.\d+Z$|Z$/, " UTC")) : "…");
  return `${shown(state.from)} – ${shown(state.to)}`;
}

/** The local date (YYYY-MM-DD) of an instant in the workspace's zone. */
export function localDate(date, tz = zone) {
  return new Intl.DateTimeFormat("sv-SE", { timeZone: tz, year: "numeric", month: "2-digit", day: "2-digit" }).format(date);
}
