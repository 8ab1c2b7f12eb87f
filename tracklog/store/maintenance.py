"""Statements for running a store: is it there, what does it hold, drop what is too old."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from tracklog.events import to_ms
from tracklog.store import rollup_check, rollups
from tracklog.store.base import Store
from tracklog.store.events import workspaces_with_events as events_of
from tracklog.store.query import new_query


def ping(store: Store) -> None:
    """Ask the store for nothing; raises StoreUnavailable when it does not answer."""
    store.query("SELECT 1", {})


def probe_write(store: Store) -> None:
    """Write one row nobody reads, to learn whether the store can write now.

    A replay marker for a random id in no workspace (none is named ""), so no list changes.
    Raises StoreUnavailable, or StoreFull while the disk is still full.
    """
    store.mark_replayed("", [uuid.uuid4()])


def check_writable(store: Store) -> None:
    """Whether the store can write now: its own check (free space), then a probe write."""
    store.check_writable()
    probe_write(store)


def facts(store: Store) -> dict[str, Any]:
    """What `tracklog doctor` checks: active keys per workspace and scope, events stored, and
    a sample of the rollup compared with the events (tracklog/store/rollup_check.py)."""
    ping(store)
    active: dict[str, dict[str, int]] = {w.name: {} for w in store.workspaces()}
    for record in store.key_records():
        if record.revoked_at is None and record.workspace in active:
            scopes = active[record.workspace]
            scopes[record.scope] = scopes.get(record.scope, 0) + 1
    events = store.query("SELECT count(*) FROM events", {})[0][0]
    return {"workspaces": active, "events": int(events), "rollups": rollup_check.sample(store)}


def rebuild_rollups(store: Store, workspace: str | None = None) -> list[str]:
    """Count the rollup of one workspace (or of every one) again from its stored events, in
    the zone it counts in; the workspaces done."""
    names = {w.name for w in store.workspaces()} | set(events_of(store))
    if workspace is not None:
        names &= {workspace}
    for name in sorted(names):
        store.rebuild_rollups(name, store.rollup_zone(name))
    return sorted(names)


def drop_older_than(store: Store, workspace: str, cutoff: dt.datetime) -> dict[str, int]:
    """Delete a workspace's events and quarantined elements from before `cutoff`."""
    # Compared as times, not as milliseconds, so ClickHouse prunes by its partitions and
    # key instead of reading every event of the workspace.
    q = new_query(store)
    older = f"workspace = {q.param(workspace)} AND {{column}} < {q.time(cutoff)}"
    events = store.delete_rows("events", older.format(column="timestamp"), q.params)
    held = store.delete_rows("quarantine", older.format(column="received_at"), q.params)
    if events:
        # The rollup's days up to the cutoff's are counted again from the events kept.
        zone = store.rollup_zone(workspace)
        store.rebuild_rollups(workspace, zone, (0, rollups.local_day(to_ms(cutoff), zone)))
    return {"events": events, "quarantined": held}
