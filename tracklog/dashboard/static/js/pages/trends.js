// Trends: counts or unique users per hour, day, week or month, by event or by a property;
// each series' total against the period before; a click on a point lists its people.

import { get, offersParams } from "../api.js";
import { bucketLabel, lineChart } from "../charts.js";
import { csvButton, filename } from "../csv.js";
import { h, notice, num, table } from "../dom.js";
import { nameLink } from "../names.js";
import { showPeople } from "../people.js";
import { chipsField, propertiesOf, schema, suggestField, whereField } from "../pickers.js";
import { bounds, describe, previousParams } from "../state.js";
import { change, common, filterForm, section, setTitle, title } from "../view.js";

/** The x values, zone and partial marks of a trends answer (every series has the same x). */
export function trendAxis(data) {
  const points = (data.series || []).length ? data.series[0].points : [];
  return { x: points.map((p) => p.t), tz: data.timezone, partial: points.map((p) => p.partial) };
}

const later = (a, b) => (Date.parse(a) >= Date.parse(b) ? a : b);
const earlier = (a, b) => (Date.parse(a) <= Date.parse(b) ? a : b);

/**
 * The click handler of a trends chart: the people behind a point (contract section 2, the
 * users list filtered to the bucket, the series' event or breakdown value and the chart's
 * filters), shown in `holder`. Null when this server cannot list them.
 */
export async function trendDrill(data, { event = [], where = [], group_id = null, include_test = null }, holder, signal) {
  if (!(await offersParams("/api/users", "event", "where", "offset"))) return null;
  const { x } = trendAxis(data);
  return ({ series, index }) => {
    const s = data.series[series];
    let events = event;
    const wheres = [...where];
    if (data.breakdown) {
      if (s.name === "other") {
        holder.replaceChildren(notice("info", "“other” is every smaller value together: pick a value to see its people."));
        return;
      }
      wheres.push(`${data.breakdown}:eq:${s.name}`);
    } else {
      events = [s.name];
    }
    // The part of the bucket inside the range, as the count was made.
    const from = later(x[index], data.from);
    const to = earlier(x[index + 1] || data.to, data.to);
    showPeople(holder, {
      what: `${s.name}, ${bucketLabel(x[index], data.interval)}`, template: "/api/users", signal,
      params: { event: events, where: wheres, from, to, group_id, include_test },
    });
  };
}

export function render(main, { params, signal, navigate }) {
  const events = (params.get("event") || "").split(",").map((e) => e.trim()).filter(Boolean);
  const known = schema(common());
  const form = filterForm([
    { widget: chipsField({ name: "event", label: "Events (empty: all)", value: events.join(","), placeholder: "event name",
      suggest: known.then((s) => s.events.map((e) => [e.event_name, `${num(e.count)}`])) }) },
    { name: "interval", label: "Per", options: ["day", "hour", "week", "month"], value: "day" },
    { name: "measure", label: "Measure", options: [["count", "count of events"], ["users", "unique users"]], value: "count" },
    { widget: suggestField({ name: "breakdown", label: "Break down by property", value: params.get("breakdown") || "", placeholder: "plan",
      suggest: known.then((s) => propertiesOf(s, events).map((p) => [p.name, [...p.types].join(", ")])) }) },
    { widget: whereField({ value: params.get("where") || "", props: known.then((s) => propertiesOf(s, events)) }) },
    { name: "user_id", label: "User id", size: 12 },
    { name: "group_id", label: "Account id", size: 12 },
  ], params, (next) => navigate("trends", next));
  const query = { ...common(), interval: params.get("interval") || "day", limit: 10 };
  for (const name of ["measure", "breakdown", "where", "user_id", "group_id"]) {
    if (params.get(name)) query[name] = params.get(name);
  }
  if (events.length) query.event = events;
  const subject = [events.join(", "), params.get("breakdown") && `by ${params.get("breakdown")}`].filter(Boolean).join(" ");
  const scope = h("p", { class: "hint scope" });
  if (query.user_id) scope.append("User: ", nameLink("users", query.user_id), " ");
  if (query.group_id) scope.append("Account: ", nameLink("accounts", query.group_id));
  main.append(
    title("Trends"),
    h("section", { class: "card" }, form, scope),
    section("Series", async (body, tools) => {
      setTitle("Trends", subject || null);
      const before = previousParams(bounds());
      const [data, prior] = await Promise.all([
        get("/api/analytics/trends", query, { signal }),
        before ? get("/api/analytics/trends", { ...query, ...before }, { signal }).catch(() => null) : null,
      ]);
      if (!data.series.length) return notice("empty", "No events match.");
      const { x, tz, partial } = trendAxis(data);
      const unit = data.measure === "users" ? "Users" : "Events";
      const drill = h("div", { class: "drill" });
      const onPoint = await trendDrill(data, { event: events, where: query.where ? [query.where] : [],
        group_id: query.group_id, include_test: query.include_test }, drill, signal);
      const priorTotal = new Map(((prior && prior.series) || []).map((s) => [s.name, s.total]));
      const what = `the ${describe()} before`;
      tools.append(csvButton(filename("trends", subject, data.interval), async () => ({
        header: ["t", ...data.series.map((s) => s.name), "partial"],
        rows: x.map((t, k) => [t, ...data.series.map((s) => s.points[k].value), partial[k] ? "true" : "false"]),
      }), "Download CSV (chart)"));
      return [
        lineChart(x, data.series.map((s) => ({ label: s.name, total: s.total, values: s.points.map((p) => p.value) })),
          { height: 280, tz, partial, interval: data.interval, yLabel: unit, onPoint }),
        drill,
        table([
          { label: query.breakdown ? query.breakdown : "Event", cell: (s) => s.name, key: "name" },
          { label: data.measure === "users" ? "Users" : "Count", cell: (s) => num(s.total), num: true, key: "total" },
          { label: "vs the period before", cell: (s) => (prior ? change(s.total, priorTotal.get(s.name) ?? 0, { what, format: num }) : "–"), key: "change" },
        ], data.series, { class: "series" }),
      ];
    }, { section: "trends" }),
  );
}
