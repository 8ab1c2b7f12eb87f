// Lifecycle (contract section 4): per period, how many users (or accounts) were new,
// returning, resurrecting, and how many went dormant (drawn below zero, as PostHog does).

import { get } from "../api.js";
import { bucketLabel, lineChart } from "../charts.js";
import { csvButton, filename } from "../csv.js";
import { h, notice, num, table } from "../dom.js";
import { schema, suggestField } from "../pickers.js";
import { common, filterForm, section, setTitle, title } from "../view.js";

const KINDS = [
  ["new", "New", "#2a9d6f", "active in this period for the first time"],
  ["returning", "Returning", "#2f6fde", "active in this period and the one before"],
  ["resurrecting", "Resurrecting", "#c49a00", "active in this period, not in the one before, but earlier"],
  ["dormant", "Dormant", "#d43f5a", "active in the period before, not in this one (shown below zero)"],
];

export function render(main, { params, signal, navigate }) {
  const query = { of: params.get("of") || "users", period: params.get("period") || "week" };
  if (params.get("event")) query.event = params.get("event");
  const form = filterForm([
    { name: "of", label: "Of", options: ["users", "accounts"], value: "users" },
    { name: "period", label: "Per", options: ["day", "week", "month"], value: "week" },
    { widget: suggestField({ name: "event", label: "Activity (empty: any event)", value: params.get("event") || "", placeholder: "any event",
      suggest: schema(common()).then((s) => s.events.map((e) => [e.event_name, `${num(e.count)}`])) }) },
  ], params, (next) => navigate("lifecycle", next));
  main.append(
    title("Lifecycle"),
    h("section", { class: "card" }, form,
      h("ul", { class: "hint lifecycle-legend" }, KINDS.map(([key, word, , meaning]) => h("li", { dataset: { kind: key } }, h("strong", {}, word), `: ${meaning}.`)))),
    section(query.of === "accounts" ? "Accounts per period" : "Users per period", async (body, tools) => {
      setTitle("Lifecycle", query.of);
      const data = await get("/api/analytics/lifecycle", { ...common(), ...query }, { signal });
      const periods = data.periods || [];
      if (!periods.length) return notice("empty", "No periods in this range.");
      const x = periods.map((p) => p.start);
      tools.append(csvButton(filename("lifecycle", data.of, data.period, query.event), async () => ({
        header: ["start", ...KINDS.map(([k]) => k), "partial"],
        rows: periods.map((p) => [p.start, ...KINDS.map(([k]) => p[k]), p.partial ? "true" : "false"]),
      })));
      const unit = data.of === "accounts" ? "Accounts" : "Users";
      return [
        // (No totals in the legend: returning users summed over periods count people twice.)
        lineChart(x, KINDS.map(([k, word, color]) => ({ label: word, color, values: periods.map((p) => p[k]) })),
        { bars: true, stacked: true, height: 280, tz: data.timezone, partial: periods.map((p) => p.partial), interval: data.period, yLabel: unit }),
        table([
          { label: "Period", cell: (p) => [bucketLabel(p.start, data.period), p.partial ? h("span", { class: "hint" }, " (partial)") : null], key: "start", nowrap: true },
          ...KINDS.map(([k, word]) => ({ label: word, cell: (p) => num(p[k]), num: true, key: k })),
        ], periods, { class: "lifecycle" }),
      ];
    }, { section: "lifecycle" }),
  );
}
