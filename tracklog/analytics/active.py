"""Active users and active accounts: DAU, WAU, MAU and stickiness for each day of a range.

Days are local days of the scope's zone. WAU and MAU of a day count who was active in the 7
and 30 days ending that day, so the range is read from 29 days before its start. The two
stores get the counts differently, side by side below: DuckDB walks each subject's active
days with a window function and adds up the day spans they cover (no DISTINCT over expanded
rows); ClickHouse 18.16 has no window functions but expands each active day over the
windows it belongs to and counts exactly.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from tracklog.analytics.activity import activity, any_day, masks, pivot
from tracklog.analytics.scope import MASK_DAYS, Scope, active_subjects, day_bit, mask_any
from tracklog.events import utcnow
from tracklog.store.query import Query, new_query
from tracklog.store.rollups import BLOCK_DAYS

WINDOWS = (1, 7, 30)
# Days a range may have for the counts to come from masks (three sums per day in one query).
MASK_POINTS = 120


def active(store: Any, scope: Scope, of: str = "users", event: str | None = None) -> dict[str, Any]:
    """DAU/WAU/MAU per day of the scope, of users (persons) or accounts (group ids)."""
    q = new_query(store)
    subject, where = active_subjects(q, of, event)
    cal = scope.calendar
    first, last = cal.day(scope.start), cal.day(scope.end - dt.timedelta(microseconds=1))
    widened = cal.day_start(first - 29)
    kind = "group" if of == "accounts" else "actor"
    masked = None
    if last - first < MASK_POINTS:
        masked = masks(q, store, scope, [event] if event else None, widened, kind)
    if masked is not None:
        counts = _from_masks(store, q, masked, first, last)
    else:  # built only here: it asks the store whether the range's ends hold events
        source = activity(q, store, scope, where, start=widened)
        pairs = f"(SELECT DISTINCT day, {subject} AS subject FROM {source})"
        if q.dialect.name == "clickhouse":
            counts = _clickhouse(store, q, pairs)
        elif last - (first - 29) < MASK_DAYS:
            days = f"(SELECT day, {subject} AS subject FROM {source})"
            counts = _duckdb_masks(store, q, days, first, last)
        else:
            counts = _duckdb(store, q, pairs)
    points = []
    now = utcnow()
    for n in range(first, last + 1):
        dau, wau, mau = (counts.get((w, n), 0) for w in WINDOWS)
        # Each day counts from its local midnight (days before `from` count for the windows),
        # so only its end can fall short: `to` or now inside it.
        ends = cal.day_start(n + 1)
        points.append(
            {
                "date": cal.date(n).isoformat(),
                "dau": dau,
                "wau": wau,
                "mau": mau,
                "stickiness": round(dau / mau, 4) if mau else 0.0,
                "partial": ends > scope.end or ends > now,
            }
        )
    latest = {k: v for k, v in points[-1].items() if k != "date"} if points else {}
    return {"of": of, "event": event, "points": points, "latest": latest}


def _from_masks(
    store: Any, q: Query, masked: str, first: int, last: int
) -> dict[tuple[int, int], int]:
    """DAU/WAU/MAU per day from each subject's masks of active days (rollup masks): one row
    per subject and block, then each count tests that row's bits of the window."""
    d = q.dialect
    blocks = range((first - 29) // BLOCK_DAYS, last // BLOCK_DAYS + 1)
    columns, names = pivot(d, blocks)
    wanted = [(w, n) for n in range(first, last + 1) for w in WINDOWS]
    sums = ", ".join(
        f"sum(CASE WHEN {any_day(d, names, n - w + 1, n)} THEN 1 ELSE 0 END)" for w, n in wanted
    )
    rows = q.run(
        store,
        f"SELECT {sums} FROM (SELECT subject, {columns} FROM {masked} GROUP BY subject) "
        f"AS {q.alias('subjects')}",
    )
    return {key: int(v or 0) for key, v in zip(wanted, rows[0], strict=True)}


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
