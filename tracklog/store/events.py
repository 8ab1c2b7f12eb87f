"""Reading stored events: one newest-first page of a filtered list, in the shape the API shows.

Written once for every store over `Store.placeholder` and `Store.epoch_ms`; times go out as
epoch milliseconds, which are exact on DuckDB and ClickHouse alike.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

import msgspec

from tracklog.events import Event, from_ms, iso, to_ms
from tracklog.store.base import Store
from tracklog.store.query import SENDER, new_query

TIME_COLUMNS = ("timestamp", "original_timestamp", "sent_at", "received_at")
_decode = msgspec.json.Decoder()

Cursor = tuple[dt.datetime, uuid.UUID]


def columns(store: Store) -> str:
    """The events columns the API shows, times as epoch milliseconds (exact on every store)."""
    times = ", ".join(store.epoch_ms(c) for c in TIME_COLUMNS)
    return (
        f"id, type, event_name, user_id, anonymous_id, group_id, {times}, "
        "properties, context, message_id, source, is_test"
    )


def row(values: tuple[Any, ...]) -> dict[str, Any]:
    """One events row (in `columns` order) as the API shows it."""
    return {
        "id": str(values[0]),
        "type": values[1],
        "event_name": values[2],
        "user_id": values[3] or None,
        "anonymous_id": values[4] or None,
        "group_id": values[5] or None,
        "timestamp": iso(values[6]),
        "original_timestamp": iso(values[7]),
        "sent_at": iso(values[8]),
        "received_at": iso(values[9]),
        "properties": _decode.decode(values[10]) if values[10] else {},
        "context": _decode.decode(values[11]) if values[11] else {},
        "message_id": values[12] or None,
        "source": values[13],
        "is_test": bool(values[14]),
    }


@dataclass(frozen=True)
class EventFilter:
    """Which of a workspace's events a list shows."""

    workspace: str
    event_name: str | None = None
    type: str | None = None
    user_id: str | None = None
    group_id: str | None = None
    # A person (tracklog/store/persons.py, resolved): the events sent by any of their ids.
    person: str | None = None
    start: dt.datetime | None = None
    end: dt.datetime | None = None
    include_test: bool = False


@dataclass(frozen=True)
class Page:
    """Some events, newest first, and where the next page starts (None: this was the last)."""

    events: list[dict[str, Any]]
    next_cursor: Cursor | None


def page(store: Store, wanted: EventFilter, limit: int, cursor: Cursor | None = None) -> Page:
    """Newest-first events matching `wanted`, at most `limit`, after `cursor`."""
    p = store.placeholder
    ts = store.epoch_ms("timestamp")
    where = [f"workspace = {p('ws')}"]
    params: dict[str, Any] = {"ws": wanted.workspace, "limit": limit + 1}
    for name in ("event_name", "type", "user_id", "group_id"):
        value = getattr(wanted, name)
        if value is not None:
            where.append(f"{name} = {p(name)}")
            params[name] = value
    if wanted.person is not None:
        where.append(
            f"({SENDER} = {p('uid')} OR {SENDER} IN (SELECT id FROM {store.identities_table} "
            f"WHERE workspace = {p('ws')} AND person = {p('uid')}))"
        )
        params["uid"] = wanted.person
    if not wanted.include_test:
        where.append("NOT is_test")
    if wanted.start is not None:
        where.append(f"{ts} >= {p('start')}")
        params["start"] = to_ms(wanted.start)
    if wanted.end is not None:
        where.append(f"{ts} < {p('end')}")
        params["end"] = to_ms(wanted.end)
    if cursor is not None:
        where.append(f"({ts} < {p('cts')} OR ({ts} = {p('cts')} AND id < {p('cid')}))")
        params["cts"], params["cid"] = to_ms(cursor[0]), cursor[1]
    rows = store.query(
        f"SELECT {columns(store)} FROM {store.events_table} WHERE {' AND '.join(where)} "
        f"ORDER BY {ts} DESC, id DESC LIMIT {p('limit')}",
        params,
    )
    more = len(rows) > limit
    rows = rows[:limit]
    return Page([row(r) for r in rows], (from_ms(rows[-1][6]), rows[-1][0]) if more else None)


def profile_sources(store: Store, after: tuple[int, uuid.UUID] | None, limit: int) -> list[Event]:
    """Stored events that carry profile facts, oldest first, after `after` (ms, id).

    Those are identify and group calls, whose every key is a trait (the links and the
    identity and account properties of other events come aggregated, from `links_seen` and
    `property_values`). Used to build profiles from events stored before profiles existed.
    """
    p = store.placeholder
    ts = store.epoch_ms("timestamp")
    params: dict[str, Any] = {"limit": limit}
    where = ["NOT is_test", "type IN ('identify', 'group')"]
    if after is not None:
        where.append(f"({ts} > {p('ats')} OR ({ts} = {p('ats')} AND id > {p('aid')}))")
        params["ats"], params["aid"] = after
    rows = store.query(
        f"SELECT id, workspace, type, user_id, anonymous_id, group_id, {ts}, properties "
        f"FROM {store.events_table} WHERE {' AND '.join(where)} "
        f"ORDER BY {ts}, id LIMIT {p('limit')}",
        params,
    )
    return [
        Event(
            id=r[0].bytes,
            workspace=r[1],
            type=r[2],
            user_id=r[3] or None,
            anonymous_id=r[4] or None,
            group_id=r[5] or None,
            timestamp=from_ms(r[6]),
            received_at=from_ms(r[6]),
            properties=_decode.decode(r[7]) if r[7] else {},
        )
        for r in rows
    ]


def links_seen(store: Store) -> list[tuple[str, str, str, bool, int]]:
    """(workspace, anonymous id, user id, by an alias call, latest ms) of every pair of ids
    seen together on an event that is not a test event."""
    ts = store.epoch_ms("timestamp")
    rows = store.query(
        f"SELECT workspace, anonymous_id, user_id, type = 'alias' AS merge, max({ts}) "
        f"FROM {store.events_table} WHERE NOT is_test AND coalesce(user_id, '') != '' "
        f"AND coalesce(anonymous_id, '') != '' AND anonymous_id != user_id "
        f"GROUP BY workspace, anonymous_id, user_id, merge",
        {},
    )
    return [(str(w), str(a), str(u), bool(m), int(t)) for w, a, u, m, t in rows]


def property_values(store: Store, key: str, account: bool) -> list[tuple[str, str, str, int]]:
    """(workspace, subject, value as JSON, latest ms) of each value one property took on
    events that are not test events: per sender on activity events, or (`account`) per
    account on every event but group calls."""
    q = new_query(store)
    value = q.dialect.prop_json("properties", q.param(q.dialect.prop_key(key)))
    if account:
        subject, kinds = "group_id", "type != 'group' AND coalesce(group_id, '') != ''"
    else:
        subject, kinds = SENDER, "type NOT IN ('identify', 'group', 'alias')"
    rows = q.run(
        store,
        f"SELECT workspace, subject, value, max(ms) FROM (SELECT workspace, {subject} AS "
        f"subject, {value} AS value, {store.epoch_ms('timestamp')} AS ms "
        f"FROM {store.events_table} WHERE NOT is_test AND {kinds}) AS {q.alias('values')} "
        f"WHERE coalesce(value, '') != '' GROUP BY workspace, subject, value",
    )
    return [(str(w), str(s), str(v), int(t)) for w, s, v, t in rows]


def workspaces_with_events(store: Store) -> list[str]:
    """Every workspace that has stored events."""
    # Existence needs no deduplication, and 18.16 cannot read FINAL over a Distributed
    # table without the sorting key ("Cannot find column id"): the rows as stored.
    table = getattr(store, "events_rows", store.events_table)
    rows = store.query(f"SELECT DISTINCT workspace FROM {table}", {})
    return sorted(str(r[0]) for r in rows)


def any_between(store: Store, workspace: str, start: dt.datetime, end: dt.datetime) -> bool:
    """Whether the workspace has a stored event (of any kind) in [start, end)."""
    q = new_query(store)
    # Existence needs no deduplication (a copy exists exactly when its event does), so
    # ClickHouse reads its rows as stored, not FINAL: no FINAL on the overview path.
    table = getattr(store, "events_rows", q.table)
    rows = q.run(
        store,
        f"SELECT 1 FROM {table} WHERE workspace = {q.param(workspace)} AND "
        f"{q.during(start, end)} LIMIT 1",
    )
    return bool(rows)
