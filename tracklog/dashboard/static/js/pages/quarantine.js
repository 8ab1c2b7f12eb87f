// Quarantine: rejected events with their raw JSON and the reasons, newest first.

import { get, getAll } from "../api.js";
import { csvButton, filename } from "../csv.js";
import { h, notice, replace, table, time } from "../dom.js";
import { failure, title } from "../view.js";

/** Reasons [{code, field, message}] as a list of text. */
export function reasons(list) {
  return h("ul", { class: "reasons" }, (list || []).map((r) =>
    h("li", {}, h("code", {}, r.code), r.field ? ` ${r.field}: ` : " ", r.message)));
}

export const ranged = false; // the quarantine holds what waits for a replay, whatever its age

export function render(main, { signal }) {
  const results = h("div", { class: "results" });
  const cursors = [null];
  async function load(page) {
    replace(results, notice("info", "Loading…"));
    try {
      const data = await get("/api/quarantine", { limit: 50, cursor: cursors[page] }, { signal });
      cursors[page + 1] = data.next_cursor;
      const pager = h("div", { class: "pager" },
        h("button", { type: "button", disabled: page === 0, onclick: () => load(page - 1) }, "Previous"),
        h("span", {}, `Page ${page + 1}`),
        h("button", { type: "button", disabled: !data.next_cursor, onclick: () => load(page + 1) }, "Next"));
      replace(results, data.items.length
        ? table([
          { label: "Received (UTC)", cell: (q) => time(q.received_at), key: "received_at" },
          { label: "Source", cell: (q) => q.source, key: "source" },
          { label: "Reasons", cell: (q) => reasons(q.reasons), key: "reasons" },
          { label: "Raw", cell: (q) => h("pre", { class: "raw" }, typeof q.raw === "string" ? q.raw : JSON.stringify(q.raw)), key: "raw" },
        ], data.items, { class: "quarantine" })
        : notice("empty", "Nothing is quarantined."), pager);
      results.dataset.state = "ready";
    } catch (error) {
      replace(results, failure(error));
      results.dataset.state = "error";
    }
  }
  const download = csvButton(filename("quarantine"), async (progress) => ({
    header: ["id", "received_at", "source", "reasons", "raw"],
    rows: (await getAll("/api/quarantine", {}, { rowsKey: "items", signal, onProgress: progress }))
      .map((q) => [q.id, q.received_at, q.source, (q.reasons || []).map((r) => `${r.code}${r.field ? ` (${r.field})` : ""}: ${r.message}`).join("; "), q.raw]),
  }));
  main.append(title("Quarantine"),
    h("section", { class: "card" }, h("div", { class: "tools" }, download), h("p", { class: "hint" },
      "Events the server rejected, kept with their raw JSON. Fix the plan or the sender, then replay them with POST /api/quarantine/replay (write key)."),
    results));
  load(0);
}
