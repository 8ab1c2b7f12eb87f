"""The one small interface every store implements, and the records it keeps beside events.

Write path: `write` is the only way events reach a store; it is called by the single committer
with a whole group of requests at once and must be durable when it returns. Read path:
`query` runs SQL written with `placeholder`, so reports are written once for every store.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from typing import Any, Protocol

import msgspec

from tracklog.events import Event, Rejected


class StoreUnavailable(Exception):
    """The store cannot be reached or written now; the caller may retry later (503)."""


class Workspace(msgspec.Struct, frozen=True):
    """A tenant: its events, keys, plan mode and retention policy are its own."""

    name: str
    plan_mode: str = "warn"
    created_at: dt.datetime | None = None
    # Events (and quarantine) older than this many days are dropped; 0 keeps them forever.
    retention_days: int = 0


class KeyRecord(msgspec.Struct, frozen=True):
    """An API key as stored: never the key itself, only its hash."""

    key_id: str
    workspace: str
    scope: str
    key_hash: str
    created_at: dt.datetime
    revoked_at: dt.datetime | None = None
    label: str = ""


class Suppression(msgspec.Struct, frozen=True):
    """A user deleted at a privacy request, whose new events a workspace refuses."""

    workspace: str
    user_id: str
    created_at: dt.datetime
    active: bool = True  # False: lifted (unsuppressed)


class AuditEntry(msgspec.Struct, frozen=True):
    """One privacy-relevant act: who (a key id, never a key), what, when, and counts."""

    id: uuid.UUID
    workspace: str
    at: dt.datetime
    actor: str
    action: str
    subject: str = ""
    counts: dict[str, int] = {}


# Tables `delete_rows` may delete from.
DELETABLE = ("events", "quarantine")


class Store(Protocol):
    """Where events, quarantine, workspaces and keys live."""

    url: str
    # Which SQL the store speaks ("duckdb" or "clickhouse"): reports pick fragments by it.
    dialect: str
    # What follows FROM to read events, each id once ("events" works too, maybe slower).
    events_table: str
    # Least seconds between group commits (the committer's default; a setting overrides it).
    commit_interval: float

    def setup(self) -> None:
        """Create the schema if it is not there yet."""

    def close(self) -> None:
        """Release connections and files."""

    # -- write path -------------------------------------------------------------------------
    def write(self, events: Sequence[Event], rejected: Sequence[Rejected]) -> set[uuid.UUID]:
        """Durably store `events` not stored before, and `rejected`, as one unit.

        `events` holds no id twice. Returns the ids that were already stored (duplicates),
        which are not written again. Raises StoreUnavailable when nothing could be written.
        """

    # -- read path --------------------------------------------------------------------------
    def placeholder(self, name: str) -> str:
        """How a named parameter is written in this store's SQL."""

    def epoch_ms(self, column: str) -> str:
        """SQL for a stored time column as whole milliseconds since 1970 (an integer)."""

    def query(self, sql: str, params: dict[str, Any]) -> list[tuple[Any, ...]]:
        """Run a read-only statement and return its rows."""

    # -- workspaces, keys, quarantine replays -------------------------------------------------
    def workspaces(self) -> list[Workspace]:
        """Every workspace."""

    def save_workspace(self, workspace: Workspace) -> None:
        """Create a workspace or update its settings."""

    def key_records(self) -> list[KeyRecord]:
        """Every key record, revoked ones included."""

    def save_key(self, key: KeyRecord) -> None:
        """Add a key record, or replace the one with the same key_id (to revoke it)."""

    def mark_replayed(self, workspace: str, quarantine_ids: Sequence[uuid.UUID]) -> None:
        """Record that these quarantined events were replayed, so they leave the list."""

    # -- privacy: deletion, suppression, audit ----------------------------------------------------
    def delete_rows(self, table: str, where: str, params: dict[str, Any]) -> int:
        """Delete the rows of `table` (one of DELETABLE) matching `where`; return how many.

        When it returns, reads no longer see the rows. `where` is written with `placeholder`.
        """

    def suppressions(self) -> list[Suppression]:
        """Every active suppression, of every workspace."""

    def save_suppression(self, suppression: Suppression) -> None:
        """Add a suppression, or lift one (`active=False`)."""

    def audit_entries(self, workspace: str | None, limit: int) -> list[AuditEntry]:
        """The newest `limit` audit entries of a workspace (or of all), newest first."""

    def add_audit(self, entry: AuditEntry) -> None:
        """Record one audit entry."""
