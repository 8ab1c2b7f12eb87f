// A table over a paged list endpoint (contract section 1): "1–100 of 199", pages, sorting by
// a click on a column's head, and a CSV of every row (every page fetched, not just this one).
// Its page, sort and order live in the route's query, so a link restores them.

import { get, getAll, offersParams } from "./api.js";
import { csvButton } from "./csv.js";
import { h, notice, num, replace, table } from "./dom.js";
import { failure } from "./view.js";

/** Whether the server pages and sorts this list (offset, sort, order documented). */
export const pages = (template) => offersParams(template, "offset", "sort", "order");

/** New filters keep the list's sort order (and start again at its first page). */
export function keepOrder(next, params) {
  for (const k of ["sort", "order"]) if (params.get(k) && !next.get(k)) next.set(k, params.get(k));
  return next;
}

/**
 * Load one page of a list and draw it. Options:
 *  template, path   the endpoint; rowsKey: the answer's list ("accounts", "users")
 *  query            the filters (q, health, …) and range
 *  columns          table columns; `sort` names the API's sort key of a column
 *  params           the route's query (page, sort, order), navigate(next) to change it
 *  limit            rows per page; noun: "accounts"
 *  defaults         {sort, order}: the API's default order, shown as such
 *  csv              {name, header: [..], row: (r) => [..]}
 *  tools            where the CSV button goes
 *  onData(data)     sees the answer (counts, thresholds)
 * Returns the elements to show.
 */
export async function listTable({
  template, path = template, rowsKey, query, columns, params, navigate, limit = 100, noun = "rows",
  defaults = {}, csv = null, tools = null, attrs = {}, signal, onData = null,
}) {
  const paged = await pages(template);
  const page = Math.max(1, Number(params.get("page")) || 1);
  const sort = params.get("sort") || defaults.sort || null;
  const order = params.get("order") || defaults.order || "desc";
  const ask = { ...query, limit };
  if (paged) {
    ask.offset = (page - 1) * limit;
    if (params.get("sort")) ask.sort = sort;
    if (params.get("order")) ask.order = order;
  }
  const data = await get(path, ask, { template, signal });
  if (onData) onData(data);
  const rows = data[rowsKey] || [];
  const total = data.total ?? null;
  const offset = paged ? data.offset ?? ask.offset : 0;

  const go = (changes) => {
    const next = new URLSearchParams(params);
    for (const [k, v] of Object.entries(changes)) {
      if (v === null || v === undefined || v === "") next.delete(k);
      else next.set(k, String(v));
    }
    navigate(next);
  };
  const head = paged
    ? (c, th) => {
      if (!c.sort) return;
      const active = sort === c.sort;
      th.dataset.sort = active ? order : "none";
      th.setAttribute("aria-sort", active ? (order === "asc" ? "ascending" : "descending") : "none");
      const first = c.num || c.time ? "desc" : "asc";
      const nextOrder = active ? (order === "asc" ? "desc" : "asc") : first;
      const button = h("button", { type: "button", class: "sort", title: `Sort by ${c.label}` }, c.label,
        h("span", { class: "arrow" }, active ? (order === "asc" ? " ▲" : " ▼") : ""));
      button.addEventListener("click", () => go({ sort: c.sort, order: nextOrder, page: null }));
      th.replaceChildren(button);
    }
    : null;

  if (csv && tools) {
    tools.replaceChildren(csvButton(csv.name, async (progress) => {
      // Every row of the list, not just this page (one page when the server cannot page).
      const all = paged
        ? await getAll(path, { ...query, ...(ask.sort ? { sort: ask.sort } : {}), ...(ask.order ? { order: ask.order } : {}) },
          { template, rowsKey, signal, onProgress: progress, limit: 1000 })
        : rows;
      return { header: csv.header, rows: all.map(csv.row) };
    }));
  }

  const last = total === null ? null : Math.max(1, Math.ceil(total / limit));
  const shown = rows.length ? `${num(offset + 1)}–${num(offset + rows.length)}` : "0";
  const summary = h("p", { class: "count", dataset: { total: total ?? "", offset, shown: rows.length } },
    total === null ? `${num(rows.length)} ${noun}` : `${shown} of ${num(total)} ${noun}`);
  const out = [summary];
  if (!paged && total !== null && total > rows.length) {
    out.push(notice("unavailable", `Not available: this server lists only the first ${num(rows.length)} ${noun} and cannot page or sort them yet.`));
  }
  if (!rows.length) {
    out.push(notice("empty", `No ${noun} match.`));
    return out;
  }
  out.push(table(columns, rows, attrs, { head }));
  if (paged && last > 1) {
    out.push(h("div", { class: "pager" },
      h("button", { type: "button", disabled: page <= 1, onclick: () => go({ page: page - 1 > 1 ? page - 1 : null }) }, "Previous"),
      h("span", { dataset: { page } }, `Page ${page} of ${num(last)}`),
      h("button", { type: "button", disabled: page >= last, onclick: () => go({ page: page + 1 }) }, "Next")));
  }
  return out;
}

/**
 * A list that pages inside its own box (the drill-down panels): it keeps its page in memory,
 * not in the URL. `fetchPage(offset, limit)` answers {rows, total}.
 */
export function pagedBox({ columns, fetchPage, fetchAll, limit = 50, noun = "people", attrs = {}, csv = null }) {
  const box = h("div", { class: "paged" });
  const tools = h("div", { class: "tools" });
  async function load(offset) {
    box.dataset.state = "loading";
    try {
      const { rows, total } = await fetchPage(offset, limit);
      const summary = h("p", { class: "count", dataset: { total: total ?? "", offset, shown: rows.length } },
        rows.length ? `${num(offset + 1)}–${num(offset + rows.length)} of ${num(total ?? rows.length)} ${noun}` : `No ${noun}.`);
      const pager = total > limit ? h("div", { class: "pager" },
        h("button", { type: "button", disabled: offset === 0, onclick: () => load(Math.max(0, offset - limit)) }, "Previous"),
        h("span", { dataset: { page: offset / limit + 1 } }, `Page ${offset / limit + 1} of ${Math.ceil(total / limit)}`),
        h("button", { type: "button", disabled: offset + limit >= total, onclick: () => load(offset + limit) }, "Next")) : null;
      replace(box, summary, rows.length ? table(columns, rows, attrs) : null, pager);
      box.dataset.state = "ready";
    } catch (error) {
      replace(box, failure(error));
      box.dataset.state = "error";
    }
  }
  if (csv) tools.append(csvButton(csv.name, async (progress) => ({ header: csv.header, rows: (await fetchAll(progress)).map(csv.row) })));
  load(0);
  return { box, tools };
}
