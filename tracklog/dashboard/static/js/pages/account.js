// One account: its numbers, traits, health and why, daily activity, and its users.

import { get } from "../api.js";
import { lineChart } from "../charts.js";
import { csvButton, filename } from "../csv.js";
import { h, named, notice, num, stat, table, time } from "../dom.js";
import { remember } from "../names.js";
import { addDays } from "../state.js";
import { common, section, setTitle, title } from "../view.js";
import { health, healthRule } from "./accounts.js";

export const defaultRange = "all"; // as /api/accounts/{group_id}

/**
 * Every day from the first to the last of an account's activity: the answer lists only days
 * with activity over a long range, and a line drawn across a missing day would hide a gap.
 */
export function everyDay(days) {
  if (!days.length) return days;
  const byDate = new Map(days.map((d) => [d.date, d]));
  const out = [];
  for (let date = days[0].date; date <= days[days.length - 1].date; date = addDays(date, 1)) {
    out.push(byDate.get(date) || { date, events: 0, active_users: 0, partial: false });
  }
  return out;
}

export function render(main, { id, signal }) {
  const load = get(`/api/accounts/${encodeURIComponent(id)}`, common(), { template: "/api/accounts/{group_id}", signal });
  load.catch(() => {}); // each section shows the failure itself
  const heading = title(id, h("span", { class: "subtitle" }, "Account"));
  setTitle("Account", id);
  load.then(({ account: a }) => {
    if (!a.name) return;
    // The name first, the id after it (as everywhere).
    heading.querySelector("h1").replaceChildren(named(a.name, a.group_id));
    setTitle("Account", a.name);
    remember("accounts", a.group_id, a.name);
  }, () => {});
  main.append(
    heading,
    section("Summary", async () => {
      const { account: a, timezone, windows } = await load;
      const traits = Object.entries(a.traits || {});
      return [
        h("h3", { class: "account-name" }, a.name || a.group_id, " ", health(a.health, a.health_reason)),
        h("p", { class: "hint health-reason" }, a.health_reason),
        h("div", { class: "stats" },
          stat("Users", num(a.users), "users"),
          stat("Active users (7d)", num(a.active_users_7d), "active_users_7d"),
          stat("Active users (30d)", num(a.active_users_30d), "active_users_30d"),
          stat("Sign-ins", num(a.sign_ins), "sign_ins"),
          stat("Events", num(a.events), "events"),
          stat("Last seen", time(a.last_seen, timezone), "last_seen")),
        h("details", { class: "rule" }, h("summary", {}, "How health is judged"),
          healthRule({ thresholds: (await thresholds()) || null, windows, timezone })),
        traits.length
          ? table([{ label: "Trait", cell: (t) => t[0] },
            { label: "Value", cell: (t) => (typeof t[1] === "string" ? t[1] : JSON.stringify(t[1])), key: "trait" }],
          traits, { class: "traits" })
          : notice("empty", "No traits."),
      ];
    }, { section: "summary" }),
    section("Activity per day", async () => {
      const { activity: days, timezone } = await load;
      const activity = everyDay(days);
      const x = activity.map((d) => d.date);
      const partial = activity.map((d) => d.partial);
      // Events and active users differ by orders of magnitude: each has its own chart and axis.
      return h("div", { class: "chart-pair" },
        h("div", { class: "chart-events" }, h("h3", {}, "Events"), lineChart(x, [
          { label: "Events", values: activity.map((d) => d.events), total: activity.reduce((s, d) => s + d.events, 0) },
        ], { tz: timezone, partial, bars: true, yLabel: "Events", height: 180, csv: filename("account", id, "events-per-day") })),
        h("div", { class: "chart-users" }, h("h3", {}, "Active users"), lineChart(x, [
          { label: "Active users", values: activity.map((d) => d.active_users), color: "#2a9d6f" },
        ], { tz: timezone, partial, yLabel: "Users", height: 180, csv: filename("account", id, "active-users-per-day") })));
    }, { section: "activity" }),
    section("Users", async (body, tools) => {
      const { users, timezone } = await load;
      if (!users.length) return notice("empty", "No users.");
      for (const u of users) remember("users", u.user_id, u.name || u.email);
      tools.append(csvButton(filename("account", id, "users"), async () => ({
        header: ["user_id", "name", "email", "events", "sign_ins", "last_seen"],
        rows: users.map((u) => [u.user_id, u.name, u.email, u.events, u.sign_ins, u.last_seen]),
      })));
      return table([
        { label: "Name", cell: (u) => named(u.name || (typeof u.email === "string" ? u.email : null), u.user_id, ["users", u.user_id], false), key: "name" },
        { label: "Email", cell: (u) => (typeof u.email === "string" ? u.email : ""), key: "email", nowrap: true },
        { label: "Id", cell: (u) => u.user_id, key: "user_id", id: true },
        { label: "Sign-ins", cell: (u) => num(u.sign_ins), num: true, key: "sign_ins" },
        { label: "Events", cell: (u) => num(u.events), num: true, key: "events" },
        { label: "Last seen", cell: (u) => time(u.last_seen, timezone), key: "last_seen", nowrap: true },
      ], users, { class: "users" });
    }, { section: "users" }),
  );

  /** The health settings: an account's answer has its windows but not the thresholds. */
  async function thresholds() {
    try {
      const list = await get("/api/accounts", { ...common(), q: id, limit: 1 }, { signal });
      return list.thresholds;
    } catch {
      return null;
    }
  }
}
