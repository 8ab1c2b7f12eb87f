"""Retention cohorts: who started in each period and how many came back in the ones after.

A person's cohort is the period of their first start event in the range. `returned[0]` is
the cohort itself; `returned[k]` (k >= 1) counts those with a return event k periods later.
Periods that have not begun by the end of the range are left out, so the rows form the
usual triangle.
"""

from __future__ import annotations

from typing import Any

from tracklog.analytics.scope import Scope, events_source, new_query
from tracklog.analytics.timeline import Interval, bucket_of, bucket_sql, bucket_start, iso


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
    d = q.dialect
    starts = events_source(q, scope, [f"event_name = {q.param(start_event)}"])
    returns = events_source(q, scope, [f"event_name = {q.param(return_event)}"])
    cohorts = f"(SELECT person, min({bucket_sql(d, period)}) AS cp FROM {starts} GROUP BY person)"
    comebacks = f"(SELECT DISTINCT person, {bucket_sql(d, period)} AS rp FROM {returns})"
    sizes = q.run(store, f"SELECT cp, count(*) FROM {cohorts} GROUP BY cp ORDER BY cp")
    rows = q.run(
        store,
        f"SELECT cp, rp - cp AS k, count(DISTINCT person) FROM {cohorts} "
        f"{d.inner_join} {comebacks} USING (person) "
        f"WHERE rp > cp AND rp - cp < {int(periods)} GROUP BY cp, k",
    )
    back: dict[tuple[int, int], int] = {(int(c), int(k)): int(n) for c, k, n in rows}
    last = bucket_of(period, scope.end) if scope.end > scope.start else 0
    table = []
    for cp, size in sizes:
        cp, size = int(cp), int(size)
        span = min(periods, last - cp + 1)
        returned = [size] + [back.get((cp, k), 0) for k in range(1, span)]
        table.append(
            {
                "start": iso(bucket_start(period, cp)),
                "users": size,
                "returned": returned,
                "rates": [round(n / size, 4) for n in returned],
            }
        )
    return {
        "period": period,
        "start_event": start_event,
        "return_event": return_event,
        "cohorts": table,
    }
