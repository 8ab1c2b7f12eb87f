"""Retention cohorts: who started in each period and how many came back in the ones after.

A person's cohort is the local period (day, Monday week or month of the scope's zone) of
their first start event in the range. `returned[0]` is the cohort itself; `returned[k]`
(k >= 1) counts those with a return event k periods later. Only periods that start before
`to` (exclusive) appear, so the rows form the usual triangle with no unmeasured period when
`to` is a period's first instant; `partial` lists the periods not wholly measured: one that
began before `from` (the first cohort's own period, when `from` is inside it) or is not over
by `to` or by now.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from tracklog.analytics.scope import Scope, events_source
from tracklog.analytics.timeline import Interval, bucket_sql
from tracklog.analytics.users import UserList, users
from tracklog.events import utcnow
from tracklog.store.query import Query, new_query


def _cohorts(q: Query, scope: Scope, start_event: str, period: Interval) -> str:
    """A subquery of (person, cp): each person's cohort, the period of their first start
    event in the range."""
    starts = events_source(q, scope, [f"event_name = {q.param(start_event)}"], local_time=True)
    return (
        f"(SELECT person, min({bucket_sql(q.dialect, period)}) AS cp FROM {starts} GROUP BY person)"
    )


def _comebacks(q: Query, scope: Scope, return_event: str, period: Interval) -> str:
    """A subquery of (person, rp): each period in which a person did the return event."""
    returns = events_source(q, scope, [f"event_name = {q.param(return_event)}"], local_time=True)
    return f"(SELECT DISTINCT person, {bucket_sql(q.dialect, period)} AS rp FROM {returns})"


def _returned(q: Query, scope: Scope, start_event: str, return_event: str, period: Interval) -> str:
    """A subquery of (cp, k, person): who of each cohort did the return event k >= 1 periods
    after its own."""
    return (
        f"(SELECT cp, rp - cp AS k, person FROM {_cohorts(q, scope, start_event, period)} "
        f"AS {q.alias('cohorts')} {q.dialect.inner_join} "
        f"{_comebacks(q, scope, return_event, period)} AS {q.alias('comebacks')} USING (person) "
        f"WHERE rp > cp)"
    )


def retention(
    store: Any,
    scope: Scope,
    start_event: str,
    return_event: str,
    period: Interval = "week",
    periods: int = 8,
) -> dict[str, Any]:
    """The cohort table; see the module docstring."""
    q = new_query(store)
    cohorts = _cohorts(q, scope, start_event, period)
    sizes = q.run(store, f"SELECT cp, count(*) FROM {cohorts} GROUP BY cp ORDER BY cp")
    q = new_query(store)
    rows = q.run(
        store,
        f"SELECT cp, k, count(DISTINCT person) FROM "
        f"{_returned(q, scope, start_event, return_event, period)} AS {q.alias('returned')} "
        f"WHERE k < {int(periods)} GROUP BY cp, k",
    )
    back: dict[tuple[int, int], int] = {(int(c), int(k)): int(n) for c, k, n in rows}
    cal = scope.calendar
    # The period of the last instant before `to`: a `to` on a period's start adds no period.
    last = cal.bucket_of(period, scope.end - dt.timedelta(microseconds=1))
    now = utcnow()
    table = []
    for cp, size in sizes:
        cp, size = int(cp), int(size)
        span = min(periods, last - cp + 1)
        returned = [size] + [back.get((cp, k), 0) for k in range(1, span)]
        table.append(
            {
                "start": cal.bucket(period, cp).iso,
                "users": size,
                "returned": returned,
                "rates": [round(n / size, 4) for n in returned],
                "partial": [
                    k
                    for k in range(span)
                    if cal.bucket(period, cp + k).partial(scope.start, scope.end, now)
                ],
            }
        )
    return {
        "period": period,
        "start_event": start_event,
        "return_event": return_event,
        "cohorts": table,
    }


def people(
    store: Any,
    scope: Scope,
    start_event: str,
    return_event: str,
    period: Interval,
    cohort: int,
    k: int,
    req: UserList,
) -> dict[str, Any]:
    """The people behind one cell of the table: cohort `cohort` (a period number) itself when
    k is 0, else those of it who came back k periods later; from the table's own subqueries."""

    def among(q: Query) -> str:
        if k == 0:
            cohorts = _cohorts(q, scope, start_event, period)
            return f"(SELECT person FROM {cohorts} AS {q.alias('cohort')} WHERE cp = {int(cohort)})"
        returned = _returned(q, scope, start_event, return_event, period)
        return (
            f"(SELECT person FROM {returned} AS {q.alias('returned')} "
            f"WHERE cp = {int(cohort)} AND k = {int(k)})"
        )

    return users(store, scope, req, among)
