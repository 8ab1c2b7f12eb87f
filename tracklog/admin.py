"""Workspace and key administration, the same whether the CLI opens the store or asks a server."""

from __future__ import annotations

import re

import msgspec

from tracklog.events import utcnow
from tracklog.ingest.plan import PLAN_MODES
from tracklog.keys import new_key
from tracklog.store.base import KeyRecord, Store, Workspace
from tracklog.zones import UnknownZone, check

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


class AdminError(ValueError):
    """A request the administrator can correct (unknown workspace, bad name, …)."""


def create_workspace(store: Store, name: str, plan_mode: str = "warn") -> Workspace:
    """Create a workspace; its name is letters, digits, `_`, `.` and `-`."""
    if not _NAME.match(name):
        raise AdminError(
            f"Workspace name {name!r} is not allowed: use up to 64 letters, digits, _ . -"
        )
    if any(w.name == name for w in store.workspaces()):
        raise AdminError(f"Workspace {name!r} already exists.")
    if plan_mode not in PLAN_MODES:
        raise AdminError(f"Plan mode must be one of {', '.join(PLAN_MODES)}.")
    workspace = Workspace(name=name, plan_mode=plan_mode, created_at=utcnow())
    store.save_workspace(workspace)
    return workspace


def set_plan_mode(store: Store, name: str, plan_mode: str) -> Workspace:
    """Change how strictly a workspace's events are checked against the plan."""
    if plan_mode not in PLAN_MODES:
        raise AdminError(f"Plan mode must be one of {', '.join(PLAN_MODES)}.")
    updated = msgspec.structs.replace(_workspace(store, name), plan_mode=plan_mode)
    store.save_workspace(updated)
    return updated


def set_retention(store: Store, name: str, days: int) -> Workspace:
    """Keep a workspace's events for `days` days (0: forever); older ones are dropped."""
    if not 0 <= days <= 100_000:
        raise AdminError("Retention is a number of days from 0 (keep forever) to 100000.")
    updated = msgspec.structs.replace(_workspace(store, name), retention_days=days)
    store.save_workspace(updated)
    return updated


def set_timezone(store: Store, name: str, timezone: str) -> Workspace:
    """Count a workspace's days, weeks and months in an IANA zone (America/Los_Angeles)."""
    try:
        check(timezone)
    except UnknownZone as exc:
        raise AdminError(str(exc)) from None
    updated = msgspec.structs.replace(_workspace(store, name), timezone=timezone)
    store.save_workspace(updated)
    # The activity rollup counts local days: counted again in the new zone.
    if store.rollup_zone(name) != timezone:
        store.rebuild_rollups(name, timezone)
    return updated


def create_key(
    store: Store, workspace: str, scope: str, label: str = "", test: bool = False
) -> tuple[str, KeyRecord]:
    """A new key for an existing workspace; the plaintext is returned here and nowhere else.

    With `test`, every event sent with the key is a test event, left out of reports.
    """
    _workspace(store, workspace)
    try:
        key, record = new_key(workspace, scope, label, test)
    except ValueError as exc:
        raise AdminError(str(exc)) from None
    store.save_key(record)
    return key, record


def revoke_key(store: Store, key_id: str) -> KeyRecord:
    """Revoke a key by its id (as `keys list` shows it), and end the dashboard sessions it
    opened (on every node sharing the store, at once)."""
    for record in store.key_records():
        if record.key_id == key_id:
            if record.revoked_at is not None:
                store.end_sessions(key_id, record.revoked_at)  # a revocation cut short
                return record
            revoked = msgspec.structs.replace(record, revoked_at=utcnow())
            store.save_key(revoked)
            store.end_sessions(key_id, revoked.revoked_at or utcnow())
            return revoked
    raise AdminError(f"No key with id {key_id!r}; `tracklog keys list` shows the ids.")


def _workspace(store: Store, name: str) -> Workspace:
    for workspace in store.workspaces():
        if workspace.name == name:
            return workspace
    raise AdminError(f"No workspace named {name!r}; create it with `tracklog workspaces create`.")
