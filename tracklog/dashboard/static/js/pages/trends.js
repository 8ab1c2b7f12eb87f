// Trends: counts or unique users per hour, day, week or month, by event or by a property.

import { get } from "../api.js";
import { lineChart } from "../charts.js";
import { h, notice, num, table } from "../dom.js";
import { common, filterForm, section, title } from "../view.js";

export function render(main, { params, signal, navigate }) {
  const form = filterForm([
    { name: "event", label: "Events (comma-separated; empty: all)", size: 30 },
    { name: "interval", label: "Per", options: ["day", "hour", "week", "month"], value: "day" },
    { name: "measure", label: "Measure", options: ["count", "users"], value: "count" },
    { name: "breakdown", label: "Break down by property", placeholder: "plan" },
    { name: "where", label: "Where (property:op:value)", placeholder: "plan:eq:pro", size: 24 },
    { name: "user_id", label: "User id" },
    { name: "group_id", label: "Account id" },
  ], params, (next) => navigate("trends", next));
  const query = { ...common(), interval: params.get("interval") || "day", limit: 10 };
  for (const name of ["measure", "breakdown", "where", "user_id", "group_id"]) {
    if (params.get(name)) query[name] = params.get(name);
  }
  const events = (params.get("event") || "").split(",").map((e) => e.trim()).filter(Boolean);
  if (events.length) query.event = events;
  main.append(
    title("Trends"),
    h("section", { class: "card" }, form),
    section("Series", async () => {
      const data = await get("/api/analytics/trends", query, { signal });
      if (!data.series.length) return notice("empty", "No events match.");
      const x = data.series[0].points.map((p) => p.t);
      return [
        lineChart(x, data.series.map((s) => ({ label: s.name, total: s.total, values: s.points.map((p) => p.value) })),
          { height: 280 }),
        table([
          { label: query.breakdown ? query.breakdown : "Event", cell: (s) => s.name, key: "name" },
          { label: data.measure === "users" ? "Users" : "Count", cell: (s) => num(s.total), num: true, key: "total" },
        ], data.series, { class: "series" }),
      ];
    }, { section: "trends" }),
  );
}
