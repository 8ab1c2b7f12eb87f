// Events explorer: the stored events, newest first, filtered and paged by cursor.

import { get, getAll } from "../api.js";
import { csvButton, filename } from "../csv.js";
import { h, json, notice, replace, table, time } from "../dom.js";
import { nameLink } from "../names.js";
import { schema, suggestField } from "../pickers.js";
import { href } from "../state.js";
import { common, failure, filterForm, title } from "../view.js";

export const defaultRange = "all"; // as /api/events
const FILTERS = ["event_name", "type", "user_id", "group_id"];

/** A link to the explorer filtered to one event name (in the range shown). */
export function eventLink(name) {
  return h("a", { href: href("events", new URLSearchParams({ event_name: name })) }, name);
}

/** Events as CSV rows: every stored field, objects as JSON. */
export const EVENT_CSV = {
  header: ["id", "timestamp", "type", "event_name", "user_id", "anonymous_id", "group_id", "properties", "context",
    "message_id", "source", "is_test", "received_at"],
  row: (e) => [e.id, e.timestamp, e.type, e.event_name, e.user_id, e.anonymous_id, e.group_id, e.properties, e.context,
    e.message_id, e.source, e.is_test, e.received_at],
};

/** A compact one-line view of an object's properties, as text. */
export function props(value) {
  const entries = Object.entries(value || {});
  if (!entries.length) return "";
  return entries.map(([k, v]) => `${k}: ${typeof v === "string" ? v : JSON.stringify(v)}`).join(", ");
}

/** The table of events (shared with a user's timeline); a row opens to the whole event. */
export function eventsTable(events) {
  const rows = table([
    { label: "Time (UTC)", cell: (e) => time(e.timestamp), key: "timestamp", nowrap: true },
    { label: "Event", cell: (e) => (e.type === "track" ? eventLink(e.event_name) : e.event_name || e.type), key: "event_name" },
    { label: "User", cell: (e) => (e.user_id ? nameLink("users", e.user_id) : h("span", { class: "id" }, e.anonymous_id || "")), key: "user_id" },
    { label: "Account", cell: (e) => (e.group_id ? nameLink("accounts", e.group_id) : ""), key: "group_id" },
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
    { widget: suggestField({ name: "event_name", label: "Event", value: params.get("event_name") || "", placeholder: "signed_in",
      suggest: schema(common()).then((sc) => sc.events.map((e) => [e.event_name, `${e.count}`])) }) },
    { name: "type", label: "Type", options: ["", "track", "identify", "group", "page", "screen", "alias"] },
    { name: "user_id", label: "User id" },
    { name: "group_id", label: "Account id" },
  ], params, (next) => navigate("events", next));
  const wanted = { ...common() };
  for (const name of FILTERS) if (params.get(name)) wanted[name] = params.get(name);
  const download = csvButton(filename("events", params.get("event_name"), params.get("user_id"), params.get("group_id")),
    async (progress) => {
      const rows = await getAll("/api/events", wanted, { rowsKey: "events", signal, onProgress: progress });
      return { header: EVENT_CSV.header, rows: rows.map(EVENT_CSV.row) };
    });

  async function load(page) {
    const query = { ...wanted, limit: 50 };
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

  main.append(title("Events"), h("section", { class: "card" }, form, h("div", { class: "tools" }, download), results));
  load(0);
}
