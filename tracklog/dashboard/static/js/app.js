// The dashboard shell: signing in, the header controls and hash routing to the pages.

import {
  checkSession, clearKey, endSession, forget, get, getKey, openSession, raw, sessions, setKey, signedIn,
} from "./api.js";
import { replace } from "./dom.js";
import { forgetNames } from "./names.js";
import * as state from "./state.js";
import * as account from "./pages/account.js";
import * as accounts from "./pages/accounts.js";
import * as events from "./pages/events.js";
import * as funnel from "./pages/funnel.js";
import * as lifecycle from "./pages/lifecycle.js";
import * as live from "./pages/live.js";
import * as overview from "./pages/overview.js";
import * as quarantine from "./pages/quarantine.js";
import * as retention from "./pages/retention.js";
import * as guide from "./pages/start.js";
import * as trends from "./pages/trends.js";
import * as user from "./pages/user.js";
import * as users from "./pages/users.js";

// Route patterns: first path segment -> page, with or without one id after it. A page may
// export `defaultRange` ("all" for lists, as the API) and `ranged = false` (no range at all).
const ROUTES = {
  "": overview,
  start: guide,
  trends: trends,
  events: events,
  users: users,
  "users/:id": user,
  accounts: accounts,
  "accounts/:id": account,
  retention: retention,
  funnel: funnel,
  lifecycle: lifecycle,
  live: live,
  quarantine: quarantine,
};

const $ = (id) => document.getElementById(id);
let current = null; // {controller} of the page shown, aborted when another replaces it
let renders = 0; // counts pages drawn, so a test can tell this page from the last one
let pending = 0; // the latest render asked for: an older one that waited gives way
let useSessions = false; // this server keeps sessions (contract section 6)
// Tabs of this browser tell each other about signing in and out (the session is shared).
const channel = "BroadcastChannel" in window ? new BroadcastChannel("tracklog") : null;

/** The route in location.hash: {page, id, params, section, path}. */
function parseHash() {
  const hash = location.hash.replace(/^#\/?/, "");
  const [path, query = ""] = hash.split("?", 2);
  const segments = path.split("/").filter(Boolean).map(decodeURIComponent);
  const section = segments[0] || "";
  const pattern = segments.length > 1 ? `${section}/:id` : section;
  return { page: ROUTES[pattern], id: segments[1], params: new URLSearchParams(query), section, path };
}

/** Go to a route of this dashboard, e.g. navigate("events", params); the range stays. */
export function navigate(path, params) {
  location.hash = state.href(path, params || new URLSearchParams());
}

let zone = null;
/** The workspace's time zone (custom dates are its local days), asked once. */
async function workspaceZone() {
  if (!zone) zone = get("/api/analytics/top-events", { limit: 1 }).then((d) => d.timezone).catch(() => "UTC");
  return zone;
}

function showLogin(message = "") {
  if (current) current.controller.abort();
  current = null;
  forgetNames();
  $("top").hidden = true;
  replace($("main"));
  document.title = "Sign in — Tracklog";
  $("login").hidden = false;
  $("login-error").textContent = message;
  $("key-kept").textContent = useSessions
    ? "This browser stays signed in (every tab) until you sign out; the key itself is not kept."
    : "It stays in this tab only.";
  $("key").focus();
}

/** The header's range and test-event controls show the route's state. */
function syncControls(route) {
  const s = state.current();
  const ranged = !route.page || route.page.ranged !== false;
  document.querySelector(".range-controls").hidden = !ranged;
  const select = $("range");
  select.querySelector('option[value="all"]').hidden = state.pageDefault() !== "all";
  select.value = s.range;
  $("custom-range").hidden = s.range !== "custom";
  if (s.range === "custom") {
    $("range-from").value = /^\d{4}-\d{2}-\d{2}$/.test(s.from || "") ? s.from : "";
    $("range-to").value = /^\d{4}-\d{2}-\d{2}$/.test(s.to || "") ? s.to : "";
  }
  $("include-test").checked = s.test;
  for (const a of $("nav").querySelectorAll("a")) {
    const target = a.dataset.route ?? a.getAttribute("href").replace(/^#\/?/, "");
    a.dataset.route = target;
    a.href = state.href(target);
    a.classList.toggle("active", target === route.section);
  }
  document.querySelector(".brand").href = state.href("");
}

/**
 * Go to this route with other shared state (range, test events): the page's own params stay.
 * A range left at the page's default stays implicit, so the next page keeps its own default.
 */
function go(next) {
  const route = parseHash();
  const q = new URLSearchParams();
  for (const [k, v] of route.params) if (!state.GLOBAL.includes(k)) q.append(k, v);
  for (const [k, v] of state.globals({ explicit: true, ...next })) q.set(k, v);
  location.hash = `#/${route.path}${[...q].length ? `?${q}` : ""}`;
}

async function render() {
  const token = ++pending;
  if (!signedIn()) return showLogin();
  $("login").hidden = true;
  $("top").hidden = false;
  if (current) current.controller.abort();
  current = null;
  const route = parseHash();
  state.load(route.params, (route.page && route.page.defaultRange) || "30d");
  if (state.needsZone()) {
    state.setZone(await workspaceZone());
    if (token !== pending) return;
  }
  syncControls(route);
  const main = $("main");
  if (!route.page) {
    replace(main, "There is no such page. ");
    document.title = "Not found — Tracklog";
    return;
  }
  const controller = new AbortController();
  current = { controller };
  main.replaceChildren();
  main.dataset.page = route.section || "overview";
  main.dataset.seq = String(++renders);
  route.page.render(main, { id: route.id, params: route.params, signal: controller.signal, navigate });
}

async function login(event) {
  event.preventDefault();
  const key = $("key").value.trim();
  const error = $("login-error");
  error.textContent = "";
  if (!key) return;
  // Ask the server whether the key reads this workspace before keeping it (or a session).
  let response;
  try {
    response = useSessions ? await openSession(key) : await raw("/api/events", { limit: 1 }, {}, key);
  } catch {
    error.textContent = "The server cannot be reached.";
    return;
  }
  if (response.status === 401) {
    error.textContent = "The server does not know this key.";
  } else if (response.status === 403) {
    error.textContent = "This key cannot read; use a read key.";
  } else if (!response.ok) {
    error.textContent = `The server answered ${response.status}.`;
  } else {
    if (!useSessions) setKey(key);
    $("key").value = "";
    if (channel) channel.postMessage("signed-in");
    render();
  }
}

async function logout() {
  if (useSessions) await endSession();
  forget();
  if (channel) channel.postMessage("signed-out");
  showLogin();
}

async function start() {
  $("login-form").addEventListener("submit", login);
  $("logout").addEventListener("click", logout);
  $("range").addEventListener("change", async (e) => {
    const value = e.target.value;
    if (value !== "custom") return go({ range: value, from: null, to: null, test: state.current().test });
    // Custom dates start as the range shown, in the workspace's local days.
    state.setZone(await workspaceZone());
    const b = state.bounds() || { from: new Date(Date.now() - 30 * 86400e3), to: new Date() };
    $("range-from").value = state.localDate(b.from);
    $("range-to").value = state.localDate(new Date(b.to - 1));
    $("custom-range").hidden = false;
    $("range-from").focus();
  });
  $("custom-range").addEventListener("submit", (e) => {
    e.preventDefault();
    go({ range: "custom", from: $("range-from").value, to: $("range-to").value, test: state.current().test });
  });
  $("include-test").addEventListener("change", (e) => go({ ...state.current(), test: e.target.checked }));
  window.addEventListener("hashchange", render);
  window.addEventListener("tracklog:unauthorized", (e) => showLogin(e.detail));
  if (channel) {
    channel.addEventListener("message", async (e) => {
      if (e.data === "signed-out" && useSessions) {
        forget();
        showLogin("Signed out in another tab.");
      } else if (e.data === "signed-in" && useSessions && !signedIn()) {
        if (await checkSession()) render();
      }
    });
  }
  try {
    useSessions = await sessions();
  } catch {
    useSessions = false;
  }
  if (useSessions) {
    // A key left in this tab by an older dashboard becomes a session, and leaves the tab.
    const stray = getKey();
    clearKey();
    if (stray) await openSession(stray).catch(() => null);
    if (!signedIn()) await checkSession().catch(() => false);
  }
  render();
}

start();
