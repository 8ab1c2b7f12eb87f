// The dashboard shell: the login form, the header controls and hash routing to the pages.

import { clearKey, getKey, raw, setKey } from "./api.js";
import { replace } from "./dom.js";
import { includeTest, rangeDays, setIncludeTest, setRangeDays } from "./view.js";
import * as account from "./pages/account.js";
import * as accounts from "./pages/accounts.js";
import * as events from "./pages/events.js";
import * as funnel from "./pages/funnel.js";
import * as live from "./pages/live.js";
import * as overview from "./pages/overview.js";
import * as quarantine from "./pages/quarantine.js";
import * as retention from "./pages/retention.js";
import * as trends from "./pages/trends.js";
import * as user from "./pages/user.js";
import * as users from "./pages/users.js";

// Route patterns: first path segment -> page, with or without one id after it.
const ROUTES = {
  "": overview,
  trends: trends,
  events: events,
  users: users,
  "users/:id": user,
  accounts: accounts,
  "accounts/:id": account,
  retention: retention,
  funnel: funnel,
  live: live,
  quarantine: quarantine,
};

const $ = (id) => document.getElementById(id);
let current = null; // {controller} of the page shown, aborted when another replaces it
let renders = 0; // counts pages drawn, so a test can tell this page from the last one

/** The route in location.hash: {page, id, params, section}. */
function parseHash() {
  const hash = location.hash.replace(/^#\/?/, "");
  const [path, query = ""] = hash.split("?", 2);
  const segments = path.split("/").filter(Boolean).map(decodeURIComponent);
  const section = segments[0] || "";
  const pattern = segments.length > 1 ? `${section}/:id` : section;
  return { page: ROUTES[pattern], id: segments[1], params: new URLSearchParams(query), section };
}

/** Go to a route of this dashboard, e.g. navigate("events", params). */
export function navigate(path, params) {
  const query = params && [...params].length ? `?${params}` : "";
  location.hash = `#/${path}${query}`;
}

function showLogin(message = "") {
  if (current) current.controller.abort();
  current = null;
  $("top").hidden = true;
  replace($("main"));
  $("login").hidden = false;
  $("login-error").textContent = message;
  $("key").focus();
}

function render() {
  if (!getKey()) return showLogin();
  $("login").hidden = true;
  $("top").hidden = false;
  if (current) current.controller.abort();
  const route = parseHash();
  for (const a of $("nav").querySelectorAll("a")) {
    const target = a.getAttribute("href").replace(/^#\/?/, "");
    a.classList.toggle("active", target === route.section);
  }
  const main = $("main");
  if (!route.page) {
    replace(main, "There is no such page. ");
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
  // Ask the server whether the key reads this workspace before keeping it.
  let response;
  try {
    response = await raw("/api/events", { limit: 1 }, {}, key);
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
    setKey(key);
    $("key").value = "";
    render();
  }
}

function start() {
  $("login-form").addEventListener("submit", login);
  $("logout").addEventListener("click", () => {
    clearKey();
    showLogin();
  });
  $("range").value = String(rangeDays());
  $("range").addEventListener("change", (e) => {
    setRangeDays(Number(e.target.value));
    render();
  });
  $("include-test").checked = includeTest();
  $("include-test").addEventListener("change", (e) => {
    setIncludeTest(e.target.checked);
    render();
  });
  window.addEventListener("hashchange", render);
  window.addEventListener("tracklog:unauthorized", (e) => showLogin(e.detail));
  render();
}

start();
