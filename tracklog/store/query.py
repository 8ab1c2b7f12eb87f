"""SQL written once for every store: parameters named the store's way, and its dialect.

`Query` collects parameters under generated names in the store's placeholder style, so no
client value is ever formatted into SQL; `Dialect` (tracklog/store/dialect.py) holds the few
expressions DuckDB and ClickHouse spell differently.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from tracklog.store.dialect import Dialect, dialect_for

# The times ClickHouse 18.16 compares correctly: DateTime is unsigned 32-bit seconds since
# 1970, and its toDateTime('2106-…') wraps around to 1970, so a bound stops at 2105's end.
CLICKHOUSE_TIMES = (dt.datetime(1970, 1, 1), dt.datetime(2105, 12, 31, 23, 59, 59))


# The id an event was sent by: its user id, else its anonymous id ('' when it has neither).
SENDER = "ifNull(CASE WHEN coalesce(user_id, '') != '' THEN user_id ELSE anonymous_id END, '')"


@dataclass
class Query:
    """A SQL statement under construction and its parameters."""

    placeholder: Callable[[str], str]
    dialect: Dialect
    # The events relation reports read: DuckDB's table, or ClickHouse's local or distributed
    # table with FINAL (faster than its deduplicating view, which 18.16 cannot push into).
    table: str = "events"
    # Each id's person, and traits (tracklog/store/profiles.py), as the store reads them.
    identities: str = "identities"
    traits: str = "traits"
    params: dict[str, Any] = field(default_factory=dict)
    aliases: int = 0
    # Subqueries the statement reads more than once, by name (see `shared`).
    subqueries: list[tuple[str, str]] = field(default_factory=list)

    def param(self, value: Any) -> str:
        """A placeholder bound to `value`."""
        name = f"p{len(self.params)}"
        self.params[name] = value
        return self.placeholder(name)

    def run(self, store: Any, sql: str) -> list[tuple[Any, ...]]:
        """Run `sql` on `store` with the parameters it uses (DuckDB refuses unused ones),
        after the `shared` subqueries it reads."""
        if self.subqueries:
            named = ", ".join(f"{name} AS MATERIALIZED {sub}" for name, sub in self.subqueries)
            sql = f"WITH {named} {sql}"
        used = {n: v for n, v in self.params.items() if re.search(rf"\b{n}\b", sql)}
        rows: list[tuple[Any, ...]] = store.query(sql, used)
        if self.dialect.name == "clickhouse":  # its DateTime('UTC') comes back tz-aware
            return [tuple(_naive(v) for v in row) for row in rows]
        return rows

    def one_of(self, column: str, values: Sequence[str]) -> str:
        """`column IN (…)`, one parameter per value (false for no values)."""
        if not values:
            return "1 = 0"
        return f"{column} IN ({', '.join(self.param(v) for v in values)})"

    def alias(self, name: str) -> str:
        """A name for a joined subquery, unique in the statement.

        Current ClickHouse refuses a join of unnamed subqueries (ALIAS_REQUIRED; setting
        `joined_subquery_requires_alias = 0` is no way out, as 18.16 rejects the setting),
        so both sides of every join are named; 18.16 and DuckDB accept the names too.
        """
        self.aliases += 1
        return f"{name}_{self.aliases}"

    @property
    def shares(self) -> bool:
        """Whether a `shared` subquery is computed once however often a statement reads it."""
        return self.dialect.name == "duckdb"

    def shared(self, name: str, subquery: str) -> str:
        """What to read a parenthesized subquery as when the statement reads it more than once.

        On DuckDB, the name of a materialized CTE that `run` puts before the statement, so it
        is computed once (its planner shares only some repeated subqueries by itself). ClickHouse
        18.16 has no WITH for subqueries: there it is the subquery, computed where it is read.
        """
        if not self.shares:
            return subquery
        named = self.alias(name)
        self.subqueries.append((named, subquery))
        return named

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

    def during(self, lo: dt.datetime, hi: dt.datetime) -> str:
        """SQL: the event's timestamp is in [lo, hi).

        On ClickHouse the local days of the events' sort key are bounded too: 18.16 does not
        derive them from a time range, so a day's events read every part (1.8 s instead of
        0.5 s with FINAL at 10M events). A day of slack each side: toDate() counts days in
        the server's zone, the bounds are UTC, and the extra condition only narrows the read.
        """
        sql = f"timestamp >= {self.time(lo)} AND timestamp < {self.time(hi, end=True)}"
        if self.dialect.name == "clickhouse":
            # Not near the ends of Date's range (1970-2149), where the slack would wrap.
            slack = dt.timedelta(days=2)
            if lo > CLICKHOUSE_TIMES[0] + slack:
                sql += f" AND toDate(timestamp) >= toDate({self.time(lo)}) - 1"
            if hi < CLICKHOUSE_TIMES[1] - slack:
                sql += f" AND toDate(timestamp) <= toDate({self.time(hi, end=True)}) + 1"
        return sql

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
        identities=getattr(store, "identities_table", "identities"),
        traits=getattr(store, "traits_table", "traits"),
    )
