// Accounts: every account with its users, activity and health tier; search, filter by tier,
// sort by any column, page through all of them, download them all.

import { offersParams } from "../api.js";
import { filename } from "../csv.js";
import { h, named, num, TIERS, tierWord, time } from "../dom.js";
import { keepOrder, listTable } from "../grid.js";
import { remember } from "../names.js";
import { addDays, href } from "../state.js";
import { common, filterForm, section, setTitle, title } from "../view.js";

export const defaultRange = "all"; // as /api/accounts: every account, dormant ones too

/** A health tier as a coloured badge in words, its reason as the tooltip (both set as text). */
export function health(tier, reason) {
  return h("span", { class: `badge health-${/^[a-z_]+$/.test(tier) ? tier : "unknown"}`, dataset: { health: tier },
    title: reason || null }, tierWord(tier));
}

/**
 * The exact rule the tiers were computed with, from the answer's `thresholds` and `windows`
 * (docs/analytics.md, "Account health"), with the local dates each window covers.
 */
export function healthRule(data) {
  const t = data.thresholds;
  const w = data.windows;
  if (!t || !w) return null;
  const first30 = w.active_users_30d.from.slice(0, 10); // local date of D-29
  const last = addDays(first30, 29); // D: the local day of the last instant before `to`
  const since = (days) => `${addDays(last, -(days - 1))} to ${last}`;
  const plural = (n, word) => `${n} ${word}${n === 1 ? "" : "s"}`;
  return h("div", { class: "health-rule", dataset: { asOf: w.active_users_30d.to } },
    h("p", { class: "hint" }, `Health is judged as of the end of the range (${time(w.active_users_30d.to, data.timezone)}, `
      + `local days of ${data.timezone}), whatever its start:`),
    h("ul", { class: "hint" },
      h("li", { dataset: { tier: "active" } }, health("active"), ` last activity in the last ${plural(t.active_days, "day")} (${since(t.active_days)}) `
        + `and activity on at least ${plural(t.min_active_days, "different day")} of the last 30 (${since(30)}).`),
      h("li", { dataset: { tier: "at_risk" } }, health("at_risk"), ` not active, but last activity in the last ${plural(t.at_risk_days, "day")} `
        + `(${since(t.at_risk_days)}). An account seen recently on fewer than ${t.min_active_days} days is at risk too.`),
      h("li", { dataset: { tier: "dormant" } }, health("dormant"), ` no activity in the last ${plural(t.at_risk_days, "day")}, or never.`)));
}

/** The health cell: the tier in words, and why (opens in place; a tooltip too). */
function healthCell(a) {
  return [health(a.health, a.health_reason), " ",
    h("details", { class: "why" }, h("summary", {}, "why?"), h("span", { class: "reason" }, a.health_reason))];
}

export const COLUMNS = [
  { label: "Account", cell: (a) => named(a.name, a.group_id, ["accounts", a.group_id], false), key: "name", sort: "name" },
  { label: "Id", cell: (a) => a.group_id, key: "group_id", id: true },
  { label: "Users", cell: (a) => num(a.users), num: true, key: "users", sort: "users" },
  { label: "Active 7d", cell: (a) => num(a.active_users_7d), num: true, key: "active_users_7d", sort: "active_users_7d" },
  { label: "Active 30d", cell: (a) => num(a.active_users_30d), num: true, key: "active_users_30d", sort: "active_users_30d" },
  { label: "Sign-ins", cell: (a) => num(a.sign_ins), num: true, key: "sign_ins", sort: "sign_ins" },
  { label: "Events", cell: (a) => num(a.events), num: true, key: "events", sort: "events" },
];

export function render(main, { params, signal, navigate }) {
  const tiers = params.getAll("health").flatMap((v) => v.split(",")).filter((v) => v in TIERS);
  const checks = h("fieldset", { class: "tiers", hidden: true }, h("legend", {}, "Health"),
    Object.entries(TIERS).map(([tier, word]) => h("label", {},
      h("input", { type: "checkbox", name: "health", value: tier, checked: tiers.includes(tier) }), ` ${word}`)));
  const form = filterForm([
    { name: "q", label: "Search", placeholder: "name or id", size: 24 },
    { widget: checks },
  ], params, (next) => navigate("accounts", keepOrder(next, params)));
  offersParams("/api/accounts", "health").then((ok) => { checks.hidden = !ok; });
  let tz = "UTC";
  const heading = tiers.length ? `Accounts: ${tiers.map(tierWord).join(", ").toLowerCase()}` : "Accounts";
  main.append(
    title(heading),
    h("section", { class: "card" }, form),
    section("Accounts", async (body, tools) => {
      setTitle(heading);
      let legend = null;
      let counts = null;
      const table = await listTable({
        template: "/api/accounts", rowsKey: "accounts", noun: "accounts", signal, params,
        navigate: (next) => navigate("accounts", next), limit: 100, tools,
        query: { ...common(), q: params.get("q"), health: tiers.length ? tiers : null },
        defaults: { sort: "active_users_30d", order: "desc" },
        attrs: { class: "accounts" },
        columns: [
          ...COLUMNS,
          { label: "Last seen", cell: (a) => time(a.last_seen, tz), key: "last_seen", sort: "last_seen", nowrap: true, time: true },
          { label: "Health", cell: healthCell, key: "health", sort: "health" },
        ],
        csv: {
          name: filename("accounts", ...tiers),
          header: ["group_id", "name", "users", "active_users_7d", "active_users_30d", "sign_ins", "events", "last_seen", "health", "health_reason"],
          row: (a) => [a.group_id, a.name, a.users, a.active_users_7d, a.active_users_30d, a.sign_ins, a.events, a.last_seen, a.health, a.health_reason],
        },
        onData: (data) => {
          tz = data.timezone;
          legend = healthRule(data);
          counts = data.counts || null;
          for (const a of data.accounts || []) remember("accounts", a.group_id, a.name);
        },
      });
      // How many of the matching accounts are in each tier; each opens the list of that tier.
      const only = (tier) => {
        const next = new URLSearchParams(params);
        for (const k of ["health", "page"]) next.delete(k);
        next.set("health", tier);
        return href("accounts", next);
      };
      const tally = counts
        ? h("p", { class: "tier-counts" }, Object.keys(TIERS).map((tier) =>
          h("a", { class: "tier-count", href: only(tier), dataset: { tier, count: counts[tier] ?? 0 } },
            health(tier), ` ${num(counts[tier] ?? 0)}`)))
        : null;
      return [tally, table, legend].filter(Boolean);
    }, { section: "accounts" }),
  );
}
