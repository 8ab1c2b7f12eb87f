// Funnel: ordered steps within a conversion window, per-step counts, conversion and median
// time from the step before; broken down by a property of the entry event (contract section
// 5); who reached a step and who dropped off after it (section 2).

import { get, offers, offersParams } from "../api.js";
import { bars } from "../charts.js";
import { csvButton, filename } from "../csv.js";
import { duration, h, notice, num, pct, table } from "../dom.js";
import { showPeople } from "../people.js";
import { chipsField, propertiesOf, schema, suggestField } from "../pickers.js";
import { common, filterForm, section, setTitle, title } from "../view.js";

const DEFAULTS = { steps: "signed_up,signed_in,feature_used", window_hours: "168", by: "users" };

export function render(main, { params, signal, navigate }) {
  const query = Object.fromEntries(Object.entries(DEFAULTS).map(([k, v]) => [k, params.get(k) || v]));
  const steps = query.steps.split(",").map((s) => s.trim()).filter(Boolean);
  const known = schema(common());
  const breakdownField = suggestField({ name: "breakdown", label: "Break down by property", value: params.get("breakdown") || "",
    placeholder: "plan", suggest: known.then((s) => propertiesOf(s, steps.slice(0, 1)).map((p) => [p.name, [...p.types].join(", ")])) });
  breakdownField.hidden = true;
  const form = filterForm([
    { widget: chipsField({ name: "steps", label: "Steps, in order", value: steps.join(","), placeholder: "add a step", ordered: true,
      suggest: known.then((s) => s.events.map((e) => [e.event_name, `${num(e.count)}`])) }) },
    { name: "window_hours", label: "Window (hours)", type: "number", value: DEFAULTS.window_hours, size: 5 },
    { name: "by", label: "Count", options: ["users", "accounts"], value: DEFAULTS.by },
    { widget: breakdownField },
  ], params, (next) => navigate("funnel", next));
  const canBreak = offersParams("/api/analytics/funnel", "breakdown");
  canBreak.then((ok) => { breakdownField.hidden = !ok; });
  const breakdown = params.get("breakdown");
  main.append(
    title("Funnel"),
    h("section", { class: "card" }, form),
    section("Conversion", async (body, tools) => {
      setTitle("Funnel", steps.join(" → "));
      const ask = { ...common(), ...query };
      if (breakdown && (await canBreak)) ask.breakdown = breakdown;
      const [data, drillable] = await Promise.all([get("/api/analytics/funnel", ask, { signal }), offers("/api/analytics/funnel/people")]);
      if (!data.steps.length) return notice("empty", "No steps.");
      const noun = data.by === "accounts" ? "accounts" : "users";
      const timed = data.steps.some((s) => "median_seconds" in s);
      const drill = h("div", { class: "drill" });
      const people = (step, outcome) => {
        const s = data.steps[step - 1];
        const what = outcome === "reached" ? `reached ${s.event_name} (step ${step})` : `reached ${s.event_name} (step ${step}) but not ${data.steps[step].event_name}`;
        const { breakdown: _, ...plain } = ask;
        showPeople(drill, { what, template: "/api/analytics/funnel/people", kind: noun, signal, params: { ...plain, step, outcome } });
      };
      const series = data.series || null;
      tools.append(csvButton(filename("funnel", ...steps, breakdown && `by-${breakdown}`), async () => {
        const rows = [];
        for (const sr of series || [{ value: "(all)", steps: data.steps }]) {
          sr.steps.forEach((s, i) => rows.push([sr.value, i + 1, s.event_name, s.count, s.conversion, s.from_previous, s.median_seconds ?? ""]));
        }
        return { header: [breakdown || "breakdown", "step", "event_name", noun, "conversion", "from_previous", "median_seconds"], rows };
      }));
      const columns = [
        { label: "Step", cell: (s) => s.event_name, key: "event_name" },
        { label: noun === "accounts" ? "Accounts" : "Users", cell: (s) => num(s.count), num: true, key: "count" },
        { label: "Conversion", cell: (s) => pct(s.conversion), num: true, key: "conversion" },
        { label: "From previous", cell: (s) => pct(s.from_previous), num: true, key: "from_previous" },
      ];
      if (timed) columns.push({ label: "Median time from previous", cell: (s) => duration(s.median_seconds), num: true, key: "median" });
      if (drillable) {
        columns.push({ label: "People", key: "people", cell: (s) => {
          const i = data.steps.indexOf(s) + 1;
          return [
            h("button", { type: "button", class: "link", dataset: { step: i, outcome: "reached" }, disabled: !s.count, onclick: () => people(i, "reached") }, "reached"),
            i < data.steps.length
              ? [" · ", h("button", { type: "button", class: "link", dataset: { step: i, outcome: "dropped" }, disabled: !s.count, onclick: () => people(i, "dropped") }, "dropped off")]
              : null,
          ];
        } });
      }
      const out = [
        bars(data.steps.map((s) => ({ label: s.event_name, value: s.count, text: `${num(s.count)} · ${pct(s.conversion)}` })),
          { max: Math.max(1, data.steps[0].count), onClick: drillable ? (r, i) => people(i + 1, "reached") : null }),
        table(columns, data.steps, { class: "funnel" }),
        drill,
      ];
      if (series) out.push(h("h3", {}, `By ${data.breakdown || breakdown}`), breakdownTable(data, noun));
      return out;
    }, { section: "funnel" }),
  );
}

/** One row per value of the breakdown: each step's count, its conversion, median times. */
function breakdownTable(data, noun) {
  const names = data.steps.map((s) => s.event_name);
  const columns = [
    { label: data.breakdown || "value", cell: (sr) => sr.value, key: "value" },
    ...names.map((name, i) => ({
      label: `${i + 1}. ${name}`, num: true, key: `step${i + 1}`,
      cell: (sr) => {
        const s = sr.steps[i];
        if (!s) return "–";
        return [num(s.count), i ? h("span", { class: "hint" }, ` ${pct(s.conversion)}`) : null,
          i && s.median_seconds !== null && s.median_seconds !== undefined ? h("div", { class: "hint" }, `median ${duration(s.median_seconds)}`) : null];
      },
    })),
    { label: "Converted", cell: (sr) => pct((sr.steps[sr.steps.length - 1] || {}).conversion), num: true, key: "conversion" },
  ];
  return table(columns, data.series, { class: "funnel-breakdown", "data-noun": noun });
}
