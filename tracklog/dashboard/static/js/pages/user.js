// One user: traits, first and last seen, sign-ins, event counts, accounts, and the timeline.

import { get, getAll, offers } from "../api.js";
import { csvButton, filename } from "../csv.js";
import { h, named, notice, num, stat, table, time } from "../dom.js";
import { nameLink, remember } from "../names.js";
import { common, failure, section, setTitle, title } from "../view.js";
import { EVENT_CSV, eventLink, eventsTable } from "./events.js";

export const defaultRange = "all"; // as /api/users/{user_id}

function value(v) {
  return typeof v === "string" ? v : JSON.stringify(v);
}

function timeline(id, signal) {
  const holder = h("div", { class: "timeline" });
  const more = h("button", { type: "button" }, "Older events");
  let cursor = null;
  let loaded = 0;
  let source = null; // [path, template, extra params]
  async function endpoint() {
    // The timeline endpoint also follows merged anonymous ids; /api/events is the fallback.
    if (!source) {
      source = (await offers("/api/users/{user_id}/events"))
        ? [`/api/users/${encodeURIComponent(id)}/events`, "/api/users/{user_id}/events", {}]
        : ["/api/events", "/api/events", { user_id: id }];
    }
    return source;
  }
  async function load() {
    more.disabled = true;
    try {
      const [path, template, extra] = await endpoint();
      const data = await get(path, { ...common(), ...extra, limit: 50, cursor }, { template, signal });
      loaded += data.events.length;
      cursor = data.next_cursor;
      if (data.events.length) holder.append(eventsTable(data.events));
      else if (!loaded) holder.append(notice("empty", "No events."));
      more.hidden = !cursor;
      more.disabled = false;
      holder.dataset.count = String(loaded);
      holder.dataset.state = "ready";
    } catch (error) {
      holder.append(failure(error));
      holder.dataset.state = "error";
    }
  }
  more.addEventListener("click", load);
  load();
  const download = csvButton(filename("user", id, "timeline"), async (progress) => {
    const [path, template, extra] = await endpoint();
    const rows = await getAll(path, { ...common(), ...extra }, { template, rowsKey: "events", signal, onProgress: progress });
    return { header: EVENT_CSV.header, rows: rows.map(EVENT_CSV.row) };
  });
  return h("section", { class: "card", dataset: { section: "timeline-card" } },
    h("div", { class: "card-head" }, h("h2", {}, "Timeline (newest first)"), h("div", { class: "tools" }, download)), holder, more);
}

export function render(main, { id, signal }) {
  const load = get(`/api/users/${encodeURIComponent(id)}`, common(), { template: "/api/users/{user_id}", signal });
  load.catch(() => {});
  const heading = title(id, h("span", { class: "subtitle" }, "User"));
  setTitle("User", id);
  load.then((u) => {
    const name = u.name || (typeof u.email === "string" ? u.email : null);
    remember("users", id, name);
    if (!name) return;
    heading.querySelector("h1").replaceChildren(named(name, u.user_id));
    setTitle("User", name);
  }, () => {});
  main.append(
    heading,
    section("Summary", async (body, tools) => {
      const u = await load;
      tools.append(csvButton(filename("user", id, "events-by-name"), async () => ({
        header: ["event_name", "count"], rows: Object.entries(u.event_counts || {}).sort((a, b) => b[1] - a[1]) })));
      const traits = Object.entries(u.traits || {});
      const counts = Object.entries(u.event_counts || {}).sort((a, b) => b[1] - a[1]);
      return [
        h("div", { class: "stats" },
          stat("Sign-ins", num(u.sign_in_count), "sign_in_count"),
          stat("First seen (UTC)", time(u.first_seen), "first_seen"),
          stat("Last seen (UTC)", time(u.last_seen), "last_seen")),
        h("div", { class: "columns" },
          h("div", {}, h("h3", {}, "Traits"), traits.length
            ? table([{ label: "Trait", cell: (t) => t[0] }, { label: "Value", cell: (t) => value(t[1]), key: "trait" }],
              traits, { class: "traits" })
            : notice("empty", "No traits.")),
          h("div", {}, h("h3", {}, "Events"), table([
            { label: "Event", cell: (c) => eventLink(c[0]), key: "event_name" },
            { label: "Count", cell: (c) => num(c[1]), num: true, key: "count" },
          ], counts, { class: "event-counts" })),
          h("div", {},
            h("h3", {}, "Accounts"),
            (u.groups || []).length
              ? h("ul", { class: "accounts" }, u.groups.map((g) => h("li", { dataset: { groupId: g } }, nameLink("accounts", g))))
              : notice("empty", "None."),
            h("h3", {}, "Anonymous ids"),
            (u.anonymous_ids || []).length ? h("ul", { class: "anonymous-ids" }, u.anonymous_ids.map((a) => h("li", { class: "id" }, a))) : notice("empty", "None."))),
      ];
    }, { section: "summary" }),
    timeline(id, signal),
  );
}
