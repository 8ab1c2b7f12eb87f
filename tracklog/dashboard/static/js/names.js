// Names for ids, where an answer carries only the id (events, a user's accounts): asked of
// the API once per id per sign-in, a few at a time, and filled in when they arrive.

import { get } from "./api.js";
import { h } from "./dom.js";
import { href } from "./state.js";

const cache = { users: new Map(), accounts: new Map() };
const queue = [];
let running = 0;
const PARALLEL = 3;

/** Forget every name (signing out: the next key may read another workspace). */
export function forgetNames() {
  cache.users.clear();
  cache.accounts.clear();
}

/** Remember names an answer already gave (lists), so no one asks for them again. */
export function remember(kind, id, name) {
  if (id !== null && id !== undefined && !cache[kind].has(id)) cache[kind].set(id, Promise.resolve(name || null));
}

function pump() {
  while (running < PARALLEL && queue.length) {
    const job = queue.shift();
    running += 1;
    job().finally(() => {
      running -= 1;
      pump();
    });
  }
}

function ask(kind, id, fetcher) {
  if (!cache[kind].has(id)) {
    cache[kind].set(id, new Promise((resolve) => {
      queue.push(() => fetcher().then(resolve, () => resolve(null)));
      pump();
    }));
  }
  return cache[kind].get(id);
}

/** A person's name, else email, else null. */
export function userName(id) {
  return ask("users", id, async () => {
    const u = await get(`/api/users/${encodeURIComponent(id)}`, {}, { template: "/api/users/{user_id}" });
    return u.name || (typeof u.email === "string" ? u.email : null);
  });
}

/** An account's name, else null. */
export function accountName(id) {
  return ask("accounts", id, async () => {
    const found = await get("/api/accounts", { q: id, limit: 100 }); // all time, by default
    const a = (found.accounts || []).find((x) => x.group_id === id);
    return a ? a.name : null;
  });
}

/**
 * A link to a user or an account that shows the id until the name arrives, then the name
 * with the id after it. kind: "users" or "accounts".
 */
export function nameLink(kind, id) {
  const a = h("a", { class: "name", href: href(`${kind}/${encodeURIComponent(id)}`) }, String(id));
  const idText = h("span", { class: "id", hidden: true }, String(id));
  const holder = h("span", { class: "named", dataset: { id } }, a, idText);
  (kind === "users" ? userName(id) : accountName(id)).then((name) => {
    if (!name || name === id) return;
    a.textContent = name;
    idText.hidden = false;
  });
  return holder;
}
