// One user: traits, first and last seen, sign-ins, event counts, and the timeline (paged).

import { get, offers } from "../api.js";
import { h, link, notice, num, stat, table, time } from "../dom.js";
import { failure, section, title } from "../view.js";
import { eventLink, eventsTable } from "./events.js";

function value(v) {
  return typeof v === "string" ? v : JSON.stringify(v);
}

function timeline(id, signal) {
  const holder = h("div", { class: "timeline" });
  const more = h("button", { type: "button" }, "Older events");
  let cursor = null;
  let loaded = 0;
  async function load() {
    more.disabled = true;
    try {
      // The timeline endpoint also follows merged anonymous ids; /api/events is the fallback.
      const full = await offers("/api/users/{user_id}/events");
      const query = { limit: 50, cursor };
      const data = full
        ? await get(`/api/users/${encodeURIComponent(id)}/events`, query, { template: "/api/users/{user_id}/events", signal })
        : await get("/api/events", { ...query, user_id: id }, { signal });
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
  return h("section", { class: "card" }, h("h2", {}, "Timeline (newest first)"), holder, more);
}

export function render(main, { id, signal }) {
  main.append(
    title(`User ${id}`),
    section("Summary", async () => {
      const u = await get(`/api/users/${encodeURIComponent(id)}`, {}, { template: "/api/users/{user_id}", signal });
      const traits = Object.entries(u.traits || {});
      const counts = Object.entries(u.event_counts || {}).sort((a, b) => b[1] - a[1]);
      return [
        h("div", { class: "stats" },
          stat("Sign-ins", num(u.sign_in_count), "sign_in_count"),
          stat("First seen", time(u.first_seen), "first_seen"),
          stat("Last seen", time(u.last_seen), "last_seen")),
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
            (u.groups || []).length ? h("ul", {}, u.groups.map((g) => h("li", {}, link(g, "accounts", g)))) : notice("empty", "None."),
            h("h3", {}, "Anonymous ids"),
            (u.anonymous_ids || []).length ? h("ul", { class: "anonymous-ids" }, u.anonymous_ids.map((a) => h("li", {}, a))) : notice("empty", "None."))),
      ];
    }, { section: "summary" }),
    timeline(id, signal),
  );
}
