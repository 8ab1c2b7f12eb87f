// Overview: sign-ins over time, active users and accounts with stickiness, top events.

import { get } from "../api.js";
import { bars, lineChart } from "../charts.js";
import { h, num, pct, stat, table } from "../dom.js";
import { eventLink } from "./events.js";
import { common, section, title } from "../view.js";

function activeStats(data, noun) {
  const l = data.latest || {};
  return h("div", { class: "stats" },
    stat(`Daily active ${noun}`, num(l.dau), "dau"),
    stat(`Weekly active ${noun}`, num(l.wau), "wau"),
    stat(`Monthly active ${noun}`, num(l.mau), "mau"),
    stat("Stickiness (DAU/MAU)", pct(l.stickiness), "stickiness"));
}

function activeChart(data) {
  const points = data.points || [];
  return lineChart(points.map((p) => p.date), [
    { label: "DAU", values: points.map((p) => p.dau) },
    { label: "WAU", values: points.map((p) => p.wau) },
    { label: "MAU", values: points.map((p) => p.mau) },
  ]);
}

export function render(main, { signal }) {
  const params = common();
  main.append(
    title("Overview"),
    section("Sign-ins per day", async () => {
      const data = await get("/api/analytics/trends",
        { ...params, interval: "day", event: "signed_in" }, { signal });
      const series = data.series || [];
      const total = series.reduce((sum, s) => sum + s.total, 0);
      const x = series.length ? series[0].points.map((p) => p.t) : [];
      return [
        h("div", { class: "stats" }, stat("Sign-ins", num(total), "sign_ins")),
        lineChart(x, series.map((s) => ({ label: s.name, total: s.total, values: s.points.map((p) => p.value) })),
          { bars: true }),
      ];
    }, { section: "sign-ins" }),
    section("Active users", async () => {
      const data = await get("/api/analytics/active", { ...params, of: "users" }, { signal });
      return [activeStats(data, "users"), activeChart(data)];
    }, { section: "active-users" }),
    section("Active accounts", async () => {
      const data = await get("/api/analytics/active", { ...params, of: "accounts" }, { signal });
      return [activeStats(data, "accounts"), activeChart(data)];
    }, { section: "active-accounts" }),
    section("Events per day", async () => {
      const data = await get("/api/analytics/trends", { ...params, interval: "day", limit: 6 }, { signal });
      const series = data.series || [];
      const x = series.length ? series[0].points.map((p) => p.t) : [];
      return lineChart(x, series.map((s) => ({ label: s.name, total: s.total, values: s.points.map((p) => p.value) })));
    }, { section: "trends" }),
    section("Top events", async () => {
      const data = await get("/api/analytics/top-events", { ...params, limit: 10 }, { signal });
      const rows = data.events || [];
      if (!rows.length) return h("p", { class: "notice empty", dataset: { notice: "empty" } }, "No events in this range.");
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
