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
from tracklog.store.profiles import ProfileFacts


class StoreUnavailable(Exception):
    """The store cannot be reached or written now; the caller may retry later (503)."""


class StoreLocked(StoreUnavailable):
    """Another process holds the store's file (a running `tracklog serve` on DuckDB)."""


class StoreFull(StoreUnavailable):
    """The store's disk is full: it answers, but cannot write until space is freed."""


# How a full disk shows in an error's text: the OS's ENOSPC (DuckDB, and ClickHouse writing a
# file) and ClickHouse's own refusal to reserve space (its error 243, NOT_ENOUGH_SPACE).
_DISK_FULL = ("No space left on device", "NOT_ENOUGH_SPACE", "Not enough space")


def disk_full(text: str) -> bool:
    """Whether a store's error text says its disk is full."""
    return any(sign in text for sign in _DISK_FULL)


class Workspace(msgspec.Struct, frozen=True):
    """A tenant: its events, keys, plan mode and retention policy are its own."""

    name: str
    plan_mode: str = "warn"
    created_at: dt.datetime | None = None
    # Events (and quarantine) older than this many days are dropped; 0 keeps them forever.
    retention_days: int = 0
    # The IANA zone whose days, weeks and months the reports count in (a request's `tz`
    # overrides it).
    timezone: str = "UTC"


class KeyRecord(msgspec.Struct, frozen=True):
    """An API key as stored: never the key itself, only its hash."""

    key_id: str
    workspace: str
    scope: str
    key_hash: str
    created_at: dt.datetime
    revoked_at: dt.datetime | None = None
    label: str = ""
    # Every event sent with a test key is a test event (left out of reports).
    test: bool = False


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


class SessionRecord(msgspec.Struct, frozen=True):
    """A dashboard sign-in as stored: the SHA-256 of its cookie's id (never the id), the key
    that opened it (by id), and its times. It ends at `ended_at`, or when idle too long
    after `seen_at`, or at `expires_at`, whichever comes first."""

    id_hash: str
    key_id: str
    workspace: str
    scope: str  # the key's scope (a session reads, whatever it is)
    created_at: dt.datetime
    seen_at: dt.datetime  # when it was last used (to the minute)
    expires_at: dt.datetime  # its absolute end
    ended_at: dt.datetime | None = None  # signed out, or its key revoked


# Tables `delete_rows` may delete from.
DELETABLE = (
    "events",
    "quarantine",
    "identity_links",
    "identities",
    "traits",
    "activity_days",
    "activity_masks",
    "event_days",
    "sender_blocks",
)


class Store(Protocol):
    """Where events, quarantine, workspaces and keys live."""

    url: str
    # Which SQL the store speaks ("duckdb" or "clickhouse"): reports pick fragments by it.
    dialect: str
    # What follows FROM to read events, each id once ("events" works too, maybe slower).
    events_table: str
    # What follows FROM to read each id's person, and traits (tracklog/store/profiles.py).
    identities_table: str
    traits_table: str
    # Least seconds between group commits (the committer's default; a setting overrides it).
    commit_interval: float

    def setup(self) -> None:
        """Create the schema if it is not there yet."""

    def close(self) -> None:
        """Release connections and files."""

    # -- write path -------------------------------------------------------------------------
    def write(
        self,
        events: Sequence[Event],
        rejected: Sequence[Rejected],
        facts: ProfileFacts | None = None,
    ) -> set[bytes]:
        """Durably store `events` not stored before, `rejected`, and the profile `facts`.

        `events` holds no id twice. Returns the ids that were already stored (duplicates),
        which are not written again; their facts are applied again, harmlessly, so a retry
        after a failure between the two completes what the first try began. Raises
        StoreUnavailable when nothing could be written.
        """

    def settle(self, idle: bool = False) -> None:
        """Finish writes that `write` made durable but left for later, if that is due (or at
        once when `idle`); the committer calls it after each group and while idle."""

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

    def check_writable(self) -> None:
        """Raise StoreFull (or StoreUnavailable) unless a write would work now.

        Asked after a write failed, to learn when writing works again without a client.
        """

    # -- privacy: deletion, suppression, audit ----------------------------------------------------
    def delete_rows(self, table: str, where: str, params: dict[str, Any]) -> int:
        """Delete the rows of `table` (one of DELETABLE) matching `where`; return how many.

        When it returns, reads no longer see the rows. `where` is written with `placeholder`.
        """

    def rollup_zone(self, workspace: str) -> str:
        """The time zone of the workspace's rollup days (tracklog/store/rollups.py)."""

    def rebuild_rollups(
        self, workspace: str, zone: str, days: tuple[int, int] | None = None
    ) -> None:
        """Replace the workspace's rollup rows (all, in `zone` from now on; or those of local
        days [first, last]) by a count of its stored events."""

    def meta(self, name: str) -> str | None:
        """A value the store keeps about itself (e.g. how far a rebuild got), or None."""

    def save_meta(self, name: str, value: str) -> None:
        """Set a value the store keeps about itself."""

    def suppressions(self) -> list[Suppression]:
        """Every active suppression, of every workspace."""

    def save_suppression(self, suppression: Suppression) -> None:
        """Add a suppression, or lift one (`active=False`)."""

    def audit_entries(self, workspace: str | None, limit: int) -> list[AuditEntry]:
        """The newest `limit` audit entries of a workspace (or of all), newest first."""

    def add_audit(self, entry: AuditEntry) -> None:
        """Record one audit entry."""

    # -- dashboard sessions -----------------------------------------------------------------------
    def save_session(self, session: SessionRecord) -> None:
        """Add a session, or save a later state of one (used again, or ended). An ended session
        stays ended, whatever is saved for it later (another node's use racing the end)."""

    def session(self, id_hash: str) -> SessionRecord | None:
        """The session whose id has this hash, ended or not; None if there is none."""

    def end_sessions(self, key_id: str, at: dt.datetime) -> int:
        """End every session a key opened (it was revoked); return how many were open."""
