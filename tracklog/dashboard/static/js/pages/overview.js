// Overview: sign-ins over time, active users and accounts with stickiness, top events. Each
// headline is compared with the period before the range (the same endpoint asked twice), and
// a number for a day that is not over yet says so. An empty workspace gets the first-run guide.

import { get } from "../api.js";
import { bars, lineChart } from "../charts.js";
import { csvButton, filename } from "../csv.js";
import { h, notice, num, pct, stat, table } from "../dom.js";
import { bounds, current, describe, previousParams } from "../state.js";
import { change, common, section, title } from "../view.js";
import { eventLink } from "./events.js";
import { guide, isEmpty } from "./start.js";
import { trendAxis, trendDrill } from "./trends.js";

/** A headline: its value, a "so far" mark when its period is not over, the change. */
function headline(label, value, key, { partial = false, before, format = num, what }) {
  const el = stat(label, format(value), key);
  if (partial) {
    el.dataset.partial = "1";
    const custom = current().range === "custom";
    el.querySelector(".label").append(h("span", { class: "partial-mark", title: "The last day of the range is not over (or is cut by the range): the number is still growing." },
      custom ? " · last day partial" : " · today so far"));
  }
  if (before !== undefined) {
    const c = change(value, before, { what, format });
    if (c) el.append(h("div", { class: "delta" }, c));
  }
  return el;
}

function activeStats(data, previous, noun) {
  const l = data.latest || {};
  const p = (previous && previous.latest) || {};
  const what = "the period before";
  return h("div", { class: "stats" },
    headline(`Daily active ${noun}`, l.dau, "dau", { partial: l.partial, before: p.dau, what }),
    headline(`Weekly active ${noun}`, l.wau, "wau", { partial: l.partial, before: p.wau, what }),
    headline(`Monthly active ${noun}`, l.mau, "mau", { partial: l.partial, before: p.mau, what }),
    headline("Stickiness (DAU/MAU)", l.stickiness, "stickiness", { partial: l.partial, before: p.stickiness, format: pct, what }));
}

function activeChart(data, noun) {
  const points = data.points || [];
  return lineChart(points.map((p) => p.date), [
    { label: "DAU", values: points.map((p) => p.dau) },
    { label: "WAU", values: points.map((p) => p.wau) },
    { label: "MAU", values: points.map((p) => p.mau) },
  ], { tz: data.timezone, partial: points.map((p) => p.partial), yLabel: noun === "users" ? "Users" : "Accounts",
    csv: filename("active", noun) });
}

/** The previous period's answer of the same call, or null (a failure only loses the ▲/▼). */
async function previous(path, params, signal) {
  const before = previousParams(bounds());
  if (!before) return null;
  try {
    return await get(path, { ...params, ...before }, { signal });
  } catch {
    return null;
  }
}

export function render(main, ctx) {
  main.append(title("Overview"));
  const holder = h("div", { class: "overview" });
  main.append(holder);
  // An empty workspace (no event ever, test events included) gets the first-run guide.
  isEmpty(ctx.signal).then((empty) => {
    if (empty) holder.append(guide(ctx));
    else sections(holder, ctx);
  }, () => sections(holder, ctx));
}

function sections(holder, { signal }) {
  const params = common();
  const what = `the ${describe()} before`;
  holder.append(
    section("Sign-ins per day", async () => {
      const query = { ...params, interval: "day", event: "signed_in" };
      const [data, before] = await Promise.all([get("/api/analytics/trends", query, { signal }), previous("/api/analytics/trends", query, signal)]);
      const series = data.series || [];
      const total = series.reduce((sum, s) => sum + s.total, 0);
      const prior = before ? (before.series || []).reduce((sum, s) => sum + s.total, 0) : undefined;
      const head = h("div", { class: "stats" }, headline(`Sign-ins, ${describe()}`, total, "sign_ins", { before: prior, what }));
      if (!series.length) return [head, notice("empty", "No sign-ins in this range.")];
      const { x, tz, partial } = trendAxis(data);
      const drill = h("div", { class: "drill" });
      const onPoint = await trendDrill(data, { event: ["signed_in"], include_test: params.include_test }, drill, signal);
      const chart = lineChart(x, series.map((s) => ({ label: s.name, total: s.total, values: s.points.map((p) => p.value) })),
        { bars: true, tz, partial, yLabel: "Sign-ins", csv: filename("sign-ins-per-day"), onPoint });
      return [head, chart, drill];
    }, { section: "sign-ins" }),
    section("Active users", async () => {
      const query = { ...params, of: "users" };
      const [data, before] = await Promise.all([get("/api/analytics/active", query, { signal }), previous("/api/analytics/active", query, signal)]);
      return [activeStats(data, before, "users"), activeChart(data, "users")];
    }, { section: "active-users" }),
    section("Active accounts", async () => {
      const query = { ...params, of: "accounts" };
      const [data, before] = await Promise.all([get("/api/analytics/active", query, { signal }), previous("/api/analytics/active", query, signal)]);
      return [activeStats(data, before, "accounts"), activeChart(data, "accounts")];
    }, { section: "active-accounts" }),
    section("Events per day", async () => {
      const data = await get("/api/analytics/trends", { ...params, interval: "day", limit: 6 }, { signal });
      const series = data.series || [];
      if (!series.length) return notice("empty", "No events in this range.");
      const { x, tz, partial } = trendAxis(data);
      const drill = h("div", { class: "drill" });
      const onPoint = await trendDrill(data, { include_test: params.include_test }, drill, signal);
      return [lineChart(x, series.map((s) => ({ label: s.name, total: s.total, values: s.points.map((p) => p.value) })),
        { tz, partial, yLabel: "Events", csv: filename("events-per-day"), onPoint }), drill];
    }, { section: "trends" }),
    section("Top events", async (body, tools) => {
      const data = await get("/api/analytics/top-events", { ...params, limit: 10 }, { signal });
      const rows = data.events || [];
      if (!rows.length) return h("p", { class: "notice empty", dataset: { notice: "empty" } }, "No events in this range.");
      tools.append(csvButton(filename("top-events"), async () => ({
        header: ["event_name", "count", "users"], rows: rows.map((r) => [r.event_name, r.count, r.users]) })));
      return [
        bars(rows.map((r) => ({ label: r.event_name, value: r.count }))),
        table([
          { label: "Event", cell: (r) => eventLink(r.event_name), key: "event_name" },
          { label: "Count", cell: (r) => num(r.count), num: true, key: "count" },
          { label: "Users", cell: (r) => num(r.users), num: true, key: "users" },
        ], rows, { class: "top-events" }),
      ];
    }, { section: "top-events" }),
  );
}
