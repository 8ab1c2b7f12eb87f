"""Users and accounts: who they are (traits from identify and group calls) and how active.

A user's name and email come from their latest identify traits; an account's name from its
latest group traits. Health tiers say which accounts are alive (see `Health`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import msgspec

from tracklog.analytics.filters import in_list
from tracklog.analytics.scope import (
    Query,
    Scope,
    day_bit,
    day_date,
    day_number,
    events_source,
    new_query,
)
from tracklog.analytics.timeline import iso
from tracklog.analytics.trends import ACTIVITY

_decode = msgspec.json.Decoder()
SIGN_IN = "signed_in"
NAME_TRAITS = ("name", "user_name", "username", "full_name")


@dataclass(frozen=True)
class Health:
    """Account health from recency and frequency.

    active: seen within `active_days` and on at least `min_active_days` distinct days of the
    last 30; at_risk: seen within `at_risk_days` (or recently but rarely); dormant: otherwise.
    """

    active_days: int = 7
    at_risk_days: int = 30
    min_active_days: int = 2

    def tier(self, last_seen: dt.datetime | None, active_days_30: int, now: dt.datetime) -> str:
        """The tier of an account last seen at `last_seen`."""
        if last_seen is None:
            return "dormant"
        age = now - last_seen
        if age <= dt.timedelta(days=self.active_days) and active_days_30 >= self.min_active_days:
            return "active"
        if age <= dt.timedelta(days=self.at_risk_days):
            return "at_risk"
        return "dormant"


def _traits(raw: str | None) -> dict[str, Any]:
    if not raw:
        return {}
    try:
        value = _decode.decode(raw)
    except msgspec.DecodeError:
        return {}
    return value if isinstance(value, dict) else {}


def display_name(traits: dict[str, Any], *keys: str) -> str | None:
    """The first non-empty name-like trait, or "first last"."""
    for key in keys or NAME_TRAITS:
        if isinstance(traits.get(key), str) and traits[key]:
            return str(traits[key])
    parts = [traits.get("first_name"), traits.get("last_name")]
    joined = " ".join(p for p in parts if isinstance(p, str) and p)
    return joined or None


def _account_name(traits: dict[str, Any]) -> str | None:
    return display_name(traits, "account_name", "name")


def _latest_traits(
    store: Any, scope: Scope, type_: str, subject: str, ids: list[str] | None
) -> dict[str, dict[str, Any]]:
    """The latest traits of each id (persons for identify, accounts for group); all if None."""
    if ids is not None and not ids:
        return {}
    q = new_query(store)
    source = events_source(q, scope, [f"type = {q.param(type_)}"])
    where = f"WHERE {in_list(q, subject, ids)}" if ids is not None else ""
    rows = q.run(
        store, f"SELECT {subject}, argMax(properties, ts) FROM {source} {where} GROUP BY {subject}"
    )
    return {str(r[0]): _traits(r[1]) for r in rows}


def _account_rows(store: Any, scope: Scope, q: Query, extra: list[str]) -> list[tuple[Any, ...]]:
    week, month = scope.end - dt.timedelta(days=7), scope.end - dt.timedelta(days=30)
    source = events_source(q, scope, ["coalesce(group_id, '') != ''", *extra])
    act = "type NOT IN ('identify', 'group', 'alias')"
    signed_in = f"{act} AND event_name = {q.param(SIGN_IN)}"
    recent = f"{act} AND ts >= {q.time(month)}"
    if q.dialect.name == "duckdb":
        # One row per account and person, with a mask of the (at most 31) days of the last
        # 30 they were active on: a far smaller GROUP BY than one row per person and day.
        first = day_number(month)
        people = (
            f"(SELECT grp, person, count_if({act}) AS n, count_if({signed_in}) AS s, "
            f"max(CASE WHEN {act} THEN ts END) AS last, "
            f"max(CASE WHEN {act} AND ts >= {q.time(week)} THEN 1 ELSE 0 END) AS a7, "
            f"bit_or(CASE WHEN {recent} THEN {day_bit('day', first)} ELSE 0::UBIGINT END) "
            f"AS days30 FROM {source} GROUP BY grp, person)"
        )
        return q.run(
            store,
            f"SELECT grp, count(*), count_if(a7 = 1), count_if(days30 != 0), sum(s), sum(n), "
            f"max(last), bit_count(bit_or(days30)) FROM {people} GROUP BY grp",
        )
    # First down to one row per account, person and day, then the distinct counts over
    # those: far fewer rows to deduplicate than the events themselves.
    daily = (
        f"(SELECT grp, person, day, sum(CASE WHEN {act} THEN 1 ELSE 0 END) AS n, "
        f"sum(CASE WHEN {signed_in} THEN 1 ELSE 0 END) AS s, "
        f"max(CASE WHEN {act} THEN ts END) AS last, "
        f"max(CASE WHEN {act} AND ts >= {q.time(week)} THEN 1 ELSE 0 END) AS a7, "
        f"max(CASE WHEN {recent} THEN 1 ELSE 0 END) AS a30 "
        f"FROM {source} GROUP BY grp, person, day)"
    )
    return list(
        q.run(
            store,
            f"SELECT grp, count(DISTINCT person), "
            f"count(DISTINCT CASE WHEN a7 = 1 THEN person END), "
            f"count(DISTINCT CASE WHEN a30 = 1 THEN person END), sum(s), sum(n), max(last), "
            f"count(DISTINCT CASE WHEN a30 = 1 THEN day END) FROM {daily} GROUP BY grp",
        )
    )


def _account(
    row: tuple[Any, ...], name: str | None, health: Health, now: dt.datetime
) -> dict[str, Any]:
    # Aggregates over no matching rows may come back NULL (ClickHouse 18.16 does for
    # count(DISTINCT CASE …)), and a missing time as the epoch: both mean "none".
    grp, users, active7, active30, sign_ins, events, last_seen, days30 = row
    if last_seen is not None and last_seen.year <= 1970:
        last_seen = None
    return {
        "group_id": str(grp),
        "name": name,
        "users": int(users or 0),
        "active_users_7d": int(active7 or 0),
        "active_users_30d": int(active30 or 0),
        "sign_ins": int(sign_ins or 0),
        "events": int(events or 0),
        "last_seen": iso(last_seen) if last_seen else None,
        "health": health.tier(last_seen, int(days30 or 0), now),
    }


def accounts(
    store: Any, scope: Scope, health: Health, search: str | None = None, limit: int = 100
) -> dict[str, Any]:
    """Every account seen in the scope, most active first."""
    rows = _account_rows(store, scope, new_query(store), [])
    names = _latest_traits(store, scope, "group", "grp", None)  # group calls are few
    found = [
        _account(
            r, display_name(names.get(str(r[0]), {}), "account_name", "name"), health, scope.end
        )
        for r in rows
    ]
    if search:
        needle = search.lower()
        found = [
            a
            for a in found
            if needle in a["group_id"].lower() or needle in (a["name"] or "").lower()
        ]
    found.sort(key=lambda a: (-a["active_users_30d"], -a["events"], a["group_id"]))
    return {
        "accounts": found[:limit],
        "total": len(found),
        "thresholds": {
            "active_days": health.active_days,
            "at_risk_days": health.at_risk_days,
            "min_active_days": health.min_active_days,
        },
    }


def account(store: Any, scope: Scope, health: Health, group_id: str) -> dict[str, Any] | None:
    """One account: its numbers, traits, users and daily activity; None if never seen."""
    q = new_query(store)
    rows = _account_rows(store, scope, q, [f"group_id = {q.param(group_id)}"])
    if not rows:
        return None
    traits = _latest_traits(store, scope, "group", "grp", [group_id]).get(group_id, {})
    summary = _account(rows[0], _account_name(traits), health, scope.end)
    summary["traits"] = traits
    q = new_query(store)
    source = events_source(q, scope, [f"group_id = {q.param(group_id)}"])
    user_rows = q.run(
        store,
        f"SELECT person, sum(CASE WHEN {ACTIVITY} THEN 1 ELSE 0 END), "
        f"sum(CASE WHEN event_name = {q.param(SIGN_IN)} THEN 1 ELSE 0 END), max(ts) "
        f"FROM {source} GROUP BY person ORDER BY max(ts) DESC LIMIT 1000",
    )
    user_traits = _latest_traits(
        store, _all_time(scope), "identify", "person", [str(r[0]) for r in user_rows]
    )
    users = [
        {
            "user_id": str(r[0]),
            "name": display_name(user_traits.get(str(r[0]), {})),
            "email": user_traits.get(str(r[0]), {}).get("email"),
            "events": int(r[1] or 0),
            "sign_ins": int(r[2] or 0),
            "last_seen": iso(r[3]),
        }
        for r in user_rows
    ]
    q = new_query(store)
    source = events_source(q, scope, [f"group_id = {q.param(group_id)}", ACTIVITY])
    daily = q.run(
        store,
        f"SELECT day, count(*), count(DISTINCT person) FROM {source} GROUP BY day ORDER BY day",
    )
    activity = [
        {"date": day_date(int(r[0])).isoformat(), "events": int(r[1]), "active_users": int(r[2])}
        for r in daily
    ]
    return {"account": summary, "users": users, "activity": activity}


def _all_time(scope: Scope) -> Scope:
    return Scope(scope.workspace, dt.datetime(1970, 1, 1), scope.end, scope.include_test)


def users(store: Any, scope: Scope, search: str | None = None, limit: int = 50) -> dict[str, Any]:
    """Users seen in the scope, most recent first; `search` matches id, email or name."""
    q = new_query(store)
    where = ""
    if search:
        needle = q.param(search)
        trait_match = " OR ".join(
            q.dialect.contains(f"coalesce({q.prop_text(k)}, '')", needle)
            for k in ("email", *NAME_TRAITS, "first_name", "last_name")
        )
        inner = events_source(q, scope, ["type = 'identify'"])
        where = (
            f"WHERE {q.dialect.contains('person', needle)} OR person IN "
            f"(SELECT person FROM {inner} WHERE {trait_match})"
        )
    source = events_source(q, scope)
    rows = q.run(
        store,
        f"SELECT person, sum(CASE WHEN {ACTIVITY} THEN 1 ELSE 0 END), "
        f"sum(CASE WHEN event_name = {q.param(SIGN_IN)} THEN 1 ELSE 0 END), min(ts), max(ts) "
        f"FROM {source} {where} GROUP BY person ORDER BY max(ts) DESC, person "
        f"LIMIT {int(limit)}",
    )
    traits = _latest_traits(store, scope, "identify", "person", [str(r[0]) for r in rows])
    return {
        "users": [
            {
                "user_id": str(r[0]),
                "email": traits.get(str(r[0]), {}).get("email"),
                "name": display_name(traits.get(str(r[0]), {})),
                "events": int(r[1] or 0),
                "sign_ins": int(r[2] or 0),
                "first_seen": iso(r[3]),
                "last_seen": iso(r[4]),
            }
            for r in rows
        ]
    }
