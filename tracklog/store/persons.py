"""One person's rows: which person an id belongs to, their ids and events, and erasing them.

A person is a user id (or an anonymous id that never met one) plus every id that resolves
to them through the identities the store keeps (tracklog/store/profiles.py): anonymous ids
seen together with their user id, and ids merged into theirs by alias or reidentify calls.
Their events are those sent by any of their ids (an event is sent by its user id, else by
its anonymous id).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from tracklog.store import events
from tracklog.store.base import Store
from tracklog.store.query import SENDER, new_query


@dataclass(frozen=True)
class Person:
    """One person of a workspace: their id and every other id that belongs to them."""

    workspace: str
    user_id: str
    other_ids: tuple[str, ...]  # linked anonymous ids and merged ids alike


def resolve(store: Store, workspace: str, some_id: str) -> str:
    """The person an id belongs to (the id itself when it belongs to no one else)."""
    q = new_query(store)
    rows = q.run(
        store,
        f"SELECT person FROM {q.identities} WHERE workspace = {q.param(workspace)} "
        f"AND id = {q.param(some_id)}",
    )
    return str(rows[0][0]) if rows and rows[0][0] else some_id


def find(store: Store, workspace: str, some_id: str) -> Person:
    """The person `some_id` belongs to, with all their other ids."""
    person = resolve(store, workspace, some_id)
    q = new_query(store)
    rows = q.run(
        store,
        f"SELECT id FROM {q.identities} WHERE workspace = {q.param(workspace)} "
        f"AND person = {q.param(person)} AND id != {q.param(person)} ORDER BY id",
    )
    return Person(workspace, person, tuple(str(r[0]) for r in rows))


def user_ids(store: Store, workspace: str, ids: Sequence[str], include_test: bool) -> set[str]:
    """Which of `ids` some event carried as its user id (test events only if asked)."""
    if not ids:
        return set()
    q = new_query(store)
    test = "" if include_test else " AND NOT is_test"
    rows = q.run(
        store,
        f"SELECT DISTINCT user_id FROM {q.table} WHERE workspace = {q.param(workspace)} "
        f"AND {q.one_of('user_id', ids)}{test}",
    )
    return {str(r[0]) for r in rows}


def sent_by(store: Store, person: Person) -> tuple[str, dict[str, Any]]:
    """SQL (and its parameters) matching every event of `person`."""
    q = new_query(store)
    ids = q.one_of(SENDER, [person.user_id, *person.other_ids])
    return f"workspace = {q.param(person.workspace)} AND {ids}", q.params


def counts_by_type(store: Store, person: Person) -> dict[str, int]:
    """How many events of each type (track, identify, group, …) the person has."""
    where, params = sent_by(store, person)
    rows = store.query(
        f"SELECT type, count(*) FROM {store.events_table} WHERE {where} GROUP BY type", params
    )
    return {str(t): int(n) for t, n in rows}


def all_events(store: Store, person: Person) -> list[dict[str, Any]]:
    """Every event of the person, oldest first, as the API shows events."""
    where, params = sent_by(store, person)
    ts = store.epoch_ms("timestamp")
    rows = store.query(
        f"SELECT {events.columns(store)} FROM {store.events_table} WHERE {where} ORDER BY {ts}, id",
        params,
    )
    return [events.row(r) for r in rows]


def delete(store: Store, person: Person) -> int:
    """Delete every event of the person, their links, identities and traits, and count the
    rollup's days they were on again.

    Returns how many events were deleted. An account's traits stay: they are the account's.
    """
    ids = [person.user_id, *person.other_ids]
    q = new_query(store)
    span = q.run(
        store,
        f"SELECT min(day), max(day) FROM activity_days WHERE workspace = "
        f"{q.param(person.workspace)} AND {q.one_of('actor', ids)}",
    )
    where, params = sent_by(store, person)
    deleted = store.delete_rows("events", where, params)
    if span and span[0][0] is not None and deleted:
        # The rollup's days they were counted on, counted again without them.
        zone = store.rollup_zone(person.workspace)
        store.rebuild_rollups(person.workspace, zone, (int(span[0][0]), int(span[0][1])))
    for table, columns in (
        ("identity_links", ("id", "target")),
        ("identities", ("id", "person")),
        ("traits", ("subject",)),
    ):
        q = new_query(store)  # one per statement: DuckDB refuses unused parameters
        mine = " OR ".join(q.one_of(column, ids) for column in columns)
        kind = " AND kind = 'person'" if table == "traits" else ""
        store.delete_rows(
            table, f"workspace = {q.param(person.workspace)}{kind} AND ({mine})", q.params
        )
    return deleted
