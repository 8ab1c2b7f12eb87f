"""Issue 14 in Chromium: the first-run guide (item 3), links that restore the view in another
browser and one sign-in for every tab (5), CSV downloads with every row (6), query fields that
suggest the workspace's events, properties and values (7).

Each test first checks that /openapi.json still documents the endpoints and parameters it
drives (support.py `need`).
"""

from __future__ import annotations

import datetime as dt
import re
import subprocess
from typing import Any

from tests.dashboard.support import (
    ACCOUNTS,
    DUCKDB_ONLY,
    NO_CHROMIUM,
    USERS,
    Tab,
    api,
    need,
    new_tab,
    signed_in_tab,
)
from tests.support import Tenant

pytestmark = [NO_CHROMIUM, DUCKDB_ONLY]


def iso(t: dt.datetime) -> str:
    return t.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def totals(answer: dict[str, Any]) -> dict[str, int]:
    return {s["name"]: s["total"] for s in answer["series"]}


def shown_totals(tab: Tab) -> dict[str, int]:
    card = tab.section("trends")
    names = [n.strip() for n in card.locator('table.series td[data-col="name"]').all_inner_texts()]
    counts = card.locator('table.series td[data-col="total"]').all_inner_texts()
    return {n: int(c.replace(",", "")) for n, c in zip(names, counts, strict=True)}


def test_an_empty_workspace_shows_how_to_send_the_first_event_and_sees_it_arrive(
    browser: Any, tenant: Tenant
) -> None:
    url = tenant.server.url
    with signed_in_tab(browser, tenant) as tab:
        page = tab.open("", '[data-section="first-run"]')
        guide = page.inner_text('[data-section="first-run"]')
        assert "tracklog keys create --workspace" in guide and "--scope write" in guide
        curl = page.inner_text('[data-snippet="curl"] pre')
        assert curl.startswith(f"curl -s {url}/api/track")
        assert "Authorization: Bearer WRITE_KEY" in curl
        sdk = page.inner_text('[data-snippet="sdk"] pre')
        assert "from tracklog import Client" in sdk and f'Client("WRITE_KEY", "{url}")' in sdk
        page.wait_for_selector('.first-event:has-text("listening")')
        # The line as shown, with the write key pasted in, sends the event.
        sent = subprocess.run(
            ["bash", "-c", curl.replace("WRITE_KEY", tenant.write_key)],
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        )
        assert '"accepted":1' in sent.stdout.replace(" ", ""), sent.stdout
        status = page.locator('.first-event[data-state="arrived"]')
        status.wait_for()
        stored = tenant.events()[0]
        assert status.get_attribute("data-at") == stored["received_at"]
        shown_at = stored["received_at"].replace("T", " ").split(".")[0].rstrip("Z")
        assert status.inner_text() == (
            f"Your first event arrived at {shown_at} UTC: signed_in from u1."
        )
        tab.redraw(lambda: page.click('.arrived a:has-text("Open the overview")'))
        assert tab.section("sign-ins").locator('[data-stat="sign_ins"] .value').inner_text() == "1"


def test_a_copied_link_restores_the_range_and_filters_in_a_new_browser(
    browser: Any, pm: Tenant
) -> None:
    route = "trends?event=signed_in,feature_used&interval=week&measure=users"
    with signed_in_tab(browser, pm) as tab:
        page = tab.open(route)
        tab.section("trends")
        tab.redraw(lambda: page.select_option("#range", "7d"))
        tab.redraw(lambda: page.check("#include-test"))
        tab.section("trends")
        link = page.url
        assert "range=7d" in link and "test=1" in link and "interval=week" in link
        # Every link of the page keeps the range: the nav, and a click to another page.
        assert "range=7d" in (page.get_attribute('#nav a[href*="accounts"]', "href") or "")
    ask = {"event": "signed_in,feature_used", "interval": "week", "measure": "users"}
    before = dt.datetime.now(dt.UTC)
    with signed_in_tab(browser, pm) as tab:  # a new browser context: nothing shared
        page = tab.page
        page.goto(link)
        shown = shown_totals(tab)
        after = dt.datetime.now(dt.UTC)
        assert page.input_value("#range") == "7d"
        assert page.is_checked("#include-test")
        chips = page.locator('[data-field="event"] .chip').evaluate_all(
            "els => els.map(e => e.dataset.value)"
        )
        assert chips == ["signed_in", "feature_used"]
        assert page.input_value('select[name="interval"]') == "week"
        assert page.input_value('select[name="measure"]') == "users"
        # The last 7 days up to the moment the page opened (between these two answers).
        week = dt.timedelta(days=7)
        most = totals(
            api(
                pm,
                "/api/analytics/trends",
                **ask,
                include_test="true",
                **{"from": iso(before - week)},
            )
        )
        least = totals(
            api(
                pm,
                "/api/analytics/trends",
                **ask,
                include_test="true",
                **{"from": iso(after - week)},
            )
        )
        for name, n in shown.items():
            assert least[name] <= n <= most[name], name
        assert most != totals(api(pm, "/api/analytics/trends", **ask)), "7 days is not 30"

        # Custom dates: local days of the workspace (UTC here), `to` included.
        first = (before - dt.timedelta(days=20)).date()
        last = (before - dt.timedelta(days=10)).date()
        page.select_option("#range", "custom")  # opens the date fields
        page.wait_for_selector("#custom-range", state="visible")
        page.fill("#range-from", first.isoformat())
        page.fill("#range-to", last.isoformat())
        tab.redraw(lambda: page.click('#custom-range button[type="submit"]'))
        shown_totals(tab)
        link = page.url
        assert f"from={first}" in link and f"to={last}" in link
    with signed_in_tab(browser, pm) as tab:
        page = tab.page
        page.goto(link)
        shown = shown_totals(tab)
        assert page.input_value("#range") == "custom"
        assert page.input_value("#range-from") == first.isoformat()
        assert page.input_value("#range-to") == last.isoformat()
        end = dt.datetime.combine(last + dt.timedelta(days=1), dt.time(), dt.UTC)
        start = dt.datetime.combine(first, dt.time(), dt.UTC)
        wanted = api(
            pm,
            "/api/analytics/trends",
            **ask,
            include_test="true",
            **{"from": iso(start)},
            to=iso(end),
        )
        assert shown == totals(wanted)
        # The list pages keep it too, and their own filters and order.
        tab.open("accounts?q=Company%2001&sort=name&order=asc")
        tab.section("accounts")
        assert page.input_value('input[name="q"]') == "Company 01"
        assert page.input_value("#range") == "all", "lists default to all time, as the API"


def test_one_sign_in_serves_every_tab_and_sign_out_ends_it(browser: Any, pm: Tenant) -> None:
    for method in ("post", "get", "delete"):
        need(pm.server, "/api/session", method=method, why="contract 6")
    context = browser.new_context()
    try:
        first = new_tab(context, pm.server)
        page = first.page
        page.goto(f"{pm.server.url}/#/accounts")
        page.fill("#key", pm.read_key)
        page.click("#login-form button")
        first.section("accounts")
        kept = "[sessionStorage.length, localStorage.length, document.cookie]"
        assert page.evaluate(kept) == [0, 0, ""], "nothing a script can read"
        second = new_tab(context, pm.server)
        second.open("users", '[data-section="users"][data-state="ready"]')
        assert not second.page.locator("#login").is_visible(), "the second tab is signed in"
        assert second.errors == []
        second.page.click("#logout")
        second.page.wait_for_selector("#login-form", state="visible")
        page.wait_for_selector("#login-form", state="visible")  # the first tab is told
        assert context.request.get(f"{pm.server.url}/api/session").status == 401
        third = new_tab(context, pm.server)
        third.page.goto(f"{pm.server.url}/#/accounts")
        third.page.wait_for_selector("#login-form", state="visible")
        # The only console errors: the 401s of asking whether a session is still open.
        for tab in (first, second, third):
            assert all("401" in e for e in tab.errors), tab.errors
    finally:
        context.close()


def test_csv_downloads_hold_every_row_of_events_charts_and_tables(tab: Tab, pm: Tenant) -> None:
    # The events explorer: every page of events, not the 50 on screen.
    every_event = pm.events()
    assert len(every_event) > 1000
    page = tab.open("events?event_name=signed_in", "table.events")
    rows = tab.download(page.locator("button.csv"))
    signed_in = pm.events(event_name="signed_in")
    assert [r["id"] for r in rows] == [e["id"] for e in signed_in]
    assert rows[0]["user_id"] == signed_in[0]["user_id"]
    page = tab.open("events", "table.events")
    assert len(tab.download(page.locator("button.csv"))) == len(every_event)
    # A chart's data: one row per bucket, one column per series, and whether it is partial.
    answer = api(
        pm, "/api/analytics/trends", event="signed_in,feature_used", interval="day", limit=10
    )
    tab.open("trends?event=signed_in,feature_used")
    card = tab.section("trends")
    rows = tab.download(card.locator("button.csv"))
    assert [r["t"] for r in rows] == [p["t"] for p in answer["series"][0]["points"]]
    for s in answer["series"]:
        assert [int(r[s["name"]]) for r in rows] == [p["value"] for p in s["points"]]
    assert [r["partial"] == "true" for r in rows] == [
        p["partial"] for p in answer["series"][0]["points"]
    ]
    active = api(pm, "/api/analytics/active", of="users")["points"]
    tab.open("")
    rows = tab.download(tab.section("active-users").locator("button.csv"))
    assert [(r["DAU"], r["MAU"]) for r in rows] == [(str(p["dau"]), str(p["mau"])) for p in active]
    # Tables: an account's users, a user's whole timeline, the retention cohorts.
    members = api(pm, "/api/accounts/acct-000")["users"]
    tab.open("accounts/acct-000")
    rows = tab.download(tab.section("users").locator("button.csv"))
    assert [(r["user_id"], r["name"], r["email"]) for r in rows] == [
        (u["user_id"], u["name"], u["email"]) for u in members
    ]
    timeline = pm.events(user_id="user-000")
    tab.open("users/user-000", '.timeline[data-state="ready"]')
    rows = tab.download(page.locator('[data-section="timeline-card"] button.csv'))
    assert sorted(r["id"] for r in rows) == sorted(e["id"] for e in timeline)
    retention = api(
        pm, "/api/analytics/retention", start_event="signed_up", return_event="signed_in"
    )
    tab.open("retention")
    rows = tab.download(tab.section("retention").locator("button.csv"))
    assert [(r["cohort"], int(r["users"])) for r in rows] == [
        (c["start"], c["users"]) for c in retention["cohorts"]
    ]


def test_csv_of_a_paged_list_holds_every_row(tab: Tab, pm: Tenant) -> None:
    need(pm.server, "/api/accounts", "offset", "sort", "order", why="contract 1")
    need(pm.server, "/api/users", "offset", "sort", "order", why="contract 1")
    page = tab.open("accounts?sort=name&order=asc")
    rows = tab.download(tab.section("accounts").locator("button.csv"))
    assert len(rows) == ACCOUNTS, "every account, not the 100 on screen"
    assert [r["name"] for r in rows] == sorted(r["name"] for r in rows), "in the order shown"
    assert {r["health"] for r in rows} == {"active", "at_risk", "dormant"}
    tab.open("users")
    rows = tab.download(tab.section("users").locator("button.csv"))
    assert len({r["user_id"] for r in rows}) == USERS
    assert page.url.endswith("#/users")


def test_event_fields_suggest_the_workspaces_events(tab: Tab, pm: Tenant) -> None:
    top = [e["event_name"] for e in api(pm, "/api/analytics/top-events", limit=200)["events"]]
    page = tab.open("trends")
    field = page.locator('[data-field="event"]')
    listed = field.locator("datalist option")
    listed.first.wait_for(state="attached")
    assert sorted(o.get_attribute("value") for o in listed.all()) == sorted(top)
    entry = field.locator("input[list]")
    entry.fill("feature_used")
    entry.press("Enter")
    assert [c.get_attribute("data-value") for c in field.locator(".chip").all()] == ["feature_used"]
    tab.redraw(lambda: page.click('form.filters button[type="submit"]'))
    assert re.search(r"[?&]event=feature_used(&|$)", page.url)
    tab.section("trends")
    assert tab.texts('table.series td[data-col="name"]') == ["feature_used"]
    # Funnel steps keep their order, and a step can be removed.
    page = tab.open("funnel")
    steps = page.locator('[data-field="steps"]')
    steps.locator('.chip[data-value="signed_in"] button').click()
    assert [c.get_attribute("data-value") for c in steps.locator(".chip").all()] == [
        "signed_up",
        "feature_used",
    ]


def test_property_fields_suggest_names_and_top_values(tab: Tab, pm: Tenant) -> None:
    need(pm.server, "/api/schema", why="contract 3")
    schema = api(pm, "/api/schema")["events"]
    used = next(e for e in schema if e["event_name"] == "feature_used")
    page = tab.open("trends?event=feature_used")
    names = page.locator('[data-field="breakdown"] datalist option')
    names.first.wait_for(state="attached")
    assert {o.get_attribute("value") for o in names.all()} == {
        p["name"] for p in used["properties"]
    }
    where = page.locator('[data-field="where"]')
    where.locator('input[data-picker="where-property"]').fill("plan")
    values = where.locator("datalist").nth(1).locator("option")
    values.first.wait_for(state="attached")
    plan = next(p for p in used["properties"] if p["name"] == "plan")
    assert {o.get_attribute("value") for o in values.all()} == {
        str(v["value"]) for v in plan["top_values"]
    }
    where.locator('input[data-picker="where-value"]').fill("pro")
    tab.redraw(lambda: page.click('form.filters button[type="submit"]'))
    assert "where=plan%3Aeq%3Apro" in page.url
