"""Issue 14 in Chromium: charts that can be read and clicked (item 2), unfinished periods
and headline comparisons (4), lifecycle and funnels by property with time to convert (11).

A hovered value must be the API's value for that bucket; a clicked point must list as many
people as the point counts. Each test first checks that /openapi.json still documents the
endpoints and parameters it drives (support.py `need`).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from tests.dashboard.support import (
    DUCKDB_ONLY,
    NO_CHROMIUM,
    Tab,
    ago,
    api,
    hover,
    need,
    shown_pct,
    signed_in_tab,
)
from tests.support import Tenant

pytestmark = [NO_CHROMIUM, DUCKDB_ONLY]


def iso(t: dt.datetime) -> str:
    return t.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def previous_period(days: int = 30) -> dict[str, str]:
    """The range before the default one, as the dashboard asks for it."""
    now = dt.datetime.now(dt.UTC)
    return {
        "from": iso(now - dt.timedelta(days=2 * days)),
        "to": iso(now - dt.timedelta(days=days)),
    }


def duration(seconds: float | None) -> str:
    """A duration as the dashboard prints it (dom.js `duration`)."""
    if seconds is None:
        return "\u2013"
    s = round(seconds)
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m {s % 60}s"
    if s < 86400:
        return f"{s // 3600}h {s % 3600 // 60}m"
    return f"{s // 86400}d {s % 86400 // 3600}h"


def click_point(tab: Tab, chart: str, index: int, value: float) -> None:
    """Click the point (or bar top) of bucket `index` at height `value`."""
    page = tab.page
    page.wait_for_selector(f"{chart} .chart[data-ready='1']")
    box = page.locator(f"{chart} .u-over").bounding_box()
    x, y = page.evaluate(
        "([sel, i, v]) => { const u = document.querySelector(sel + ' .chart').uplot;"
        " return [u.valToPos(u.data[0][i], 'x'), u.valToPos(v, 'y')]; }",
        [chart, index, value],
    )
    page.mouse.click(box["x"] + min(max(x, 1), box["width"] - 1), box["y"] + y - 1)


def test_a_hovered_value_is_the_apis_and_axes_say_what_they_count(tab: Tab, pm: Tenant) -> None:
    answer = api(
        pm, "/api/analytics/trends", event="signed_in,feature_used", interval="day", limit=10
    )
    tab.open("trends?event=signed_in,feature_used&interval=day")
    tab.section("trends")
    chart = '[data-section="trends"] .chart-block'
    points = len(answer["series"][0]["points"])
    for k in (points - 2, points // 2, points - 1):
        shown = hover(tab, chart, k)
        assert shown["x"] == answer["series"][0]["points"][k]["t"]
        for s in answer["series"]:
            assert shown[s["name"]] == str(s["points"][k]["value"]), (k, s["name"])
    block = tab.page.locator(chart)
    assert block.get_attribute("data-x-label") == "Day, UTC"
    assert block.get_attribute("data-y-label") == "Events"
    # The last bucket (today) says it is not over.
    hover(tab, chart, points - 1)
    assert "partial" in tab.page.inner_text(f"{chart} .chart-tip .tip-x")
    # The overview's bars, and its active users (dates).
    tab.open("")
    sign_ins = api(pm, "/api/analytics/trends", interval="day", event="signed_in")
    values = [p["value"] for p in sign_ins["series"][0]["points"]]
    k = values.index(max(values))
    assert hover(tab, '[data-section="sign-ins"] .chart-block', k)["signed_in"] == str(values[k])
    active = api(pm, "/api/analytics/active", of="users")["points"]
    shown = hover(tab, '[data-section="active-users"] .chart-block', len(active) - 3)
    assert shown["x"] == active[-3]["date"]
    assert [shown["DAU"], shown["WAU"], shown["MAU"]] == [
        str(active[-3][k]) for k in ("dau", "wau", "mau")
    ]


def test_an_empty_chart_is_ticked_in_whole_people(browser: Any, tenant: Tenant) -> None:
    """No y axis ticked at 0.25 users: counts take whole-number steps, even with no one."""
    old = {"event_name": "signed_in", "user_id": "u1", "timestamp": ago(100)}
    assert tenant.post("/api/track", [old]).status_code == 200
    with signed_in_tab(browser, tenant) as tab:
        tab.open("?range=7d")
        assert "No sign-ins" in tab.section("sign-ins").inner_text()
        for name in ("active-users", "active-accounts"):
            tab.section(name)
            chart = f"[data-section='{name}'] .chart"
            tab.page.wait_for_selector(f"{chart}[data-ready='1']")
            splits = tab.page.evaluate(f"document.querySelector({chart!r}).uplot.axes[1]._splits")
            assert splits and all(float(s).is_integer() for s in splits), (name, splits)


def test_a_clicked_point_lists_the_people_it_counts(tab: Tab, pm: Tenant) -> None:
    need(pm.server, "/api/users", "event", "where", "offset", why="contract 2, drill-down")
    answer = api(pm, "/api/analytics/trends", event="signed_in", interval="day", measure="users")
    points = answer["series"][0]["points"]
    k = len(points) - 3
    tab.open("trends?event=signed_in&interval=day&measure=users")
    tab.section("trends")
    click_point(tab, '[data-section="trends"] .chart-block', k, points[k]["value"])
    panel = tab.page.locator(".people-panel")
    panel.locator('.paged[data-state="ready"]').wait_for()
    people = api(
        pm, "/api/users", event="signed_in", **{"from": points[k]["t"]}, to=points[k + 1]["t"]
    )
    assert people["total"] == points[k]["value"] > 0, "as many people as the point counts"
    assert panel.locator("p.count").get_attribute("data-total") == str(people["total"])
    shown = [s.strip() for s in panel.locator('td[data-col="user_id"]').all_inner_texts()]
    assert shown == [u["user_id"] for u in people["users"]]
    assert panel.locator('td[data-col="name"] a').first.inner_text() == people["users"][0]["name"]
    assert "null" not in panel.inner_text() and "undefined" not in panel.inner_text()
    # A breakdown value: the people of that value.
    answer = api(
        pm,
        "/api/analytics/trends",
        event="signed_in",
        interval="day",
        measure="users",
        breakdown="plan",
        limit=10,
    )
    pro = next(i for i, s in enumerate(answer["series"]) if s["name"] == "pro")
    points = answer["series"][pro]["points"]
    # A bucket where no other line has the same value: the click lands on "pro" alone.
    unique = [
        i
        for i in range(len(points) - 1)
        if all(
            s["points"][i]["value"] != points[i]["value"]
            for j, s in enumerate(answer["series"])
            if j != pro
        )
    ]
    k = max(unique, key=lambda i: points[i]["value"])
    tab.open("trends?event=signed_in&interval=day&measure=users&breakdown=plan")
    tab.section("trends")
    click_point(tab, '[data-section="trends"] .chart-block', k, points[k]["value"])
    panel.locator('.paged[data-state="ready"]').wait_for()
    people = api(
        pm,
        "/api/users",
        event="signed_in",
        where="plan:eq:pro",
        **{"from": points[k]["t"]},
        to=points[k + 1]["t"],
    )
    assert people["total"] == points[k]["value"]
    assert panel.locator("p.count").get_attribute("data-total") == str(people["total"])


def test_a_retention_cell_and_a_funnel_step_list_their_people(tab: Tab, pm: Tenant) -> None:
    need(pm.server, "/api/analytics/retention/people", "cohort", "k", why="contract 2")
    need(pm.server, "/api/analytics/funnel/people", "step", "outcome", why="contract 2")
    retention = api(
        pm,
        "/api/analytics/retention",
        start_event="signed_up",
        return_event="signed_in",
        period="week",
        periods=8,
    )
    cohort = next(c for c in retention["cohorts"] if len(c["returned"]) > 1 and c["returned"][1])
    page = tab.open("retention?period=week")
    tab.section("retention")
    row = page.locator(f'table.retention tr[data-cohort="{cohort["start"]}"]')
    for k in (0, 1):
        row.locator(f'td[data-col="p{k}"]').click()
        panel = page.locator(".people-panel")
        panel.locator('.paged[data-state="ready"]').wait_for()
        assert panel.locator("p.count").get_attribute("data-total") == str(cohort["returned"][k])
        assert "null" not in panel.inner_text()
    funnel = api(pm, "/api/analytics/funnel", steps="signed_up,signed_in,feature_used")["steps"]
    tab.open("funnel")
    tab.section("funnel")
    for step, outcome, expected in (
        (2, "reached", funnel[1]["count"]),
        (1, "dropped", funnel[0]["count"] - funnel[1]["count"]),
    ):
        page.click(f'table.funnel button[data-step="{step}"][data-outcome="{outcome}"]')
        panel = page.locator(".people-panel")
        panel.locator('.paged[data-state="ready"]').wait_for()
        panel.locator(f'p.count[data-total="{expected}"]').wait_for()


def test_unfinished_periods_are_marked_and_headlines_compared(tab: Tab, pm: Tenant) -> None:
    page = tab.open("")
    before = previous_period()
    latest = api(pm, "/api/analytics/active", of="users")["latest"]
    assert latest["partial"], "today is not over"
    card = tab.section("active-users")
    dau = card.locator('[data-stat="dau"]')
    assert dau.get_attribute("data-partial") == "1"
    assert "today so far" in dau.inner_text()
    prior = api(pm, "/api/analytics/active", of="users", **before)["latest"]
    for key in ("dau", "wau", "mau"):
        change = card.locator(f'[data-stat="{key}"] .change')
        assert change.get_attribute("data-previous") == str(prior[key]), key
        now, was = latest[key], prior[key]
        if was:
            ratio = (now - was) / was
            arrow = "\u25b2" if ratio > 0 else "\u25bc"
            assert change.inner_text().startswith(f"{arrow} {shown_pct(abs(ratio))}"), key
    total = sum(s["total"] for s in api(pm, "/api/analytics/trends", event="signed_in")["series"])
    was = sum(
        s["total"] for s in api(pm, "/api/analytics/trends", event="signed_in", **before)["series"]
    )
    card = tab.section("sign-ins")
    change = card.locator('[data-stat="sign_ins"] .change')
    assert change.get_attribute("data-previous") == str(was)
    assert change.get_attribute("data-kind") == ("up" if total > was else "down")
    # Trends: each series' total against the period before.
    tab.open("trends?event=signed_in,signed_up&interval=week")
    tab.section("trends")
    prior_series = api(
        pm, "/api/analytics/trends", event="signed_in,signed_up", interval="week", **before
    )["series"]
    shown = page.eval_on_selector_all(
        'table.series td[data-col="change"] .change', "els => els.map(e => e.dataset.previous)"
    )
    names = tab.texts('table.series td[data-col="name"]')
    was_by_name = {s["name"]: s["total"] for s in prior_series}
    assert shown == [str(was_by_name.get(n, 0)) for n in names]
    # The current week is unfinished: dashed, and counted as such.
    weekly = api(pm, "/api/analytics/trends", event="signed_in,signed_up", interval="week")
    unfinished = sum(p["partial"] for p in weekly["series"][0]["points"])
    assert page.get_attribute('[data-section="trends"] .chart-block', "data-partial") == str(
        unfinished
    )
    # The last retention diagonal: the periods not over are italic.
    retention = api(
        pm,
        "/api/analytics/retention",
        start_event="signed_up",
        return_event="signed_in",
        period="week",
        periods=8,
    )
    tab.open("retention?period=week")
    tab.section("retention")
    for c in retention["cohorts"]:
        row = page.locator(f'table.retention tr[data-cohort="{c["start"]}"]')
        marked = row.locator('td[data-partial="1"]').evaluate_all(
            "els => els.map(e => Number(e.dataset.col.slice(1)))"
        )
        assert marked == c["partial"], c["start"]


def test_lifecycle_of_users_and_of_accounts(tab: Tab, pm: Tenant) -> None:
    need(pm.server, "/api/analytics/lifecycle", "of", "period", why="contract 4")
    kinds = ("new", "returning", "resurrecting", "dormant")
    for of in ("users", "accounts"):
        answer = api(pm, "/api/analytics/lifecycle", of=of, period="week")
        periods = answer["periods"]
        assert periods
        page = tab.open(f"lifecycle?of={of}&period=week")
        tab.section("lifecycle")
        for kind in kinds:
            shown = [
                s.strip()
                for s in page.locator(f'table.lifecycle td[data-col="{kind}"]').all_inner_texts()
            ]
            assert shown == [f"{p[kind]:,}" for p in periods], (of, kind)
        assert sum(p["dormant"] for p in periods) <= 0, "dormant is drawn below zero"
        k = len(periods) - 2 if len(periods) > 1 else 0
        shown = hover(tab, '[data-section="lifecycle"] .chart-block', k)
        assert [shown[w] for w in ("New", "Returning", "Resurrecting", "Dormant")] == [
            f"{periods[k][kind]:,}" for kind in kinds
        ]
        partial = page.locator('table.lifecycle td[data-col="start"]:has-text("partial")').count()
        assert partial == sum(p["partial"] for p in periods)


def test_a_funnel_by_property_with_median_time_to_convert(tab: Tab, pm: Tenant) -> None:
    need(pm.server, "/api/analytics/funnel", "breakdown", why="contract 5")
    steps = "signed_up,signed_in,feature_used"
    answer = api(pm, "/api/analytics/funnel", steps=steps, breakdown="plan")
    page = tab.open(f"funnel?steps={steps}&breakdown=plan")
    tab.section("funnel")
    medians = [
        s.strip() for s in page.locator('table.funnel td[data-col="median"]').all_inner_texts()
    ]
    assert medians == [duration(s["median_seconds"]) for s in answer["steps"]]
    assert answer["steps"][0]["median_seconds"] is None
    values = [
        s.strip()
        for s in page.locator('table.funnel-breakdown td[data-col="value"]').all_inner_texts()
    ]
    assert values == [str(s["value"]) for s in answer["series"]]
    assert {"free", "pro", "enterprise"} <= set(values)
    for i in range(3):
        shown = page.locator(f'table.funnel-breakdown td[data-col="step{i + 1}"]').all_inner_texts()
        counts = [int(s.split()[0].replace(",", "")) for s in shown]
        assert counts == [s["steps"][i]["count"] for s in answer["series"]], i
