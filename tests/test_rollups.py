"""Reports served from the day rollup answer exactly what a scan of the events answers.

Hypothesis makes histories with everything that could make the two disagree: events sent
late and out of order, resends and retries, test events, ids merged after the fact, a zone
set before or after the events, a user erased, a retention policy applied, quarantined
events replayed. Each history goes to a fresh workspace of a real server on each store;
then every report the rollup serves (trends by count and by people, by day, week and month,
with event, person and account filters; top events; DAU/WAU/MAU of users and of accounts;
the accounts list with health, an account's page, the users list with its sorts, filters,
search and pages, and a user's page) is asked twice, once as usual and once with
`raw=true`, over ranges on whole local days (all rollup), cut mid-day (rollup and raw edges)
and ending now, and the answers must be equal.
`TRACKLOG_TORTURE=long` runs many more histories.
"""

from __future__ import annotations

import datetime as dt
import itertools
import os
import random
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from tests.support import ServerProcess, Tenant, new_tenant

EXAMPLES = 60 if os.environ.get("TRACKLOG_TORTURE") == "long" else 4
ZONES = ("UTC", "America/Los_Angeles", "Asia/Kolkata")
USERS = ("u1", "u2", "u3", "u4")
ANONYMOUS = ("a1", "a2", "a3")
NAMES = ("signed_in", "feature_used", "page_viewed")
GROUPS = ("g1", "g2")
_names = itertools.count()
# Eight days, ending at the last UTC midnight: retention of 5 days drops the first three.
TODAY = dt.datetime.now(dt.UTC).replace(hour=0, minute=0, second=0, microsecond=0)
BASE = TODAY - dt.timedelta(days=8)


@dataclass
class History:
    """Events to send and what to do around them."""

    events: list[dict[str, Any]]
    merges: list[tuple[str, str]]
    zone: str
    zone_first: bool
    erase: str | None
    retention: bool
    resend: list[int] = field(default_factory=list)


def iso(t: dt.datetime) -> str:
    return t.isoformat(timespec="milliseconds").replace("+00:00", "Z")


@st.composite
def histories(draw: st.DrawFn) -> History:
    events = []
    for _ in range(draw(st.integers(20, 70))):
        user = draw(st.sampled_from((*USERS, None)))
        anonymous = draw(st.sampled_from((*ANONYMOUS, None))) if user else None
        anonymous = anonymous or (None if user else draw(st.sampled_from(ANONYMOUS)))
        # Some on a midnight exactly, the rest anywhere in the eight days, ms included.
        seconds = draw(
            st.one_of(st.integers(0, 7).map(lambda d: d * 86_400), st.integers(0, 8 * 86_400 - 1))
        )
        t = BASE + dt.timedelta(seconds=seconds, milliseconds=draw(st.integers(0, 999)))
        kind = draw(st.sampled_from(("track", "track", "track", "identify", "group")))
        event: dict[str, Any] = {"timestamp": iso(t)}
        if user:
            event["user_id"] = user
        if anonymous:
            event["anonymous_id"] = anonymous
        group = draw(st.sampled_from((*GROUPS, None)))
        context: dict[str, Any] = {"test": True} if draw(st.integers(0, 9)) == 0 else {}
        if kind == "track":
            event["event_name"] = draw(st.sampled_from(NAMES))
            if group:
                context["group_id"] = group
        elif kind == "group":
            event["group_id"] = group or "g1"
            event["traits"] = {"account_name": "Acme"}
            if draw(st.integers(0, 5)) == 0:  # a server-side sync: the account's, nobody's
                event.pop("user_id", None)
                event.pop("anonymous_id", None)
        else:
            event["traits"] = {"email": f"{user or anonymous}@x.test"}
        if context:
            event["context"] = context
        if draw(st.booleans()):
            event["message_id"] = f"m{draw(st.integers(0, 40))}"  # retries share an id
        events.append((kind, event))
    merges = draw(st.lists(st.tuples(st.sampled_from(USERS), st.sampled_from(USERS)), max_size=2))
    return History(
        events=[{"kind": k, **e} for k, e in events],
        merges=[(a, b) for a, b in merges if a != b],
        zone=draw(st.sampled_from(ZONES)),
        zone_first=draw(st.booleans()),
        erase=draw(st.sampled_from((*USERS, None))),
        retention=draw(st.booleans()),
        resend=draw(st.lists(st.integers(0, 69), max_size=8)),
    )


def send(tenant: Tenant, history: History, order: random.Random) -> None:
    paths = {"track": "/api/track", "identify": "/api/identify", "group": "/api/group"}
    events = list(history.events)
    order.shuffle(events)  # late and out of order
    events += [history.events[i] for i in history.resend if i < len(history.events)]
    for kind, group in itertools.groupby(events, key=lambda e: e["kind"]):
        body = [{k: v for k, v in e.items() if k != "kind"} for e in group]
        r = tenant.post(paths[kind], body)
        assert r.status_code == 200, r.text
    # A quarantined event (no name), replayed with the name fixed.
    r = tenant.post("/api/track", [{"user_id": "u1", "timestamp": iso(BASE)}])
    assert r.status_code == 400
    (held,) = tenant.get("/api/quarantine").json()["items"]
    fixed = {"event_name": "signed_in", "user_id": "u1", "timestamp": iso(BASE)}
    r = tenant.post("/api/quarantine/replay", {"items": [{"id": held["id"], "raw": fixed}]})
    assert r.status_code == 200 and r.json()["replayed"] == 1, r.text
    for previous, new in history.merges:  # merges after the fact
        r = httpx.post(
            tenant.server.url + "/v1/alias",
            json={"previousId": previous, "userId": new, "timestamp": iso(TODAY)},
            auth=(tenant.write_key, ""),
            timeout=30,
        )
        assert r.status_code == 200, r.text


def reports(family: str = "charts") -> list[tuple[str, dict[str, Any]]]:
    """The charts, or the lists and pages (each family is a test of its own: a few hundred
    requests per history each)."""
    if family == "lists":
        return lists()
    asked: list[tuple[str, dict[str, Any]]] = [("/api/analytics/top-events", {})]
    for interval in ("day", "week", "month"):
        for measure in ("count", "users"):
            asked.append(("/api/analytics/trends", {"interval": interval, "measure": measure}))
    asked += [
        ("/api/analytics/trends", {"measure": "users", "event": "signed_in,page_viewed"}),
        ("/api/analytics/trends", {"measure": "users", "user_id": "u2"}),
        ("/api/analytics/trends", {"group_id": "g1"}),
        ("/api/analytics/active", {"of": "users"}),
        ("/api/analytics/active", {"of": "accounts"}),
        ("/api/analytics/active", {"of": "users", "event": "signed_in"}),
    ]
    return asked


def lists() -> list[tuple[str, dict[str, Any]]]:
    """The lists and pages: their sorts, filters, search and pages, and another zone."""
    return [
        ("/api/accounts", {}),
        ("/api/accounts", {"sort": "last_seen", "health": "active,at_risk"}),
        ("/api/accounts/g1", {}),
        ("/api/accounts/g2", {}),
        ("/api/users", {}),
        ("/api/users", {"sort": "first_seen", "order": "asc", "limit": 3, "offset": 1}),
        ("/api/users", {"sort": "events"}),
        ("/api/users", {"sort": "sign_ins", "tz": "Asia/Kolkata"}),
        ("/api/users", {"q": "u1"}),
        ("/api/users", {"q": "x.test", "sort": "email"}),
        ("/api/users", {"group_id": "g2"}),
        ("/api/users", {"event": "signed_in", "group_id": "g1"}),
        ("/api/users/u1", {}),
        ("/api/users/u3", {"tz": "America/Los_Angeles"}),
        ("/api/users/a2", {}),
    ]


def ranges(zone: str) -> list[dict[str, str]]:
    """Whole local days of the zone, a range cut mid-day at both ends, and the last 30 days."""
    import zoneinfo

    local = BASE.astimezone(zoneinfo.ZoneInfo(zone)).replace(hour=0, minute=0)
    whole = {"from": local.isoformat(), "to": (local + dt.timedelta(days=8)).isoformat()}
    cut = {
        "from": iso(BASE + dt.timedelta(hours=5, minutes=7)),
        "to": iso(BASE + dt.timedelta(days=6, hours=7, milliseconds=250)),
    }
    # The default range ends now: the same `to` for both answers, or they differ by ms.
    return [whole, cut, {"to": iso(dt.datetime.now(dt.UTC))}]


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    # No shrinking: each example drives a server; the failing history is in the message.
    phases=(Phase.explicit, Phase.reuse, Phase.generate),
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(history=histories(), seed=st.integers(0, 2**32 - 1))
@pytest.mark.parametrize("family", ["charts", "lists"])
@pytest.mark.timeout(900)  # a shared machine: a few hundred requests per history
def test_rollup_answers_equal_raw_scans(
    server: ServerProcess, family: str, history: History, seed: int
) -> None:
    tenant = new_tenant(server, f"rollup{next(_names)}")
    if history.zone_first:
        server.admin("workspaces.set_timezone", name=tenant.name, timezone=history.zone)
    send(tenant, history, random.Random(seed))
    if not history.zone_first:
        server.admin("workspaces.set_timezone", name=tenant.name, timezone=history.zone)
    if history.erase:
        admin = server.admin("keys.create", workspace=tenant.name, scope="admin")["key"]
        r = httpx.delete(
            f"{server.url}/api/users/{history.erase}",
            headers={"Authorization": f"Bearer {admin}"},
            timeout=60,
        )
        assert r.status_code == 200, r.text
    if history.retention:
        server.admin("workspaces.set_retention", name=tenant.name, retention_days="5")
        server.admin("retention.run", workspace=tenant.name)
    for path, params in reports(family):
        for span in ranges(history.zone):
            asked = {**params, **span, "include_test": "false"}
            served = tenant.get(path, **asked)
            scanned = tenant.get(path, **asked, raw="true")
            # A page may be missing (an erased user, an account without events): in both.
            assert served.status_code == scanned.status_code, (served.text, scanned.text)
            assert served.status_code in (200, 404), served.text
            assert served.json() == scanned.json(), (path, asked, history)
