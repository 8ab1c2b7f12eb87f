"""What the dashboard's browser tests share: Debian's Chromium through Playwright, a tab that
fails its test on any console error, signing in through the server's session cookie, and
asking /openapi.json whether the server still documents what the dashboard calls.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import io
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import httpx
import pytest

from tests.support import ServerProcess, Tenant, new_tenant

sync_api = pytest.importorskip(
    "playwright.sync_api", reason="the playwright package is not installed (pip install -e .[dev])"
)
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
NO_CHROMIUM = pytest.mark.skipif(
    CHROMIUM is None,
    reason="no chromium binary on PATH: `apt-get install chromium` to run the dashboard tests",
)
# The dashboard is a client of the JSON API, whose answers the store contract tests check on
# both stores; its own tests need one store (the first suite, test_pages.py, keeps
# running on both).
DUCKDB_ONLY = pytest.mark.parametrize("server", ["duckdb"], indirect=True)

XSS = "<img src=x onerror=window.__xss=1>"
NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)


def ago(days: float, hours: float = 0) -> str:
    """An ISO time `days` and `hours` before the tests started."""
    return (NOW - dt.timedelta(days=days, hours=hours)).isoformat().replace("+00:00", "Z")


def shown_time(iso: str | None) -> str:
    """An API time as the dashboard prints it (dom.js `time`)."""
    return "\u2013" if not iso else re.sub(r"\.\d+Z$|Z$", "", iso.replace("T", " ", 1))


def shown_pct(ratio: float) -> str:
    """A ratio as the dashboard prints it (dom.js `pct`)."""
    return f"{ratio * 100:.1f}%"


TIERS = {"active": "Active", "at_risk": "At risk", "dormant": "Dormant"}


@cache
def _paths(base: str) -> dict[str, Any]:
    document: dict[str, Any] = httpx.get(base + "/openapi.json", timeout=30).json()
    return document.get("paths", {})


def documented(server: ServerProcess, path: str, *params: str, method: str = "get") -> bool:
    """Whether the server's /openapi.json lists `method path` with every one of `params`."""
    op = _paths(server.url).get(path, {}).get(method)
    if op is None:
        return False
    names = {p["name"] for p in op.get("parameters", [])}
    return all(p in names for p in params)


def need(
    server: ServerProcess, path: str, *params: str, method: str = "get", why: str = ""
) -> None:
    """Fail unless the server documents `method path` with `params`: the dashboard calls
    them, so one gone from /openapi.json is a broken contract, not a reason to skip."""
    wanted = f"{method.upper()} {path}" + (f" with {', '.join(params)}" if params else "")
    assert documented(server, path, *params, method=method), (
        f"/openapi.json no longer documents {wanted}, which the dashboard uses ({why})"
    )


@dataclass
class Tab:
    """A page of the dashboard, and the console errors and exceptions it raised."""

    page: Any
    base: str
    errors: list[str] = field(default_factory=list)

    def open(self, route: str, ready: str | None = None) -> Any:
        """Go to `#/route` and wait for `ready` (a selector) to appear."""
        # A hash change redraws asynchronously: wait for the next drawing, so `ready` cannot
        # be satisfied by what the previous page left.
        seq = 0
        if self.page.url.startswith(self.base):
            seq = int(self.page.evaluate("document.getElementById('main').dataset.seq || 0"))
        self.page.goto(f"{self.base}/#/{route}")
        self.page.wait_for_selector(f'main[data-seq="{seq + 1}"]', state="attached")
        if ready:
            self.page.wait_for_selector(ready, timeout=20_000)
        return self.page

    def redraw(self, action: Any) -> None:
        """Do `action()` (a click, a choice) and wait for the page it draws."""
        seq = int(self.page.evaluate("document.getElementById('main').dataset.seq || 0"))
        action()
        self.page.wait_for_selector(f'main[data-seq="{seq + 1}"]', state="attached")

    def section(self, name: str) -> Any:
        """A card of the page, once it has loaded."""
        self.page.wait_for_selector(
            f'[data-section="{name}"]:not([data-state="loading"])', timeout=20_000
        )
        card = self.page.locator(f'[data-section="{name}"]')
        assert card.get_attribute("data-state") == "ready", card.inner_text()
        return card

    def texts(self, selector: str) -> list[str]:
        """The text of every element matching `selector`."""
        return [s.strip() for s in self.page.locator(selector).all_inner_texts()]

    def download(self, button: Any) -> list[dict[str, str]]:
        """Click a "Download CSV" button; the rows of the file it saves."""
        with self.page.expect_download(timeout=30_000) as info:
            button.click()
        path = info.value.path()
        with open(path, encoding="utf-8-sig", newline="") as f:
            return list(csv.DictReader(io.StringIO(f.read())))


def sign_in(context: Any, t: Tenant) -> None:
    """Sign a browser context in as `t`'s read key: the server's session cookie, which every
    tab of the context shares."""
    r = context.request.post(f"{t.server.url}/api/session", data={"key": t.read_key})
    assert r.status == 204, r.text()


def open_tab(
    browser: Any,
    server: ServerProcess,
    tenant: Tenant | None,
    timezone_id: str | None = None,
    width: int = 1280,
    **options: Any,
) -> tuple[Any, Tab]:
    """A new browser context (nothing shared with other tests) and a tab in it."""
    context = browser.new_context(
        viewport={"width": width, "height": 900},
        accept_downloads=True,
        **({"timezone_id": timezone_id} if timezone_id else {}),
        **options,
    )
    if tenant:
        sign_in(context, tenant)
    # Generous: other suites share this 2-core machine; a wait only lasts this long on failure.
    context.set_default_timeout(20_000)
    return context, new_tab(context, server)


def new_tab(context: Any, server: ServerProcess) -> Tab:
    """Another tab of a context, recording its console errors."""
    page = context.new_page()
    tab = Tab(page, server.url)
    page.on("console", lambda m: m.type == "error" and tab.errors.append(m.text))
    page.on("pageerror", lambda e: tab.errors.append(str(e)))
    return tab


@contextlib.contextmanager
def signed_in_tab(
    browser: Any, t: Tenant, timezone_id: str | None = None, width: int = 1280
) -> Iterator[Tab]:
    """A tab already signed in to `t`; fails on any console error or script run by data."""
    context, tab = open_tab(browser, t.server, t, timezone_id, width)
    try:
        yield tab
        xss = tab.page.evaluate("window.__xss")
    finally:
        context.close()
    assert tab.errors == []
    assert xss is None


@contextlib.contextmanager
def chromium() -> Iterator[Any]:
    """Headless Chromium from the system, not a Playwright download."""
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM)
        yield b
        b.close()


def api(t: Tenant, path: str, **params: Any) -> Any:
    """GET `path` with `t`'s read key; the JSON of a 200."""
    r = t.get(path, **params)
    assert r.status_code == 200, r.text
    return r.json()


def every(t: Tenant, path: str, rows: str, **params: Any) -> list[dict[str, Any]]:
    """Every row of an offset-paged list (contract section 1)."""
    found: list[dict[str, Any]] = []
    while True:
        page = api(t, path, limit=1000, offset=len(found), **params)
        found.extend(page[rows])
        if not page[rows] or len(found) >= page["total"]:
            return found


def hover(tab: Tab, chart: str, index: int) -> dict[str, str]:
    """Move the mouse over bucket `index` of the chart in `chart` (a selector of its
    .chart-block); the tooltip's {series label: value shown}, plus "x" (the bucket's start)."""
    page = tab.page
    page.wait_for_selector(f"{chart} .chart[data-ready='1']")
    box = page.locator(f"{chart} .u-over").bounding_box()
    left = page.evaluate(
        "([sel, i]) => { const u = document.querySelector(sel + ' .chart').uplot;"
        " return u.valToPos(u.data[0][i], 'x'); }",
        [chart, index],
    )
    # (The first and last buckets sit on the plot's edges: stay a pixel inside.)
    left = min(max(left, 1), box["width"] - 1)
    page.mouse.move(box["x"] + left, box["y"] + box["height"] / 2)
    tip = page.locator(f"{chart} .chart-tip")
    tip.wait_for(state="visible")
    assert tip.get_attribute("data-index") == str(index)
    shown = {
        row.get_attribute("data-series"): row.locator(".v").inner_text()
        for row in tip.locator(".tip-row").all()
    }
    shown["x"] = tip.locator(".tip-x").get_attribute("data-t")
    return shown


ACCOUNTS = 130  # more than a page of 100: the list must page to show them all
USERS = 160  # more than a page of 50


def post_workspace(t: Tenant) -> None:
    """A small B2B workspace for the product manager's checks: 130 named accounts in every
    health tier (active, at risk for each reason, dormant), 160 named people, sign-ups,
    sign-ins and feature use over the last 60 days (so the range before the default one has
    data to compare with), a `plan` property with a few values, and events today."""
    import random

    rng = random.Random(14)
    calls: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    for a in range(ACCOUNTS):
        calls.append({"group_id": f"acct-{a:03d}", "traits": {"account_name": f"Company {a:03d}"}})
    for u in range(USERS):
        a = u % ACCOUNTS
        user, group = f"user-{u:03d}", {"group_id": f"acct-{a:03d}"}
        t_ids = {"user_id": user, "context": group}
        # (Sign-ups are activity too: an account meant to be at risk or dormant signed up long ago.)
        first = 59 if a >= 80 else 58 - (u % 50)
        events.append(
            {
                "event_name": "signed_up",
                **t_ids,
                "timestamp": ago(first, 1),
                "properties": {
                    "email": f"person{u:03d}@example.com",
                    "name": f"Person {u:03d}",
                    "plan": ["free", "pro", "enterprise"][u % 3],
                },
            }
        )
        if a < 80:  # active: seen today or yesterday, on several days
            days = sorted({0 if u % 2 else 1, *rng.sample(range(2, 40), 6)})
        elif a < 100:  # at risk: seen in the last week, but on one day only
            days = [2]
        elif a < 115:  # at risk: last seen 10-20 days ago
            days = [10 + a % 10]
        else:  # dormant: nothing in the last 30 days
            days = [40 + a % 15]
        plan = ["free", "pro", "enterprise"][u % 3]
        for d in days:
            if d > first:
                continue
            hours = rng.uniform(0.05, 0.9) if d == 0 else rng.uniform(0, 20)
            events.append(
                {
                    "event_name": "signed_in",
                    **t_ids,
                    "timestamp": ago(d, hours),
                    "properties": {"plan": plan},
                }
            )
            events.append(
                {
                    "event_name": "feature_used",
                    **t_ids,
                    "timestamp": ago(d, hours - 0.02),
                    "properties": {
                        "plan": plan,
                        "feature_name": ["export", "invite", "report"][d % 3],
                    },
                }
            )
    r = t.post("/api/group", calls)
    assert r.status_code == 200, r.text
    for i in range(0, len(events), 400):
        r = t.post("/api/track", events[i : i + 400])
        assert r.status_code == 200, r.text


_workspaces: dict[str, Tenant] = {}


def pm_workspace(server: ServerProcess) -> Tenant:
    """The `post_workspace` workspace of this server, made once and shared by the dashboard's
    test modules (they only read it)."""
    if server.url not in _workspaces:
        t = new_tenant(server, f"pm{len(_workspaces)}")
        post_workspace(t)
        _workspaces[server.url] = t
    return _workspaces[server.url]
