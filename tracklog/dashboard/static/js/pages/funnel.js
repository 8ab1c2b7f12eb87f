// Funnel: ordered steps within a conversion window, per-step counts and conversion.

import { get } from "../api.js";
import { bars } from "../charts.js";
import { h, notice, num, pct, table } from "../dom.js";
import { common, filterForm, section, title } from "../view.js";

const DEFAULTS = { steps: "signed_up,signed_in,feature_used", window_hours: "168", by: "users" };

export function render(main, { params, signal, navigate }) {
  const query = Object.fromEntries(Object.entries(DEFAULTS).map(([k, v]) => [k, params.get(k) || v]));
  const form = filterForm([
    { name: "steps", label: "Steps (comma-separated)", value: DEFAULTS.steps, size: 40 },
    { name: "window_hours", label: "Window (hours)", type: "number", value: DEFAULTS.window_hours, size: 5 },
    { name: "by", label: "Count", options: ["users", "accounts"], value: DEFAULTS.by },
  ], params, (next) => navigate("funnel", next));
  main.append(
    title("Funnel"),
    h("section", { class: "card" }, form),
    section("Conversion", async () => {
      const data = await get("/api/analytics/funnel", { ...common(), ...query }, { signal });
      if (!data.steps.length) return notice("empty", "No steps.");
      return [
        bars(data.steps.map((s) => ({ label: s.event_name, value: s.count, text: `${num(s.count)} · ${pct(s.conversion)}` })),
          { max: Math.max(1, data.steps[0].count) }),
        table([
          { label: "Step", cell: (s) => s.event_name, key: "event_name" },
          { label: data.by === "accounts" ? "Accounts" : "Users", cell: (s) => num(s.count), num: true, key: "count" },
          { label: "Conversion", cell: (s) => pct(s.conversion), num: true, key: "conversion" },
          { label: "From previous", cell: (s) => pct(s.from_previous), num: true, key: "from_previous" },
        ], data.steps, { class: "funnel" }),
      ];
    }, { section: "funnel" }),
  );
}
