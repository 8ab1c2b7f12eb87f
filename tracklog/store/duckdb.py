"""The embedded default: one DuckDB file, owned by one process.

Writes arrive as whole groups from the single committer. A group is appended to the ingest
log beside the file and synced, so a returned `write` is on disk (tracklog/store/duckdb_spool.py);
the log's groups go into the tables many at a time, one Arrow insert per table in one
transaction (tracklog/store/duckdb_load.py), and always before a read, so a read sees every
returned write. Reads use their own cursors, which see committed data without blocking the
writer.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import threading
import time
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import duckdb
import msgspec
import pyarrow as pa

from tracklog.events import Event, Rejected, utcnow
from tracklog.store import (
    duckdb_load,
    duckdb_profiles,
    duckdb_rollups,
    duckdb_sessions,
    rollup_columns,
    rollups,
)
from tracklog.store.base import (
    DELETABLE,
    AuditEntry,
    KeyRecord,
    StoreFull,
    StoreLocked,
    StoreUnavailable,
    Suppression,
    Workspace,
)
from tracklog.store.duckdb_batch import scan
from tracklog.store.duckdb_load import rejected_table, write_error
from tracklog.store.duckdb_spool import Group, Spool
from tracklog.store.event_columns import events_table
from tracklog.store.profiles import Known, ProfileFacts
from tracklog.store.seen_ids import SeenIds

log = logging.getLogger("tracklog.store")
# Unmerged rollup rows, or seconds since the last merge, that make the next commit merge them.
MERGE_ROWS = 50_000
# Building the filter of stored ids turns each id into a Python object while holding the GIL:
# in small batches with a pause between, so commits and requests wait for one batch at most
# instead of a million ids.
FILTER_BATCH = 16_384
YIELD_SECONDS = 0.002
MERGE_SECONDS = 60.0
# Rows waiting in the ingest log that make the next write load them into the tables first, and
# seconds after which the committer loads them (tracklog/store/duckdb_spool.py): a load is one
# transaction of about 10 ms plus the rows' own cost, so it is made rare, not immediate.
LOAD_ROWS = 20_000
LOAD_SECONDS = 0.25
# A busy writer's loads run on a thread of their own, beside the appends to the other log
# file: a load of ~15k rows took 50-85 ms (and 160-480 ms when DuckDB checkpointed), and
# every request waited for it when the committer ran it between groups (issue 15). Past
# this many rows in the log, a write waits for the load rather than let the log grow.
LOAD_BEHIND_ROWS = 4 * LOAD_ROWS

SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    id UUID NOT NULL,
    workspace VARCHAR NOT NULL,
    type VARCHAR NOT NULL,
    event_name VARCHAR,
    user_id VARCHAR,
    anonymous_id VARCHAR,
    group_id VARCHAR,
    timestamp TIMESTAMP NOT NULL,
    original_timestamp TIMESTAMP,
    sent_at TIMESTAMP,
    received_at TIMESTAMP NOT NULL,
    properties VARCHAR,
    context VARCHAR,
    message_id VARCHAR,
    source VARCHAR,
    is_test BOOLEAN NOT NULL
);
CREATE TABLE IF NOT EXISTS quarantine (
    id UUID NOT NULL,
    workspace VARCHAR NOT NULL,
    received_at TIMESTAMP NOT NULL,
    source VARCHAR NOT NULL,
    raw VARCHAR NOT NULL,
    reasons VARCHAR NOT NULL
);
CREATE TABLE IF NOT EXISTS quarantine_replays (
    id UUID NOT NULL,
    workspace VARCHAR NOT NULL,
    replayed_at TIMESTAMP NOT NULL
);
CREATE TABLE IF NOT EXISTS workspaces (
    name VARCHAR PRIMARY KEY,
    plan_mode VARCHAR NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE TABLE IF NOT EXISTS keys (
    key_id VARCHAR PRIMARY KEY,
    workspace VARCHAR NOT NULL,
    scope VARCHAR NOT NULL,
    key_hash VARCHAR NOT NULL,
    created_at TIMESTAMP NOT NULL,
    revoked_at TIMESTAMP,
    label VARCHAR NOT NULL
);
CREATE TABLE IF NOT EXISTS suppressions (
    workspace VARCHAR NOT NULL,
    user_id VARCHAR NOT NULL,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (workspace, user_id)
);
CREATE TABLE IF NOT EXISTS audit_log (
    id UUID NOT NULL,
    workspace VARCHAR NOT NULL,
    recorded_at TIMESTAMP NOT NULL,
    actor VARCHAR NOT NULL,
    action VARCHAR NOT NULL,
    subject VARCHAR NOT NULL,
    counts VARCHAR NOT NULL
);
-- Added after the first release: files made before it get the column here.
ALTER TABLE workspaces ADD COLUMN IF NOT EXISTS retention_days INTEGER DEFAULT 0;
ALTER TABLE workspaces ADD COLUMN IF NOT EXISTS timezone VARCHAR DEFAULT 'UTC';
ALTER TABLE keys ADD COLUMN IF NOT EXISTS test BOOLEAN DEFAULT false;
"""

_json = msgspec.json.Encoder()

# After a full disk, writing counts as possible again once this much is free (see
# `DuckDBStore.check_writable`): a few full groups of events.
FREE_MARGIN = 16 * 1024 * 1024


class DuckDBStore(duckdb_sessions.SessionRows):
    """A Store over one DuckDB database file (or `:memory:`)."""

    dialect = "duckdb"
    events_table = "events"
    identities_table = "identities"
    traits_table = "traits"
    # The rollup has per-block sender totals (tracklog/analytics/senders.py reads them).
    sender_blocks = True
    # Group commit alone batches well here: a commit is a WAL sync, so no extra wait.
    commit_interval = 0.0

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        self.url = f"duckdb://{self.path}"
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        try:
            self._con = duckdb.connect(self.path)
        except duckdb.IOException as exc:
            raise StoreLocked(str(exc)) from None
        self._local = threading.local()
        self._seen: SeenIds | None = None
        # While a filter is being built: the ids committed meanwhile (see _seen_filter).
        self._building: list[bytes] | None = None
        # The tables' lock: loads, deletions and every other write to the database.
        self._write_lock = threading.Lock()
        # The ingest log's lock: appends, and the groups waiting in it (taken after
        # _write_lock by whoever holds both, so an append never waits for a load).
        self._log_lock = threading.Lock()
        self._known = Known()
        # The zone of each workspace's rollup days (UTC unless rebuilt in another).
        self._zones: dict[str, str] = {}
        self._unmerged = 0
        self._merged_at = time.monotonic()
        # Groups on disk in the ingest log, not yet in the tables (see `write`). The log is
        # two files: writes append to `_spool` while a load empties `_spare` into the tables.
        on_disk = self.path != ":memory:"
        self._spool = Spool(self.path + ".spool" if on_disk else None)
        self._spare = Spool(self.path + ".spool2" if on_disk else None)
        self._pending: list[Group] = []
        self._pending_ids: set[bytes] = set()
        self._pending_rows = 0
        self._pending_since = 0.0
        # The groups a load is putting in the tables (from `_spare`), still seen by dedupe.
        self._loading: list[Group] = []
        self._loading_ids: set[bytes] = set()
        self._loader: threading.Thread | None = None
        self._load_error: StoreUnavailable | None = None

    # -- lifecycle ------------------------------------------------------------------------------
    def setup(self) -> None:
        """Create the tables if they are not there yet."""
        self._con.execute(SCHEMA)
        self._con.execute(duckdb_profiles.SCHEMA)
        self._con.execute(duckdb_sessions.SCHEMA)
        self._con.execute(duckdb_rollups.SCHEMA)
        duckdb_rollups.upgrade(self._con)
        self._zones = json.loads(self.meta(rollups.ZONES) or "{}")
        found = self._con.execute("SELECT count(*) FROM activity_days WHERE NOT merged")
        self._unmerged = int(found.fetchall()[0][0])
        self._warm_up()
        self._recover()

    def _warm_up(self) -> None:
        """Pay the first commit's one-time costs now, before the server listens.

        DuckDB's first Arrow scan imports pandas (1-2 s on a busy machine) and the first
        rollup group-by loads pyarrow's engine; the first commit paid both while its requests
        waited.
        """
        empty = events_table([])
        rollup_columns.sender_table(rollup_columns.day_table(empty, {}))
        cur = self._con.cursor()
        try:
            scan(cur, "SELECT count(*) FROM incoming_0", empty)
        finally:
            cur.close()

    def limit_memory(self, spec: str) -> None:
        """Cap DuckDB's buffer memory: a share of RAM ("25%") or a size ("2GB")."""
        if spec.endswith("%"):
            total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
            spec = f"{int(total * float(spec[:-1]) / 100) // 2**20}MB"
        try:
            self._con.execute(f"SET memory_limit = '{spec.replace(chr(39), '')}'")
        except duckdb.Error as exc:
            raise ValueError(f"--memory-limit {spec!r}: {exc}") from None

    def close(self) -> None:
        """Load the ingest log, checkpoint and close the file."""
        if self._loader is not None:
            self._loader.join()
        try:
            self._settled()
        except StoreUnavailable as exc:  # kept in the log: the next start loads it
            log.warning("loading the ingest log at close failed: %s", exc)
        self._spool.close()
        self._spare.close()
        self._con.close()

    def _cursor(self) -> duckdb.DuckDBPyConnection:
        cur: duckdb.DuckDBPyConnection | None = getattr(self._local, "cursor", None)
        if cur is None:
            cur = self._con.cursor()
            self._local.cursor = cur
        return cur

    # -- write path -----------------------------------------------------------------------------
    def write(
        self,
        events: Sequence[Event],
        rejected: Sequence[Rejected],
        facts: ProfileFacts | None = None,
    ) -> set[bytes]:
        """Append new events, quarantine records and profile facts to the ingest log, synced
        (tracklog/store/duckdb_spool.py); the next load puts them in the tables, and every
        read loads first.

        Returns the duplicate ids.
        """
        # The log must not take the space its loads into the tables need: a nearly full disk
        # refuses writes, as a full one would refuse a commit.
        self.check_writable()
        if self._pending_rows >= LOAD_BEHIND_ROWS:
            self._settled()  # before this group: if it fails, nothing of the group is written
        with self._log_lock:
            duplicates = self._stored([e.id for e in events]) if events else set()
            fresh = [e for e in events if e.id not in duplicates] if duplicates else events
            group = Group(
                events_table(fresh) if fresh else None,
                rejected_table(rejected) if rejected else None,
                facts or ProfileFacts(),
            )
            self._spool.append(group)
            if not self._pending:
                self._pending_since = time.monotonic()
            self._pending.append(group)
            self._pending_rows += group.size
            if fresh:
                stored = [e.id for e in fresh]
                self._pending_ids.update(stored)
                if self._seen is not None:
                    self._seen.add_all(stored)
                if self._building is not None:
                    self._building.extend(stored)
            return duplicates

    def _stored(self, keys: list[bytes]) -> set[bytes]:
        """Which of `keys` are stored, or waiting in the ingest log (under the log lock)."""
        seen = self._seen_filter()
        maybe = keys if seen is None else [k for k in keys if k in seen]
        found = {k for k in maybe if k in self._pending_ids or k in self._loading_ids}
        rest = [k for k in maybe if k not in found]
        return found | duckdb_load.stored_ids(self._cursor(), rest) if rest else found

    def settle(self, idle: bool = False) -> None:
        """Load the ingest log into the tables if it is due: LOAD_ROWS gathered or its first
        group LOAD_SECONDS old (on a thread of its own, see LOAD_BEHIND_ROWS), or `idle`
        (the committer has nothing to write: loaded now). Raises what the last load that
        ran on its own thread failed with."""
        error, self._load_error = self._load_error, None
        if error is not None:
            raise error
        if not self._pending and not self._loading:
            return
        if idle:
            self._settled()
        elif (
            self._pending_rows >= LOAD_ROWS
            or time.monotonic() - self._pending_since >= LOAD_SECONDS
        ) and (self._loader is None or not self._loader.is_alive()):
            self._loader = threading.Thread(
                target=self._load_beside, name="tracklog-load", daemon=True
            )
            self._loader.start()

    def _load_beside(self) -> None:
        """A load while the committer goes on appending to the other log file."""
        try:
            self._settled()
        except Exception as exc:  # the groups stay in the log; the next load retries
            log.warning("loading the ingest log failed: %s", exc)
            error = exc if isinstance(exc, StoreUnavailable) else StoreUnavailable(str(exc))
            self._load_error = error

    def _settled(self) -> None:
        """Load whatever the ingest log holds, before a read or a deletion."""
        if self._pending or self._loading:
            with self._write_lock:
                self._load()

    def _load(self, log_locked: bool = False) -> None:
        """Commit the ingest log's groups to the tables, then empty its file (under
        _write_lock; `log_locked`: under _log_lock too). The groups move to `_spare` first,
        so that writes append to the other file meanwhile; a load that failed left its
        groups there, and they go first."""
        lock = contextlib.nullcontext() if log_locked else self._log_lock
        if self._loading:
            self._commit_loading(lock)
        with lock:
            if not self._pending:
                return
            self._spool, self._spare = self._spare, self._spool
            self._loading, self._loading_ids = self._pending, self._pending_ids
            self._pending, self._pending_ids, self._pending_rows = [], set(), 0
        self._commit_loading(lock)

    def _commit_loading(self, lock: contextlib.AbstractContextManager[Any]) -> None:
        self._commit(self._loading)
        # Forgotten before the file is emptied: if emptying fails, the groups stay in it,
        # and a start loads them again with a dedupe; committing them again would not.
        with lock:
            self._loading, self._loading_ids = [], set()
            self._clear_log(self._spare)

    @staticmethod
    def _clear_log(spool: Spool) -> None:
        try:
            spool.clear()
        except OSError as exc:
            raise StoreUnavailable(f"emptying the ingest log failed: {exc}") from exc

    def _recover(self) -> None:
        """Load what the ingest log kept from a process that stopped before loading it."""
        groups = self._spool.read() + self._spare.read()
        if groups:
            with self._write_lock, self._log_lock:
                self._commit(groups, recovering=True)
                self._clear_log(self._spool)
                self._clear_log(self._spare)
            log.info("loaded %d groups left in the ingest log", len(groups))

    def _commit(self, groups: Sequence[Group], recovering: bool = False) -> None:
        """Put the groups in the tables in one transaction (duckdb_load.load); merge the
        rollup's partial rows when enough have gathered."""
        self._unmerged += duckdb_load.load(
            self._cursor(), groups, self._zones, self._known, recovering
        )
        if self._unmerged > MERGE_ROWS or (
            self._unmerged and time.monotonic() - self._merged_at > MERGE_SECONDS
        ):
            self._merge()

    def _merge(self) -> None:
        """Merge the rollup's partial rows (under the write lock)."""
        try:
            duckdb_rollups.merge(self._cursor())
        except duckdb.Error as exc:  # the rows stay correct unmerged; try again later
            log.warning("merging the activity rollup failed: %s", exc)
        else:
            self._unmerged = 0
        self._merged_at = time.monotonic()

    def rollup_zone(self, workspace: str) -> str:
        """The zone of the workspace's rollup days."""
        return self._zones.get(workspace, rollups.DEFAULT_ZONE)

    def rebuild_rollups(
        self, workspace: str, zone: str, days: tuple[int, int] | None = None
    ) -> None:
        """Replace the workspace's rollup rows (all, in `zone` from now on; or those of the
        blocks holding local days [first, last]) by a count of its stored events, in one
        transaction."""
        blocks = rollups.blocks_of(days)
        select, params = rollups.from_events(self, workspace, zone, rollups.days_of(blocks))
        self._settled()
        with self._write_lock:
            cur = self._cursor()
            try:
                cur.execute("BEGIN TRANSACTION")
                duckdb_rollups.replace(cur, workspace, blocks, select, params)
                zones = {**self._zones, workspace: zone} if days is None else self._zones
                cur.execute(
                    "INSERT INTO meta VALUES ($n, $v) ON CONFLICT (name) DO UPDATE SET value = $v",
                    {"n": rollups.ZONES, "v": json.dumps(zones)},
                )
                cur.execute("COMMIT")
            except duckdb.Error as exc:
                with contextlib.suppress(duckdb.Error):
                    cur.execute("ROLLBACK")
                raise write_error(exc) from exc
            self._zones = zones

    def _seen_filter(self) -> SeenIds | None:
        """The Bloom filter of stored ids; None until the first one is built (under the lock).

        Building reads every stored id, which takes seconds on millions of events, so it runs
        on its own thread and the write path never waits for it: without a filter every id is
        looked up in the table (~65 ms a group at 10M events), and a full filter keeps
        answering (with more false positives, which only cost a lookup) until its larger
        successor is ready.
        """
        seen = self._seen
        if (seen is None or seen.full) and self._building is None:
            self._building = []  # ids committed from now on, added to the new filter
            threading.Thread(
                target=self._build_filter, name="tracklog-seen-ids", daemon=True
            ).start()
        return seen

    def _build_filter(self) -> None:
        cur = self._con.cursor()
        try:
            count = cur.execute("SELECT count(*) FROM events").fetchall()[0][0]
            seen = SeenIds(capacity=4 * count)
            # Lossless Arrow export gives the ids as 16 raw bytes, the form the filter keys on.
            cur.execute("SET arrow_lossless_conversion = true")
            reader = cur.sql("SELECT id FROM events").to_arrow_reader(batch_size=FILTER_BATCH)
            for batch in reader:
                seen.add_all(batch.column(0).storage.to_pylist())
                time.sleep(YIELD_SECONDS)
        except duckdb.Error as exc:  # closed meanwhile, or out of memory: try again later
            log.warning("building the filter of stored ids failed: %s", exc)
            with self._log_lock:
                self._building = None
            return
        finally:
            cur.close()
        with self._log_lock:
            # Ids committed after the scan began; some may be in it too, which is harmless.
            seen.add_all(self._building or [])
            self._seen = seen
            self._building = None

    # -- read path ------------------------------------------------------------------------------
    def placeholder(self, name: str) -> str:
        """DuckDB's named parameters are `$name`."""
        return f"${name}"

    def epoch_ms(self, column: str) -> str:
        """A stored time as whole milliseconds since 1970."""
        return f"epoch_ms({column})"

    def query(self, sql: str, params: dict[str, Any]) -> list[tuple[Any, ...]]:
        """Run a read on this thread's cursor (after loading the ingest log: a read sees
        every acknowledged write)."""
        try:
            self._settled()
        except StoreFull as exc:  # reads go on with what the tables hold
            log.warning("a read could not load the ingest log first: %s", exc)
        try:
            return self._cursor().execute(sql, params).fetchall()
        except duckdb.Error as exc:
            raise StoreUnavailable(f"DuckDB query failed: {exc}") from exc

    # -- workspaces and keys --------------------------------------------------------------------
    def workspaces(self) -> list[Workspace]:
        """Every workspace, oldest first."""
        rows = (
            self._cursor()
            .execute(
                "SELECT name, plan_mode, created_at, coalesce(retention_days, 0), "
                "coalesce(timezone, 'UTC') FROM workspaces ORDER BY created_at"
            )
            .fetchall()
        )
        return [
            Workspace(
                name=r[0], plan_mode=r[1], created_at=r[2], retention_days=r[3], timezone=r[4]
            )
            for r in rows
        ]

    def save_workspace(self, workspace: Workspace) -> None:
        """Insert or update one workspace."""
        self._cursor().execute(
            "INSERT INTO workspaces (name, plan_mode, created_at, retention_days, timezone) "
            "VALUES ($name, $mode, $created, $days, $tz) ON CONFLICT (name) DO UPDATE SET "
            "plan_mode = excluded.plan_mode, retention_days = excluded.retention_days, "
            "timezone = excluded.timezone",
            {
                "name": workspace.name,
                "mode": workspace.plan_mode,
                "created": workspace.created_at or utcnow(),
                "days": workspace.retention_days,
                "tz": workspace.timezone,
            },
        )

    def key_records(self) -> list[KeyRecord]:
        """Every key record."""
        rows = (
            self._cursor()
            .execute(
                "SELECT key_id, workspace, scope, key_hash, created_at, revoked_at, label, "
                "coalesce(test, false) FROM keys ORDER BY created_at"
            )
            .fetchall()
        )
        return [KeyRecord(*r) for r in rows]

    def save_key(self, key: KeyRecord) -> None:
        """Insert a key record or update its revocation."""
        self._cursor().execute(
            "INSERT INTO keys (key_id, workspace, scope, key_hash, created_at, revoked_at, label, "
            "test) VALUES ($key_id, $workspace, $scope, $key_hash, $created_at, $revoked_at, "
            "$label, $test) ON CONFLICT (key_id) DO UPDATE SET revoked_at = excluded.revoked_at",
            msgspec.structs.asdict(key),
        )

    def mark_replayed(self, workspace: str, quarantine_ids: Sequence[uuid.UUID]) -> None:
        """Record replays so the items leave the quarantine list."""
        if not quarantine_ids:
            return
        now = utcnow()
        tbl = pa.table(
            {
                "id": pa.array([q.bytes for q in quarantine_ids], pa.uuid()),
                "workspace": [workspace] * len(quarantine_ids),
                "replayed_at": pa.array([now] * len(quarantine_ids), pa.timestamp("ms")),
            }
        )
        with self._write_lock:
            cur = self._cursor()
            try:
                cur.register("replays", tbl)
                cur.execute("INSERT INTO quarantine_replays SELECT * FROM replays")
            except duckdb.Error as exc:
                raise write_error(exc) from exc
            finally:
                cur.unregister("replays")

    def check_writable(self) -> None:
        """StoreFull while the file system holding the database has less than FREE_MARGIN.

        A probe row alone would not tell: a failed commit gives back the WAL bytes it had
        written, so a tiny write fits again while the next real group still does not.
        """
        if self.path == ":memory:":
            return
        free = shutil.disk_usage(Path(self.path).parent).free
        if free < FREE_MARGIN:
            raise StoreFull(f"DuckDB: the disk is full ({free} bytes free)")

    # -- privacy: deletion, suppression, audit ----------------------------------------------------
    def delete_rows(self, table: str, where: str, params: dict[str, Any]) -> int:
        """Delete matching rows in one statement (under the write lock, beside the committer)."""
        if table not in DELETABLE:
            raise ValueError(f"cannot delete from {table!r}")
        with self._write_lock, self._log_lock:
            self._load(log_locked=True)  # what waits in the log is deleted too
            try:
                self._spool.scrub()
                self._spare.scrub()
            except OSError as exc:
                raise StoreUnavailable(f"scrubbing the ingest log failed: {exc}") from exc
            self._known.forget()
            try:
                rows = self._cursor().execute(f"DELETE FROM {table} WHERE {where}", params)
                return int(rows.fetchall()[0][0])
            except duckdb.Error as exc:
                raise StoreUnavailable(f"DuckDB delete failed: {exc}") from exc

    def meta(self, name: str) -> str | None:
        """A value the store keeps about itself, or None."""
        rows = self._cursor().execute("SELECT value FROM meta WHERE name = $n", {"n": name})
        found = rows.fetchall()
        return str(found[0][0]) if found else None

    def save_meta(self, name: str, value: str) -> None:
        """Set a value the store keeps about itself."""
        with self._write_lock:
            self._cursor().execute(
                "INSERT INTO meta VALUES ($n, $v) ON CONFLICT (name) DO UPDATE SET value = $v",
                {"n": name, "v": value},
            )

    def suppressions(self) -> list[Suppression]:
        """Every suppression (a lifted one is deleted, so all are active)."""
        rows = (
            self._cursor()
            .execute("SELECT workspace, user_id, created_at FROM suppressions ORDER BY created_at")
            .fetchall()
        )
        return [Suppression(workspace=r[0], user_id=r[1], created_at=r[2]) for r in rows]

    def save_suppression(self, suppression: Suppression) -> None:
        """Add a suppression (kept once per user), or delete it when lifted."""
        params = {"ws": suppression.workspace, "uid": suppression.user_id}
        with self._write_lock:
            if suppression.active:
                self._cursor().execute(
                    "INSERT INTO suppressions VALUES ($ws, $uid, $at) ON CONFLICT DO NOTHING",
                    {**params, "at": suppression.created_at},
                )
            else:
                self._cursor().execute(
                    "DELETE FROM suppressions WHERE workspace = $ws AND user_id = $uid", params
                )

    def audit_entries(self, workspace: str | None, limit: int) -> list[AuditEntry]:
        """The newest entries first."""
        where = "WHERE workspace = $ws" if workspace is not None else ""
        params: dict[str, Any] = {"limit": limit}
        if workspace is not None:
            params["ws"] = workspace
        rows = (
            self._cursor()
            .execute(
                "SELECT id, workspace, recorded_at, actor, action, subject, counts FROM audit_log "
                f"{where} ORDER BY recorded_at DESC, id DESC LIMIT $limit",
                params,
            )
            .fetchall()
        )
        return [
            AuditEntry(
                r[0], r[1], r[2], r[3], r[4], r[5], msgspec.json.decode(r[6], type=dict[str, int])
            )
            for r in rows
        ]

    def add_audit(self, entry: AuditEntry) -> None:
        """Append one entry."""
        with self._write_lock:
            self._cursor().execute(
                "INSERT INTO audit_log VALUES ($id, $ws, $at, $actor, $action, $subject, $counts)",
                {
                    "id": entry.id,
                    "ws": entry.workspace,
                    "at": entry.at,
                    "actor": entry.actor,
                    "action": entry.action,
                    "subject": entry.subject,
                    "counts": _json.encode(entry.counts).decode(),
                },
            )
