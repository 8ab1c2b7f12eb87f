// One account: its numbers, traits, users and daily activity.

import { get } from "../api.js";
import { lineChart } from "../charts.js";
import { h, link, notice, num, stat, table, time } from "../dom.js";
import { common, section, title } from "../view.js";
import { health } from "./accounts.js";

export function render(main, { id, signal }) {
  const load = get(`/api/accounts/${encodeURIComponent(id)}`, common(), { template: "/api/accounts/{group_id}", signal });
  load.catch(() => {}); // each section shows the failure itself
  main.append(
    title(`Account ${id}`),
    section("Summary", async () => {
      const { account: a } = await load;
      const traits = Object.entries(a.traits || {});
      return [
        h("h3", { class: "account-name" }, a.name || a.group_id, " ", health(a.health)),
        h("div", { class: "stats" },
          stat("Users", num(a.users), "users"),
          stat("Active users (7d)", num(a.active_users_7d), "active_users_7d"),
          stat("Active users (30d)", num(a.active_users_30d), "active_users_30d"),
          stat("Sign-ins", num(a.sign_ins), "sign_ins"),
          stat("Events", num(a.events), "events"),
          stat("Last seen", time(a.last_seen), "last_seen")),
        traits.length
          ? table([{ label: "Trait", cell: (t) => t[0] },
            { label: "Value", cell: (t) => (typeof t[1] === "string" ? t[1] : JSON.stringify(t[1])), key: "trait" }],
          traits, { class: "traits" })
          : notice("empty", "No traits."),
      ];
    }, { section: "summary" }),
    section("Activity per day", async () => {
      const { activity } = await load;
      return lineChart(activity.map((d) => d.date), [
        { label: "Events", values: activity.map((d) => d.events), total: activity.reduce((s, d) => s + d.events, 0) },
        { label: "Active users", values: activity.map((d) => d.active_users) },
      ]);
    }, { section: "activity" }),
    section("Users", async () => {
      const { users } = await load;
      if (!users.length) return notice("empty", "No users.");
      return table([
        { label: "User", cell: (u) => link(u.user_id, "users", u.user_id), key: "user_id" },
        { label: "Name", cell: (u) => u.name || "", key: "name" },
        { label: "Email", cell: (u) => u.email || "", key: "email" },
        { label: "Sign-ins", cell: (u) => num(u.sign_ins), num: true, key: "sign_ins" },
        { label: "Events", cell: (u) => num(u.events), num: true, key: "events" },
        { label: "Last seen", cell: (u) => time(u.last_seen), key: "last_seen" },
      ], users, { class: "users" });
    }, { section: "users" }),
  );
}
