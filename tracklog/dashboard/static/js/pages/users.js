// Users: search by id, email or name; each links to the user's page.

import { get } from "../api.js";
import { h, link, notice, num, table, time } from "../dom.js";
import { common, filterForm, section, title } from "../view.js";

export function render(main, { params, signal, navigate }) {
  const form = filterForm([{ name: "q", label: "Search", placeholder: "id, email or name", size: 30 }],
    params, (next) => navigate("users", next));
  const open = filterForm([{ name: "user_id", label: "Open a user by id" }], new URLSearchParams(),
    (next) => next.get("user_id") && navigate(`users/${encodeURIComponent(next.get("user_id"))}`));
  main.append(
    title("Users"),
    h("section", { class: "card" }, form, open),
    section("Users", async () => {
      const data = await get("/api/users", { ...common(), q: params.get("q"), limit: 50 }, { signal });
      if (!data.users.length) return notice("empty", "No users match.");
      return table([
        { label: "User", cell: (u) => link(u.user_id, "users", u.user_id), key: "user_id" },
        { label: "Email", cell: (u) => u.email || "", key: "email" },
        { label: "Name", cell: (u) => u.name || "", key: "name" },
        { label: "Sign-ins", cell: (u) => num(u.sign_ins), num: true, key: "sign_ins" },
        { label: "Events", cell: (u) => num(u.events), num: true, key: "events" },
        { label: "First seen", cell: (u) => time(u.first_seen), key: "first_seen" },
        { label: "Last seen", cell: (u) => time(u.last_seen), key: "last_seen" },
      ], data.users, { class: "users" });
    }, { section: "users" }),
  );
}
