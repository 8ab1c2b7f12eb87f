"""Funnels: how many people (or accounts) did each step in order within a window.

Each subject enters at its first occurrence of step 1 in the range; step k counts when a
step-k event follows the step k-1 event it reached, no later than `window` seconds after the
entry. Written as one join per step, which both stores run without window functions.

Times are whole seconds (ClickHouse stores no more), so a step's time to convert, the
median over the subjects who reached it of (reached step k) - (reached step k-1), is in
whole or half seconds. A breakdown splits the subjects by a property of their entry event
(its value as text, '' when absent; of several step-1 events in the entry second, the
smallest value): one funnel per value, the 10 with most entries, the rest as `other`.
"""

from __future__ import annotations

from typing import Any

from tracklog.analytics import people as accounts
from tracklog.analytics.filters import in_list
from tracklog.analytics.scope import Scope, events_source
from tracklog.analytics.users import UserList, users
from tracklog.store.query import Query, new_query

OTHER = "other"
EMPTY = "''"
TOP_VALUES = 10


def _levels(
    q: Query, scope: Scope, steps: list[str], window_seconds: int, by: str, breakdown: str | None
) -> list[str]:
    """One subquery per step: (subject, entered, v, r<k-1>, r<k>) of each subject that
    reached it, r<k> the time it did (step 1 has no r<k-1>), v its breakdown value ('')."""
    d = q.dialect
    subject = "grp" if by == "accounts" else "person"
    extra = ["coalesce(group_id, '') != ''"] if by == "accounts" else []

    def step_events(name: str, value: str | None = None) -> str:
        source = events_source(q, scope, [f"event_name = {q.param(name)}", *extra])
        also = f", {value} AS bv" if value is not None else ""
        return f"(SELECT {subject} AS subject, {d.epoch('ts')} AS t{also} FROM {source})"

    # Each level names its reached time r<k>, and each column has one alias: ClickHouse's
    # aliases are global to a query, so reusing one name for another expression would make
    # a WHERE read the wrong column.
    entries = (
        f"(SELECT subject, min(t) AS entered, min(t) AS r0 FROM {step_events(steps[0])} "
        f"GROUP BY subject)"
    )
    if breakdown is None:
        level = f"(SELECT subject, entered, r0, '' AS v FROM {entries} AS {q.alias('entries')})"
    else:
        # The entry event's value: the subject's step-1 events at its entry time.
        values = step_events(steps[0], f"coalesce({q.prop_text(breakdown)}, '')")
        level = (
            f"(SELECT subject, entered, r0, min(bv) AS v FROM {entries} AS {q.alias('entries')} "
            f"{d.inner_join} {values} AS {q.alias('values')} USING (subject) "
            f"WHERE t = entered GROUP BY subject, entered, r0)"
        )
    levels = [level]
    for k, name in enumerate(steps[1:], start=1):
        level = (
            f"(SELECT subject, entered, v, r{k - 1}, min(t) AS r{k} FROM {level} "
            f"AS {q.alias('reached')} {d.inner_join} {step_events(name)} "
            f"AS {q.alias('step')} USING (subject) "
            f"WHERE t >= r{k - 1} AND t <= entered + {int(window_seconds)} "
            f"GROUP BY subject, entered, v, r{k - 1})"
        )
        levels.append(level)
    return levels


def _counts(q: Query, levels: list[str], series: str) -> str:
    """Per step and series: how many reached it, and the median seconds from the step before."""
    parts = []
    for i, level in enumerate(levels):
        median = q.dialect.median(f"r{i} - r{i - 1}") if i else "NULL"
        parts.append(
            f"SELECT {i} AS step, {series} AS s, count(*) AS n, {median} AS m "
            f"FROM {level} AS {q.alias('level')} GROUP BY s"
        )
    return " UNION ALL ".join(parts)


def _steps(steps: list[str], found: dict[int, tuple[int, float | None]]) -> list[dict[str, Any]]:
    first = found.get(0, (0, None))[0]
    result = []
    for i, name in enumerate(steps):
        n, median = found.get(i, (0, None))
        before = found.get(i - 1, (0, None))[0] if i else n
        result.append(
            {
                "event_name": name,
                "count": n,
                "conversion": round(n / first, 4) if first else 0.0,
                "from_previous": round(n / before, 4) if before else 0.0,
                "median_seconds": float(median) if median is not None and n else None,
            }
        )
    return result


def funnel(
    store: Any,
    scope: Scope,
    steps: list[str],
    window_seconds: int,
    by: str = "users",
    breakdown: str | None = None,
) -> dict[str, Any]:
    """Per-step counts, conversion from the first step and from the previous one, and the
    median time from the previous step; with `breakdown`, the same per value of it."""
    q = new_query(store)
    levels = _levels(q, scope, steps, window_seconds, by, None)
    rows = q.run(store, f"SELECT step, n, m FROM ({_counts(q, levels, EMPTY)})")
    overall = {int(step): (int(n), m) for step, n, m in rows}
    answer: dict[str, Any] = {
        "by": by,
        "window_seconds": window_seconds,
        "steps": _steps(steps, overall),
        "breakdown": breakdown,
        "series": [],
    }
    if breakdown is None:
        return answer
    q = new_query(store)
    levels = _levels(q, scope, steps, window_seconds, by, breakdown)
    top = q.run(
        store,
        f"SELECT v, count(*) AS c FROM {levels[0]} AS {q.alias('entries')} "
        f"GROUP BY v ORDER BY c DESC, v LIMIT {TOP_VALUES + 1}",
    )
    names = [str(r[0]) for r in top[:TOP_VALUES]]
    if not names:
        return answer
    q = new_query(store)
    levels = _levels(q, scope, steps, window_seconds, by, breakdown)
    series = "v"
    if len(top) > TOP_VALUES:
        series = f"CASE WHEN {in_list(q, 'v', names)} THEN v ELSE {q.param(OTHER)} END"
        names.append(OTHER)
    found: dict[str, dict[int, tuple[int, float | None]]] = {}
    for step, s, n, m in q.run(store, f"SELECT step, s, n, m FROM ({_counts(q, levels, series)})"):
        found.setdefault(str(s), {})[int(step)] = (int(n), m)
    answer["series"] = [
        {"value": name, "steps": _steps(steps, found.get(name, {}))} for name in names
    ]
    return answer


def people(
    store: Any,
    scope: Scope,
    steps: list[str],
    window_seconds: int,
    by: str,
    step: int,
    outcome: str,
    req: UserList,
    breakdown: str | None = None,
    value: str | None = None,
) -> dict[str, Any]:
    """The subjects behind one step (1-based): those who reached it, or who reached it and
    not the next (`dropped`), of one breakdown value if given; from the funnel's own levels.

    People come as the users list's rows (in its order); accounts as {group_id, name},
    by id.
    """

    def among(q: Query) -> str:
        levels = _levels(q, scope, steps, window_seconds, by, breakdown)
        where = [f"v = {q.param(value)}"] if breakdown is not None and value is not None else []
        if outcome == "dropped":
            where.append(
                f"subject NOT IN (SELECT subject FROM {levels[step]} AS {q.alias('next')})"
            )
        condition = f" WHERE {' AND '.join(where)}" if where else ""
        return f"(SELECT subject FROM {levels[step - 1]} AS {q.alias('reached')}{condition})"

    if by == "users":
        return {"by": by, **users(store, scope, req, among), "accounts": []}
    return {"by": by, "users": [], **accounts.account_refs(store, scope, among, req)}
