// The people behind a number (contract section 2): a panel under a chart or table listing
// the users (or accounts) counted in a trends bucket, a retention cell or a funnel step,
// paged like /api/users, with a CSV of all of them.

import { get, getAll } from "./api.js";
import { filename } from "./csv.js";
import { h, named, num, time } from "./dom.js";
import { pagedBox } from "./grid.js";
import { remember } from "./names.js";

export const USER_COLUMNS = [
  { label: "Name", cell: (u) => named(u.name || (typeof u.email === "string" ? u.email : null), u.user_id, ["users", u.user_id], false), key: "name" },
  { label: "Email", cell: (u) => (typeof u.email === "string" ? u.email : ""), key: "email", nowrap: true },
  { label: "Id", cell: (u) => u.user_id, key: "user_id", id: true },
  { label: "Events", cell: (u) => num(u.events), num: true, key: "events" },
  { label: "Sign-ins", cell: (u) => num(u.sign_ins), num: true, key: "sign_ins" },
  { label: "Last seen (UTC)", cell: (u) => time(u.last_seen), key: "last_seen", nowrap: true },
];
export const USER_CSV = {
  header: ["user_id", "name", "email", "events", "sign_ins", "first_seen", "last_seen", "anonymous"],
  row: (u) => [u.user_id, u.name, u.email, u.events, u.sign_ins, u.first_seen, u.last_seen, u.anonymous],
};
const ACCOUNT_COLUMNS = [
  { label: "Account", cell: (a) => named(a.name, a.group_id, ["accounts", a.group_id], false), key: "name" },
  { label: "Id", cell: (a) => a.group_id, key: "group_id", id: true },
];
const ACCOUNT_CSV = { header: ["group_id", "name"], row: (a) => [a.group_id, a.name] };

/**
 * Show in `holder` the people behind a point: `template`/`path` and `params` name the
 * endpoint and its filters; `what` says in words what was clicked.
 */
export function showPeople(holder, { what, template, path = template, params, kind = "users", signal }) {
  const rowsOf = (data) => data.users || data.accounts || [];
  const { box, tools } = pagedBox({
    columns: kind === "accounts" ? ACCOUNT_COLUMNS : USER_COLUMNS,
    attrs: { class: "people" },
    noun: kind === "accounts" ? "accounts" : "people",
    fetchPage: async (offset, limit) => {
      const data = await get(path, { ...params, offset, limit }, { template, signal });
      const rows = rowsOf(data);
      for (const r of rows) if (r.user_id) remember("users", r.user_id, r.name || r.email);
      return { rows, total: data.total ?? rows.length };
    },
    fetchAll: (progress) => getAll(path, params, { template, rowsKey: kind === "accounts" ? "accounts" : "users", signal, onProgress: progress }),
    csv: { name: filename("people", what), ...(kind === "accounts" ? ACCOUNT_CSV : USER_CSV) },
  });
  const close = h("button", { type: "button", class: "link close", title: "Close" }, "Close");
  const panel = h("section", { class: "card people-panel", dataset: { section: "people", what } },
    h("div", { class: "card-head" }, h("h2", {}, kind === "accounts" ? "Accounts: " : "People: ", what), tools, close), box);
  close.addEventListener("click", () => panel.remove());
  holder.replaceChildren(panel);
  panel.scrollIntoView({ block: "nearest" });
  return panel;
}
