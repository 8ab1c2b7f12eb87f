"""A workload that makes `tracklog serve` answer every endpoint, for capturing its SQL.

tests/test_clickhouse_conformance.py runs it on a ClickHouse 18.16 server that logs every
query: ingest in the three wire formats (and a retry), every analytics report with its
variants, the events and quarantine pages, replay, privacy requests, retention, key
management, and doctor. Each step checks only that it was answered; the answers themselves
are the contract suite's business.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import httpx

from tests import analytics_fixture as fx
from tests.support import ServerProcess, Tenant, new_tenant
from tracklog import settings

RANGE = {"from": fx.iso(fx.START), "to": fx.iso(fx.END)}


def ago(days: float) -> str:
    return (dt.datetime.now(dt.UTC) - dt.timedelta(days=days)).isoformat().replace("+00:00", "Z")


def ok(r: httpx.Response) -> Any:
    assert r.status_code == 200, r.text
    if r.headers["content-type"].startswith("application/x-ndjson"):
        return [json.loads(line) for line in r.text.splitlines()]
    return r.json()


def ingest_native(t: Tenant) -> None:
    """The analytics history through /api/track, /api/identify and /api/group, and a retry."""
    by_type: dict[str, list[dict[str, Any]]] = {}
    for e in fx.build().events:
        body = {k: v for k, v in e.items() if k != "type"}
        by_type.setdefault(e.get("type", "track"), []).append(body)
    for kind, bodies in by_type.items():
        for i in range(0, len(bodies), 500):
            assert ok(t.post(f"/api/{kind}", bodies[i : i + 500]))["rejected"] == 0
    # The write path's lookup finds every event of a retried batch already stored.
    assert ok(t.post("/api/track", by_type["track"][:50]))["duplicates"] == 50


def ingest_vero_and_segment(t: Tenant) -> None:
    """Vero's event and user calls, and a Segment batch with every call type."""
    for path, body in (
        (
            "/api/v2/events/track",
            {
                "identity": {"id": "v1", "email": "v1@example.com"},
                "event_name": "signed_in",
                "data": {"plan": "pro", "count": 3},
            },
        ),
        ("/api/v2/users/track", {"id": "v2", "data": {"first_name": "Vee"}}),
    ):
        r = httpx.post(t.server.url + path, json={**body, "auth_token": t.write_key}, timeout=30)
        assert r.status_code == 200, r.text
    batch = {
        "context": {"library": {"name": "custom"}},
        "batch": [
            {"type": "page", "anonymousId": "seg-anon", "name": "Pricing"},
            {"type": "alias", "previousId": "seg-anon", "userId": "s1"},
            {"type": "identify", "userId": "s1", "traits": {"email": "s1@example.com"}},
            {"type": "group", "userId": "s1", "groupId": "acct9", "traits": {"name": "Nine"}},
            {"type": "track", "userId": "s1", "event": "signed_in", "properties": {"n": 1}},
            {"type": "launch", "userId": "s1"},  # no such call: quarantined
        ],
    }
    r = httpx.post(t.server.url + "/v1/batch", json=batch, auth=(t.write_key, ""), timeout=30)
    assert r.status_code == 200, r.text


def reports(t: Tenant) -> None:
    """Every analytics report with its variants, and the core read path."""

    def get(path: str, **params: Any) -> Any:
        return ok(t.get(path, **{**RANGE, **params}))

    trends = "/api/analytics/trends"
    for interval in ("hour", "day", "week", "month"):
        get(trends, interval=interval)
        get(trends, interval=interval, measure="users")
    get(trends, measure="users", breakdown="plan", limit=2)
    get(trends, breakdown="plan", limit=2, event="signed_in")
    get(trends, interval="week", breakdown="plan", measure="users", limit=1)
    get(trends, event=["signed_in", "feature_used"], user_id="u1")
    get(trends, group_id="acct1", measure="users", interval="week")
    for where in ("count:gte:5", "count:lt:3", "plan:eq:pro", "plan:neq:free", "plan:contains:TEA"):
        get(trends, where=where)
    get(trends, where="plan:eq:pro", include_test="true", measure="users")
    get("/api/analytics/top-events", limit=2)
    later = fx.iso(fx.START + dt.timedelta(days=15))  # DuckDB's other active-users path
    for of in ("users", "accounts"):
        get("/api/analytics/active", of=of)
        get("/api/analytics/active", of=of, event="signed_in", **{"from": later})
    for period in ("day", "week", "month"):
        get(
            "/api/analytics/retention",
            start_event="signed_up",
            return_event="signed_in",
            period=period,
            periods=4,
        )
    steps = "signed_up,signed_in,feature_used"
    get("/api/analytics/funnel", steps=steps, window_hours=48)
    get("/api/analytics/funnel", steps=steps, by="accounts")
    get("/api/accounts")
    get("/api/accounts", q="account 1")
    get("/api/accounts/acct1")
    assert t.get("/api/accounts/nope", **RANGE).status_code == 404
    # Local calendars: a zone with DST (its offsets a CASE in the SQL) and a fixed +05:30.
    for tz in ("America/Los_Angeles", "Asia/Kolkata"):
        for interval in ("hour", "day", "week", "month"):
            get(trends, interval=interval, measure="users", tz=tz)
        get(trends, interval="day", tz=tz, **{"from": later})
        for of in ("users", "accounts"):
            get("/api/analytics/active", of=of, tz=tz)
            get("/api/analytics/active", of=of, tz=tz, **{"from": later})
        for period in ("day", "week", "month"):
            get("/api/analytics/retention", period=period, periods=4, tz=tz)
        get("/api/accounts", tz=tz, **{"from": later})
        get("/api/accounts/acct1", tz=tz)
    t.server.admin("workspaces.set_timezone", name=t.name, timezone="Europe/Berlin")
    get("/api/analytics/active")
    get("/api/users")
    get("/api/users", q="PERSON7@example")
    get("/api/users", q="Person 3", limit=5)
    ok(t.get("/api/users/u0"))
    assert t.get("/api/users/nobody").status_code == 404
    ok(t.get("/api/users/u0/events", limit=1000))
    page = ok(t.get("/api/events", limit=50))
    ok(t.get("/api/events", limit=50, cursor=page["next_cursor"]))
    ok(t.get("/api/events", event_name="signed_in", type="track", user_id="u2", group_id="acct2"))
    ok(t.get("/api/events", include_test="true", **RANGE))
    dashboard(t)


def dashboard(t: Tenant) -> None:
    """The dashboard's API: lists in every order and filter, the people behind a number,
    lifecycle, funnel breakdowns and times, the schema, and sign-in sessions."""

    def get(path: str, **params: Any) -> Any:
        return ok(t.get(path, **{**RANGE, **params}))

    for sort in ("last_seen", "first_seen", "events", "sign_ins", "name", "email", "user_id"):
        get("/api/users", sort=sort, order="asc", limit=5, offset=5)
    get("/api/users", sort="name", q="person 1")
    get("/api/users", event=["signed_in", "feature_used"], where="plan:eq:pro")
    get("/api/users", group_id="acct1")
    get("/api/users", group_id="acct1", event="signed_in", sort="email")
    get("/api/accounts", health="active,at_risk", sort="name", offset=1, limit=2)
    retention = get("/api/analytics/retention", period="week", periods=4)
    cohort = retention["cohorts"][0]["start"]
    for k in (0, 1):
        get("/api/analytics/retention/people", period="week", periods=4, cohort=cohort, k=k)
    steps = "signed_up,signed_in,feature_used"
    for by in ("users", "accounts"):
        get("/api/analytics/funnel", steps=steps, by=by, breakdown="plan")
        for outcome in ("reached", "dropped"):
            get("/api/analytics/funnel/people", steps=steps, by=by, step=2, outcome=outcome)
    get("/api/analytics/funnel/people", steps=steps, breakdown="plan", value="pro", sort="name")
    for of in ("users", "accounts"):
        for period in ("day", "week", "month"):
            found = get("/api/analytics/lifecycle", of=of, period=period)
        start = found["periods"][-1]["start"]
        for status in ("new", "returning", "resurrecting", "dormant"):
            get(
                "/api/analytics/lifecycle/people", of=of, period="month", start=start, status=status
            )
    get("/api/analytics/lifecycle", event="signed_in", tz="America/Los_Angeles")
    get("/api/schema")
    session(t)


def session(t: Tenant) -> None:
    """A sign-in read through its cookie, a sign-out, and a sign-in ended by revoking its key."""
    browser = httpx.Client(base_url=t.server.url, timeout=30)
    assert browser.post("/api/session", json={"key": t.read_key}).status_code == 204
    assert ok(browser.get("/api/session"))["workspace"] == t.name
    ok(browser.get("/api/users"))
    assert browser.delete("/api/session").status_code == 204
    key = t.server.admin("keys.create", workspace=t.name, scope="read")
    assert browser.post("/api/session", json={"key": key["key"]}).status_code == 204
    t.server.admin("keys.revoke", key_id=key["key_id"])
    assert browser.get("/api/users").status_code == 401
    browser.close()


def quarantine(t: Tenant) -> None:
    """Rejected events listed page by page, one replayed corrected, then all."""
    bad = [
        {"event_name": "signed_in", "user_id": f"q{i}", "timestamp": "not a time"} for i in (1, 2)
    ]
    assert t.post("/api/track", bad).json()["rejected"] == 2
    page = ok(t.get("/api/quarantine", limit=1))
    ok(t.get("/api/quarantine", limit=1, cursor=page["next_cursor"]))
    first = page["items"][0]
    fixed = {**json.loads(first["raw"]), "timestamp": ago(1)}
    replay = ok(t.post("/api/quarantine/replay", {"items": [{"id": first["id"], "raw": fixed}]}))
    assert replay["replayed"] == 1
    ok(t.post("/api/quarantine/replay", {"all": True}))


def gone_user_events(t: Tenant) -> None:
    """A user's events (one anonymous, one without a group), a visitor's, and an old one."""
    events = [
        {"event_name": "page_viewed", "anonymous_id": "anon-gone", "timestamp": ago(3)},
        {
            "event_name": "signed_in",
            "user_id": "gone",
            "anonymous_id": "anon-gone",
            "context": {"group_id": "acme"},
            "timestamp": ago(2),
        },
        {"event_name": "signed_in", "user_id": "kept", "context": {"group_id": "acme"}},
        {"event_name": "page_viewed", "anonymous_id": "anon-other", "timestamp": ago(1)},
        {"event_name": "old", "user_id": "kept", "timestamp": ago(90)},
    ]
    assert ok(t.post("/api/track", events))["accepted"] == 5
    ok(t.post("/api/identify", {"user_id": "gone", "traits": {"email": "gone@example.com"}}))
    ok(t.post("/api/group", {"group_id": "acme", "user_id": "gone", "traits": {"name": "Acme"}}))
    bad = [{"event_name": "signed_in", "user_id": "gone", "timestamp": "not a time"}]
    assert t.post("/api/track", bad).json()["rejected"] == 1


def privacy(server: ServerProcess) -> None:
    """Export and delete a user, suppressions, the audit log, a retention run, keys.

    The user's events and the old one are sent again at the end, so that the deletions and
    the retention drop, run again on both engines, have rows to delete.
    """
    t = new_tenant(server, "privacy")
    gone_user_events(t)
    key = server.admin("keys.create", workspace=t.name, scope="admin")["key"]
    auth = {"Authorization": f"Bearer {key}"}

    def call(method: str, path: str, **params: Any) -> Any:
        r = httpx.request(method, server.url + path, params=params, headers=auth, timeout=60)
        return ok(r)

    call("GET", "/api/users/gone/export")
    call("GET", "/api/users/gone/export", format="ndjson")
    assert call("DELETE", "/api/users/gone")["deleted"]["events"] == 4
    call("GET", "/api/suppressions")
    call("DELETE", "/api/suppressions/gone")
    call("GET", "/api/audit")
    server.admin("workspaces.set_retention", name=t.name, retention_days="30")
    ran = server.admin("retention.run", workspace=t.name, actor="test")
    assert ran[0]["dropped"]["events"] == 1, ran
    server.admin("audit.list", workspace=t.name)
    revoked = server.admin("keys.create", workspace=t.name, scope="read")
    server.admin("keys.revoke", key_id=revoked["key_id"])
    server.admin("keys.list")
    gone_user_events(t)


def workload(server: ServerProcess) -> None:
    t = new_tenant(server, "analytics")
    ingest_native(t)
    wire = new_tenant(server, "wire")
    ingest_vero_and_segment(wire)
    reports(t)
    quarantine(wire)
    privacy(server)


def doctor(url: str, data_dir: Path) -> None:
    from tracklog.cli import doctor as checks

    findings = checks.run(settings.Settings(data_dir=str(data_dir), store=url))
    assert any(f.subject == "store" and f.level == "ok" for f in findings), findings
