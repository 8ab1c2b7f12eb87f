"""Active users and active accounts: DAU, WAU, MAU and stickiness for each day of a range.

WAU and MAU of a day count who was active in the 7 and 30 days ending that day, so the range
is read from 29 days before its start. The two stores get the counts differently, side by
side below: DuckDB walks each subject's active days with a window function and adds up the
day spans they cover (no DISTINCT over expanded rows); ClickHouse 18.16 has no window
functions but expands each active day over the windows it belongs to and counts exactly.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from tracklog.analytics.scope import (
    MASK_DAYS,
    Query,
    Scope,
    day_bit,
    day_date,
    day_number,
    events_source,
    mask_any,
    new_query,
)
from tracklog.analytics.trends import ACTIVITY

WINDOWS = (1, 7, 30)


def active(store: Any, scope: Scope, of: str = "users", event: str | None = None) -> dict[str, Any]:
    """DAU/WAU/MAU per day of the scope, of users (persons) or accounts (group ids)."""
    q = new_query(store)
    subject = "grp" if of == "accounts" else "person"
    where = [ACTIVITY]
    if event is not None:
        where.append(f"event_name = {q.param(event)}")
    if of == "accounts":
        where.append("coalesce(group_id, '') != ''")
    first, last = day_number(scope.start), day_number(scope.end - dt.timedelta(microseconds=1))
    widened = dt.datetime.combine(day_date(first - 29), dt.time())
    source = events_source(q, scope, where, start=widened)
    if q.dialect.name == "clickhouse":
        pairs = f"(SELECT DISTINCT day, {subject} AS subject FROM {source})"
        counts = _clickhouse(store, q, pairs)
    elif last - (first - 29) < MASK_DAYS:
        counts = _duckdb_masks(
            store, q, f"(SELECT day, {subject} AS subject FROM {source})", first, last
        )
    else:
        pairs = f"(SELECT DISTINCT day, {subject} AS subject FROM {source})"
        counts = _duckdb(store, q, pairs)
    points = []
    for n in range(first, last + 1):
        dau, wau, mau = (counts.get((w, n), 0) for w in WINDOWS)
        points.append(
            {
                "date": day_date(n).isoformat(),
                "dau": dau,
                "wau": wau,
                "mau": mau,
                "stickiness": round(dau / mau, 4) if mau else 0.0,
            }
        )
    latest = {k: v for k, v in points[-1].items() if k != "date"} if points else {}
    return {"of": of, "event": event, "points": points, "latest": latest}


def _duckdb_masks(
    store: Any, q: Query, days: str, first: int, last: int
) -> dict[tuple[int, int], int]:
    # A range of up to 35 days (with the 29 before it) fits one 64-bit mask per subject: one
    # GROUP BY subject builds the masks, then each (window, day) is a count of masks with a
    # bit set in that window. Several times faster than DISTINCT pairs and a window function.
    base = first - 29
    columns = [
        (w, n, f"count_if({mask_any('mask', n - base - w + 1, w)})")
        for n in range(first, last + 1)
        for w in WINDOWS
    ]
    rows = q.run(
        store,
        f"SELECT {', '.join(c for _, _, c in columns)} FROM (SELECT subject, "
        f"bit_or({day_bit('day', base)}) AS mask FROM {days} GROUP BY subject)",
    )
    return {(w, n): int(v or 0) for (w, n, _), v in zip(columns, rows[0], strict=True)}


def _duckdb(store: Any, q: Query, pairs: str) -> dict[tuple[int, int], int]:
    # Each active day covers [day, day + w - 1]; starting the span after the previous active
    # day's span ends counts every (subject, day) once, so a running sum of +1/-1 edges is
    # the distinct count.
    spans = (
        f"(SELECT w, CASE WHEN prev IS NULL OR prev + w <= day THEN day ELSE prev + w END AS lo, "
        f"day + w - 1 AS hi FROM (SELECT day, subject, lag(day) OVER "
        f"(PARTITION BY subject ORDER BY day) AS prev FROM {pairs}) "
        f"CROSS JOIN (SELECT unnest([1, 7, 30]) AS w))"
    )
    # Both edges of a span come from one row, so the spans (and the DISTINCT under them) are
    # computed once, not once per edge.
    rows = q.run(
        store,
        f"SELECT w, d, sum(delta) FROM (SELECT w, unnest([lo, hi + 1]) AS d, "
        f"unnest([1, -1]) AS delta FROM {spans}) GROUP BY w, d ORDER BY w, d",
    )
    counts: dict[tuple[int, int], int] = {}
    edges: dict[int, list[tuple[int, int]]] = {}
    for w, d, delta in rows:
        edges.setdefault(int(w), []).append((int(d), int(delta)))
    for w, points in edges.items():
        total = 0
        previous: int | None = None
        for d, delta in points:
            if previous is not None:
                for gap in range(previous, d):
                    counts[(w, gap)] = total
            total += delta
            previous = d
    return counts


def _clickhouse(store: Any, q: Query, pairs: str) -> dict[tuple[int, int], int]:
    rows = q.run(
        store,
        f"SELECT d, uniqExactIf(subject, k < 1), uniqExactIf(subject, k < 7), uniqExact(subject) "
        f"FROM (SELECT day + k AS d, k, subject FROM (SELECT day, subject, "
        f"arrayJoin(range(30)) AS k FROM {pairs})) GROUP BY d",
    )
    counts: dict[tuple[int, int], int] = {}
    for d, dau, wau, mau in rows:
        counts[(1, int(d))] = int(dau)
        counts[(7, int(d))] = int(wau)
        counts[(30, int(d))] = int(mau)
    return counts
