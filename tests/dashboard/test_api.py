"""The server side of the dashboard's API (issue 14), on both stores: sign-in sessions shared by
tabs and nodes, the lists' pages under ties, exact medians, and clear 400s for every
parameter of the new endpoints. The numbers themselves are hand-counted in
tests/hand_count/ (users.order, accounts.order, people.*, lifecycle.*, funnel.*, schema).
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import clickhouse_driver
import duckdb
import httpx
import pytest

from tests.support import ServerProcess, Tenant, new_tenant

_open: list[httpx.Client] = []


def browser(server: ServerProcess, cookies: Any = None) -> httpx.Client:
    """A client that keeps cookies, as a browser tab does (tabs of one browser share them);
    closed after the test."""
    client = httpx.Client(base_url=server.url, cookies=cookies, timeout=30)
    _open.append(client)
    return client


@pytest.fixture(autouse=True)
def _close_browsers() -> Iterator[None]:
    yield
    while _open:
        _open.pop().close()


def sign_in(client: httpx.Client, key: str) -> httpx.Response:
    return client.post("/api/session", json={"key": key})


def refused(r: httpx.Response, status: int, code: str, field: str | None = None) -> None:
    """An error in the one shape: the status, the code, the field if any, a sentence."""
    assert r.status_code == status, r.text
    error = r.json()["error"]
    assert error["code"] == code, r.text
    assert error.get("field") == field, r.text
    assert error["message"].endswith("."), r.text


# -- sessions ---------------------------------------------------------------------------------


def test_a_read_key_opens_a_session_that_tabs_share_and_that_only_reads(
    server: ServerProcess, tenant: Tenant
) -> None:
    tab = browser(server)
    r = sign_in(tab, tenant.read_key)
    assert r.status_code == 204, r.text
    cookie = r.headers["set-cookie"]
    name, _, rest = cookie.partition("=")
    value, *attributes = rest.split("; ")
    assert name == "tracklog_session" and len(value) >= 40
    assert sorted(attributes) == ["HttpOnly", "Path=/", "SameSite=Strict"]  # no Secure on http
    assert tenant.read_key not in cookie
    info = tab.get("/api/session").json()
    assert (info["workspace"], info["scope"]) == (tenant.name, "read")
    expires = dt.datetime.fromisoformat(info["expires_at"])
    in_twelve_hours = dt.datetime.now(dt.UTC) + dt.timedelta(hours=12)
    assert abs((expires - in_twelve_hours).total_seconds()) < 60
    other_tab = browser(server, tab.cookies)
    for path in ("/api/users", "/api/accounts", "/api/events", "/api/analytics/lifecycle"):
        assert other_tab.get(path).status_code == 200, path
    # Never for writes, and never for admin endpoints, whatever key opened it.
    refused(other_tab.post("/api/track", json=[{"event_name": "x", "user_id": "u"}]), 401,
            "missing_key")  # fmt: skip
    admin = server.admin("keys.create", workspace=tenant.name, scope="admin")["key"]
    admin_tab = browser(server)
    assert sign_in(admin_tab, admin).status_code == 204
    assert admin_tab.get("/api/session").json()["scope"] == "admin"
    assert admin_tab.get("/api/users").status_code == 200
    refused(admin_tab.get("/api/audit"), 401, "missing_key")
    refused(admin_tab.delete(f"/api/users/{tenant.name}-nobody"), 401, "missing_key")
    # A key in a header wins over the cookie, and answers for itself.
    r = other_tab.get("/api/session", headers={"Authorization": f"Bearer {admin}"})
    assert (r.json()["scope"], r.json()["expires_at"]) == ("admin", None)


def test_signing_in_refuses_what_is_not_a_read_key_in_json(
    server: ServerProcess, tenant: Tenant
) -> None:
    tab = browser(server)
    refused(sign_in(tab, tenant.write_key), 403, "wrong_scope")
    refused(sign_in(tab, tenant.read_key[:-2] + "zz"), 401, "invalid_key")
    refused(tab.post("/api/session", json={"key": 42}), 400, "invalid_body", "key")
    refused(tab.post("/api/session", json={"key": ""}), 400, "invalid_body", "key")
    refused(tab.post("/api/session", json={"key": tenant.read_key, "x": 1}), 400, "invalid_body",
            "key")  # fmt: skip
    refused(tab.post("/api/session", content=b"{", headers={"content-type": "application/json"}),
            400, "invalid_json")  # fmt: skip
    # A form (what another site's page can post without asking) is not a sign-in.
    form = tab.post("/api/session", data={"key": tenant.read_key})
    refused(form, 400, "invalid_content_type")
    cross = tab.post(
        "/api/session", json={"key": tenant.read_key}, headers={"sec-fetch-site": "cross-site"}
    )
    refused(cross, 403, "cross_site")
    assert "set-cookie" not in cross.headers
    refused(tab.get("/api/session"), 401, "missing_key")
    forged = browser(server, {"tracklog_session": "forged"})
    refused(forged.get("/api/users"), 401, "session_ended")


def test_signing_out_or_revoking_the_key_ends_the_session_everywhere(
    server: ServerProcess, tenant: Tenant, tmp_path: Path
) -> None:
    """On ClickHouse a second node shares the store: a session opened on one works on the
    other, and ends on both at once."""
    other = None
    if server.store:
        other = ServerProcess(tmp_path / "node2", store=server.store).start()
    try:
        node2 = other or server
        tab = browser(server)
        assert sign_in(tab, tenant.read_key).status_code == 204
        elsewhere = browser(node2, tab.cookies)
        assert elsewhere.get("/api/users").status_code == 200
        r = elsewhere.delete("/api/session")
        assert r.status_code == 204
        assert r.headers["set-cookie"].startswith("tracklog_session=; ")
        assert "Max-Age=0" in r.headers["set-cookie"]
        refused(tab.get("/api/users"), 401, "session_ended")  # the first node's cookie too
        assert elsewhere.delete("/api/session").status_code == 204  # again: nothing to end
        # Revoking the key ends its sessions on every node at once (no refresh to wait for).
        key = server.admin("keys.create", workspace=tenant.name, scope="read")
        tab = browser(server)
        assert sign_in(tab, key["key"]).status_code == 204
        elsewhere = browser(node2, tab.cookies)
        assert elsewhere.get("/api/users").status_code == 200
        server.admin("keys.revoke", key_id=key["key_id"])
        refused(elsewhere.get("/api/users"), 401, "session_ended")
        refused(tab.get("/api/session"), 401, "session_ended")
        # Signing in again replaces the session: the previous one ends.
        assert sign_in(tab, tenant.read_key).status_code == 204
        old = dict(tab.cookies)
        assert sign_in(tab, tenant.read_key).status_code == 204
        refused(browser(server, old).get("/api/users"), 401, "session_ended")
        assert tab.get("/api/users").status_code == 200
    finally:
        if other is not None:
            other.stop()


@pytest.mark.parametrize("kind", ["duckdb", "clickhouse"])
def test_sessions_expire_and_stores_made_before_sessions_get_the_table(
    kind: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """An idle session ends after --session-idle-hours, any after --session-max-days; and a
    store without a sessions table (an older Tracklog's) gets one at start."""
    store = ""
    if kind == "clickhouse":
        store = request.getfixturevalue("clickhouse").url("sessions_upgrade")
    server = ServerProcess(tmp_path / "data", store=store)
    server.start()
    server.stop()
    forget_sessions(kind, tmp_path / "data", store)
    server.extra_args = ["--session-idle-hours", str(2 / 3600)]  # 2 seconds
    server.start()
    try:
        tab = browser(server)
        assert sign_in(tab, server.read_key).status_code == 204
        assert tab.get("/api/users").status_code == 200
        time.sleep(2.5)
        refused(tab.get("/api/users"), 401, "session_ended")
        server.stop()
        # 4 seconds: ClickHouse keeps whole seconds, so the end may come up to one earlier.
        server.extra_args = ["--session-max-days", str(4 / 86400)]
        server.start()
        assert sign_in(tab, server.read_key).status_code == 204
        for _ in range(3):  # in use all along, yet over after 4 seconds
            assert tab.get("/api/users").status_code == 200
            time.sleep(0.5)
        time.sleep(3.5)
        refused(tab.get("/api/session"), 401, "session_ended")
    finally:
        server.stop()


def forget_sessions(kind: str, data: Path, store: str) -> None:
    """Make the store look as a Tracklog from before sessions left it."""
    if kind == "duckdb":
        con = duckdb.connect(str(data / "tracklog.duckdb"))
        con.execute("DROP TABLE sessions")
        con.close()
        return
    url = urlparse(store)
    client = clickhouse_driver.Client(url.hostname, port=url.port, database=url.path.strip("/"))
    client.execute("DROP TABLE sessions")
    client.disconnect()


# -- lists under ties, and exact medians ------------------------------------------------------

TIED = "2026-06-01T12:00:00Z"


def test_pages_cover_a_list_of_ties_once_each_in_id_order(tenant: Tenant) -> None:
    """24 people seen at the same instant, 4 accounts alike: every page of 7 (or 3) in every
    order holds the next ones by id, each exactly once."""
    events = [
        {"event_name": "signed_in", "user_id": f"u{n:02d}", "timestamp": TIED,
         "context": {"group_id": f"g{n % 4}"}}
        for n in range(24)
    ]  # fmt: skip
    assert tenant.post("/api/track", events).status_code == 200
    people = sorted(f"u{n:02d}" for n in range(24))
    for sort in ("last_seen", "first_seen", "events", "sign_ins", "name", "email", "user_id"):
        for order in ("asc", "desc"):
            seen = pages(tenant, "/api/users", "users", "user_id", sort=sort, order=order)
            expected = people[::-1] if sort == "user_id" and order == "desc" else people
            assert seen == expected, (sort, order)
    for sort in ("name", "users", "events", "last_seen", "health"):
        for order in ("asc", "desc"):
            seen = pages(tenant, "/api/accounts", "accounts", "group_id", sort=sort, order=order)
            assert seen == ["g0", "g1", "g2", "g3"], (sort, order)


def pages(tenant: Tenant, path: str, rows: str, key: str, **params: Any) -> list[str]:
    found: list[str] = []
    offset = 0
    while True:
        r = tenant.get(path, limit=7 if rows == "users" else 3, offset=offset, **params)
        assert r.status_code == 200, r.text
        body = r.json()
        found += [row[key] for row in body[rows]]
        assert (body["offset"], body["limit"]) == (offset, 7 if rows == "users" else 3)
        offset += body["limit"]
        if offset >= body["total"]:
            return found


def test_funnel_medians_are_exact(tenant: Tenant) -> None:
    """Four people convert in 10, 20, 30 and 100 seconds: the median is 25 (the mean of the two
    middle ones), not a sample's estimate or the upper middle value; three, in 10, 20 and 1000
    seconds on to the last step: 20."""
    start = dt.datetime(2026, 6, 1, 9, tzinfo=dt.UTC)
    events = []
    for n, (first, second) in enumerate(((10, 10), (20, 20), (30, 1000), (100, None))):
        events.append(track("signed_up", f"u{n}", start))
        events.append(track("signed_in", f"u{n}", start + dt.timedelta(seconds=first)))
        if second is not None:
            later = start + dt.timedelta(seconds=first + second)
            events.append(track("feature_used", f"u{n}", later))
    assert tenant.post("/api/track", events).status_code == 200
    r = tenant.get(
        "/api/analytics/funnel",
        steps="signed_up,signed_in,feature_used",
        **{"from": "2026-06-01T00:00:00Z", "to": "2026-06-02T00:00:00Z"},
    )
    steps = r.json()["steps"]
    assert [(s["count"], s["median_seconds"]) for s in steps] == [
        (4, None),
        (4, 25.0),
        (3, 20.0),
    ]


def track(name: str, user: str, at: dt.datetime, **properties: Any) -> dict[str, Any]:
    return {
        "event_name": name,
        "user_id": user,
        "timestamp": at.isoformat().replace("+00:00", "Z"),
        "properties": properties,
        "context": {"group_id": "g1"},
    }


# -- parameters: a 400 with the field and a sentence -----------------------------------------

RANGE = {"from": "2026-06-01T00:00:00Z", "to": "2026-06-29T00:00:00Z"}
RETENTION = {"period": "week", "periods": 4, **RANGE}
FUNNEL = {"steps": "signed_up,signed_in,feature_used", **RANGE}
BAD = [
    ("/api/users", {"sort": "age"}, "sort"),
    ("/api/users", {"order": "up"}, "order"),
    ("/api/users", {"offset": -1}, "offset"),
    ("/api/users", {"limit": 1001}, "limit"),
    ("/api/users", {"where": "plan=pro"}, "where"),
    ("/api/users", {"where": "n:gt:many"}, "where"),
    ("/api/accounts", {"health": "active,sleepy"}, "health"),
    ("/api/accounts", {"sort": "events_per_user"}, "sort"),
    ("/api/analytics/retention/people", RETENTION, "cohort"),
    ("/api/analytics/retention/people", {**RETENTION, "cohort": "2026-06-02T00:00:00Z"}, "cohort"),
    ("/api/analytics/retention/people", {**RETENTION, "cohort": "monday"}, "cohort"),
    ("/api/analytics/retention/people",
     {**RETENTION, "cohort": "2026-06-01T00:00:00Z", "k": 4}, "k"),
    ("/api/analytics/funnel", {**FUNNEL, "steps": "signed_up"}, "steps"),
    ("/api/analytics/funnel/people", {**FUNNEL, "step": 4}, "step"),
    ("/api/analytics/funnel/people", {**FUNNEL, "step": 0}, "step"),
    ("/api/analytics/funnel/people", {**FUNNEL, "step": 3, "outcome": "dropped"}, "outcome"),
    ("/api/analytics/funnel/people", {**FUNNEL, "outcome": "left"}, "outcome"),
    ("/api/analytics/funnel/people", {**FUNNEL, "breakdown": "plan", "value": "x" * 256},
     "value"),
    ("/api/analytics/lifecycle", {"period": "hour"}, "period"),
    ("/api/analytics/lifecycle", {"of": "teams"}, "of"),
    ("/api/analytics/lifecycle",
     {"period": "day", "from": "2000-01-01T00:00:00Z", "to": "2026-01-01T00:00:00Z"}, "period"),
    ("/api/analytics/lifecycle/people", RANGE, "start"),
    ("/api/analytics/lifecycle/people", {**RANGE, "start": "2026-07-06T00:00:00Z"}, "start"),
    ("/api/analytics/lifecycle/people", {**RANGE, "start": "2026-06-03T00:00:00Z"}, "start"),
    ("/api/analytics/lifecycle/people",
     {**RANGE, "start": "2026-06-01T00:00:00Z", "status": "lost"}, "status"),
    ("/api/schema", {"from": "2026-07-01T00:00:00Z", "to": "2026-06-01T00:00:00Z"}, "from"),
]  # fmt: skip


@pytest.mark.parametrize(("path", "params", "field"), BAD, ids=[f"{p} {f}" for p, _, f in BAD])
def test_bad_parameters_are_400s_naming_the_field(
    tenant: Tenant, path: str, params: dict[str, Any], field: str
) -> None:
    refused(tenant.get(path, **params), 400, "invalid_parameter", field)


def test_a_period_start_in_another_zone_is_not_one_here(server: ServerProcess) -> None:
    """A cohort's start is a local midnight: the same instant is no week start in Kolkata."""
    t = new_tenant(server, f"zoned{time.monotonic_ns()}")
    r = t.get("/api/analytics/retention/people", cohort="2026-06-01T00:00:00Z",
              tz="Asia/Kolkata", **RETENTION)  # fmt: skip
    refused(r, 400, "invalid_parameter", "cohort")
    r = t.get("/api/analytics/retention/people", cohort="2026-06-01T00:00:00+05:30",
              tz="Asia/Kolkata", **RETENTION)  # fmt: skip
    assert r.status_code == 200 and r.json()["total"] == 0, r.text
