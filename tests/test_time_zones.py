"""Reports in a workspace's time zone, against answers computed here with zoneinfo.

Events sit on the edges that UTC bucketing gets wrong: both DST changes of
America/Los_Angeles in 2026 (2026-03-08, a 23-hour day, and 2026-11-01, a 25-hour day whose
01:00 hour happens twice) and Asia/Kolkata's +05:30 (its hours start at half past in UTC).
Every expectation is computed from the raw events with Python's zoneinfo (aware datetimes,
`astimezone`, calendar dates), never with the server's arithmetic. Ranges start mid-day and
end exactly on a local day, week or month start. (Issue 12, items 6, 7 and 10.)
"""

from __future__ import annotations

import datetime as dt
import itertools
import random
import subprocess
import sys
import time
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.support import ServerProcess, Tenant, new_tenant

UTC = dt.UTC
LA = "America/Los_Angeles"
KOLKATA = "Asia/Kolkata"
GROUPS = ("acme", "globex", "initech")
_names = itertools.count()


def at(text: str) -> dt.datetime:
    """An aware UTC instant from ISO text."""
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def z(t: dt.datetime) -> str:
    return t.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


# (name, instant, user, group): the edges first, then a random spread over the year.
EDGES = [
    ("signed_in", "2026-03-08T07:30:00Z", "u1", "acme"),  # Mar 7 23:30 PST
    ("signed_in", "2026-03-08T08:30:00Z", "u2", "acme"),  # Mar 8 00:30 PST
    ("feature_used", "2026-03-08T09:59:59.900Z", "u3", "globex"),  # 01:59:59.9 PST
    ("feature_used", "2026-03-08T10:00:00Z", "u3", "globex"),  # 03:00 PDT
    ("signed_in", "2026-03-09T06:59:59Z", "u4", "acme"),  # Mar 8 23:59:59 PDT
    ("signed_in", "2026-03-09T07:00:00Z", "u5", "initech"),  # Mar 9 00:00 PDT
    ("signed_in", "2026-11-01T06:59:00Z", "u1", "acme"),  # Oct 31 23:59 PDT
    ("signed_in", "2026-11-01T07:59:00Z", "u2", "acme"),  # Nov 1 00:59 PDT
    ("feature_used", "2026-11-01T08:15:00Z", "u3", "globex"),  # 01:15 PDT
    ("feature_used", "2026-11-01T09:15:00Z", "u4", "globex"),  # 01:15 PST, the same hour again
    ("signed_in", "2026-11-02T07:30:00Z", "u5", "initech"),  # Nov 1 23:30 PST
    ("signed_in", "2026-11-02T08:00:00Z", "u6", "initech"),  # Nov 2 00:00 PST
    ("signed_in", "2026-06-10T18:29:59Z", "u7", "acme"),  # Jun 10 23:59:59 IST
    ("signed_in", "2026-06-10T18:30:00Z", "u8", "acme"),  # Jun 11 00:00 IST
    ("feature_used", "2026-06-10T04:45:00Z", "u9", "globex"),  # 10:15 IST: hour from 04:30Z
    ("signed_in", "2026-05-05T23:59:59.700Z", "u1", "initech"),  # still May 5 in UTC
]


def build() -> list[tuple[str, dt.datetime, str, str]]:
    rng = random.Random(12)
    events = [(n, at(t), u, g) for n, t, u, g in EDGES]
    start = at("2026-02-01T00:00:00Z")
    for _ in range(500):
        t = start + dt.timedelta(
            seconds=rng.randrange(300 * 86400), milliseconds=rng.randrange(1000)
        )
        name = rng.choice(("signed_up", "signed_in", "signed_in", "feature_used"))
        events.append((name, t, f"u{rng.randrange(12)}", rng.choice(GROUPS)))
    return events


EVENTS = build()


@pytest.fixture(scope="module")
def loaded(server: ServerProcess) -> Tenant:
    tenant = new_tenant(server, f"tz{next(_names)}")
    bodies = [
        {
            "event_name": n,
            "user_id": u,
            "timestamp": z(t),
            "context": {"group_id": g},
            "properties": {"plan": "pro"},
        }
        for n, t, u, g in EVENTS
    ]
    for i in range(0, len(bodies), 500):
        r = tenant.post("/api/track", bodies[i : i + 500])
        assert r.status_code == 200, r.text
        assert r.json()["accepted"] == len(bodies[i : i + 500]), r.text
    return tenant


def get(tenant: Tenant, path: str, **params: Any) -> Any:
    r = tenant.get(path, **params)
    assert r.status_code == 200, r.text
    return r.json()


# -- the calendar, independently ------------------------------------------------------------


def local_hour(t: dt.datetime, tz: str) -> dt.datetime:
    """The aware start of the local clock hour holding `t` (fold kept: 01:00 PDT != PST)."""
    return t.astimezone(ZoneInfo(tz)).replace(minute=0, second=0, microsecond=0)


def midnight(d: dt.date, tz: str) -> dt.datetime:
    return dt.datetime.combine(d, dt.time(), tzinfo=ZoneInfo(tz))


def period_of(t: dt.datetime, tz: str, interval: str) -> dt.datetime:
    """The aware local start of the hour, day, Monday week or month holding `t`."""
    if interval == "hour":
        return local_hour(t, tz)
    d = t.astimezone(ZoneInfo(tz)).date()
    if interval == "week":
        d -= dt.timedelta(days=d.weekday())
    elif interval == "month":
        d = d.replace(day=1)
    return midnight(d, tz)


def next_period(start: dt.datetime, tz: str, interval: str) -> dt.datetime:
    if interval == "hour":
        return (start.astimezone(UTC) + dt.timedelta(hours=1)).astimezone(ZoneInfo(tz))
    d = start.date()
    if interval == "day":
        return midnight(d + dt.timedelta(days=1), tz)
    if interval == "week":
        return midnight(d + dt.timedelta(days=7), tz)
    return midnight((d.replace(day=28) + dt.timedelta(days=4)).replace(day=1), tz)


def grid(start: dt.datetime, end: dt.datetime, tz: str, interval: str) -> list[dt.datetime]:
    """Every period touching [start, end), found by walking the range minute by minute."""
    seen: dict[tuple[dt.datetime, str], dt.datetime] = {}
    t = start
    while t < end:
        p = period_of(t, tz, interval)
        seen[(p.astimezone(UTC), p.isoformat())] = p
        t += dt.timedelta(minutes=1) if interval == "hour" else dt.timedelta(hours=1)
    p = period_of(end - dt.timedelta(microseconds=1), tz, interval)
    seen[(p.astimezone(UTC), p.isoformat())] = p
    return [seen[k] for k in sorted(seen)]


def expected_series(
    start: dt.datetime, end: dt.datetime, tz: str, interval: str, measure: str, name: str
) -> list[dict[str, Any]]:
    """One event's points: every period of the range, its value and whether it is partial."""
    now = dt.datetime.now(UTC)
    points = []
    for p in grid(start, end, tz, interval):
        nxt = next_period(p, tz, interval)
        inside = [u for n, t, u, _g in EVENTS if n == name and start <= t < end and p <= t < nxt]
        value = len(set(inside)) if measure == "users" else len(inside)
        partial = p < start or nxt > end or nxt > now
        t = p.isoformat().replace("+00:00", "Z") if tz == "UTC" else p.isoformat()
        points.append({"t": t, "value": value, "partial": partial})
    return points


# -- trends ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "tz,interval,start,end",
    [
        # from mid-day, to exactly on a local midnight (Mar 12 00:00 PDT): across spring-forward
        (LA, "day", "2026-03-05T20:00:00Z", "2026-03-12T07:00:00Z"),
        # across fall-back, to on Nov 4 00:00 PST
        (LA, "day", "2026-10-29T19:00:00Z", "2026-11-04T08:00:00Z"),
        # the hours of both DST changes: 01:00 twice on Nov 1, no 02:00 on Mar 8
        (LA, "hour", "2026-11-01T05:30:00Z", "2026-11-01T12:00:00Z"),
        (LA, "hour", "2026-03-08T07:00:00Z", "2026-03-08T12:20:00Z"),
        # +05:30: hours start at half past in UTC, days at 18:30Z
        (KOLKATA, "hour", "2026-06-10T03:00:00Z", "2026-06-10T06:00:00Z"),
        (KOLKATA, "day", "2026-06-08T00:00:00Z", "2026-06-12T18:30:00Z"),
        # weeks to a Monday 00:00 PDT; months to Nov 1 00:00 PDT (no November bucket)
        (LA, "week", "2026-02-20T00:00:00Z", "2026-10-26T07:00:00Z"),
        (LA, "month", "2026-02-20T00:00:00Z", "2026-11-01T07:00:00Z"),
        (KOLKATA, "month", "2026-02-01T00:00:00Z", "2026-10-31T18:30:00Z"),
        ("UTC", "day", "2026-05-04T12:00:00Z", "2026-05-07T00:00:00Z"),
    ],
)
@pytest.mark.parametrize("measure", ["count", "users"])
def test_trends_count_local_periods(
    loaded: Tenant, tz: str, interval: str, start: str, end: str, measure: str
) -> None:
    """Every bucket of the range, in local periods, with its offset and its partial mark;
    counts only the part of each bucket inside [from, to)."""
    data = get(
        loaded,
        "/api/analytics/trends",
        interval=interval,
        measure=measure,
        tz=tz,
        **{"from": start, "to": end},
    )
    assert data["timezone"] == tz
    names = {n for n, t, _u, _g in EVENTS if at(start) <= t < at(end)}
    assert {s["name"] for s in data["series"]} == names
    for series in data["series"]:
        expected = expected_series(at(start), at(end), tz, interval, measure, series["name"])
        assert series["points"] == expected, series["name"]


def test_fall_back_hour_is_two_buckets(loaded: Tenant) -> None:
    data = get(
        loaded,
        "/api/analytics/trends",
        interval="hour",
        event="feature_used",
        tz=LA,
        **{"from": "2026-11-01T08:00:00Z", "to": "2026-11-01T10:00:00Z"},
    )
    (series,) = data["series"]
    assert [(p["t"], p["value"]) for p in series["points"]] == [
        ("2026-11-01T01:00:00-07:00", 1),
        ("2026-11-01T01:00:00-08:00", 1),
    ]


def test_sub_second_times_stay_in_their_second(loaded: Tenant) -> None:
    """23:59:59.700 is still that day (DuckDB once rounded it up to the next)."""
    data = get(
        loaded,
        "/api/analytics/trends",
        interval="day",
        tz="UTC",
        user_id="u1",
        event="signed_in",
        **{"from": "2026-05-05T00:00:00Z", "to": "2026-05-07T00:00:00Z"},
    )
    (series,) = data["series"]
    expected = sum(
        1
        for n, t, u, _ in EVENTS
        if n == "signed_in" and u == "u1" and t.date() == dt.date(2026, 5, 5)
    )
    assert series["points"][0] == {"t": "2026-05-05T00:00:00Z", "value": expected, "partial": False}
    assert expected >= 1


def test_a_future_to_marks_the_unfinished_buckets(loaded: Tenant) -> None:
    now = dt.datetime.now(UTC)
    start = (now - dt.timedelta(days=3)).replace(hour=12, minute=0, second=0, microsecond=0)
    end = now + dt.timedelta(days=2)
    data = get(loaded, "/api/analytics/trends", tz=KOLKATA, **{"from": z(start), "to": z(end)})
    for s in data["series"]:
        days = [(p["t"], p["partial"]) for p in s["points"]]
        expected = [
            (p.isoformat(), p < start or next_period(p, KOLKATA, "day") > min(end, now))
            for p in grid(start, end, KOLKATA, "day")
        ]
        assert days == expected


# -- the workspace's zone and the `tz` parameter ------------------------------------------------


def test_workspace_zone_is_the_default_and_tz_overrides_it(server: ServerProcess) -> None:
    tenant = new_tenant(server, f"tzws{next(_names)}")
    r = tenant.post(
        "/api/track",
        [{"event_name": "signed_in", "user_id": "a", "timestamp": "2026-06-10T18:45:00Z"}],
    )
    assert r.status_code == 200, r.text
    span = {"from": "2026-06-10T00:00:00Z", "to": "2026-06-12T00:00:00Z"}
    assert get(tenant, "/api/analytics/trends", **span)["timezone"] == "UTC"
    server.admin("workspaces.set_timezone", name=tenant.name, timezone=KOLKATA)
    assert {w["name"]: w["timezone"] for w in server.admin("workspaces.list")}[
        tenant.name
    ] == KOLKATA
    data = get(tenant, "/api/analytics/trends", **span)
    assert data["timezone"] == KOLKATA
    points = {p["t"]: p["value"] for p in data["series"][0]["points"]}
    assert points["2026-06-11T00:00:00+05:30"] == 1  # 18:45Z is 00:15 on June 11 in India
    utc = get(tenant, "/api/analytics/trends", tz="UTC", **span)
    assert utc["timezone"] == "UTC"
    assert {p["t"]: p["value"] for p in utc["series"][0]["points"]}["2026-06-10T00:00:00Z"] == 1
    for path in (
        "/api/analytics/top-events",
        "/api/analytics/active",
        "/api/analytics/retention",
        "/api/accounts",
        "/api/users",
    ):
        assert get(tenant, path, **span)["timezone"] == KOLKATA, path
    funnel = get(tenant, "/api/analytics/funnel", steps="signed_in,x", tz=LA, **span)
    assert funnel["timezone"] == LA


@pytest.mark.parametrize("bad", ["Mars/Olympus", "America", "localtime", "../etc/passwd", "+05:30"])
def test_an_unknown_zone_is_a_clear_400(loaded: Tenant, bad: str) -> None:
    r = loaded.get("/api/analytics/active", tz=bad)
    assert r.status_code == 400, r.text
    error = r.json()["error"]
    assert (error["code"], error["field"]) == ("invalid_parameter", "tz")
    assert "IANA" in error["message"]


def test_cli_sets_and_refuses_zones(server: ServerProcess) -> None:
    tenant = new_tenant(server, f"tzcli{next(_names)}")
    where = [
        "--data-dir",
        str(server.data_dir),
        *(["--store", server.store] if server.store else []),
    ]

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "tracklog", "workspaces", *args, *where],
            capture_output=True,
            text=True,
            timeout=60,
        )

    bad = cli("set", tenant.name, "--timezone", "America/Los_Angles")
    assert bad.returncode != 0
    assert "not an IANA time zone" in bad.stderr
    ok = cli("set", tenant.name, "--timezone", LA)
    assert ok.returncode == 0, ok.stderr
    listed = [line.split("\t") for line in cli("list").stdout.splitlines()]
    assert [tenant.name, "warn", "keeps forever", LA] in listed
    # With ClickHouse the CLI writes the store itself; a running node re-reads workspaces with
    # its keys (--key-refresh-seconds, 5 s). With DuckDB it asked the server: at once.
    deadline = time.monotonic() + 15
    while get(tenant, "/api/analytics/active")["timezone"] != LA:
        assert time.monotonic() < deadline, "the server never took the new zone"
        time.sleep(0.5)


# -- active users --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "tz,start,end",
    [
        (LA, "2026-03-05T20:00:00Z", "2026-03-12T07:00:00Z"),  # to on a local midnight
        (LA, "2026-10-20T20:00:00Z", "2026-11-03T17:00:00Z"),  # to mid-day
        (KOLKATA, "2026-06-01T00:00:00Z", "2026-06-14T18:30:00Z"),
        (LA, "2026-04-01T00:00:00Z", "2026-06-20T07:00:00Z"),  # long: DuckDB's day spans
    ],
)
def test_active_users_per_local_day(loaded: Tenant, tz: str, start: str, end: str) -> None:
    zone = ZoneInfo(tz)
    s, e = at(start), at(end)
    for of in ("users", "accounts"):
        data = get(loaded, "/api/analytics/active", tz=tz, of=of, **{"from": start, "to": end})
        days: dict[dt.date, set[str]] = {}
        for _n, t, u, g in EVENTS:
            if t < e:
                days.setdefault(t.astimezone(zone).date(), set()).add(u if of == "users" else g)
        first, last = (
            s.astimezone(zone).date(),
            (e - dt.timedelta(microseconds=1)).astimezone(zone).date(),
        )
        assert [p["date"] for p in data["points"]] == [
            (first + dt.timedelta(days=k)).isoformat() for k in range((last - first).days + 1)
        ]
        for p in data["points"]:
            d = dt.date.fromisoformat(p["date"])

            def window(n: int, d: dt.date = d) -> int:
                return len(
                    set().union(*(days.get(d - dt.timedelta(days=k), set()) for k in range(n)))
                )

            assert (p["dau"], p["wau"], p["mau"]) == (window(1), window(7), window(30)), (of, d)
            assert p["partial"] == (midnight(d + dt.timedelta(days=1), tz) > e), d


# -- retention ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "tz,period,start,end",
    [
        (LA, "day", "2026-03-04T15:00:00Z", "2026-03-12T07:00:00Z"),  # to: Mar 12 00:00 PDT
        (LA, "week", "2026-09-01T00:00:00Z", "2026-11-02T08:00:00Z"),  # to: Mon Nov 2 00:00 PST
        (LA, "month", "2026-02-01T08:00:00Z", "2026-11-01T07:00:00Z"),  # to: Nov 1 00:00 PDT
        (KOLKATA, "week", "2026-05-01T00:00:00Z", "2026-07-05T18:30:00Z"),  # to: Mon Jul 6 IST
        (LA, "week", "2026-09-01T00:00:00Z", "2026-11-04T20:00:00Z"),  # to mid-week
    ],
)
def test_retention_in_local_periods(
    loaded: Tenant, tz: str, period: str, start: str, end: str
) -> None:
    s, e = at(start), at(end)
    data = get(
        loaded,
        "/api/analytics/retention",
        tz=tz,
        period=period,
        periods=12,
        start_event="signed_up",
        return_event="signed_in",
        **{"from": start, "to": end},
    )
    key = lambda t: period_of(t, tz, period).astimezone(UTC)  # noqa: E731
    cohort: dict[str, dt.datetime] = {}
    returns: dict[str, set[dt.datetime]] = {}
    for n, t, u, _g in sorted(EVENTS, key=lambda x: x[1]):
        if not s <= t < e:
            continue
        if n == "signed_up":
            cohort.setdefault(u, key(t))
        if n == "signed_in":
            returns.setdefault(u, set()).add(key(t))
    starts = sorted(set(cohort.values()))
    assert [at(c["start"]) for c in data["cohorts"]] == starts
    now = dt.datetime.now(UTC)
    last_period = key(e - dt.timedelta(microseconds=1))
    for c, cp in zip(data["cohorts"], starts, strict=True):
        assert c["start"] == period_of(cp, tz, period).isoformat()
        periods = [period_of(cp, tz, period)]
        while len(periods) < 12 and periods[-1].astimezone(UTC) < last_period:
            periods.append(next_period(periods[-1], tz, period))
        members = [u for u, p in cohort.items() if p == cp]
        assert c["returned"][0] == len(members)
        assert c["returned"][1:] == [
            sum(1 for u in members if p.astimezone(UTC) in returns.get(u, set()))
            for p in periods[1:]
        ], c["start"]
        assert c["partial"] == [
            k
            for k, p in enumerate(periods)
            if next_period(p, tz, period) > min(e, now) or p < s  # not wholly measured
        ]


# -- accounts: windows as of `to` ---------------------------------------------------------------


def expected_account(group: str, start: dt.datetime, end: dt.datetime, tz: str) -> dict[str, Any]:
    zone = ZoneInfo(tz)
    mine = [(n, t, u) for n, t, u, g in EVENTS if g == group and t < end]
    last_day = (end - dt.timedelta(microseconds=1)).astimezone(zone).date()

    def since(days: int) -> dt.datetime:
        return midnight(last_day - dt.timedelta(days=days - 1), tz)

    last = max((t for _n, t, _u in mine), default=None)
    active_days = {t.astimezone(zone).date() for _n, t, _u in mine if t >= since(30)}
    if last is None:
        health = "dormant"
    elif last >= since(7) and len(active_days) >= 2:
        health = "active"
    elif last >= since(30):
        health = "at_risk"
    else:
        health = "dormant"
    in_range = [(n, t, u) for n, t, u in mine if t >= start]
    return {
        "users": len({u for _n, _t, u in in_range}),
        "events": len(in_range),
        "sign_ins": sum(1 for n, _t, _u in in_range if n == "signed_in"),
        "active_users_7d": len({u for _n, t, u in mine if t >= since(7)}),
        "active_users_30d": len({u for _n, t, u in mine if t >= since(30)}),
        "last_seen": last.isoformat(timespec="milliseconds").replace("+00:00", "Z")
        if last
        else None,
        "health": health,
    }


@pytest.mark.parametrize(
    "tz,end",
    [
        (LA, "2026-11-02T08:00:00Z"),  # Nov 2 00:00 PST: D = Nov 1, a 25-hour day
        (LA, "2026-03-12T19:00:00Z"),  # mid-day, days back over spring-forward
        (KOLKATA, "2026-06-10T18:30:00Z"),
    ],
)
def test_account_windows_are_as_of_to_whatever_from(loaded: Tenant, tz: str, end: str) -> None:
    e = at(end)
    for start in (
        dt.datetime(1970, 1, 1, tzinfo=UTC),
        e - dt.timedelta(days=2),
        e - dt.timedelta(hours=20),
    ):
        params = {"tz": tz, "to": end, "from": z(start)}
        listed = {a["group_id"]: a for a in get(loaded, "/api/accounts", **params)["accounts"]}
        present = {g for _n, t, _u, g in EVENTS if start <= t < e}
        assert set(listed) == present
        for group in present:
            got = {k: listed[group][k] for k in expected_account(group, start, e, tz)}
            assert got == expected_account(group, start, e, tz), (group, start)
            assert listed[group]["health_reason"]
            page = get(loaded, f"/api/accounts/{group}", **params)
            assert {k: page["account"][k] for k in got} == got


def test_account_daily_activity_is_per_local_day(loaded: Tenant) -> None:
    start, end = at("2026-10-29T19:00:00Z"), at("2026-11-04T08:00:00Z")
    page = get(loaded, "/api/accounts/acme", tz=LA, **{"from": z(start), "to": z(end)})
    zone = ZoneInfo(LA)
    per_day: dict[dt.date, list[str]] = {}
    for _n, t, u, g in EVENTS:
        if g == "acme" and start <= t < end:
            per_day.setdefault(t.astimezone(zone).date(), []).append(u)
    assert page["activity"] == [
        {
            "date": d.isoformat(),
            "events": len(us),
            "active_users": len(set(us)),
            "partial": midnight(d, LA) < start or midnight(d + dt.timedelta(days=1), LA) > end,
        }
        for d, us in sorted(per_day.items())
    ]
    assert page["windows"]["active_users_7d"] == {
        "from": "2026-10-28T00:00:00-07:00",
        "to": "2026-11-04T08:00:00.000Z",
    }


def test_health_tiers_and_reasons(server: ServerProcess) -> None:
    """One account per tier and reason, as of a `to` one minute into a local day."""
    tenant = new_tenant(server, f"tzhealth{next(_names)}")
    end = at("2026-11-10T08:01:00Z")  # Nov 10 00:01 PST: D = Nov 10

    def days_ago(n: int, hour: int = 12) -> str:
        return z(
            midnight(dt.date(2026, 11, 10) - dt.timedelta(days=n), LA) + dt.timedelta(hours=hour)
        )

    plan = {
        "busy": [days_ago(0, 0), days_ago(3)],  # two days within 7: active
        "rare": [days_ago(6, 1)],  # within 7 (Nov 4 01:00) but one day: at risk
        "fading": [days_ago(7, 23), days_ago(20)],  # Nov 3 23:00 is day 8: at risk
        "gone": [days_ago(30)],  # Oct 11 is day 31: dormant
    }
    events = [
        {"event_name": "signed_in", "user_id": "p", "timestamp": t, "context": {"group_id": g}}
        for g, times in plan.items()
        for t in times
    ]
    assert tenant.post("/api/track", events).status_code == 200
    tenant.post("/api/group", {"group_id": "never", "user_id": "p", "timestamp": days_ago(1)})
    data = get(tenant, "/api/accounts", tz=LA, to=z(end))
    got = {a["group_id"]: (a["health"], a["health_reason"]) for a in data["accounts"]}
    assert got == {
        "busy": (
            "active",
            "Last active on 2026-11-10, within the last 7 days, and active on 2 days of the "
            "last 30 (at least 2 needed).",
        ),
        "rare": (
            "at_risk",
            "Last active on 2026-11-04, within the last 7 days, but active on only 1 day of "
            "the last 30 (2 needed to be active).",
        ),
        "fading": (
            "at_risk",
            "Last active on 2026-11-03: not within the last 7 days, but within the last 30.",
        ),
        "gone": ("dormant", "No activity in the last 30 days; last active on 2026-10-11."),
        "never": ("dormant", "No activity yet."),
    }


# -- the zone arithmetic itself, no server --------------------------------------------------


@pytest.mark.parametrize(
    "tz",
    [LA, KOLKATA, "America/Santiago", "America/Havana", "Australia/Lord_Howe", "Europe/London"],
)
def test_local_days_match_zoneinfo(tz: str) -> None:
    """Every local day 2000-2030 (DST at midnight in Santiago and Havana, half-hour DST on
    Lord Howe): its first instant is where zoneinfo's date changes, and each instant of a
    sample falls on zoneinfo's local date."""
    from tracklog.zones import Zone

    zone, info = Zone(tz), ZoneInfo(tz)
    epoch = dt.date(1970, 1, 1)
    for day in range((dt.date(2000, 1, 1) - epoch).days, (dt.date(2031, 1, 1) - epoch).days):
        first = zone.day_start(day).replace(tzinfo=UTC)
        assert first.astimezone(info).date() == epoch + dt.timedelta(days=day), (tz, day)
        before = (first - dt.timedelta(seconds=1)).astimezone(info).date()
        assert before < epoch + dt.timedelta(days=day), (tz, day)
    rng = random.Random(tz)
    for _ in range(2000):
        t = dt.datetime(2000, 1, 1) + dt.timedelta(seconds=rng.randrange(31 * 365 * 86400))
        local = t.replace(tzinfo=UTC).astimezone(info).date()
        assert epoch + dt.timedelta(days=zone.day(t)) == local, (tz, t)


def test_local_mean_time_offsets_are_written_to_the_minute() -> None:
    """Before standard time a zone's offset has seconds (Los Angeles: -07:52:58), which
    RFC 3339 cannot write: a period's start keeps its instant with the offset cut to whole
    minutes (the fuzz test found a lifecycle start in year 192 that was no `date-time`)."""
    from tracklog.zones import Zone

    start = dt.datetime(192, 4, 1, 7, 52, 58)  # 00:00:00 local mean time
    text = Zone(LA).iso(start)
    assert text == "0192-04-01T00:00:58-07:52"
    assert at(text) == start.replace(tzinfo=UTC)
    assert Zone(KOLKATA).iso(dt.datetime(2026, 1, 1)) == "2026-01-01T05:30:00+05:30"
