// Events explorer: the stored events, newest first, filtered and paged by cursor.

import { get } from "../api.js";
import { h, json, link, notice, replace, table, time } from "../dom.js";
import { common, failure, filterForm, title } from "../view.js";

const FILTERS = ["event_name", "type", "user_id", "group_id", "from", "to"];

/** A link to the explorer filtered to one event name. */
export function eventLink(name) {
  return h("a", { href: `#/events?${new URLSearchParams({ event_name: name })}` }, name);
}

/** A compact one-line view of an object's properties, as text. */
export function props(value) {
  const entries = Object.entries(value || {});
  if (!entries.length) return "";
  return entries.map(([k, v]) => `${k}: ${typeof v === "string" ? v : JSON.stringify(v)}`).join(", ");
}

/** The table of events (shared with a user's timeline); a row opens to the whole event. */
export function eventsTable(events) {
  const rows = table([
    { label: "Time (UTC)", cell: (e) => time(e.timestamp), key: "timestamp" },
    { label: "Event", cell: (e) => (e.type === "track" ? eventLink(e.event_name) : e.event_name || e.type), key: "event_name" },
    { label: "User", cell: (e) => (e.user_id ? link(e.user_id, "users", e.user_id) : e.anonymous_id || ""), key: "user_id" },
    { label: "Account", cell: (e) => (e.group_id ? link(e.group_id, "accounts", e.group_id) : ""), key: "group_id" },
    { label: "Properties", cell: (e) => h("span", { class: "props" }, props(e.properties)), key: "properties" },
    { label: "", cell: (e) => h("button", { type: "button", class: "link", onclick: (ev) => toggle(ev, e) }, "details") },
  ], events, { class: "events" });
  return rows;
}

function toggle(ev, event) {
  const row = ev.target.closest("tr");
  const next = row.nextElementSibling;
  if (next && next.classList.contains("detail")) return next.remove();
  row.after(h("tr", { class: "detail" }, h("td", { colspan: 6 }, json(event))));
}

export function render(main, { params, signal, navigate }) {
  const results = h("div", { class: "results" });
  const cursors = [null]; // cursors[i] opens page i; Previous pops back
  const form = filterForm([
    { name: "event_name", label: "Event", placeholder: "signed_in" },
    { name: "type", label: "Type", options: ["", "track", "identify", "group", "page", "screen", "alias"] },
    { name: "user_id", label: "User id" },
    { name: "group_id", label: "Account id" },
    { name: "from", label: "From", placeholder: "2026-11-01T00:00:00Z" },
    { name: "to", label: "To", placeholder: "ISO-8601" },
  ], params, (next) => navigate("events", next));

  async function load(page) {
    const query = { ...common(), limit: 50 };
    for (const name of FILTERS) if (params.get(name)) query[name] = params.get(name);
    if (cursors[page]) query.cursor = cursors[page];
    replace(results, notice("info", "Loading…"));
    try {
      const data = await get("/api/events", query, { signal });
      cursors[page + 1] = data.next_cursor;
      const pager = h("div", { class: "pager" },
        h("button", { type: "button", disabled: page === 0, onclick: () => load(page - 1) }, "Previous"),
        h("span", { dataset: { page: page + 1 } }, `Page ${page + 1}`),
        h("button", { type: "button", disabled: !data.next_cursor, onclick: () => load(page + 1) }, "Next"));
      replace(results, data.events.length ? eventsTable(data.events) : notice("empty", "No events match."), pager);
      results.dataset.state = "ready";
    } catch (error) {
      replace(results, failure(error));
      results.dataset.state = "error";
    }
  }

  main.append(title("Events"), h("section", { class: "card" }, form, results));
  load(0);
}
