// The first-run guide: how to send the first event to this server (a curl line and the
// Python SDK, with this server's URL), where a write key comes from, and the wait for that
// event on the live stream, saying when it arrived. The overview shows it while the
// workspace holds no event at all; #/start shows it any time.

import { get, sessions } from "../api.js";
import { h, time } from "../dom.js";
import { href } from "../state.js";
import { title } from "../view.js";
import { listen } from "./live.js";

export const ranged = false;

const SAMPLE = '[{"event_name":"signed_in","user_id":"u1","properties":{"email":"jo@example.com"},"context":{"group_id":"acme"}}]';

/** Whether the workspace holds no event at all (test events included, any time). */
export async function isEmpty(signal) {
  const data = await get("/api/events", { limit: 1, include_test: "true" }, { signal });
  return data.events.length === 0;
}

/** The workspace's name, when the server says it (a session knows it), else null. */
async function workspace() {
  try {
    if (!(await sessions())) return null;
    const r = await fetch("/api/session", { credentials: "same-origin" });
    return r.ok ? (await r.json()).workspace || null : null;
  } catch {
    return null;
  }
}

/** A block of code to copy, with a button that copies it. */
function snippet(kind, text) {
  const button = h("button", { type: "button", class: "copy" }, "Copy");
  button.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(text);
      button.textContent = "Copied";
    } catch {
      button.textContent = "Select the text and copy it";
    }
  });
  return h("div", { class: "snippet", dataset: { snippet: kind } }, h("pre", {}, h("code", {}, text)), button);
}

export function curlLine(origin) {
  return `curl -s ${origin}/api/track \\\n  -H 'Authorization: Bearer WRITE_KEY' -H 'Content-Type: application/json' \\\n  -d '${SAMPLE}'`;
}

export function sdkSnippet(origin) {
  return [
    "from tracklog import Client  # the Tracklog package; its SDK needs only the standard library",
    "",
    `client = Client("WRITE_KEY", "${origin}")`,
    'client.identify("u1", {"email": "jo@example.com", "name": "Jo"})',
    'client.group("acme", "u1", {"account_name": "Acme"})',
    'client.track("u1", "signed_in", group_id="acme")',
    "client.flush()  # wait until it is sent",
  ].join("\n");
}

/** The guide; it listens for the first event until the page goes away (`signal`). */
export function guide({ signal }) {
  const origin = location.origin;
  const name = h("code", { class: "workspace" }, "WORKSPACE");
  workspace().then((w) => { if (w) name.textContent = w; });
  const status = h("p", { class: "first-event", dataset: { state: "waiting" } }, "Waiting for your first event…");
  const arrived = h("div", { class: "arrived", hidden: true });
  listen(signal, ({ event, data }) => {
    if (event === "rejected") {
      status.dataset.state = "rejected";
      status.textContent = `An event arrived at ${time(data.received_at)} UTC but was rejected: `
        + `${(data.reasons || []).map((r) => r.message).join(" ")} Fix it and send again; still waiting.`;
      return;
    }
    if (event !== "accepted" || status.dataset.state === "arrived") return;
    status.dataset.state = "arrived";
    status.dataset.at = data.received_at || new Date().toISOString();
    status.textContent = `Your first event arrived at ${time(status.dataset.at)} UTC: `
      + `${data.event_name || data.type} from ${data.user_id || data.anonymous_id || "an anonymous visitor"}.`;
    const open = h("a", { href: href(""), class: "button" }, "Open the overview");
    // The overview is this route already: draw it again rather than change the URL.
    open.addEventListener("click", (e) => {
      if (location.hash.replace(/\?.*/, "") === "#/" || location.hash === "") {
        e.preventDefault();
        window.dispatchEvent(new HashChangeEvent("hashchange"));
      }
    });
    arrived.replaceChildren(open);
    arrived.hidden = false;
  }, (state, text) => {
    if (status.dataset.state === "arrived" || status.dataset.state === "rejected") return;
    if (state === "live") status.textContent = "Waiting for your first event… (this page is listening: it appears here the moment the server stores it)";
    else if (state !== "connecting" && state !== "paused") {
      status.dataset.state = state;
      status.textContent = `${text} Send an event, then reload this page.`;
    }
  });
  return h("section", { class: "card guide", dataset: { section: "first-run", state: "ready" } },
    h("h2", {}, "Send your first event"),
    h("p", {}, "This workspace has no events yet. Three steps, a minute or two:"),
    h("ol", { class: "steps" },
      h("li", {}, h("strong", {}, "Get a write key. "),
        "The read key you signed in with can only read. On the server, run ",
        h("code", {}, "tracklog keys create --workspace "), name, h("code", {}, " --scope write"),
        " (the keys printed when the server first started belong to the workspace ", h("code", {}, "default"), ")."),
      h("li", {}, h("strong", {}, "Send an event "), `to this server (${origin}), replacing WRITE_KEY:`,
        snippet("curl", curlLine(origin)),
        "or from Python, with the SDK:",
        snippet("sdk", sdkSnippet(origin)),
        h("p", { class: "hint" }, `Segment and RudderStack libraries work too: give them ${origin} as their host.`)),
      h("li", {}, h("strong", {}, "Watch it arrive. "), status, arrived)));
}

export function render(main, ctx) {
  main.append(title("Get started"), guide(ctx));
}
