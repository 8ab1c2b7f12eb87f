"""Issue 14 in Chromium, as a product manager checks it: every account and user reachable,
sorted and filtered (items 1), names before ids and titles that name the subject (8), the
health rule stated and each account's reason (10), the phone layout (9).

One workspace of 130 named accounts in every health tier and 160 named people
(support.py `pm_workspace`). Each test first checks that /openapi.json still documents the
endpoints and parameters it drives (support.py `need`).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from tests.dashboard.support import (
    ACCOUNTS,
    DUCKDB_ONLY,
    NO_CHROMIUM,
    TIERS,
    USERS,
    Tab,
    api,
    every,
    need,
    signed_in_tab,
)
from tests.support import Tenant

pytestmark = [NO_CHROMIUM, DUCKDB_ONLY]


def shown_rows(tab: Tab, table: str, col: str) -> list[str]:
    tab.page.wait_for_selector(f'[data-section="{table}"][data-state="ready"]')
    return tab.texts(f'table.{table} td[data-col="{col}"]')


def test_every_account_is_reachable_sorted_and_filtered_by_tier(tab: Tab, pm: Tenant) -> None:
    need(pm.server, "/api/accounts", "offset", "sort", "order", "health", why="contract 1")
    everyone = every(pm, "/api/accounts", "accounts")
    assert len(everyone) == ACCOUNTS
    page = tab.open("accounts")
    seen = shown_rows(tab, "accounts", "group_id")
    assert (
        page.inner_text('[data-section="accounts"] p.count') == f"1\u2013100 of {ACCOUNTS} accounts"
    )
    page.click('[data-section="accounts"] .pager button:has-text("Next")')
    page.wait_for_selector('[data-section="accounts"] [data-page="2"]')
    seen += shown_rows(tab, "accounts", "group_id")
    assert sorted(seen) == sorted(a["group_id"] for a in everyone), "every account, once"
    assert "page=2" in page.url, "the page is in the URL"

    # A click on a column's head sorts the whole list by it (the server sorts, then pages).
    tab.open("accounts")
    tab.section("accounts")
    page.click('table.accounts th[data-col="events"] button.sort')
    page.wait_for_selector('table.accounts th[data-col="events"][data-sort="desc"]')
    assert "sort=events" in page.url and "order=desc" in page.url
    wanted = api(pm, "/api/accounts", sort="events", order="desc", limit=100)["accounts"]
    assert shown_rows(tab, "accounts", "group_id") == [a["group_id"] for a in wanted]
    page.click('table.accounts th[data-col="name"] button.sort')
    page.wait_for_selector('table.accounts th[data-col="name"][data-sort="asc"]')
    wanted = api(pm, "/api/accounts", sort="name", order="asc", limit=100)["accounts"]
    assert shown_rows(tab, "accounts", "name") == [a["name"] for a in wanted]

    # Filter by tier: the at-risk accounts, all of them, and how many are in each tier.
    page.check('input[name="health"][value="at_risk"]')
    page.click('form.filters button[type="submit"]')
    page.wait_for_selector('table.accounts th[data-col="name"][data-sort="asc"]')
    at_risk = every(pm, "/api/accounts", "accounts", health="at_risk", sort="name", order="asc")
    assert 0 < len(at_risk) < 100
    assert "health=at_risk" in page.url and "sort=name" in page.url, "filters keep the order"
    assert shown_rows(tab, "accounts", "group_id") == [a["group_id"] for a in at_risk]
    badges = set(tab.texts('table.accounts td[data-col="health"] .badge'))
    assert badges == {"At risk"}
    counts = api(pm, "/api/accounts", health="at_risk")["counts"]
    for tier, n in counts.items():
        tally = page.locator(f'.tier-count[data-tier="{tier}"]')
        assert tally.get_attribute("data-count") == str(n), tier
    # Dormant accounts (no activity for 30 days) are in the default range: all time.
    tab.open("accounts?health=dormant")
    dormant = api(pm, "/api/accounts", health="dormant", limit=100)
    assert dormant["total"] > 0
    assert len(shown_rows(tab, "accounts", "group_id")) == dormant["total"]


def test_every_user_is_reachable_sorted_and_filtered(tab: Tab, pm: Tenant) -> None:
    need(pm.server, "/api/users", "offset", "sort", "order", "event", why="contract 1")
    last = -(-USERS // 50)
    page = tab.open(f"users?page={last}")
    rows = shown_rows(tab, "users", "user_id")
    assert page.inner_text('[data-section="users"] p.count') == (
        f"{(last - 1) * 50 + 1}\u2013{USERS} of {USERS} users"
    )
    wanted = api(pm, "/api/users", limit=50, offset=(last - 1) * 50)["users"]
    assert rows == [u["user_id"] for u in wanted]
    page.click('[data-section="users"] .pager button:has-text("Previous")')
    page.wait_for_selector(f'[data-section="users"] [data-page="{last - 1}"]')
    page.click('table.users th[data-col="email"] button.sort')
    page.wait_for_selector('table.users th[data-col="email"][data-sort="asc"]')
    wanted = api(pm, "/api/users", sort="email", order="asc", limit=50)["users"]
    assert shown_rows(tab, "users", "email") == [u["email"] for u in wanted]
    # The people who did an event, as the API lists them.
    tab.open("users?event=signed_up&sort=name&order=asc")
    did = api(pm, "/api/users", event="signed_up", sort="name", order="asc", limit=50)
    assert shown_rows(tab, "users", "name") == [u["name"] for u in did["users"]]
    assert page.inner_text('[data-section="users"] p.count').endswith(f"of {did['total']} users")


def test_names_come_first_and_titles_name_the_page_and_subject(tab: Tab, pm: Tenant) -> None:
    page = tab.open("accounts")
    listed = api(pm, "/api/accounts")["accounts"]
    assert shown_rows(tab, "accounts", "name") == [a["name"] for a in listed]
    assert all(re.fullmatch(r"Company \d{3}", a["name"]) for a in listed)
    assert page.title() == "Accounts — Tracklog"
    people = api(pm, "/api/users", limit=50)["users"]
    tab.open("users")
    assert shown_rows(tab, "users", "name") == [u["name"] for u in people]
    assert page.title() == "Users — Tracklog"

    one = api(pm, "/api/accounts/acct-003")["account"]
    tab.open("accounts/acct-003")
    tab.section("summary")
    assert page.inner_text(".page-title h1 .name") == one["name"]
    assert page.inner_text(".page-title h1 .id") == "acct-003", "the id second"
    assert page.title() == f"{one['name']} · Account — Tracklog"
    tab.section("users")
    members = api(pm, "/api/accounts/acct-003")["users"]
    assert tab.texts('[data-section="users"] td[data-col="name"]') == [u["name"] for u in members]

    person = api(pm, "/api/users/user-003")
    tab.open("users/user-003")
    tab.section("summary")
    assert page.title() == f"{person['name']} · User — Tracklog"
    page.wait_for_selector(f'ul.accounts a.name:text-is("{one["name"]}")')
    # The events explorer and a timeline: who and which account by name, the id after it.
    tab.open("events?user_id=user-003", "table.events")
    page.wait_for_selector(
        f'table.events td[data-col="user_id"] a.name:text-is("{person["name"]}")'
    )
    page.wait_for_selector(f'table.events td[data-col="group_id"] a.name:text-is("{one["name"]}")')
    ids = set(tab.texts('table.events td[data-col="user_id"] .id'))
    assert ids == {"user-003"}


def test_the_health_rule_is_stated_and_each_account_says_why(tab: Tab, pm: Tenant) -> None:
    answer = api(pm, "/api/accounts")
    t, windows = answer["thresholds"], answer["windows"]
    page = tab.open("accounts")
    tab.section("accounts")
    rule = page.locator(".health-rule")
    text = rule.inner_text()
    first30 = dt.date.fromisoformat(windows["active_users_30d"]["from"][:10])
    last = first30 + dt.timedelta(days=29)
    active_from = last - dt.timedelta(days=t["active_days"] - 1)
    assert f"last {t['active_days']} days ({active_from} to {last})" in text
    assert f"at least {t['min_active_days']} different days of the last 30 ({first30}" in text
    assert f"last activity in the last {t['at_risk_days']} days" in text
    assert rule.locator(".badge").all_inner_texts() == list(TIERS.values()), "tiers as words"
    # A busy new account at risk says why, in the row.
    busy = next(a for a in answer["accounts"] if a["health"] == "at_risk")
    row = page.locator(
        "table.accounts tr",
        has=page.locator(f'td[data-col="group_id"]:text-is("{busy["group_id"]}")'),
    )
    assert row.locator(".badge").inner_text() == "At risk"
    assert row.locator(".badge").get_attribute("title") == busy["health_reason"]
    row.locator("details.why summary").click()
    assert row.locator("details.why .reason").inner_text() == busy["health_reason"]
    tab.open(f"accounts/{busy['group_id']}")
    card = tab.section("summary")
    assert card.locator(".health-reason").inner_text() == busy["health_reason"]
    card.locator("details.rule summary").click()
    assert "different days of the last 30" in card.locator(".health-rule").inner_text()


def test_an_accounts_events_and_active_users_have_their_own_axes(tab: Tab, pm: Tenant) -> None:
    one = api(pm, "/api/accounts/acct-000")
    tab.open("accounts/acct-000")
    tab.section("activity")
    scales = {}
    for chart in ("events", "users"):
        sel = f'[data-section="activity"] .chart-{chart} .chart'
        tab.page.wait_for_selector(f"{sel}[data-ready='1']")
        scales[chart] = tab.page.evaluate(f"document.querySelector({sel!r}).uplot.scales.y.max")
    most_events = max(d["events"] for d in one["activity"])
    most_users = max(d["active_users"] for d in one["activity"])
    assert most_events > most_users
    assert scales["events"] >= most_events
    assert most_users <= scales["users"] < most_events, "users are not flattened by events"
    labels = tab.page.eval_on_selector_all(
        '[data-section="activity"] .chart-block', "els => els.map(e => e.dataset.yLabel)"
    )
    assert labels == ["Events", "Users"]


PHONE_ROUTES = [
    ("", '[data-section="top-events"][data-state="ready"]'),
    ("accounts", '[data-section="accounts"][data-state="ready"]'),
    ("accounts/acct-003", '[data-section="users"][data-state="ready"]'),
    ("users", '[data-section="users"][data-state="ready"]'),
    ("users/user-003", '.timeline[data-state="ready"]'),
    ("events", '.results[data-state="ready"]'),
    ("trends?event=signed_in,feature_used", '[data-section="trends"][data-state="ready"]'),
    ("retention", '[data-section="retention"]:not([data-state="loading"])'),
    ("funnel", '[data-section="funnel"]:not([data-state="loading"])'),
    ("lifecycle", '[data-section="lifecycle"]:not([data-state="loading"])'),
    ("live", ".status:not([data-status='idle'])"),
    ("quarantine", '.results[data-state="ready"]'),
]


def test_no_page_scrolls_sideways_on_a_phone(browser: Any, pm: Tenant) -> None:
    with signed_in_tab(browser, pm, width=390) as tab:
        page = tab.page
        for route, ready in PHONE_ROUTES:
            tab.open(route, ready)
            page.wait_for_timeout(150)  # charts draw on the next frame
            width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
            assert width == [390, 390], (route, width)
            # A table wider than the screen scrolls inside its own box.
            for box in page.locator("main .table-scroll").all():
                inner = box.evaluate(
                    "b => [b.scrollWidth, b.clientWidth, b.getBoundingClientRect().right]"
                )
                assert inner[2] <= 390, (route, inner)
        tab.open("accounts", PHONE_ROUTES[1][1])
        box = page.locator(".table-scroll:has(table.accounts)")
        assert box.evaluate("b => b.scrollWidth > b.clientWidth"), "the wide table scrolls itself"
        # Ids stay on one line each, never a character per line.
        lines = page.eval_on_selector_all(
            'table.accounts td[data-col="group_id"], table.accounts td[data-col="last_seen"]',
            "els => els.map(e => { const r = document.createRange(); r.selectNodeContents(e);"
            " return new Set([...r.getClientRects()].map(x => Math.round(x.top))).size; })",
        )
        assert lines and set(lines) == {1}, lines
        # The legend sits under a chart, never over its lines.
        tab.open("", '[data-section="trends"][data-state="ready"]')
        chart = page.locator('[data-section="trends"] .chart').bounding_box()
        legend = page.locator('[data-section="trends"] .legend').bounding_box()
        assert legend["y"] >= chart["y"] + chart["height"] - 1
