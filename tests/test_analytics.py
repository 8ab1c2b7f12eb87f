"""Analytics answers against the same questions answered in Python from the raw events."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any

import pytest

from tests import analytics_fixture as fx
from tests.support import ServerProcess, Tenant, new_tenant

RANGE = {"from": fx.iso(fx.START), "to": fx.iso(fx.END)}


@pytest.fixture(scope="module")
def history() -> fx.History:
    return fx.build()


@pytest.fixture(scope="module")
def loaded(server: ServerProcess, history: fx.History) -> Tenant:
    tenant = new_tenant(server, "analytics")
    by_type: dict[str, list[dict[str, Any]]] = {}
    for e in history.events:
        kind = e.get("type", "track")
        body = {k: v for k, v in e.items() if k != "type"}
        by_type.setdefault(kind, []).append(body)
    for kind, bodies in by_type.items():
        for i in range(0, len(bodies), 500):
            r = tenant.post(f"/api/{kind}", bodies[i : i + 500])
            assert r.status_code == 200, r.text
            assert all(x["status"] == "accepted" for x in r.json()["results"]), r.text
    return tenant


def get(tenant: Tenant, path: str, **params: Any) -> Any:
    r = tenant.get(path, **{**RANGE, **params})
    assert r.status_code == 200, r.text
    return r.json()


def test_daily_trends_match_counts_per_event(loaded: Tenant, history: fx.History) -> None:
    data = get(loaded, "/api/analytics/trends", interval="day")
    expected = fx.daily_counts(history)
    assert {s["name"] for s in data["series"]} == set(expected)
    for s in data["series"]:
        assert len(s["points"]) == fx.DAYS
        got = {dt.date.fromisoformat(p["t"][:10]): p["value"] for p in s["points"] if p["value"]}
        assert got == dict(expected[s["name"]])
        assert s["total"] == sum(expected[s["name"]].values())


def test_daily_unique_users_by_event_and_by_property(loaded: Tenant, history: fx.History) -> None:
    """People per day (DuckDB counts them from day masks), per event and per plan with
    "other": each day's set of people computed here from the raw events."""
    data = get(loaded, "/api/analytics/trends", interval="day", measure="users")
    by_event: dict[str, dict[dt.date, set[str]]] = {}
    for name, t, person, _g, _p in history.tracks:
        by_event.setdefault(name, {}).setdefault(t.date(), set()).add(person)
    assert {s["name"] for s in data["series"]} == set(by_event)
    for s in data["series"]:
        got = {dt.date.fromisoformat(p["t"][:10]): p["value"] for p in s["points"] if p["value"]}
        assert got == {d: len(people) for d, people in by_event[s["name"]].items()}, s["name"]
    data = get(
        loaded, "/api/analytics/trends", interval="day", measure="users", breakdown="plan", limit=2
    )
    names = [s["name"] for s in data["series"]]
    assert names[-1] == "other" and len(names) == 3
    by_plan: dict[str, dict[dt.date, set[str]]] = {}
    for _n, t, person, _g, props in history.tracks:
        series = props["plan"] if props["plan"] in names else "other"
        by_plan.setdefault(series, {}).setdefault(t.date(), set()).add(person)
    for s in data["series"]:
        got = {dt.date.fromisoformat(p["t"][:10]): p["value"] for p in s["points"] if p["value"]}
        assert got == {d: len(people) for d, people in by_plan[s["name"]].items()}, s["name"]


def test_weekly_unique_users_of_one_event(loaded: Tenant, history: fx.History) -> None:
    data = get(loaded, "/api/analytics/trends", interval="week", event="signed_in", measure="users")
    weeks: dict[dt.date, set[str]] = {}
    for name, t, person, _g, _p in history.tracks:
        if name == "signed_in":
            monday = t.date() - dt.timedelta(days=t.weekday())
            weeks.setdefault(monday, set()).add(person)
    (series,) = data["series"]
    got = {dt.date.fromisoformat(p["t"][:10]): p["value"] for p in series["points"]}
    assert {d: v for d, v in got.items() if v} == {d: len(s) for d, s in weeks.items()}
    assert all(
        dt.date.fromisoformat(d).weekday() == 0 for d in (p["t"][:10] for p in series["points"])
    )


def test_breakdown_by_property_with_other(loaded: Tenant, history: fx.History) -> None:
    data = get(loaded, "/api/analytics/trends", event="signed_in", breakdown="plan", limit=2)
    totals = Counter(p["plan"] for n, _t, _u, _g, p in history.tracks if n == "signed_in")
    top = [k for k, _ in sorted(totals.items(), key=lambda kv: (-kv[1], kv[0]))[:2]]
    got = {s["name"]: s["total"] for s in data["series"]}
    assert got == {
        **{k: totals[k] for k in top},
        "other": sum(totals.values()) - sum(totals[k] for k in top),
    }


def test_numeric_and_text_filters(loaded: Tenant, history: fx.History) -> None:
    data = get(loaded, "/api/analytics/trends", event="feature_used", where="count:gte:5")
    expected = sum(
        1 for n, _t, _u, _g, p in history.tracks if n == "feature_used" and p["count"] >= 5
    )
    assert data["series"][0]["total"] == expected
    data = get(loaded, "/api/analytics/trends", where="plan:contains:TEA")
    expected = sum(1 for *_x, p in history.tracks if p["plan"] == "team")
    assert sum(s["total"] for s in data["series"]) == expected


@pytest.mark.parametrize("skip", [0, 15], ids=["40_days", "25_days"])
def test_active_users_and_accounts(loaded: Tenant, history: fx.History, skip: int) -> None:
    """`skip` shortens the range: DuckDB counts up to 35 days with day masks and longer ranges
    with day spans; both must give the same, independently computed answers."""
    start = fx.iso(fx.START + dt.timedelta(days=skip))
    for of in ("users", "accounts"):
        data = get(loaded, "/api/analytics/active", of=of, **{"from": start})
        days = fx.active_sets(history, of)
        assert len(data["points"]) == fx.DAYS - skip
        for point in data["points"]:
            day = dt.date.fromisoformat(point["date"])

            def window(n: int) -> int:
                seen: set[str] = set()
                for k in range(n):
                    seen |= days.get(day - dt.timedelta(days=k), set())
                return len(seen)

            assert point["dau"] == window(1), (of, day)
            assert point["wau"] == window(7), (of, day)
            assert point["mau"] == window(30), (of, day)
            assert point["stickiness"] == (round(window(1) / window(30), 4) if window(30) else 0)


def test_anonymous_history_merges_into_the_user(loaded: Tenant, history: fx.History) -> None:
    data = get(loaded, "/api/analytics/trends", event="viewed_pricing", measure="users")
    assert data["series"][0]["total"] == 5  # five people, not five people plus five visitors
    timeline = loaded.get("/api/users/u0/events", limit=1000).json()["events"]
    assert any(e["anonymous_id"] == "anon-0" and e["user_id"] is None for e in timeline)


def test_accounts_list_and_page(loaded: Tenant, history: fx.History) -> None:
    data = get(loaded, "/api/accounts")
    assert {a["group_id"]: a["name"] for a in data["accounts"]} == history.account_names
    end = fx.END
    for acct in data["accounts"]:
        rows = [(n, t, u) for n, t, u, g, _p in history.tracks if g == acct["group_id"]]
        assert acct["sign_ins"] == sum(1 for n, _t, _u in rows if n == "signed_in")
        assert acct["events"] == len(rows)
        assert acct["active_users_7d"] == len(
            {u for _n, t, u in rows if t >= end - dt.timedelta(days=7)}
        )
        assert acct["last_seen"][:19] == max(t for _n, t, _u in rows).isoformat()[:19]
        assert acct["health"] in ("active", "at_risk", "dormant")
    page = get(loaded, "/api/accounts/acct1")
    members = {u for n, t, u, g, _p in history.tracks if g == "acct1"}
    assert {u["user_id"] for u in page["users"]} >= members
    assert {u["email"] for u in page["users"] if u["user_id"] in members} == {
        history.emails[m] for m in members
    }
    assert sum(d["events"] for d in page["activity"]) == sum(
        1 for *_x, g, _p in history.tracks if g == "acct1"
    )
    assert loaded.get("/api/accounts/nope", **RANGE).status_code == 404


def test_user_search_by_email_and_name(loaded: Tenant) -> None:
    found = get(loaded, "/api/users", q="PERSON7@example")["users"]
    assert [u["user_id"] for u in found] == ["u7"]
    assert found[0]["name"] == "Person 7"
    found = get(loaded, "/api/users", q="Person 3")["users"]
    assert [u["user_id"] for u in found] == ["u3"]


def test_weekly_retention(loaded: Tenant, history: fx.History) -> None:
    data = get(
        loaded,
        "/api/analytics/retention",
        start_event="signed_up",
        return_event="signed_in",
        period="week",
        periods=4,
    )

    def week(t: dt.datetime) -> dt.date:
        return t.date() - dt.timedelta(days=t.weekday())

    first: dict[str, dt.date] = {}
    returns: dict[str, set[dt.date]] = {}
    for n, t, u, _g, _p in history.tracks:
        if n == "signed_up":
            first[u] = min(first.get(u, week(t)), week(t))
        if n == "signed_in":
            returns.setdefault(u, set()).add(week(t))
    cohorts = Counter(first.values())
    got = {dt.date.fromisoformat(c["start"][:10]): c for c in data["cohorts"]}
    assert {d: c["users"] for d, c in got.items()} == dict(cohorts)
    for start, c in got.items():
        for k in range(1, len(c["returned"])):
            expected = sum(
                1
                for u, w in first.items()
                if w == start and start + dt.timedelta(weeks=k) in returns.get(u, set())
            )
            assert c["returned"][k] == expected, (start, k)


def test_funnel_by_user_and_account(loaded: Tenant, history: fx.History) -> None:
    steps = ["signed_up", "signed_in", "feature_used"]
    window = dt.timedelta(hours=48)
    data = get(loaded, "/api/analytics/funnel", steps=",".join(steps), window_hours=48)
    times: dict[tuple[str, str], list[dt.datetime]] = {}
    for n, t, u, _g, _p in history.tracks:
        times.setdefault((u, n), []).append(t)
    counts = [0, 0, 0]
    for u in {u for _n, _t, u, _g, _p in history.tracks}:
        if (u, steps[0]) not in times:
            continue
        entered = reached = min(times[(u, steps[0])])
        counts[0] += 1
        for i, name in enumerate(steps[1:], start=1):
            later = [t for t in times.get((u, name), []) if reached <= t <= entered + window]
            if not later:
                break
            reached = min(later)
            counts[i] += 1
    assert [s["count"] for s in data["steps"]] == counts
    assert data["steps"][1]["conversion"] == round(counts[1] / counts[0], 4)
    by_account = get(loaded, "/api/analytics/funnel", steps="signed_up,signed_in", by="accounts")
    assert by_account["steps"][0]["count"] == 5


def test_top_events(loaded: Tenant, history: fx.History) -> None:
    data = get(loaded, "/api/analytics/top-events", limit=2)
    totals = Counter(n for n, *_ in history.tracks)
    assert [(e["event_name"], e["count"]) for e in data["events"]] == totals.most_common(2)


@pytest.mark.parametrize(
    "path,params,field",
    [
        ("/api/analytics/trends", {"interval": "fortnight"}, "interval"),
        ("/api/analytics/trends", {"where": "plan:like:x"}, "where"),
        ("/api/analytics/trends", {"where": "count:gt:many"}, "where"),
        ("/api/analytics/trends", {"interval": "hour", "from": "2000-01-01T00:00:00Z"}, "interval"),
        ("/api/analytics/funnel", {"steps": "one"}, "steps"),
        ("/api/analytics/active", {"of": "planets"}, "of"),
        ("/api/analytics/retention", {"periods": "0"}, "periods"),
        (
            "/api/analytics/trends",
            {"from": "2026-02-01T00:00:00Z", "to": "2026-01-01T00:00:00Z"},
            "from",
        ),
    ],
)
def test_bad_parameters_are_clear_400s(
    loaded: Tenant, path: str, params: dict[str, str], field: str
) -> None:
    r = loaded.get(path, **params)
    assert r.status_code == 400, r.text
    assert r.json()["error"]["field"] == field


def test_write_key_cannot_read_analytics(loaded: Tenant) -> None:
    assert loaded.get("/api/analytics/trends", key=loaded.write_key).status_code == 403


def test_an_account_with_only_its_group_call(tenant: Tenant) -> None:
    r = tenant.post("/api/group", {"group_id": "quiet", "traits": {"account_name": "Quiet"}})
    assert r.status_code == 200, r.text
    page = tenant.get("/api/accounts/quiet")
    assert page.status_code == 200, page.text
    account = page.json()["account"]
    assert (account["name"], account["events"], account["sign_ins"]) == ("Quiet", 0, 0)
    assert (account["last_seen"], account["health"]) == (None, "dormant")
    assert tenant.get("/api/accounts").json()["accounts"][0]["group_id"] == "quiet"
