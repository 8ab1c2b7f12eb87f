"""Funnels: how many people (or accounts) did each step in order within a window.

Each subject enters at its first occurrence of step 1 in the range; step k counts when a
step-k event follows the step k-1 event it reached, no later than `window` seconds after the
entry. Written as one join per step, which both stores run without window functions.
On DuckDB each step's level is computed once per statement (`Query.shared`) and a breakdown
is one statement; ClickHouse, which would compute the levels again at each read, runs a
breakdown's whole funnel, top values and series as three statements.

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
    q: Query,
    scope: Scope,
    steps: list[str],
    window_seconds: int,
    by: str,
    breakdown: str | None,
    share: bool = False,
) -> tuple[str, list[str]]:
    """The subjects' entries, (subject, entered, r0) each, and one subquery per step:
    (subject, entered, v, r<k-1>, r<k>) of each subject that reached it, r<k> the time it did
    (step 1 has no r<k-1>), v its breakdown value ('').

    With `share`, each is read as a `Query.shared` subquery: a statement that reads the
    levels several times (one count per step and series) computes each once on DuckDB.
    """
    d = q.dialect
    subject = "grp" if by == "accounts" else "person"
    extra = ["coalesce(group_id, '') != ''"] if by == "accounts" else []

    def named(name: str, subquery: str) -> str:
        return q.shared(name, subquery) if share else subquery

    def step_events(name: str, value: str | None = None) -> str:
        source = events_source(q, scope, [f"event_name = {q.param(name)}", *extra])
        also = f", {value} AS bv" if value is not None else ""
        return f"(SELECT {subject} AS subject, {d.epoch('ts')} AS t{also} FROM {source})"

    # Each level names its reached time r<k>, and each column has one alias: ClickHouse's
    # aliases are global to a query, so reusing one name for another expression would make
    # a WHERE read the wrong column.
    if breakdown is None:
        entered_by = step_events(steps[0])
    else:
        # Each subject's step-1 events, read twice: for its entry, and for its entry
        # event's value (the subject's step-1 events at its entry time).
        value = f"coalesce({q.prop_text(breakdown)}, '')"
        entered_by = named("first_step", step_events(steps[0], value))
    entries = named(
        "entries",
        f"(SELECT subject, min(t) AS entered, min(t) AS r0 FROM {entered_by} "
        f"AS {q.alias('first')} GROUP BY subject)",
    )
    if breakdown is None:
        level = f"(SELECT subject, entered, r0, '' AS v FROM {entries} AS {q.alias('entries')})"
    else:
        level = (
            f"(SELECT subject, entered, r0, min(bv) AS v FROM {entries} AS {q.alias('entries')} "
            f"{d.inner_join} {entered_by} AS {q.alias('values')} USING (subject) "
            f"WHERE t = entered GROUP BY subject, entered, r0)"
        )
    levels = [named("level", level)]
    for k, name in enumerate(steps[1:], start=1):
        level = (
            f"(SELECT subject, entered, v, r{k - 1}, min(t) AS r{k} FROM {levels[-1]} "
            f"AS {q.alias('reached')} {d.inner_join} {step_events(name)} "
            f"AS {q.alias('step')} USING (subject) "
            f"WHERE t >= r{k - 1} AND t <= entered + {int(window_seconds)} "
            f"GROUP BY subject, entered, v, r{k - 1})"
        )
        levels.append(named("level", level))
    return entries, levels


def _counts(q: Query, levels: list[str], series: str, part: int = 0) -> str:
    """Per step and series: how many reached it, and the median seconds from the step before
    (rows (part, step, s, n, m), `part` telling the statement's parts apart)."""
    parts = []
    for i, level in enumerate(levels):
        median = q.dialect.median(f"r{i} - r{i - 1}") if i else "NULL"
        parts.append(
            f"SELECT {part} AS part, {i} AS step, {series} AS s, count(*) AS n, {median} AS m "
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


Found = dict[tuple[int, str], dict[int, tuple[int, float | None]]]


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
    entries, levels = _levels(q, scope, steps, window_seconds, by, breakdown, share=True)
    answer: dict[str, Any] = {
        "by": by,
        "window_seconds": window_seconds,
        "steps": [],
        "breakdown": breakdown,
        "series": [],
    }
    if breakdown is None:
        found = _found(q.run(store, f"SELECT * FROM ({_counts(q, levels, EMPTY)})"))
    elif q.shares:
        # One statement, so the levels are computed once: the whole funnel (part 0), the
        # values with most entries (part 1) and the funnel of each and of the rest (part 2).
        # The whole funnel's first step counts the entries: a subject without an id (NULL)
        # is one there, as without a breakdown, but joins no entry event to take a value.
        kept = f"(SELECT v FROM {_top(q, levels[0], TOP_VALUES)} AS {q.alias('kept')})"
        series = f"CASE WHEN v IN {kept} THEN v ELSE {q.param(OTHER)} END"
        found = _found(
            q.run(
                store,
                f"SELECT * FROM ({_counts(q, [entries, *levels[1:]], EMPTY)} UNION ALL "
                f"{_top_part(q, levels[0])} UNION ALL {_counts(q, levels, series, part=2)})",
            )
        )
    else:
        found = _apart(store, scope, steps, window_seconds, by, breakdown)
    answer["steps"] = _steps(steps, found.get((0, ""), {}))
    if breakdown is None:
        return answer
    names = _names(found)
    answer["series"] = [
        {"value": name, "steps": _steps(steps, found.get((2, name), {}))} for name in names
    ]
    return answer


def _apart(
    store: Any, scope: Scope, steps: list[str], window_seconds: int, by: str, breakdown: str
) -> Found:
    """`funnel`'s three parts with a breakdown, one statement each, where shared subqueries
    are computed at each read (ClickHouse): one statement would compute every level again
    for each part and series."""
    q = new_query(store)
    _, levels = _levels(q, scope, steps, window_seconds, by, None)
    found = _found(q.run(store, f"SELECT * FROM ({_counts(q, levels, EMPTY)})"))
    q = new_query(store)
    _, levels = _levels(q, scope, steps, window_seconds, by, breakdown)
    found.update(_found(q.run(store, _top_part(q, levels[0]))))
    names = _names(found)
    if not names:
        return found
    q = new_query(store)
    _, levels = _levels(q, scope, steps, window_seconds, by, breakdown)
    series = "v"
    if len(names) > TOP_VALUES:  # the last is `other`
        kept = in_list(q, "v", names[:TOP_VALUES])
        series = f"CASE WHEN {kept} THEN v ELSE {q.param(OTHER)} END"
    found.update(_found(q.run(store, f"SELECT * FROM ({_counts(q, levels, series, part=2)})")))
    return found


def _found(rows: list[tuple[Any, ...]]) -> Found:
    """A statement's (part, step, s, n, m) rows: {(part, series): {step: (n, median)}}."""
    found: Found = {}
    for part, step, s, n, m in rows:
        found.setdefault((int(part), str(s)), {})[int(step)] = (int(n), m)
    return found


def _names(found: Found) -> list[str]:
    """The series of a breakdown: the values with most entries (part 1 of `found`), ties by
    value as the statement's ORDER BY picked them, and `other` past TOP_VALUES of them."""
    top = sorted((-by_step[0][0], value) for (part, value), by_step in found.items() if part == 1)
    names = [value for _, value in top[:TOP_VALUES]]
    return [*names, OTHER] if len(top) > TOP_VALUES else names


def _top_part(q: Query, level: str) -> str:
    """Part 1 of `funnel`'s rows: up to TOP_VALUES + 1 values with most entries (step 0)."""
    return (
        f"SELECT 1 AS part, 0 AS step, v AS s, entered_by AS n, NULL AS m "
        f"FROM {_top(q, level, TOP_VALUES + 1)} AS {q.alias('top')}"
    )


def _top(q: Query, entries: str, limit: int) -> str:
    """A subquery: the `limit` breakdown values with most entries, (v, entered_by) each."""
    return (
        f"(SELECT v, count(*) AS entered_by FROM {entries} AS {q.alias('entries')} "
        f"GROUP BY v ORDER BY entered_by DESC, v LIMIT {limit})"
    )


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
        _, levels = _levels(q, scope, steps, window_seconds, by, breakdown)
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
