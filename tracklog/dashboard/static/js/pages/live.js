// Live events: the /api/live Server-Sent Events stream, read with fetch() so the key travels
// in the Authorization header (EventSource cannot send one, and a key in a URL leaks).

import { offers, raw } from "../api.js";
import { h, notice, replace, time } from "../dom.js";
import { title, unauthorized } from "../view.js";
import { props } from "./events.js";
import { reasons } from "./quarantine.js";

const KEEP = 200; // rows kept on screen; older ones drop off the end

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
  let body;
  try {
    body = JSON.parse(message.data);
  } catch {
    body = { raw: message.data };
  }
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

export function render(main, { signal }) {
  const status = h("span", { class: "status", dataset: { status: "idle" } }, "Not connected.");
  const list = h("ol", { class: "live-list" });
  const button = h("button", { type: "button" }, "Pause");
  let controller = null;
  let received = 0;

  function setStatus(state, text) {
    status.dataset.status = state;
    status.textContent = text;
  }

  async function connect() {
    controller = new AbortController();
    signal.addEventListener("abort", () => controller && controller.abort(), { once: true });
    button.textContent = "Pause";
    if (!(await offers("/api/live"))) {
      setStatus("unavailable", "");
      replace(list, notice("unavailable", "Not available: This server does not offer /api/live yet."));
      button.hidden = true;
      return;
    }
    setStatus("connecting", "Connecting…");
    try {
      const response = await raw("/api/live", {}, { signal: controller.signal, headers: { Accept: "text/event-stream" } });
      if (response.status === 401) return unauthorized(new Error("The server no longer accepts this key."));
      if (!response.ok || !response.body) return setStatus("error", `The server answered ${response.status}.`);
      setStatus("live", "Live: new events appear at the top.");
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        const parsed = parseSSE(buffer + value);
        buffer = parsed.rest;
        for (const message of parsed.messages) {
          if (message.event === "lagged") {
            // The server dropped messages this tab was too slow to take; say so in place.
            const lost = JSON.parse(message.data).lost;
            list.prepend(h("li", { class: "live lagged" }, notice("info", `${lost} events were skipped (the page fell behind).`)));
            continue;
          }
          if (message.event !== "accepted" && message.event !== "rejected") continue;
          received += 1;
          list.prepend(row(message));
          while (list.children.length > KEEP) list.lastElementChild.remove();
          list.dataset.received = String(received);
        }
      }
      setStatus("closed", "The server closed the stream.");
    } catch (error) {
      if (error.name === "AbortError") setStatus("paused", "Paused.");
      else setStatus("error", `The stream failed: ${error.message}`);
    }
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
