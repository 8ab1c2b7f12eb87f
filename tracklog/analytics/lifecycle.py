"""Lifecycle: in each local period of the range, who was new, returning or resurrecting,
and who went dormant (people, or accounts).

For a period p and a subject active in p (activity, or only the events named): **new** when
it was never active before p, **returning** when it was active in p-1, **resurrecting** when
it was active before p-1 but not in p-1; **dormant** are those active in p-1 and not in p
(answered as a negative number, as PostHog draws them). A period counts its whole activity
before `to`: the first period from its own start even when `from` is later (it is marked
partial), and the period before it decides who returns or goes dormant in it.

One pass over the range (from the start of the period before its first) marks each subject's
active periods; each mark also stands for "active in the period before" the next one, so a
GROUP BY per subject and period says whether it was active then and just before. Whether it
was ever active before that start is one more scan of the older events, without local time.
Both take the distinct senders first and resolve only those to people.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

from tracklog.analytics import people as accounts
from tracklog.analytics.scope import (
    Scope,
    active_subjects,
    events_source,
    identities,
    person_of,
)
from tracklog.analytics.timeline import Bucket, Interval, bucket_sql
from tracklog.analytics.users import UserList, users
from tracklog.events import utcnow
from tracklog.store.query import Query, new_query
from tracklog.zones import instant

STATUSES = ("new", "returning", "resurrecting", "dormant")
# The period of a subject active before the pass began: no period number is this small.
_BEFORE = -(2**31)
_EPOCH = instant(0)


def _grid(scope: Scope, period: Interval) -> tuple[list[Bucket], Bucket]:
    """The periods of the range, and the one before the first."""
    grid = scope.calendar.periods(period, scope.start, scope.end)
    return grid, scope.calendar.bucket(period, grid[0].number - 1)


def _marks(
    q: Query, scope: Scope, of: str, period: Interval, event: str | None, share: bool = False
) -> str:
    """A subquery of (subject, p, here, prev, born): for each period p in which a subject was
    active or was active just before, whether it was active in p (here) and in p-1 (prev),
    and `born`, the period it was first active in (_BEFORE: before the pass began).

    With `share`, the pass is a `Query.shared` subquery, so DuckDB makes it once for the
    marks and the first periods (it is most of the work)."""
    grid, before = _grid(scope, period)
    d = q.dialect
    _, where = active_subjects(q, of, event)
    pairs = _distinct(q, scope, of, where, bucket_sql(d, period), start=before.start)
    if share:
        pairs = q.shared("pairs", pairs)
    if d.name == "clickhouse":
        shifted = f"(SELECT subject, b, arrayJoin([0, 1]) AS shift FROM {pairs})"
    else:
        shifted = (
            f"(SELECT subject, b, shift FROM {pairs} AS {q.alias('pairs')} "
            f"CROSS JOIN (SELECT unnest([0, 1]) AS shift) AS {q.alias('shifts')})"
        )
    marks = (
        f"(SELECT subject, b + shift AS p, max(1 - shift) AS here, max(shift) AS prev "
        f"FROM {shifted} AS {q.alias('shifted')} GROUP BY subject, p)"
    )
    older = dataclasses.replace(scope, start=_EPOCH, end=before.start)
    seen = _distinct(q, older, of, where)
    born = (
        f"(SELECT subject, CASE WHEN subject IN {seen} THEN {_BEFORE} ELSE first_b END AS born "
        f"FROM (SELECT subject, min(b) AS first_b FROM {pairs} AS {q.alias('pairs')} "
        f"GROUP BY subject) AS {q.alias('firsts')})"
    )
    return (
        f"(SELECT subject, p, here, prev, born FROM {marks} AS {q.alias('marks')} "
        f"{d.left_join} {born} AS {q.alias('born')} USING (subject) "
        f"WHERE p >= {grid[0].number} AND p <= {grid[-1].number})"
    )


def _distinct(
    q: Query,
    scope: Scope,
    of: str,
    where: list[str],
    bucket: str | None = None,
    start: dt.datetime | None = None,
) -> str:
    """A subquery: each distinct subject of the scope's events meeting `where`, with each
    period `b` it was active in if given a `bucket` (a local-time expression).

    People are resolved after a DISTINCT of their senders: the join then resolves a few
    (sender, period) pairs instead of every event, which was most of the report's time."""
    b = f", {bucket} AS b" if bucket is not None else ""
    local = bucket is not None
    if of == "accounts":
        source = events_source(q, scope, where, start=start, local_time=local, persons=False)
        return f"(SELECT DISTINCT grp AS subject{b} FROM {source})"
    source = events_source(q, scope, where, start=start, local_time=local, actors=True)
    return (
        f"(SELECT DISTINCT {person_of()} AS subject{', b' if b else ''} "
        f"FROM (SELECT DISTINCT actor{b} FROM {source}) AS {q.alias('sent')} "
        f"{q.dialect.left_join} {identities(q, scope.workspace)} AS {q.alias('persons')} "
        f"USING (actor))"
    )


# Each status as a condition on a row of `_marks`.
_STATUS = {
    "new": "here = 1 AND prev = 0 AND p = born",
    "returning": "here = 1 AND prev = 1",
    "resurrecting": "here = 1 AND prev = 0 AND p != born",
    "dormant": "here = 0 AND prev = 1",
}


def lifecycle(
    store: Any, scope: Scope, of: str = "users", period: Interval = "week", event: str | None = None
) -> dict[str, Any]:
    """New, returning, resurrecting and (negative) dormant subjects per period of the range."""
    q = new_query(store)
    counts = ", ".join(f"sum(CASE WHEN {_STATUS[status]} THEN 1 ELSE 0 END)" for status in STATUSES)
    rows = q.run(
        store,
        f"SELECT p, {counts} FROM {_marks(q, scope, of, period, event, share=True)} "
        f"AS {q.alias('lifecycle')} GROUP BY p",
    )
    found = {int(r[0]): [int(v or 0) for v in r[1:]] for r in rows}
    grid, _ = _grid(scope, period)
    now = utcnow()
    points = []
    for b in grid:
        new, returning, resurrecting, dormant = found.get(b.number, [0, 0, 0, 0])
        points.append(
            {
                "start": b.iso,
                "partial": b.partial(scope.start, scope.end, now),
                "new": new,
                "returning": returning,
                "resurrecting": resurrecting,
                "dormant": -dormant,
            }
        )
    return {"of": of, "period": period, "event": event, "periods": points}


def people(
    store: Any,
    scope: Scope,
    of: str,
    period: Interval,
    event: str | None,
    start: int,
    status: str,
    req: UserList,
) -> dict[str, Any]:
    """The subjects behind one number: those with `status` in period `start` (a period
    number of the range), from the report's own marks. People come as the users list's
    rows, counting their events from the start of the period before to the end of this
    one (or `to`), where each of them was active; accounts as {group_id, name}."""

    def among(q: Query) -> str:
        marks = _marks(q, scope, of, period, event)
        return (
            f"(SELECT subject FROM {marks} AS {q.alias('marked')} "
            f"WHERE p = {int(start)} AND {_STATUS[status]})"
        )

    if of == "accounts":
        return {"of": of, "users": [], **accounts.account_refs(store, scope, among, req)}
    cal = scope.calendar
    shown = dataclasses.replace(
        scope,
        start=cal.bucket(period, start - 1).start,
        end=min(cal.bucket(period, start).end, scope.end),
    )
    return {"of": of, **users(store, shown, req, among), "accounts": []}
