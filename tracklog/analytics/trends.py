"""Event counts (or unique users) over time, by event name or by one property's values."""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from tracklog.analytics.activity import activity, any_day, masks, pivot
from tracklog.analytics.filters import Filter, in_list
from tracklog.analytics.scope import (
    ACTIVITY,
    MASK_DAYS,
    Scope,
    day_bit,
    events_source,
    mask_any,
    sent_by,
)
from tracklog.analytics.timeline import Interval, bucket_sql
from tracklog.events import utcnow
from tracklog.store import persons
from tracklog.store.query import Query, new_query
from tracklog.store.rollups import BLOCK_DAYS

OTHER = "other"
# Buckets a trend may have for its people to be counted from masks (one sum per bucket).
MASK_POINTS = 120


@dataclass(frozen=True)
class TrendRequest:
    """What a trends chart asks for."""

    interval: Interval = "day"
    events: list[str] = field(default_factory=list)
    measure: str = "count"  # or "users"
    breakdown: str | None = None
    limit: int = 10
    user_id: str | None = None
    group_id: str | None = None
    filters: list[Filter] = field(default_factory=list)


def _conditions(q: Query, req: TrendRequest) -> list[str]:
    """The conditions on the events' name, type and account (activity.COLUMNS)."""
    where = [ACTIVITY, "coalesce(event_name, '') != ''"]
    if req.events:
        where.append(in_list(q, "event_name", req.events))
    if req.group_id is not None:
        where.append(f"group_id = {q.param(req.group_id)}")
    return where


def _source(q: Query, store: Any, scope: Scope, req: TrendRequest, local_time: bool) -> str:
    """The events a trend counts: groups per day (activity) unless it needs single events (a
    property breakdown or filter, or hours)."""
    people = req.measure == "users"
    if req.breakdown is None and not req.filters and req.interval != "hour":
        return activity(q, store, scope, _conditions(q, req), req.user_id, persons=people)
    where = _conditions(q, req) + [f.sql(q) for f in req.filters]
    if req.user_id is not None:
        where.append(sent_by(q, scope.workspace, req.user_id))
    return events_source(q, scope, where, persons=people, local_time=local_time)


def _key(q: Query, req: TrendRequest) -> str:
    return f"coalesce({q.prop_text(req.breakdown)}, '')" if req.breakdown else "event_name"


def trends(store: Any, scope: Scope, req: TrendRequest) -> dict[str, Any]:
    """Series of per-bucket values, every bucket of the range present."""
    if req.user_id is not None:  # the person's events, whichever of their ids sent them
        req = dataclasses.replace(req, user_id=persons.resolve(store, scope.workspace, req.user_id))
    if _by_masks(req, scope) and (found := _people_from_masks(store, scope, req)) is not None:
        return found
    measure = "count(DISTINCT person)" if req.measure == "users" else "sum(n)"
    q = new_query(store)
    source = _source(q, store, scope, req, local_time=False)
    top = q.run(
        store,
        f"SELECT k, {measure} AS v FROM (SELECT {_key(q, req)} AS k, person, n FROM {source}) "
        f"GROUP BY k ORDER BY v DESC, k LIMIT {int(req.limit) + 1}",
    )
    names = [str(r[0]) for r in top[: req.limit]]
    totals = {str(r[0]): int(r[1]) for r in top}
    has_other = bool(req.breakdown) and len(top) > req.limit
    if not names:
        return _result(scope, req, [], {}, {})
    q = new_query(store)
    key = _key(q, req)
    source = _source(q, store, scope, req, local_time=True)
    series_key = (
        f"CASE WHEN {in_list(q, 'k', names)} THEN k ELSE {q.param(OTHER)} END" if has_other else "k"
    )
    first = scope.calendar.day(scope.start)
    last = scope.calendar.day(scope.end - dt.timedelta(microseconds=1))
    daily_users = req.measure == "users" and req.interval == "day"
    if daily_users and q.dialect.name == "duckdb" and last - first < MASK_DAYS:
        rows = _daily_users(
            store, q, f"(SELECT {key} AS k, day, person FROM {source})", series_key, first, last
        )
    else:
        rows = q.run(
            store,
            f"SELECT s, b, {measure} FROM (SELECT {series_key} AS s, b, person, n FROM "
            f"(SELECT {key} AS k, {bucket_sql(q.dialect, req.interval)} AS b, person, n "
            f"FROM {source})) GROUP BY s, b",
        )
    points: dict[str, dict[int, int]] = {}
    for s, b, v in rows:
        points.setdefault(str(s), {})[int(b)] = int(v)
    if has_other:
        names.append(OTHER)
        if req.measure == "users":
            totals[OTHER] = _other_users(store, scope, req, names[:-1])
        else:
            totals[OTHER] = sum(points.get(OTHER, {}).values())
    return _result(scope, req, names, points, totals)


def _by_masks(req: TrendRequest, scope: Scope) -> bool:
    """Whether the trend counts people by day, week or month of whole events: the rollup's
    masks can answer that (a breakdown, a property filter, hours, or a person or account
    filter need the events or the day rows)."""
    plain = not req.breakdown and not req.filters and req.user_id is None
    if req.measure != "users" or req.interval == "hour" or not plain or req.group_id:
        return False
    return len(scope.calendar.periods(req.interval, scope.start, scope.end)) <= MASK_POINTS


def _people_from_masks(store: Any, scope: Scope, req: TrendRequest) -> dict[str, Any] | None:
    """People per bucket and event name, from each person's masks of active days."""
    q = new_query(store)
    masked = masks(q, store, scope, req.events or None)
    if masked is None:
        return None
    d = q.dialect
    cal = scope.calendar
    first, last = cal.day(scope.start), cal.day(scope.end - dt.timedelta(microseconds=1))
    columns, names = pivot(d, range(first // BLOCK_DAYS, last // BLOCK_DAYS + 1))
    grid = cal.periods(req.interval, scope.start, scope.end)
    spans = [
        (
            b.number,
            max(cal.day(b.start), first),
            min(cal.day(b.end - dt.timedelta(microseconds=1)), last),
        )
        for b in grid
    ]
    sums = ", ".join(
        f"sum(CASE WHEN {any_day(d, names, lo, hi)} THEN 1 ELSE 0 END)" for _, lo, hi in spans
    )
    rows = q.run(
        store,
        f"SELECT event_name, sum(CASE WHEN {any_day(d, names, first, last)} THEN 1 ELSE 0 END) "
        f"AS v, {sums} FROM (SELECT event_name, subject, {columns} FROM {masked} "
        f"WHERE event_name != '' GROUP BY event_name, subject) AS {q.alias('people')} "
        f"GROUP BY event_name",
    )
    ranked = sorted(
        ((str(r[0]), int(r[1] or 0), r[2:]) for r in rows if r[1]), key=lambda r: (-r[1], r[0])
    )
    ranked = ranked[: req.limit]
    points = {
        name: {b: int(v or 0) for (b, _, _), v in zip(spans, values, strict=True) if v}
        for name, _, values in ranked
    }
    totals = {name: total for name, total, _ in ranked}
    return _result(scope, req, [name for name, _, _ in ranked], points, totals)


def _daily_users(
    store: Any, q: Query, keyed: str, series_key: str, first: int, last: int
) -> list[tuple[Any, int, int]]:
    """(series, day, people) rows from one mask of active days per series and person.

    One GROUP BY (series, person) and a bit count per day: several times faster on DuckDB
    than a DISTINCT per (series, day), and exact.
    """
    days = range(first, last + 1)
    counts = ", ".join(f"count_if({mask_any('mask', n - first, 1)})" for n in days)
    rows = q.run(
        store,
        f"SELECT s, {counts} FROM (SELECT s, person, bit_or({day_bit('day', first)}) AS mask "
        f"FROM (SELECT {series_key} AS s, day, person FROM {keyed}) GROUP BY s, person) "
        f"GROUP BY s",
    )
    return [(row[0], n, int(v)) for row in rows for n, v in zip(days, row[1:], strict=True) if v]


def _other_users(store: Any, scope: Scope, req: TrendRequest, names: list[str]) -> int:
    q = new_query(store)
    assert req.breakdown is not None
    key = _key(q, req)
    source = _source(q, store, scope, req, local_time=False)
    rows = q.run(
        store,
        f"SELECT count(DISTINCT person) FROM (SELECT {key} AS k, person FROM {source}) "
        f"WHERE NOT ({in_list(q, 'k', names)})",
    )
    return int(rows[0][0])


def _result(
    scope: Scope,
    req: TrendRequest,
    names: list[str],
    points: dict[str, dict[int, int]],
    totals: dict[str, int],
) -> dict[str, Any]:
    now = utcnow()
    grid = [
        (b.number, b.iso, b.partial(scope.start, scope.end, now))
        for b in scope.calendar.periods(req.interval, scope.start, scope.end)
    ]
    return {
        "interval": req.interval,
        "measure": req.measure,
        "breakdown": req.breakdown,
        "series": [
            {
                "name": name,
                "total": totals.get(name, 0),
                "points": [
                    {"t": t, "value": points.get(name, {}).get(b, 0), "partial": partial}
                    for b, t, partial in grid
                ],
            }
            for name in names
        ],
    }


def top_events(store: Any, scope: Scope, limit: int) -> dict[str, Any]:
    """The most frequent event names with their counts and unique users."""
    q = new_query(store)
    named = [ACTIVITY, "coalesce(event_name, '') != ''"]
    masked = masks(q, store, scope)
    if masked is None:
        source = activity(q, store, scope, named)
        rows = q.run(
            store,
            f"SELECT event_name, sum(n) AS c, count(DISTINCT person) FROM {source} "
            f"GROUP BY event_name ORDER BY c DESC, event_name LIMIT {int(limit)}",
        )
    else:  # counts from the day counts, people from the masks
        source = activity(q, store, scope, named, persons=False)
        d = q.dialect
        # The masks hold only the range's days: a person counts where any bit is left.
        people = (
            f"(SELECT event_name AS name, count(DISTINCT subject) AS users FROM {masked} "
            f"WHERE days != {d.mask(0)} GROUP BY event_name)"
        )
        rows = q.run(
            store,
            f"SELECT name, c, coalesce(users, 0) FROM (SELECT event_name AS name, sum(n) AS c "
            f"FROM {source} GROUP BY event_name) AS {q.alias('counts')} {d.left_join} {people} "
            f"AS {q.alias('users')} USING (name) ORDER BY c DESC, name LIMIT {int(limit)}",
        )
    return {"events": [{"event_name": r[0], "count": int(r[1]), "users": int(r[2])} for r in rows]}
