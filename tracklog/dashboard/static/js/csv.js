// CSV made in the browser from the API's JSON, downloaded as a file (a Blob URL: no markup,
// no server round trip beyond the JSON the page already reads).

import { h } from "./dom.js";

/**
 * One CSV field (RFC 4180). Text that a spreadsheet would run as a formula (= + - @ at the
 * start) gets a leading apostrophe: event names and traits are whatever senders sent.
 */
export function field(value) {
  if (value === null || value === undefined) return "";
  let text = typeof value === "object" ? JSON.stringify(value) : String(value);
  if (typeof value === "string" && /^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** CSV text: a header row, then rows (arrays of values). */
export function csv(header, rows) {
  return [header, ...rows].map((r) => r.map(field).join(",")).join("\r\n") + "\r\n";
}

/** A file name from words: "Accounts at risk" -> "tracklog-accounts-at-risk.csv". */
export function filename(...words) {
  const slug = words.filter(Boolean).join("-").toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "");
  return `tracklog-${slug || "export"}.csv`;
}

/** Save CSV text as a file. A BOM first, so spreadsheets read the UTF-8 as UTF-8. */
export function save(name, text) {
  const url = URL.createObjectURL(new Blob(["\ufeff", text], { type: "text/csv;charset=utf-8" }));
  const a = h("a", { href: url, download: name, hidden: true });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/**
 * A "Download CSV" button. `produce(progress)` returns {header, rows} (it may fetch every
 * page of a list first; `progress(n)` says how many rows it has so far).
 */
export function csvButton(name, produce, label = "Download CSV") {
  const button = h("button", { type: "button", class: "csv", dataset: { csv: name } }, label);
  button.addEventListener("click", async () => {
    button.disabled = true;
    const progress = (n) => {
      button.textContent = `Fetching… ${n.toLocaleString("en-US")} rows`;
    };
    try {
      const { header, rows } = await produce(progress);
      save(name, csv(header, rows));
      button.textContent = label;
    } catch (error) {
      button.textContent = `${label} (failed: ${error.message})`;
    } finally {
      button.disabled = false;
    }
  });
  return button;
}
