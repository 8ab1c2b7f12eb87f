"""`tracklog doctor`'s look at the rollup: does it still count what the events hold?

The rollup (tracklog/store/rollups.py) is kept at commit time, so it drifts only if something
went wrong: on ClickHouse a day-rows insert lost after its events were stored, or two nodes
racing on one id (docs/clickhouse.md); anywhere, a file edited by hand. A sample is cheap to
check against a raw count: the last days with events of the workspaces written to last, per
local day and event name, the events each rollup table counts and the senders the activity
masks mark active. `tracklog rollups rebuild` counts the rollup again from the events.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from tracklog.events import to_ms
from tracklog.store import rollups
from tracklog.store.base import Store
from tracklog.store.clock import wall_sql
from tracklog.store.query import SENDER, Query, new_query
from tracklog.zones import Zone

# How much is sampled: the workspaces written to last, and their last local days.
WORKSPACES = 3
DAYS = 7
_NOT_ACTIVITY = ", ".join(f"'{t}'" for t in rollups.NOT_ACTIVITY)
Counts = dict[tuple[int, str], int]


def sample(store: Store, workspaces: int = WORKSPACES, days: int = DAYS) -> dict[str, Any]:
    """What was sampled ({workspace, first_day, last_day}) and every disagreement found
    ({workspace, day, event_name, table, rollup, events}): day numbers are local days of the
    workspace's rollup zone, as ISO dates."""
    q = new_query(store)
    latest = q.run(
        store,
        f"SELECT workspace, max(timestamp) AS latest FROM {q.table} GROUP BY workspace "
        f"ORDER BY latest DESC, workspace LIMIT {int(workspaces)}",
    )
    sampled, found = [], []
    for workspace, last_time in latest:
        zone = store.rollup_zone(str(workspace))
        last = rollups.local_day(to_ms(last_time), zone)
        first = last - days + 1
        z = Zone(zone)
        sampled.append(
            {
                "workspace": str(workspace),
                "zone": zone,
                "first_day": _date(first),
                "last_day": _date(last),
            }
        )
        found += _compare(store, str(workspace), z, first, last)
    return {"sampled": sampled, "mismatches": found}


def _compare(
    store: Store, workspace: str, zone: Zone, first: int, last: int
) -> list[dict[str, Any]]:
    events, senders = _raw(store, workspace, zone, first, last)
    tables = {
        "activity_days": (_day_sums(store, "activity_days", workspace, first, last), events),
        "event_days": (_day_sums(store, "event_days", workspace, first, last), events),
        "activity_masks": (_active_senders(store, workspace, first, last), senders),
    }
    out = []
    for table, (counted, truth) in tables.items():
        for day, name in sorted(set(counted) | set(truth)):
            if counted.get((day, name), 0) != truth.get((day, name), 0):
                out.append(
                    {
                        "workspace": workspace,
                        "day": _date(day),
                        "event_name": name,
                        "table": table,
                        "rollup": counted.get((day, name), 0),
                        "events": truth.get((day, name), 0),
                    }
                )
    return out


def _raw(store: Store, workspace: str, zone: Zone, first: int, last: int) -> tuple[Counts, Counts]:
    """Per local day and event name: the stored events, and the distinct senders of activity."""
    q = new_query(store)
    d = q.dialect
    start, end = zone.day_start(first), zone.day_start(last + 1)
    day = d.idiv(wall_sql(zone, d.epoch("timestamp"), start, end), str(rollups.DAY_SECONDS))
    rows = q.run(
        store,
        # coalesce: ClickHouse 18.16 counts no distinct value as NULL, later ones as 0.
        f"SELECT day, name, count(*), coalesce(count(DISTINCT CASE WHEN type NOT IN "
        f"({_NOT_ACTIVITY}) AND sender != '' THEN sender END), 0) FROM (SELECT "
        f"{d.int64(day)} AS day, "
        f"ifNull(event_name, '') AS name, type, {SENDER} AS sender FROM {q.table} "
        f"WHERE workspace = {q.param(workspace)} AND timestamp >= {q.time(start)} "
        f"AND timestamp < {q.time(end, end=True)}) AS {q.alias('sample')} GROUP BY day, name",
    )
    events = {(int(r[0]), str(r[1])): int(r[2]) for r in rows}
    senders = {(int(r[0]), str(r[1])): int(r[3] or 0) for r in rows if r[3]}
    return events, senders


def _day_sums(store: Store, table: str, workspace: str, first: int, last: int) -> Counts:
    q = new_query(store)
    total = "sumMerge(events)" if q.dialect.name == "clickhouse" else "sum(events)"
    rows = q.run(
        store,
        f"SELECT {q.dialect.int64('day')} AS d, event_name, {total} FROM {table} "
        f"WHERE {_days(q, workspace, 'day', first, last)} GROUP BY day, event_name",
    )
    return {(int(r[0]), str(r[1])): int(r[2]) for r in rows if r[2]}


def _active_senders(store: Store, workspace: str, first: int, last: int) -> Counts:
    """Per day and event name, how many senders' masks (merged over partial rows and test
    flags) have that day's bit."""
    q = new_query(store)
    d = q.dialect
    merged = d.or_states("days") if d.name == "clickhouse" else d.or_all("days")
    wanted = list(range(first, last + 1))
    counts = ", ".join(
        f"sum(CASE WHEN blk = {n // rollups.BLOCK_DAYS} AND "
        f"{d.bit_and('m', d.mask(1 << (n % rollups.BLOCK_DAYS)))} != {d.mask(0)} "
        f"THEN 1 ELSE 0 END)"
        for n in wanted
    )
    blocks = _days(q, workspace, "block", first // rollups.BLOCK_DAYS, last // rollups.BLOCK_DAYS)
    rows = q.run(
        store,
        f"SELECT name, {counts} FROM (SELECT {d.int64('block')} AS blk, event_name AS name, "
        f"{merged} AS m FROM activity_masks WHERE {blocks} AND kind = 'actor' "
        f"GROUP BY block, subject, event_name) AS {q.alias('masks')} GROUP BY name",
    )
    return {
        (n, str(row[0])): int(v) for row in rows for n, v in zip(wanted, row[1:], strict=True) if v
    }


def _date(day: int) -> str:
    """A local day number as its ISO date."""
    return (dt.date(1970, 1, 1) + dt.timedelta(days=day)).isoformat()


def _days(q: Query, workspace: str, column: str, first: int, last: int) -> str:
    return (
        f"workspace = {q.param(workspace)} AND {column} >= {q.param(max(first, 0))} "
        f"AND {column} <= {q.param(max(last, 0))}"
    )
