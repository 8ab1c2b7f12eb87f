// Retention: cohorts by the period of their first start event, and the share that returns;
// a click on a cell lists the people in it (contract section 2).

import { get, offers } from "../api.js";
import { csvButton, filename } from "../csv.js";
import { h, notice, num, pct } from "../dom.js";
import { showPeople } from "../people.js";
import { suggestField, schema } from "../pickers.js";
import { common, filterForm, section, setTitle, title } from "../view.js";

const DEFAULTS = { start_event: "signed_up", return_event: "signed_in", period: "week", periods: "8" };

function cohortTable(data, onCell) {
  const width = Math.max(0, ...data.cohorts.map((c) => c.rates.length));
  const label = { day: "Day", week: "Week", month: "Month" }[data.period] || "Period";
  const head = h("tr", {}, h("th", {}, "Cohort"), h("th", { class: "num" }, "Users"),
    Array.from({ length: width }, (_, i) => h("th", { class: "num" }, `${label} ${i}`)));
  const rows = data.cohorts.map((c) => h("tr", { dataset: { cohort: c.start } },
    h("td", { dataset: { col: "start" }, class: "nowrap" }, c.start.slice(0, 10)), h("td", { class: "num", dataset: { col: "users" } }, num(c.users)),
    Array.from({ length: width }, (_, i) => {
      if (i >= c.rates.length) return h("td", { class: "empty" });
      const unfinished = (c.partial || []).includes(i);
      const cell = h("td", { class: unfinished ? "num rate partial" : "num rate",
        title: `${num(c.returned[i])} of ${num(c.users)}${unfinished ? " (period not over yet)" : ""}${onCell ? "; click for the people" : ""}`,
        dataset: { col: `p${i}`, returned: c.returned[i], ...(unfinished ? { partial: "1" } : {}) } }, pct(c.rates[i]));
      cell.style.setProperty("--rate", String(c.rates[i])); // shading by share, in CSS
      if (onCell && c.returned[i] > 0) {
        cell.classList.add("clickable");
        cell.tabIndex = 0;
        const open = () => onCell(c, i);
        cell.addEventListener("click", open);
        cell.addEventListener("keydown", (e) => { if (e.key === "Enter") open(); });
      }
      return cell;
    })));
  const note = h("p", { class: "hint" }, `Periods are local to ${data.timezone}; italic cells are periods not over yet.`
    + (onCell ? " Click a cell to see its people." : ""));
  return [h("div", { class: "table-scroll" }, h("table", { class: "retention" }, h("thead", {}, head), h("tbody", {}, rows))), note];
}

export function render(main, { params, signal, navigate }) {
  const query = Object.fromEntries(Object.entries(DEFAULTS).map(([k, v]) => [k, params.get(k) || v]));
  const names = schema(common()).then((s) => s.events.map((e) => [e.event_name, `${num(e.count)}`]));
  const form = filterForm([
    { widget: suggestField({ name: "start_event", label: "Start event", value: query.start_event, suggest: names }) },
    { widget: suggestField({ name: "return_event", label: "Return event", value: query.return_event, suggest: names }) },
    { name: "period", label: "Period", options: ["day", "week", "month"], value: DEFAULTS.period },
    { name: "periods", label: "Periods", type: "number", value: DEFAULTS.periods, size: 4 },
  ], params, (next) => navigate("retention", next));
  main.append(
    title("Retention"),
    h("section", { class: "card" }, form),
    section("Cohorts", async (body, tools) => {
      setTitle("Retention", `${query.start_event} → ${query.return_event}`);
      const ask = { ...common(), ...query };
      const [data, drillable] = await Promise.all([get("/api/analytics/retention", ask, { signal }), offers("/api/analytics/retention/people")]);
      if (!data.cohorts.length) return notice("empty", `No one did ${query.start_event} in this range.`);
      const width = Math.max(0, ...data.cohorts.map((c) => c.rates.length));
      tools.append(csvButton(filename("retention", query.start_event, query.return_event, data.period), async () => ({
        header: ["cohort", "users", ...Array.from({ length: width }, (_, i) => `returned_${i}`), ...Array.from({ length: width }, (_, i) => `rate_${i}`), "partial"],
        rows: data.cohorts.map((c) => [c.start, c.users, ...Array.from({ length: width }, (_, i) => c.returned[i] ?? ""),
          ...Array.from({ length: width }, (_, i) => c.rates[i] ?? ""), (c.partial || []).join(" ")]),
      })));
      const drill = h("div", { class: "drill" });
      const onCell = drillable
        ? (c, k) => showPeople(drill, {
          what: k === 0 ? `cohort of ${c.start.slice(0, 10)}` : `cohort of ${c.start.slice(0, 10)}, back in ${data.period} ${k}`,
          template: "/api/analytics/retention/people", signal, params: { ...ask, cohort: c.start, k },
        })
        : null;
      return [...cohortTable(data, onCell), drill];
    }, { section: "retention" }),
  );
}
