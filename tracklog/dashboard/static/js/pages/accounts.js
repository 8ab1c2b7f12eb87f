// Accounts: every account with its users, activity and health tier.

import { get } from "../api.js";
import { h, link, notice, num, table, time } from "../dom.js";
import { common, filterForm, section, title } from "../view.js";

/** A health tier as a coloured badge (the tier is one of a fixed set; still set as text). */
export function health(tier) {
  return h("span", { class: `badge health-${/^[a-z_]+$/.test(tier) ? tier : "unknown"}`, dataset: { health: tier } }, tier);
}

export function render(main, { params, signal, navigate }) {
  const form = filterForm([{ name: "q", label: "Search", placeholder: "name or id", size: 30 }],
    params, (next) => navigate("accounts", next));
  main.append(
    title("Accounts"),
    h("section", { class: "card" }, form),
    section("Accounts", async () => {
      const data = await get("/api/accounts", { ...common(), q: params.get("q"), limit: 100 }, { signal });
      const t = data.thresholds || {};
      const legend = h("p", { class: "hint" },
        `Active: seen in the last ${t.active_days} days; at risk: within ${t.at_risk_days} days; dormant: longer.`);
      if (!data.accounts.length) return [notice("empty", "No accounts match."), legend];
      return [table([
        { label: "Account", cell: (a) => link(a.name || a.group_id, "accounts", a.group_id), key: "name" },
        { label: "Id", cell: (a) => a.group_id, key: "group_id" },
        { label: "Users", cell: (a) => num(a.users), num: true, key: "users" },
        { label: "Active 7d", cell: (a) => num(a.active_users_7d), num: true, key: "active_users_7d" },
        { label: "Active 30d", cell: (a) => num(a.active_users_30d), num: true, key: "active_users_30d" },
        { label: "Sign-ins", cell: (a) => num(a.sign_ins), num: true, key: "sign_ins" },
        { label: "Events", cell: (a) => num(a.events), num: true, key: "events" },
        { label: "Last seen", cell: (a) => time(a.last_seen), key: "last_seen" },
        { label: "Health", cell: (a) => health(a.health), key: "health" },
      ], data.accounts, { class: "accounts" }), legend];
    }, { section: "accounts" }),
  );
}
