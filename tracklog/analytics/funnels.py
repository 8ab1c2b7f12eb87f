"""Funnels: how many people (or accounts) did each step in order within a window.

Each subject enters at its first occurrence of step 1 in the range; step k counts when a
step-k event follows the step k-1 event it reached, no later than `window` seconds after the
entry. Written as one join per step, which both stores run without window functions.
"""

from __future__ import annotations

from typing import Any

from tracklog.analytics.scope import Scope, events_source, new_query


def funnel(
    store: Any, scope: Scope, steps: list[str], window_seconds: int, by: str = "users"
) -> dict[str, Any]:
    """Per-step counts, conversion from the first step and from the previous one."""
    q = new_query(store)
    d = q.dialect
    subject = "grp" if by == "accounts" else "person"
    extra = ["coalesce(group_id, '') != ''"] if by == "accounts" else []

    def step_events(name: str) -> str:
        source = events_source(q, scope, [f"event_name = {q.param(name)}", *extra])
        return f"(SELECT {subject} AS subject, {d.epoch('ts')} AS t FROM {source})"

    # Each level names its reached time r<k>: ClickHouse aliases are global to a query, so
    # reusing one name across levels would make a WHERE read the wrong column.
    level = (
        f"(SELECT subject, min(t) AS entered, min(t) AS r0 "
        f"FROM {step_events(steps[0])} GROUP BY subject)"
    )
    levels = [level]
    for k, name in enumerate(steps[1:], start=1):
        level = (
            f"(SELECT subject, entered, min(t) AS r{k} FROM {level} {d.inner_join} "
            f"{step_events(name)} USING (subject) WHERE t >= r{k - 1} "
            f"AND t <= entered + {int(window_seconds)} GROUP BY subject, entered)"
        )
        levels.append(level)
    counts_sql = " UNION ALL ".join(
        f"SELECT {i} AS step, count(*) AS n FROM {lvl}" for i, lvl in enumerate(levels)
    )
    rows = q.run(store, f"SELECT step, n FROM ({counts_sql})")
    counts = {int(s): int(n) for s, n in rows}
    first = counts.get(0, 0)
    result = []
    for i, name in enumerate(steps):
        n = counts.get(i, 0)
        before = counts.get(i - 1, 0) if i else n
        result.append(
            {
                "event_name": name,
                "count": n,
                "conversion": round(n / first, 4) if first else 0.0,
                "from_previous": round(n / before, 4) if before else 0.0,
            }
        )
    return {"by": by, "window_seconds": window_seconds, "steps": result}
