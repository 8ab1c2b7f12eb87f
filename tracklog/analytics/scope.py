"""What every report is asked about (workspace, time range, test events) and how SQL is built.

`Query` collects parameters under generated names in the store's placeholder style, so report
code never formats a client's value into SQL. `events_source` is the one place that decides
which events a report sees and who a person is: an anonymous id seen on any event together
with a user id (identify, alias, or a tracked event) counts as that user.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tracklog.analytics.dialect import Dialect, dialect_for

DAY = 86_400
# Days one activity mask holds: a bit per day in an unsigned 64-bit integer (DuckDB reports
# count distinct people per day from one mask per person instead of DISTINCT per day).
MASK_DAYS = 64
# The times ClickHouse 18.16 compares correctly: DateTime is unsigned 32-bit seconds since
# 1970, and its toDateTime('2106-…') wraps around to 1970, so a bound stops at 2105's end.
CLICKHOUSE_TIMES = (dt.datetime(1970, 1, 1), dt.datetime(2105, 12, 31, 23, 59, 59))


@dataclass(frozen=True)
class Scope:
    """A report's subject: one workspace's events in [start, end)."""

    workspace: str
    start: dt.datetime
    end: dt.datetime
    include_test: bool = False


@dataclass
class Query:
    """A SQL statement under construction and its parameters."""

    placeholder: Callable[[str], str]
    dialect: Dialect
    # The events relation reports read: DuckDB's table, or ClickHouse's local or distributed
    # table with FINAL (faster than its deduplicating view, which 18.16 cannot push into).
    table: str = "events"
    params: dict[str, Any] = field(default_factory=dict)

    def param(self, value: Any) -> str:
        """A placeholder bound to `value`."""
        name = f"p{len(self.params)}"
        self.params[name] = value
        return self.placeholder(name)

    def run(self, store: Any, sql: str) -> list[tuple[Any, ...]]:
        """Run `sql` on `store` with the parameters it uses (DuckDB refuses unused ones)."""
        used = {n: v for n, v in self.params.items() if re.search(rf"\b{n}\b", sql)}
        rows: list[tuple[Any, ...]] = store.query(sql, used)
        if self.dialect.name == "clickhouse":  # its DateTime('UTC') comes back tz-aware
            return [tuple(_naive(v) for v in row) for row in rows]
        return rows

    def time(self, t: dt.datetime, end: bool = False) -> str:
        """A time parameter, comparable with the timestamp column (`end`: an exclusive bound)."""
        if self.dialect.name == "clickhouse":
            if t.microsecond:
                # Its DateTime holds whole seconds: round a start down and an end up, so an
                # event stored as 12:00:05 is inside a range ending at 12:00:05.400.
                t = t.replace(microsecond=0) + (dt.timedelta(seconds=1) if end else dt.timedelta())
            # DateTime cannot hold a time outside 1970-2106 (a query with one fails); events
            # outside it are stored at its ends, so bounds clamped the same way pick the same.
            t = min(max(t, CLICKHOUSE_TIMES[0]), CLICKHOUSE_TIMES[1])
        return self.dialect.time_value(self.param(t))

    def prop_text(self, key: str, column: str = "properties") -> str:
        """A property's value as text."""
        return self.dialect.prop_text(column, self.param(self.dialect.prop_key(key)))

    def prop_number(self, key: str, column: str = "properties") -> str:
        """A property's value as a number."""
        return self.dialect.prop_number(column, self.param(self.dialect.prop_key(key)))


def _naive(value: Any) -> Any:
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        return value.astimezone(dt.UTC).replace(tzinfo=None)
    return value


def new_query(store: Any) -> Query:
    """A Query for `store` (anything with `placeholder` and an optional `dialect`)."""
    return Query(
        store.placeholder,
        dialect_for(getattr(store, "dialect", "duckdb")),
        table=getattr(store, "events_table", "events"),
    )


def person_map(q: Query, workspace: str) -> str:
    """A subquery: anonymous_id -> the user id it was seen with (the smallest, if several)."""
    return (
        f"(SELECT anonymous_id, min(user_id) AS mapped_user FROM {q.table} "
        f"WHERE workspace = {q.param(workspace)} AND coalesce(anonymous_id, '') != '' "
        f"AND coalesce(user_id, '') != '' GROUP BY anonymous_id)"
    )


def events_source(
    q: Query,
    scope: Scope,
    where: list[str] | None = None,
    start: dt.datetime | None = None,
    tracks_only: bool = False,
    persons: bool = True,
) -> str:
    """A subquery of the scope's events as (ts, day, event_name, type, person, grp, properties).

    `start` widens the range backwards (rolling windows need the days before the range).
    Events with a user id are their own person; only the rest (anonymous ones, usually few)
    are joined with the person map, so the join stays small however many events there are.
    `persons=False` skips that work for reports that only count events (person is NULL).
    """
    conditions = [
        f"workspace = {q.param(scope.workspace)}",
        f"timestamp >= {q.time(start or scope.start)}",
        f"timestamp < {q.time(scope.end, end=True)}",
        *(where or []),
    ]
    if not scope.include_test:
        conditions.append("NOT is_test")
    if tracks_only:
        conditions.append("type = 'track'")
    d = q.dialect
    matching = " AND ".join(conditions)
    columns = (
        f"timestamp AS ts, {d.idiv(d.epoch('timestamp'), str(DAY))} AS day, event_name, type, "
        f"{{person}} AS person, group_id AS grp, properties"
    )
    if not persons:
        return f"(SELECT {columns.format(person='NULL')} FROM {q.table} WHERE {matching})"
    known = (
        f"SELECT {columns.format(person='user_id')} FROM {q.table} "
        f"WHERE {matching} AND coalesce(user_id, '') != ''"
    )
    anonymous = (
        f"SELECT {columns.format(person='coalesce(mapped_user, anonymous_id)')} FROM "
        f"(SELECT timestamp, event_name, type, anonymous_id, group_id, properties "
        f"FROM {q.table} WHERE {matching} AND coalesce(user_id, '') = '') "
        f"{d.left_join} {person_map(q, scope.workspace)} USING (anonymous_id)"
    )
    return f"({known} UNION ALL {anonymous})"


def day_bit(day: str, first: int) -> str:
    """DuckDB SQL: the bit of day number `day` in a MASK_DAYS mask whose bit 0 is day `first`."""
    return f"(1::UBIGINT << ({day} - {first})::UBIGINT)"


def mask_any(mask: str, low: int, width: int) -> str:
    """DuckDB SQL: whether `mask` has any of the `width` bits from bit `low` set."""
    return f"((({mask}) >> {low}) & {(1 << width) - 1}::UBIGINT != 0)"


def day_number(t: dt.datetime) -> int:
    """Days since 1970-01-01 of a naive UTC time."""
    return (t - dt.datetime(1970, 1, 1)).days


def day_date(n: int) -> dt.date:
    """The date of a day number."""
    return dt.date(1970, 1, 1) + dt.timedelta(days=n)
