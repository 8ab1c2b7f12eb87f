// Retention: cohorts by the period of their first start event, and the share that returns.

import { get } from "../api.js";
import { h, notice, num, pct } from "../dom.js";
import { common, filterForm, section, title } from "../view.js";

const DEFAULTS = { start_event: "signed_up", return_event: "signed_in", period: "week", periods: "8" };

function cohortTable(data) {
  const width = Math.max(0, ...data.cohorts.map((c) => c.rates.length));
  const label = data.period === "day" ? "Day" : "Week";
  const head = h("tr", {}, h("th", {}, "Cohort"), h("th", { class: "num" }, "Users"),
    Array.from({ length: width }, (_, i) => h("th", { class: "num" }, `${label} ${i}`)));
  const rows = data.cohorts.map((c) => h("tr", { dataset: { cohort: c.start } },
    h("td", { dataset: { col: "start" } }, c.start.slice(0, 10)), h("td", { class: "num", dataset: { col: "users" } }, num(c.users)),
    Array.from({ length: width }, (_, i) => {
      if (i >= c.rates.length) return h("td", { class: "empty" });
      const cell = h("td", { class: "num rate", title: `${num(c.returned[i])} of ${num(c.users)}`,
        dataset: { col: `p${i}`, returned: c.returned[i] } }, pct(c.rates[i]));
      cell.style.setProperty("--rate", String(c.rates[i])); // shading by share, in CSS
      return cell;
    })));
  return h("table", { class: "retention" }, h("thead", {}, head), h("tbody", {}, rows));
}

export function render(main, { params, signal, navigate }) {
  const query = Object.fromEntries(Object.entries(DEFAULTS).map(([k, v]) => [k, params.get(k) || v]));
  const form = filterForm([
    { name: "start_event", label: "Start event", value: DEFAULTS.start_event },
    { name: "return_event", label: "Return event", value: DEFAULTS.return_event },
    { name: "period", label: "Period", options: ["day", "week"], value: DEFAULTS.period },
    { name: "periods", label: "Periods", type: "number", value: DEFAULTS.periods, size: 4 },
  ], params, (next) => navigate("retention", next));
  main.append(
    title("Retention"),
    h("section", { class: "card" }, form),
    section("Cohorts", async () => {
      const data = await get("/api/analytics/retention", { ...common(), ...query }, { signal });
      if (!data.cohorts.length) return notice("empty", `No one did ${query.start_event} in this range.`);
      return cohortTable(data);
    }, { section: "retention" }),
  );
}
