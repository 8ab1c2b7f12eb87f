// Users: search by id, email or name, filter by an event done or an account, sort by any
// column, page through all of them, download them all; each opens the user's page.

import { offersParams } from "../api.js";
import { filename } from "../csv.js";
import { h, named, num, time } from "../dom.js";
import { keepOrder, listTable } from "../grid.js";
import { remember } from "../names.js";
import { USER_CSV } from "../people.js";
import { chipsField, propertiesOf, schema, whereField } from "../pickers.js";
import { common, filterForm, section, title } from "../view.js";

export const defaultRange = "all"; // as /api/users

const email = (u) => (typeof u.email === "string" ? u.email : u.email === null || u.email === undefined ? "" : JSON.stringify(u.email));

export const COLUMNS = [
  { label: "Name", cell: (u) => named(u.name || email(u) || null, u.user_id, ["users", u.user_id], false), key: "name", sort: "name" },
  { label: "Email", cell: email, key: "email", sort: "email", nowrap: true },
  { label: "Id", cell: (u) => u.user_id, key: "user_id", sort: "user_id", id: true },
  { label: "Sign-ins", cell: (u) => num(u.sign_ins), num: true, key: "sign_ins", sort: "sign_ins" },
  { label: "Events", cell: (u) => num(u.events), num: true, key: "events", sort: "events" },
  { label: "First seen (UTC)", cell: (u) => time(u.first_seen), key: "first_seen", sort: "first_seen", nowrap: true, time: true },
  { label: "Last seen (UTC)", cell: (u) => time(u.last_seen), key: "last_seen", sort: "last_seen", nowrap: true, time: true },
];

export function render(main, { params, signal, navigate }) {
  const events = params.getAll("event").flatMap((v) => v.split(",")).map((v) => v.trim()).filter(Boolean);
  const known = schema(common());
  const filters = h("div", { class: "more-filters", hidden: true },
    chipsField({ name: "event", label: "Did any of", value: events.join(","), placeholder: "event",
      suggest: known.then((s) => s.events.map((e) => [e.event_name, `${e.count}`])) }),
    whereField({ value: params.get("where") || "", props: known.then((s) => propertiesOf(s, events)) }),
    h("label", {}, "Account id", h("input", { name: "group_id", value: params.get("group_id") || "", size: 12 })));
  filters.flush = () => filters.querySelectorAll(".picker").forEach((p) => p.flush && p.flush());
  const form = filterForm([
    { name: "q", label: "Search", placeholder: "id, email or name", size: 24 },
    { widget: filters },
  ], params, (next) => navigate("users", keepOrder(next, params)));
  offersParams("/api/users", "event", "group_id", "where").then((ok) => { filters.hidden = !ok; });
  const open = filterForm([{ name: "user_id", label: "Open a user by id" }], new URLSearchParams(),
    (next) => next.get("user_id") && navigate(`users/${encodeURIComponent(next.get("user_id"))}`));
  main.append(
    title("Users"),
    h("section", { class: "card" }, form, open),
    section("Users", async (body, tools) => listTable({
      template: "/api/users", rowsKey: "users", noun: "users", signal, params, tools,
      navigate: (next) => navigate("users", next), limit: 50,
      query: { ...common(), q: params.get("q"), event: events.length ? events : null,
        group_id: params.get("group_id"), where: params.get("where") },
      defaults: { sort: "last_seen", order: "desc" },
      attrs: { class: "users" },
      columns: COLUMNS,
      csv: { name: filename("users", params.get("q"), ...events), ...USER_CSV },
      onData: (data) => { for (const u of data.users || []) remember("users", u.user_id, u.name || email(u) || null); },
    }), { section: "users" }),
  );
}
