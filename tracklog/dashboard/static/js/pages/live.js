// Live events: the /api/live Server-Sent Events stream, read with fetch() so the key travels
// in the Authorization header (EventSource cannot send one, and a key in a URL leaks); with
// a server session the cookie goes along instead.

import { offers, raw } from "../api.js";
import { h, notice, replace, time } from "../dom.js";
import { title, unauthorized } from "../view.js";
import { props } from "./events.js";
import { reasons } from "./quarantine.js";

const KEEP = 200; // rows kept on screen; older ones drop off the end
export const ranged = false; // the stream has no range

/** Split an SSE text buffer into complete messages [{event, data}] and the unfinished rest. */
export function parseSSE(buffer) {
  const messages = [];
  const blocks = buffer.replace(/\r\n?/g, "\n").split("\n\n");
  const rest = blocks.pop();
  for (const block of blocks) {
    let event = "message";
    const data = [];
    for (const line of block.split("\n")) {
      if (!line || line.startsWith(":")) continue; // comments keep the connection alive
      const colon = line.indexOf(":");
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
      if (field === "event") event = value;
      else if (field === "data") data.push(value);
    }
    if (data.length) messages.push({ event, data: data.join("\n") });
  }
  return { messages, rest };
}

function row(message) {
  const body = message.data;
  if (message.event === "rejected") {
    return h("li", { class: "live rejected", dataset: { kind: "rejected" } },
      h("span", { class: "badge health-dormant" }, "rejected"), " ",
      h("span", { class: "source" }, body.source || ""), reasons(body.reasons),
      h("pre", { class: "raw" }, typeof body.raw === "string" ? body.raw : JSON.stringify(body.raw)));
  }
  return h("li", { class: "live accepted", dataset: { kind: "accepted", eventName: body.event_name || body.type || "" } },
    h("span", { class: "time" }, time(body.timestamp)), " ",
    h("strong", { class: "name" }, body.event_name || body.type || ""), " ",
    h("span", { class: "user" }, body.user_id || body.anonymous_id || ""), " ",
    h("span", { class: "props" }, props(body.properties)));
}

/**
 * Follow /api/live until `signal` aborts: `onMessage({event, data})` for each message (data
 * parsed), `onStatus(state, text)` as the connection changes (connecting, live, closed, paused,
 * error, unavailable). Resolves when the stream ends.
 */
export async function listen(signal, onMessage, onStatus) {
  if (!(await offers("/api/live"))) return onStatus("unavailable", "Not available: This server does not offer /api/live yet.");
  onStatus("connecting", "Connecting…");
  try {
    const response = await raw("/api/live", {}, { signal, headers: { Accept: "text/event-stream" } });
    if (response.status === 401) return unauthorized(new Error("The server no longer accepts this key."));
    if (!response.ok || !response.body) return onStatus("error", `The server answered ${response.status}.`);
    onStatus("live", "Live: new events appear at the top.");
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      const parsed = parseSSE(buffer + value);
      buffer = parsed.rest;
      for (const message of parsed.messages) {
        let data;
        try {
          data = JSON.parse(message.data);
        } catch {
          data = { raw: message.data };
        }
        onMessage({ event: message.event, data });
      }
    }
    onStatus("closed", "The server closed the stream.");
  } catch (error) {
    if (error.name === "AbortError") onStatus("paused", "Paused.");
    else onStatus("error", `The stream failed: ${error.message}`);
  }
}

export function render(main, { signal }) {
  const status = h("span", { class: "status", dataset: { status: "idle" } }, "Not connected.");
  const list = h("ol", { class: "live-list" });
  const button = h("button", { type: "button" }, "Pause");
  let controller = null;
  let received = 0;

  function setStatus(state, text) {
    status.dataset.status = state;
    status.textContent = text;
    if (state === "unavailable") {
      status.textContent = "";
      replace(list, notice("unavailable", text));
      button.hidden = true;
    }
  }

  function take({ event, data }) {
    if (event === "lagged") {
      // The server dropped messages this tab was too slow to take; say so in place.
      list.prepend(h("li", { class: "live lagged" }, notice("info", `${data.lost} events were skipped (the page fell behind).`)));
      return;
    }
    if (event !== "accepted" && event !== "rejected") return;
    received += 1;
    list.prepend(row({ event, data }));
    while (list.children.length > KEEP) list.lastElementChild.remove();
    list.dataset.received = String(received);
  }

  function connect() {
    controller = new AbortController();
    signal.addEventListener("abort", () => controller && controller.abort(), { once: true });
    button.textContent = "Pause";
    listen(controller.signal, take, setStatus);
  }

  button.addEventListener("click", () => {
    if (status.dataset.status === "live" || status.dataset.status === "connecting") {
      controller.abort();
      button.textContent = "Resume";
    } else connect();
  });
  main.append(title("Live events", button), h("section", { class: "card" }, h("p", {}, status), list));
  connect();
}
