"""What every report is asked about (workspace, time range, test events) and whom it counts.

`events_source` is the one place that decides which events a report sees and who a person
is: an anonymous id seen on any event together with a user id (identify, alias, or a tracked
event) counts as that user. SQL is built with tracklog.store.query's `Query`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from tracklog.analytics.timeline import Calendar, calendar
from tracklog.store.clock import wall_sql
from tracklog.store.query import SENDER, Query

DAY = 86_400
# Activity: every event but identify, group and alias calls (docs/analytics.md).
ACTIVITY = "type NOT IN ('identify', 'group', 'alias')"


def active_subjects(q: Query, of: str, event: str | None) -> tuple[str, list[str]]:
    """Who is counted as active ("grp" for accounts, "person" for users) and the conditions
    of their activity: any activity, or one event name's; accounts only where there is one."""
    where = [ACTIVITY]
    if event is not None:
        where.append(f"event_name = {q.param(event)}")
    if of == "accounts":
        where.append("coalesce(group_id, '') != ''")
    return ("grp" if of == "accounts" else "person"), where


# Days one activity mask holds: a bit per day in an unsigned 64-bit integer (DuckDB reports
# count distinct people per day from one mask per person instead of DISTINCT per day).
MASK_DAYS = 64


@dataclass(frozen=True)
class Scope:
    """A report's subject: one workspace's events in [start, end), and the zone of its days."""

    workspace: str
    start: dt.datetime
    end: dt.datetime
    include_test: bool = False
    timezone: str = "UTC"  # an IANA name (checked by tracklog.zones)
    raw: bool = False  # count from the events even where the day rollup could answer

    @property
    def calendar(self) -> Calendar:
        """Hours, days, weeks and months of the scope's zone."""
        return calendar(self.timezone)


def identities(q: Query, workspace: str) -> str:
    """A subquery: (actor, person_of) for every id that belongs to a person (profiles)."""
    return (
        f"(SELECT id AS actor, person AS person_of FROM {q.identities} "
        f"WHERE workspace = {q.param(workspace)})"
    )


def person_of(column: str = "actor") -> str:
    """SQL for the person of an actor joined with `identities` (NULL when there is no id)."""
    return (
        f"CASE WHEN coalesce(person_of, '') != '' THEN person_of "
        f"WHEN {column} != '' THEN {column} END"
    )


def sent_by(q: Query, workspace: str, person: str) -> str:
    """SQL: the event was sent by one of `person`'s ids (`person` already resolved)."""
    return (
        f"({SENDER} = {q.param(person)} OR {SENDER} IN (SELECT id FROM {q.identities} "
        f"WHERE workspace = {q.param(workspace)} AND person = {q.param(person)}))"
    )


def events_source(
    q: Query,
    scope: Scope,
    where: list[str] | None = None,
    start: dt.datetime | None = None,
    tracks_only: bool = False,
    persons: bool = True,
    local_time: bool = False,
    actors: bool = False,
) -> str:
    """A subquery of the scope's events as (ts, wall, day, event_name, type, person, grp,
    properties, n), one row per event (n = 1, as in tracklog/analytics/activity.py).

    With `local_time`, `wall` is the time on the scope zone's clock (seconds since 1970,
    local) and `day` the local day number; else both are NULL: their offsets are a CASE over
    the zone's changes in the span, which an all-time span makes long to plan.

    `start` widens the range backwards (rolling windows need the days before the range).
    Each event's person is its sender's id resolved through the identities the store keeps
    (docs/analytics.md, "Who is a person").
    `persons=False` skips that work for reports that only count events (person is NULL).
    `actors=True` skips it too and adds `actor`, the id that sent the event, for a report
    that narrows the rows first (a DISTINCT) and resolves fewer (`identities`, `person_of`).
    """
    conditions = [
        f"workspace = {q.param(scope.workspace)}",
        q.during(start or scope.start, scope.end),
        *(where or []),
    ]
    if not scope.include_test:
        conditions.append("NOT is_test")
    if tracks_only:
        conditions.append("type = 'track'")
    d = q.dialect
    matching = " AND ".join(conditions)
    wall, day = "NULL", "NULL"
    if local_time:
        epoch = d.epoch("timestamp")
        wall = wall_sql(scope.calendar.zone, epoch, start or scope.start, scope.end)
        day = d.idiv(wall, str(DAY))
    columns = (
        f"timestamp AS ts, {wall} AS wall, {day} AS day, event_name, type, "
        f"{{person}} AS person, group_id AS grp, properties, 1 AS n"
    )
    if not persons or actors:
        sender = f", {SENDER} AS actor" if actors else ""
        return f"(SELECT {columns.format(person='NULL')}{sender} FROM {q.table} WHERE {matching})"
    sent = (
        f"(SELECT timestamp, event_name, type, group_id, properties, {SENDER} AS actor "
        f"FROM {q.table} WHERE {matching})"
    )
    return (
        f"(SELECT {columns.format(person=person_of())} FROM {sent} AS {q.alias('sent')} "
        f"{d.left_join} {identities(q, scope.workspace)} AS {q.alias('persons')} USING (actor))"
    )


def day_bit(day: str, first: int) -> str:
    """DuckDB SQL: the bit of day number `day` in a MASK_DAYS mask whose bit 0 is day `first`."""
    return f"(1::UBIGINT << ({day} - {first})::UBIGINT)"


def mask_any(mask: str, low: int, width: int) -> str:
    """DuckDB SQL: whether `mask` has any of the `width` bits from bit `low` set."""
    return f"((({mask}) >> {low}) & {(1 << width) - 1}::UBIGINT != 0)"
