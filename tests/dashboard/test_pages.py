"""The dashboard in a real headless Chromium (Debian's `chromium`, driven by Playwright).

Each page is loaded against a real server holding fixture events posted over HTTP, and what it
shows is compared with the JSON of the same endpoint fetched here. Every tab fails its test on
any console error or uncaught exception, which includes Content-Security-Policy violations.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterator
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from tests.dashboard.support import (
    NO_CHROMIUM,
    TIERS,
    XSS,
    Tab,
    ago,
    api,
    open_tab,
    shown_pct,
    shown_time,
    signed_in_tab,
)
from tests.support import ServerProcess, Tenant, new_tenant

pytestmark = NO_CHROMIUM
_names = itertools.count()


def post_fixture(t: Tenant) -> None:
    """Eight users in three accounts over two weeks, plus hostile names, traits and a reject."""
    for u in range(8):
        ok = t.post(
            "/api/identify",
            {"user_id": f"u{u}", "traits": {"email": f"u{u}@acme.io", "name": f"User {u}"}},
        )
        assert ok.status_code == 200, ok.text
        ok = t.post(
            "/api/group",
            {
                "user_id": f"u{u}",
                "group_id": f"g{u % 3}",
                "traits": {"account_name": f"Acme {u % 3}"},
            },
        )
        assert ok.status_code == 200, ok.text
    events: list[dict[str, Any]] = []
    for u in range(8):
        group = {"group_id": f"g{u % 3}"}
        events.append(
            {
                "event_name": "signed_up",
                "user_id": f"u{u}",
                "context": group,
                "timestamp": ago(14 - u),
            }
        )
        for d in range(14 - u + 1):
            if (d + u) % 3 == 0:
                events.append(
                    {
                        "event_name": "signed_in",
                        "user_id": f"u{u}",
                        "context": group,
                        "timestamp": ago(d, u),
                    }
                )
                events.append(
                    {
                        "event_name": "feature_used",
                        "user_id": f"u{u}",
                        "context": group,
                        "properties": {"feature_name": "export"},
                        "timestamp": ago(d, u - 0.1),
                    }
                )
    events.append(
        {"event_name": XSS, "user_id": "u1", "properties": {XSS: XSS}, "timestamp": ago(0, 1)}
    )
    r = t.post("/api/track", events)
    assert r.status_code == 200 and r.json()["accepted"] == len(events), r.text
    assert t.post("/api/identify", {"user_id": "evil", "traits": {"name": XSS}}).status_code == 200
    r = t.post("/api/group", {"user_id": "evil", "group_id": "gx", "traits": {"account_name": XSS}})
    assert r.status_code == 200
    assert t.post("/api/track", [{"user_id": "u1", "properties": {"note": XSS}}]).status_code == 400


@pytest.fixture(scope="module")
def data(server: ServerProcess) -> Tenant:
    """One workspace holding the fixture, shared by the read-only tests of this module."""
    t = new_tenant(server, f"dash{next(_names)}")
    post_fixture(t)
    return t


@pytest.fixture
def tab(browser: Any, data: Tenant) -> Iterator[Tab]:
    """A signed-in tab on the fixture workspace."""
    with signed_in_tab(browser, data) as t:
        yield t


def test_nothing_without_a_key_and_login_checks_the_key(browser: Any, data: Tenant) -> None:
    """Only the login form without a key; a bad key, a write key and a good one. With server
    the key is exchanged for the server's HttpOnly session cookie and never kept where page
    scripts can read it."""
    context, t = open_tab(browser, data.server, None)
    stored = "[sessionStorage.getItem('tracklog.readKey'), localStorage.length]"
    try:
        page = t.page
        page.goto(f"{data.server.url}/#/events")
        page.wait_for_selector("#login-form", state="visible")
        assert page.locator("#login").is_visible()
        assert not page.locator("#top").is_visible()
        assert page.locator("#main").inner_text().strip() == ""
        assert page.locator("table").count() == 0
        page.fill("#key", "tlr_not-a-key")
        page.click("#login-form button")
        # (Selectors, not wait_for_function: the page's CSP forbids the eval that one needs.)
        page.wait_for_selector("#login-error:has-text('does not know')")
        page.fill("#key", data.write_key)
        page.click("#login-form button")
        page.wait_for_selector("#login-error:has-text('cannot read')")
        assert page.evaluate(stored) == [None, 0]
        page.fill("#key", data.read_key)
        page.click("#login-form button")
        page.wait_for_selector("table.events")
        assert not page.locator("#login").is_visible()
        assert page.evaluate(stored) == [None, 0]
        assert data.read_key not in page.evaluate("document.cookie")
        cookie = next(c for c in context.cookies() if c["name"] == "tracklog_session")
        assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
        # A session ended elsewhere brings the form back.
        assert context.request.delete(f"{data.server.url}/api/session").status == 204
        page.goto(f"{data.server.url}/#/quarantine")
        page.wait_for_selector("#login-form", state="visible")
        assert page.locator("#main").inner_text().strip() == ""
        assert page.evaluate(stored) == [None, 0]
    finally:
        context.close()


def test_dashboard_is_served_with_a_content_security_policy(data: Tenant) -> None:
    for path in ("/", "/js/app.js", "/vendor/uplot/uPlot.esm.js"):
        r = httpx.get(data.server.url + path)
        assert r.status_code == 200, path
        csp = r.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp
        assert r.headers["x-content-type-options"] == "nosniff"
    for path in ("/api/nope", "/nope.html", "/js/"):
        r = httpx.get(data.server.url + path)
        assert r.status_code == 404 and r.json()["error"]["code"] == "not_found", path
    index = httpx.get(data.server.url + "/").text
    assert "<script>" not in index and " style=" not in index and "http" not in index.lower()
    assert "MIT" in httpx.get(data.server.url + "/vendor/uplot/LICENSE").text, (
        "uPlot's licence ships beside it"
    )


def test_overview_shows_the_api_numbers(tab: Tab, data: Tenant) -> None:
    tab.open("")
    sign_ins = api(data, "/api/analytics/trends", interval="day", event="signed_in")
    total = sum(s["total"] for s in sign_ins["series"])
    assert total > 0
    card = tab.section("sign-ins")
    assert card.locator('[data-stat="sign_ins"] .value').inner_text() == str(total)
    assert card.locator("canvas").count() >= 1, "the chart is drawn"
    for of, name in (("users", "active-users"), ("accounts", "active-accounts")):
        latest = api(data, "/api/analytics/active", of=of)["latest"]
        card = tab.section(name)
        for k in ("dau", "wau", "mau"):
            assert card.locator(f'[data-stat="{k}"] .value').inner_text() == str(latest[k]), k
        shown = card.locator('[data-stat="stickiness"] .value').inner_text()
        assert shown == shown_pct(latest["stickiness"])
    top = api(data, "/api/analytics/top-events", limit=10)["events"]
    tab.section("top-events")
    assert tab.texts('table.top-events td[data-col="event_name"]') == [e["event_name"] for e in top]
    assert tab.texts('table.top-events td[data-col="count"]') == [str(e["count"]) for e in top]
    assert tab.texts('table.top-events td[data-col="users"]') == [str(e["users"]) for e in top]
    trends = api(data, "/api/analytics/trends", interval="day", limit=6)["series"]
    tab.section("trends")
    legend = tab.page.locator('[data-section="trends"] .legend li')
    assert legend.locator(".name").all_inner_texts() == [s["name"] for s in trends]
    assert legend.locator(".total").all_inner_texts() == [str(s["total"]) for s in trends]


def test_events_explorer_pages_and_filters_like_the_api(tab: Tab, data: Tenant) -> None:
    first = api(data, "/api/events", limit=50)
    second = api(data, "/api/events", limit=50, cursor=first["next_cursor"])
    page = tab.open("events", "table.events")
    shown = tab.texts('table.events td[data-col="timestamp"]')
    assert shown == [shown_time(e["timestamp"]) for e in first["events"]]
    page.click("text=Next")
    page.wait_for_selector('[data-page="2"]')
    names = tab.texts('table.events td[data-col="event_name"]')
    expected = [e["event_name"] or e["type"] for e in second["events"]]
    assert names == expected
    page.click("text=Previous")
    page.wait_for_selector('[data-page="1"]')
    feature = api(data, "/api/events", event_name="feature_used", user_id="u3", limit=50)
    tab.open("events?event_name=feature_used&user_id=u3", "table.events")
    assert tab.texts('table.events td[data-col="event_name"]') == ["feature_used"] * len(
        feature["events"]
    )
    assert page.input_value('input[name="user_id"]') == "u3"
    page.click('table.events button:has-text("details")')
    assert feature["events"][0]["id"] in page.inner_text("tr.detail")


def test_hostile_text_is_rendered_inert(tab: Tab, data: Tenant) -> None:
    page = tab.open(f"events?{httpx.QueryParams(event_name=XSS)}", "table.events")
    assert tab.texts('table.events td[data-col="event_name"]') == [XSS]
    assert f"{XSS}: {XSS}" in tab.texts('table.events td[data-col="properties"]')[0]
    for route, ready in (
        ("", '[data-section="top-events"][data-state="ready"]'),
        ("users/evil", '[data-section="summary"][data-state="ready"]'),
        ("accounts/gx", '[data-section="summary"][data-state="ready"]'),
        ("quarantine", "table.quarantine"),
    ):
        tab.open(route, ready)
        assert XSS in page.inner_text("main"), route
        assert page.locator("main img").count() == 0, route
    assert page.evaluate("window.__xss") is None


def test_users_and_a_users_page(tab: Tab, data: Tenant) -> None:
    listed = api(data, "/api/users", q="acme.io", limit=50)["users"]
    assert len(listed) == 8
    tab.open("users?q=acme.io")
    tab.section("users")
    assert tab.texts('table.users td[data-col="user_id"]') == [u["user_id"] for u in listed]
    assert tab.texts('table.users td[data-col="sign_ins"]') == [str(u["sign_ins"]) for u in listed]
    assert tab.texts('table.users td[data-col="email"]') == [u["email"] for u in listed]
    # Names first, ids second: the link reads "User 2".
    assert tab.texts('table.users td[data-col="name"] a') == [u["name"] for u in listed]
    tab.page.click('table.users a:text-is("User 2")')
    card = tab.section("summary")
    user = api(data, "/api/users/u2")
    assert card.locator('[data-stat="sign_in_count"] .value').inner_text() == str(
        user["sign_in_count"]
    )
    assert card.locator('[data-stat="first_seen"] .value').inner_text() == shown_time(
        user["first_seen"]
    )
    assert tab.texts('table.traits td[data-col="trait"]') == [
        str(v) for v in user["traits"].values()
    ]
    timeline = api(data, "/api/users/u2/events", limit=50)["events"]
    tab.page.wait_for_selector('.timeline[data-state="ready"]')
    assert tab.page.get_attribute(".timeline", "data-count") == str(len(timeline))
    shown = tab.texts('.timeline td[data-col="timestamp"]')
    assert shown == [shown_time(e["timestamp"]) for e in timeline]


def test_accounts_and_an_account_page(tab: Tab, data: Tenant) -> None:
    listed = api(data, "/api/accounts", limit=100)["accounts"]
    tab.open("accounts")
    tab.section("accounts")
    assert tab.texts('table.accounts td[data-col="group_id"]') == [a["group_id"] for a in listed]
    for col in ("users", "active_users_7d", "active_users_30d", "sign_ins", "events"):
        assert tab.texts(f'table.accounts td[data-col="{col}"]') == [str(a[col]) for a in listed]
    shown = tab.texts('table.accounts td[data-col="health"] .badge')
    assert shown == [TIERS[a["health"]] for a in listed]
    tab.page.click('table.accounts a:text-is("Acme 1")')
    card = tab.section("summary")
    one = api(data, "/api/accounts/g1")
    for k in ("users", "active_users_7d", "sign_ins", "events"):
        assert card.locator(f'[data-stat="{k}"] .value').inner_text() == str(one["account"][k])
    tab.section("users")
    shown = tab.texts('[data-section="users"] td[data-col="user_id"]')
    assert shown == [u["user_id"] for u in one["users"]]
    tab.section("activity")
    total = sum(d["events"] for d in one["activity"])
    assert tab.texts('[data-section="activity"] .legend .total') == [str(total)]


def test_retention_table_and_funnel(tab: Tab, data: Tenant) -> None:
    retention = api(
        data,
        "/api/analytics/retention",
        start_event="signed_up",
        return_event="signed_in",
        period="day",
        periods=8,
    )
    tab.open("retention?period=day")
    tab.section("retention")
    rows = tab.page.locator("table.retention tbody tr")
    assert rows.count() == len(retention["cohorts"]) > 0
    for i, cohort in enumerate(retention["cohorts"]):
        row = rows.nth(i)
        assert row.locator('[data-col="start"]').inner_text() == cohort["start"][:10]
        assert row.locator('[data-col="users"]').inner_text() == str(cohort["users"])
        rates = row.locator("td.rate").all_inner_texts()
        assert rates == [shown_pct(r) for r in cohort["rates"]]
    funnel = api(
        data, "/api/analytics/funnel", steps="signed_up,signed_in,feature_used", window_hours=48
    )
    tab.open("funnel?steps=signed_up,signed_in,feature_used&window_hours=48")
    tab.section("funnel")
    assert tab.texts('table.funnel td[data-col="count"]') == [
        str(s["count"]) for s in funnel["steps"]
    ]
    conversions = tab.texts('table.funnel td[data-col="conversion"]')
    assert conversions == [shown_pct(s["conversion"]) for s in funnel["steps"]]


def test_quarantine_lists_rejections_with_reasons(tab: Tab, data: Tenant) -> None:
    items = api(data, "/api/quarantine")["items"]
    assert items
    tab.open("quarantine", "table.quarantine")
    reasons = tab.texts('table.quarantine td[data-col="reasons"]')
    assert len(reasons) == len(items)
    assert items[0]["reasons"][0]["code"] in reasons[0]


def test_live_events_arrive_as_they_are_committed(browser: Any, tenant: Tenant) -> None:
    with signed_in_tab(browser, tenant) as tab:
        page = tab.open("live", '.status[data-status="live"]')
        r = tenant.post(
            "/api/track",
            [{"event_name": "signed_in", "user_id": "live-1"}, {"user_id": XSS}],
        )
        assert r.status_code == 400
        page.wait_for_selector('.live-list li[data-kind="rejected"]')
        page.wait_for_selector('.live-list li[data-kind="accepted"]')
        accepted = page.inner_text('.live-list li[data-kind="accepted"]')
        assert "signed_in" in accepted and "live-1" in accepted
        rejected = page.inner_text('.live-list li[data-kind="rejected"]')
        assert "missing_field" in rejected and XSS in rejected
        page.click("text=Pause")
        page.wait_for_selector('.status[data-status="paused"]')
        assert page.get_attribute(".live-list", "data-received") == "2"


def test_every_page_of_an_empty_workspace_loads_cleanly(browser: Any, tenant: Tenant) -> None:
    with signed_in_tab(browser, tenant) as tab:
        for route in ("", "retention", "funnel", "accounts", "users"):
            tab.open(route)
            tab.page.wait_for_selector("main .card")
            tab.page.wait_for_selector('main [data-state="loading"]', state="detached")
            states = tab.page.eval_on_selector_all(
                "main [data-section]", "els => els.map(e => e.dataset.state)"
            )
            assert states and set(states) == {"ready"}, (route, states)
        tab.open("events", "main .results[data-state='ready']")
        assert tab.page.locator('[data-notice="empty"]').count() == 1
        tab.open("quarantine", "main .results[data-state='ready']")
        assert "Nothing is quarantined" in tab.page.inner_text("main")
        tab.open("users/nobody")
        tab.page.wait_for_selector('[data-section="summary"][data-state="error"]')
        # The 404 of an unknown user is a failed resource load, which Chromium logs; it is the
        # only console message this page may cause.
        assert all("404" in e for e in tab.errors)
        tab.errors.clear()


def test_trends_page_by_event_and_by_property(tab: Tab, data: Tenant) -> None:
    for route, params in (
        (
            "trends?event=signed_in,feature_used&measure=users&interval=week",
            {"event": ["signed_in", "feature_used"], "measure": "users", "interval": "week"},
        ),
        (
            "trends?event=feature_used&breakdown=feature_name",
            {"event": "feature_used", "breakdown": "feature_name", "interval": "day"},
        ),
    ):
        series = api(data, "/api/analytics/trends", limit=10, **params)["series"]
        assert series
        tab.open(route)
        tab.section("trends")
        assert tab.texts('table.series td[data-col="name"]') == [s["name"] for s in series]
        assert tab.texts('table.series td[data-col="total"]') == [str(s["total"]) for s in series]


def test_charts_use_the_answers_zone_not_the_browsers(browser: Any, server: ServerProcess) -> None:
    """A browser in Tokyo looking at a Los Angeles workspace: the day ticks of the x axis sit
    on Los Angeles midnights (uPlot's own default is the browser's zone), times in tables are
    on that clock, and the unfinished buckets are marked as such."""
    t = new_tenant(server, f"dashtz{next(_names)}")
    events = [
        {"event_name": "signed_in", "user_id": f"u{d % 3}", "timestamp": ago(d, 3)}
        for d in range(12)
    ]
    events += [{**e, "context": {"group_id": "g"}} for e in events[:2]]
    assert t.post("/api/track", events).status_code == 200
    t.server.admin("workspaces.set_timezone", name=t.name, timezone="America/Los_Angeles")
    la = ZoneInfo("America/Los_Angeles")
    with signed_in_tab(browser, t, timezone_id="Asia/Tokyo") as tab:
        tab.open("trends?event=signed_in&interval=day")
        card = tab.section("trends")
        block = card.locator(".chart-block")
        assert block.get_attribute("data-timezone") == "America/Los_Angeles"
        # The default range (the last 30 days) starts mid-day, and today is not over.
        assert block.get_attribute("data-partial") == "2"
        tab.page.wait_for_function(
            "document.querySelector('[data-section=\"trends\"] .chart').uplot !== undefined"
        )
        splits = tab.page.evaluate(
            "document.querySelector('[data-section=\"trends\"] .chart').uplot.axes[0]._splits"
        )
        assert splits
        assert {dt.datetime.fromtimestamp(s, la).time() for s in splits} == {dt.time(0)}
        listed = api(t, "/api/accounts")
        assert listed["timezone"] == "America/Los_Angeles"
        tab.open("accounts")
        tab.section("accounts")
        last = listed["accounts"][0]["last_seen"]
        local = dt.datetime.fromisoformat(last.replace("Z", "+00:00")).astimezone(la)
        assert tab.texts('table.accounts td[data-col="last_seen"]') == [
            local.strftime("%Y-%m-%d %H:%M:%S")
        ]
