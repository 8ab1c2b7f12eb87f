"""The store for more than one machine: ClickHouse, shared by any number of stateless nodes.

Opened by `clickhouse://user:password@host:9000/database`, optionally `?cluster=NAME` to shard
every table over a `remote_servers` cluster through Distributed tables. The SQL runs on
ClickHouse 18.16 (Debian 12) as well as current servers: times are `DateTime('UTC')` plus a
millisecond column (no DateTime64), properties are JSON text (read with visitParamExtract*).

Events live in a ReplacingMergeTree ordered by (workspace, day, id): a row written twice
(two nodes, a retry) collapses at merge time, and the `events` view reads with FINAL so
answers are exact before merges too. See docs/clickhouse.md for the topology and sizing.
"""

from __future__ import annotations

import json
import logging
import threading
import uuid
from collections.abc import Sequence
from typing import Any
from urllib.parse import parse_qs, unquote, urlparse

import msgspec
from clickhouse_driver import Client
from clickhouse_driver import errors as ch_errors

from tracklog.events import Event, Rejected, context_json, utcnow
from tracklog.store import clickhouse_rollups, rollup_columns, rollups
from tracklog.store.base import KeyRecord, StoreFull, StoreUnavailable, Workspace, disk_full
from tracklog.store.clickhouse_privacy import AUDIT_COLUMNS, SUPPRESSION_COLUMNS, PrivacyTables
from tracklog.store.clickhouse_profiles import PROFILE_TABLES, ProfileTables
from tracklog.store.clickhouse_sessions import SESSION_TABLES, SessionTables
from tracklog.store.clickhouse_values import MAX_DATETIME, split_time
from tracklog.store.clickhouse_values import column_names as _names
from tracklog.store.clickhouse_values import from_seconds as _from_seconds
from tracklog.store.clickhouse_values import row_version as _version
from tracklog.store.event_columns import events_table
from tracklog.store.profiles import Known, ProfileFacts

# The driver logs every failed connect with a traceback; the failure reaches us as an error
# (answered 503 and logged once by the app), so an outage need not flood the log.
logging.getLogger("clickhouse_driver.connection").setLevel(logging.ERROR)

_json = msgspec.json.Encoder()

# Server error codes that mean "not now" rather than "wrong SQL": the caller answers 503.
_TRANSIENT_CODES = {
    159,  # TIMEOUT_EXCEEDED
    202,  # TOO_MANY_SIMULTANEOUS_QUERIES
    209,  # SOCKET_TIMEOUT
    210,  # NETWORK_ERROR
    241,  # MEMORY_LIMIT_EXCEEDED
    242,  # TABLE_IS_READ_ONLY
    252,  # TOO_MANY_PARTS
    279,  # ALL_CONNECTION_TRIES_FAILED
    319,  # UNKNOWN_STATUS_OF_INSERT
    1000,  # POCO_EXCEPTION (e.g. a shard refused the connection)
}

# The server's disk has no room for a new part (it reserves space before writing one).
NOT_ENOUGH_SPACE = 243

# Seconds either side of a batch's timestamps that the dedupe lookup reads (see `write`).
DEDUPE_WINDOW = 86_400

EVENT_COLUMNS = (
    "id UUID",
    "workspace String",
    "type String",
    "event_name Nullable(String)",
    "user_id Nullable(String)",
    "anonymous_id Nullable(String)",
    "group_id Nullable(String)",
    "timestamp DateTime('UTC')",
    "timestamp_ms UInt16",
    "original_timestamp Nullable(DateTime('UTC'))",
    "original_timestamp_ms UInt16",
    "sent_at Nullable(DateTime('UTC'))",
    "sent_at_ms UInt16",
    "received_at DateTime('UTC')",
    "received_at_ms UInt16",
    "properties String",
    "context String",
    "message_id Nullable(String)",
    "source String",
    "is_test UInt8",
)
QUARANTINE_COLUMNS = (
    "id UUID",
    "workspace String",
    "received_at DateTime('UTC')",
    "received_at_ms UInt16",
    "source String",
    "raw String",
    "reasons String",
)
REPLAY_COLUMNS = ("id UUID", "workspace String", "replayed_at DateTime('UTC')")
WORKSPACE_COLUMNS = (
    "name String",
    "plan_mode String",
    "created_at DateTime('UTC')",
    "version UInt64",
    "retention_days UInt32 DEFAULT 0",  # added later: `setup` adds it to older tables
    "timezone String DEFAULT 'UTC'",  # added later too
)
KEY_COLUMNS = (
    "key_id String",
    "workspace String",
    "scope String",
    "key_hash String",
    "created_at DateTime('UTC')",
    "revoked_at DateTime('UTC')",  # 0 (1970-01-01) = not revoked; avoids Nullable in argMax
    "label String",
    "version UInt64",
    "test UInt8 DEFAULT 0",  # added later: `setup` adds it to older tables
)

# name: (columns, engine and keys, sharding key). Every table is partitioned by month where
# it has a time, and ordered for "one workspace, a time range" reads.
TABLES: dict[str, tuple[tuple[str, ...], str, str]] = {
    "events": (
        EVENT_COLUMNS,
        "ReplacingMergeTree PARTITION BY toYYYYMM(timestamp) "
        "ORDER BY (workspace, toDate(timestamp), id)",
        "sipHash64(toString(id))",
    ),
    "quarantine": (
        QUARANTINE_COLUMNS,
        "MergeTree PARTITION BY toYYYYMM(received_at) ORDER BY (workspace, received_at, id)",
        "sipHash64(toString(id))",
    ),
    "quarantine_replays": (
        REPLAY_COLUMNS,
        "MergeTree PARTITION BY toYYYYMM(replayed_at) ORDER BY (workspace, id)",
        "sipHash64(toString(id))",
    ),
    "workspaces": (
        WORKSPACE_COLUMNS,
        "ReplacingMergeTree(version) ORDER BY name",
        "sipHash64(name)",
    ),
    "keys": (KEY_COLUMNS, "ReplacingMergeTree(version) ORDER BY key_id", "sipHash64(key_id)"),
    "suppressions": (
        SUPPRESSION_COLUMNS,
        "ReplacingMergeTree(version) ORDER BY (workspace, user_id)",
        "sipHash64(workspace, user_id)",
    ),
    "audit_log": (
        AUDIT_COLUMNS,
        "MergeTree PARTITION BY toYYYYMM(recorded_at) ORDER BY (workspace, recorded_at, id)",
        "sipHash64(toString(id))",
    ),
}
TABLES.update(PROFILE_TABLES)
TABLES.update(SESSION_TABLES)
# Columns added after a table was first released: (table, column definition).
ADDED_COLUMNS = (
    ("workspaces", "retention_days UInt32 DEFAULT 0"),
    ("workspaces", "timezone String DEFAULT 'UTC'"),
    ("keys", "test UInt8 DEFAULT 0"),
)


class ClickHouseStore(PrivacyTables, ProfileTables, SessionTables):
    """A Store over a ClickHouse database, optionally sharded over a cluster."""

    dialect = "clickhouse"
    # The rollup has per-block sender totals (tracklog/analytics/senders.py reads them).
    sender_blocks = True
    # ClickHouse wants a few large inserts a second, not one per request.
    commit_interval = 0.2

    def __init__(self, url: str) -> None:
        parts = urlparse(url)
        options = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        self.url = url
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or 9000
        self.user = unquote(parts.username or "default")
        self.password = unquote(parts.password or "")
        self.database = parts.path.strip("/") or "tracklog"
        if not self.database.replace("_", "").isalnum():
            raise ValueError(f"ClickHouse database name {self.database!r}: use letters, digits, _")
        self.cluster = options.get("cluster", "")
        self.connect_timeout = float(options.get("connect_timeout", 3))
        self.timeout = float(options.get("timeout", 30))
        self._local = threading.local()
        self._known = Known()
        # The zone of each workspace's rollup days (from meta; UTC unless rebuilt in another).
        self._zones: dict[str, str] = {}
        self._settings: dict[str, Any] = {}
        if self.cluster:
            # Acknowledge only once every shard has the rows, not when they are queued locally;
            # IN over two Distributed tables sends the inner set along instead of refusing.
            self._settings = {"insert_distributed_sync": 1, "distributed_product_mode": "global"}
        self._events_raw = "events_all" if self.cluster else "events_local"
        # FINAL on the table itself (Distributed passes it to every shard): 18.16 pushes
        # neither columns nor WHERE into the `events` view, which measured 1.5-3x slower.
        self.events_table = f"{self._events_raw} FINAL"
        # The rows as stored, copies not merged: for questions copies cannot change.
        self.events_rows = self._events_raw

    # -- connections ----------------------------------------------------------------------------
    def _connect(self, host: str, port: int, database: str) -> Client:
        return Client(
            host,
            port=port,
            user=self.user,
            password=self.password,
            database=database,
            connect_timeout=self.connect_timeout,
            send_receive_timeout=self.timeout,
            sync_request_timeout=self.connect_timeout,
            settings=self._settings,
        )

    def _client(self) -> Client:
        """This thread's client (clickhouse-driver clients are not thread-safe)."""
        client: Client | None = getattr(self._local, "client", None)
        if client is None:
            client = self._connect(self.host, self.port, self.database)
            self._local.client = client
        return client

    def _run(self, sql: str, params: Any = None, **kw: Any) -> Any:
        """Execute on this thread's client; "not now" failures become StoreUnavailable."""
        client = self._client()
        try:
            return client.execute(sql, params, **kw)
        except (ch_errors.NetworkError, ch_errors.SocketTimeoutError, EOFError, OSError) as exc:
            client.disconnect()  # the next call reconnects: recovery needs nothing else
            raise StoreUnavailable(f"ClickHouse at {self.host}:{self.port}: {exc}") from exc
        except ch_errors.ServerException as exc:
            first = exc.message.splitlines()[0] if exc.message else str(exc)
            if exc.code == NOT_ENOUGH_SPACE or disk_full(exc.message or ""):
                raise StoreFull(f"ClickHouse: the disk is full ({first})") from exc
            if exc.code in _TRANSIENT_CODES:
                raise StoreUnavailable(f"ClickHouse: {first}") from exc
            raise
        except ch_errors.Error as exc:
            client.disconnect()
            raise StoreUnavailable(f"ClickHouse: {exc}") from exc

    # -- lifecycle ------------------------------------------------------------------------------
    def setup(self) -> None:
        """Create the database, tables and views on the server, or on each server of the cluster."""
        for host, port in self._hosts():
            self._in_default(host, port, *self.schema())
            self._add_columns(host, port)
            self._fill_sender_blocks(host, port)
        self._zones = json.loads(self.meta(rollups.ZONES) or "{}")
        # The first commit's one-time cost, paid before the server listens: loading
        # pyarrow's group-by engine for the rollup input.
        clickhouse_rollups.input_columns(rollup_columns.day_table(events_table([]), {}))

    def _hosts(self) -> list[tuple[str, int]]:
        """The server, or every server of the cluster."""
        if not self.cluster:
            return [(self.host, self.port)]
        rows = self._in_default(
            self.host,
            self.port,
            "SELECT host_address, port FROM system.clusters WHERE cluster = %(c)s",
            params={"c": self.cluster},
        )
        if not rows:
            raise ValueError(f"ClickHouse has no cluster {self.cluster!r} in remote_servers.")
        return [(str(h), int(p)) for h, p in rows]

    def _fill_sender_blocks(self, host: str, port: int) -> None:
        """Count sender_blocks from the day rows of a server written before it existed.

        Once: a server with day rows has sender rows from then on. Rows committed by another
        node while this runs may be counted twice; `tracklog rollups rebuild` repairs that
        (docs/clickhouse.md: upgrade with the nodes quiet).
        """
        local = "_local" if self.cluster else ""
        db = self.database
        # Whether each has a row (not how many: that depends on the background merges).
        found = self._in_default(
            host,
            port,
            f"SELECT (SELECT count() FROM (SELECT 1 FROM {db}.sender_blocks{local} LIMIT 1)), "
            f"(SELECT count() FROM (SELECT 1 FROM {db}.activity_days{local} LIMIT 1))",
        )
        if found[0][0] == 0 and found[0][1] > 0:
            self._in_default(host, port, *clickhouse_rollups.backfill(db, self.cluster))

    def _add_columns(self, host: str, port: int) -> None:
        # 18.16 has no ADD COLUMN IF NOT EXISTS: look the columns up first.
        for table, column in ADDED_COLUMNS:
            names = [table, f"{table}_local"] if self.cluster else [table]
            for name in names:
                found = self._in_default(
                    host,
                    port,
                    "SELECT count() FROM system.columns WHERE database = %(db)s "
                    "AND table = %(t)s AND name = %(c)s",
                    params={"db": self.database, "t": name, "c": column.split(" ", 1)[0]},
                )
                if not found[0][0]:
                    self._in_default(
                        host, port, f"ALTER TABLE {self.database}.{name} ADD COLUMN {column}"
                    )

    def _in_default(self, host: str, port: int, *sql: str, params: Any = None) -> Any:
        # The database may not exist yet, so DDL runs from `default`.
        client = self._connect(host, port, "default")
        try:
            return [client.execute(statement, params) for statement in sql][-1]
        except (ch_errors.NetworkError, ch_errors.SocketTimeoutError, EOFError, OSError) as exc:
            raise StoreUnavailable(f"ClickHouse at {host}:{port}: {exc}") from exc
        finally:
            client.disconnect()

    def schema(self) -> list[str]:
        """The DDL, in order, for one server (of the cluster, when there is one)."""
        db = self.database
        out = [f"CREATE DATABASE IF NOT EXISTS {db}"]
        for name, (columns, engine, shard_key) in TABLES.items():
            local = f"{name}_local" if self.cluster or name == "events" else name
            out.append(
                f"CREATE TABLE IF NOT EXISTS {db}.{local} ({', '.join(columns)}) ENGINE = {engine}"
            )
            if name == "events":
                # Reads see each id once, merged or not (FINAL), on this server's rows.
                final = "events_final" if self.cluster else "events"
                out.append(
                    f"CREATE VIEW IF NOT EXISTS {db}.{final} AS "
                    f"SELECT {_names(columns)} FROM {db}.{local} FINAL"
                )
                if self.cluster:
                    # Rows go to a shard by id, so all copies of an event meet on one shard,
                    # where FINAL collapses them; `events` reads every shard's FINAL view.
                    out.append(
                        f"CREATE TABLE IF NOT EXISTS {db}.events_all AS {db}.{local} "
                        f"ENGINE = Distributed({self.cluster}, {db}, {local}, {shard_key})"
                    )
                    out.append(
                        f"CREATE TABLE IF NOT EXISTS {db}.events AS {db}.{local} "
                        f"ENGINE = Distributed({self.cluster}, {db}, events_final)"
                    )
            elif self.cluster:
                out.append(
                    f"CREATE TABLE IF NOT EXISTS {db}.{name} AS {db}.{local} "
                    f"ENGINE = Distributed({self.cluster}, {db}, {local}, {shard_key})"
                )
        return out + clickhouse_rollups.schema(db, self.cluster)

    def close(self) -> None:
        """Disconnect this thread's client (others close with their threads)."""
        client: Client | None = getattr(self._local, "client", None)
        if client is not None:
            client.disconnect()
            self._local.client = None

    # -- write path -----------------------------------------------------------------------------
    def write(
        self,
        events: Sequence[Event],
        rejected: Sequence[Rejected],
        facts: ProfileFacts | None = None,
    ) -> set[bytes]:
        """Insert the events not stored yet, the quarantine records, then the profile facts.

        Returns the duplicate ids. ClickHouse has no transactions: events go first, so a
        failure between the inserts leaves stored events that a retry finds as duplicates
        (and whose facts it applies again) rather than lost quarantine rows hiding a lost
        event. Two nodes racing on one id both insert; the table collapses them.

        The lookup reads only the days around the batch's own timestamps (DEDUPE_WINDOW either
        side), so its cost follows the batch, not the table: at 10M stored events a full
        lookup took 0.4 s per commit, the window 0.03 s. A retry carries the same timestamp
        (or, without a client timestamp, is received within the window of the first try).
        """
        duplicates: set[bytes] = set()
        fresh: Sequence[Event] = events
        if events:
            rows = self._run(
                f"SELECT DISTINCT id FROM {self._events_raw} "
                "WHERE workspace IN %(ws)s AND timestamp >= toDateTime(%(lo)s) "
                "AND timestamp <= toDateTime(%(hi)s) AND id IN (SELECT id FROM incoming_ids)",
                {
                    "ws": tuple({e.workspace for e in events}),
                    "lo": max(split_time(min(e.timestamp for e in events))[0] - DEDUPE_WINDOW, 0),
                    "hi": min(
                        split_time(max(e.timestamp for e in events))[0] + DEDUPE_WINDOW,
                        MAX_DATETIME,
                    ),
                },
                external_tables=[
                    {
                        "name": "incoming_ids",
                        "structure": [("id", "UUID")],
                        "data": [{"id": uuid.UUID(bytes=e.id)} for e in events],
                    }
                ],
            )
            duplicates = {r[0].bytes for r in rows}
            if duplicates:
                fresh = [e for e in events if e.id not in duplicates]
        if fresh:
            self._run(
                f"INSERT INTO {self._events_raw} ({_names(EVENT_COLUMNS)}) VALUES",
                events_columns(fresh),
                columnar=True,
            )
            # Grouped column-wise, as DuckDB's commit does (tracklog/store/rollup_columns.py).
            days = rollup_columns.day_table(events_table(fresh), self._zones)
            self._run(
                clickhouse_rollups.INSERT, clickhouse_rollups.input_columns(days), columnar=True
            )
        if rejected:
            self._run(
                f"INSERT INTO quarantine ({_names(QUARANTINE_COLUMNS)}) VALUES",
                quarantine_columns(rejected),
                columnar=True,
            )
        if facts is not None:
            links, traits = self._known.new_links(facts.links), self._known.new_traits(facts.traits)
            if links or traits:
                self.apply_profiles(ProfileFacts(links, traits))
                self._known.wrote(links, traits)
        return duplicates

    def settle(self, idle: bool = False) -> None:
        """Nothing to finish: a returned `write` is in the tables."""

    def rollup_zone(self, workspace: str) -> str:
        """The zone of the workspace's rollup days."""
        return self._zones.get(workspace, rollups.DEFAULT_ZONE)

    def rebuild_rollups(
        self, workspace: str, zone: str, days: tuple[int, int] | None = None
    ) -> None:
        """Replace the workspace's rollup rows (all, in `zone` from now on; or those of the
        blocks holding local days [first, last]) by a count of its stored events.

        The old rows go by a mutation (applied before the count is inserted), so an event
        committed while this runs may be counted twice or not at all: a rebuild is for a zone
        change or a repair, when nodes are quiet (docs/clickhouse.md).
        """
        blocks = rollups.blocks_of(days)
        params: dict[str, Any] = {"ws": workspace}
        by_day = by_block = "workspace = %(ws)s"
        if blocks is not None:
            params.update(a=blocks[0], b=blocks[1])
            by_block += " AND block >= %(a)s AND block <= %(b)s"
            by_day += f" AND intDiv(day, {rollups.BLOCK_DAYS}) >= %(a)s"
            by_day += f" AND intDiv(day, {rollups.BLOCK_DAYS}) <= %(b)s"
        self.delete_rows("activity_days", by_day, params)
        self.delete_rows("activity_masks", by_block, params)
        self.delete_rows("event_days", by_day, params)
        self.delete_rows("sender_blocks", by_block, params)
        # A day at a time: one GROUP BY over all history outgrows a query's memory (2 GB on
        # 10M events); rows are partial sums, so the parts add up to the same rollup.
        for one in self._event_days(workspace, zone, rollups.days_of(blocks)):
            select, select_params = rollups.from_events(self, workspace, zone, (one, one))
            self._run(
                f"INSERT INTO activity_days_input ({clickhouse_rollups.KEY}, events, first_ms, "
                f"last_ms) {select}",
                select_params,
            )
        if days is None:
            self._zones = {**self._zones, workspace: zone}
            self.save_meta(rollups.ZONES, json.dumps(self._zones))

    def _event_days(self, workspace: str, zone: str, days: tuple[int, int] | None) -> range:
        """The local days from the workspace's first to its last stored event, within `days`."""
        rows = self._run(
            f"SELECT count(), toUInt32(min(timestamp)), toUInt32(max(timestamp)) FROM "
            f"{self._events_raw} WHERE workspace = %(ws)s",
            {"ws": workspace},
        )
        if not rows or not rows[0][0]:
            return range(0)
        first, last = (rollups.local_day(int(t) * 1000, zone) for t in rows[0][1:])
        if days is not None:
            first, last = max(first, days[0]), min(last, days[1])
        return range(first, last + 1)

    # -- read path ------------------------------------------------------------------------------
    def placeholder(self, name: str) -> str:
        """clickhouse-driver's named parameters are `%(name)s`."""
        return f"%({name})s"

    def epoch_ms(self, column: str) -> str:
        """A stored time as whole milliseconds since 1970: its DateTime plus its _ms column."""
        return f"(toUInt64({column}) * 1000 + {column}_ms)"

    def query(self, sql: str, params: dict[str, Any]) -> list[tuple[Any, ...]]:
        """Run a read; `params` fill `%(name)s` placeholders."""
        rows: list[tuple[Any, ...]] = self._run(sql, params or None)
        return rows

    # -- workspaces and keys --------------------------------------------------------------------
    def workspaces(self) -> list[Workspace]:
        """Every workspace, oldest first: the latest version of each name."""
        rows = self._run(
            "SELECT name, argMax(plan_mode, version), toUInt32(argMax(created_at, version)) AS c, "
            "argMax(retention_days, version), argMax(timezone, version) FROM workspaces "
            "GROUP BY name ORDER BY c, name"
        )
        return [
            Workspace(
                name=r[0],
                plan_mode=r[1],
                created_at=_from_seconds(r[2]),
                retention_days=r[3],
                timezone=r[4] or "UTC",
            )
            for r in rows
        ]

    def save_workspace(self, workspace: Workspace) -> None:
        """Add a version of a workspace; the newest version is the one read."""
        created, _ = split_time(workspace.created_at or utcnow())
        self._run(
            f"INSERT INTO workspaces ({_names(WORKSPACE_COLUMNS)}) VALUES",
            [
                (
                    workspace.name,
                    workspace.plan_mode,
                    created,
                    _version(),
                    workspace.retention_days,
                    workspace.timezone,
                )
            ],
        )

    def key_records(self) -> list[KeyRecord]:
        """Every key record (its latest version), revoked ones included."""
        rows = self._run(
            "SELECT key_id, argMax(workspace, version), argMax(scope, version), "
            "argMax(key_hash, version), toUInt32(argMax(created_at, version)) AS c, "
            "toUInt32(argMax(revoked_at, version)), argMax(label, version), "
            "argMax(test, version) FROM keys GROUP BY key_id ORDER BY c, key_id"
        )
        return [
            KeyRecord(
                key_id=r[0],
                workspace=r[1],
                scope=r[2],
                key_hash=r[3],
                created_at=_from_seconds(r[4]),
                revoked_at=_from_seconds(r[5]) if r[5] else None,
                label=r[6],
                test=bool(r[7]),
            )
            for r in rows
        ]

    def save_key(self, key: KeyRecord) -> None:
        """Add a version of a key record (a revocation is a newer version)."""
        self._run(
            f"INSERT INTO keys ({_names(KEY_COLUMNS)}) VALUES",
            [
                (
                    key.key_id,
                    key.workspace,
                    key.scope,
                    key.key_hash,
                    split_time(key.created_at)[0],
                    split_time(key.revoked_at)[0] if key.revoked_at else 0,
                    key.label,
                    _version(),
                    1 if key.test else 0,
                )
            ],
        )

    def check_writable(self) -> None:
        """Nothing to check here: ClickHouse refuses a probe write (NOT_ENOUGH_SPACE) itself."""

    def mark_replayed(self, workspace: str, quarantine_ids: Sequence[uuid.UUID]) -> None:
        """Record replays so the items leave the quarantine list."""
        if not quarantine_ids:
            return
        now = split_time(utcnow())[0]
        self._run(
            f"INSERT INTO quarantine_replays ({_names(REPLAY_COLUMNS)}) VALUES",
            [list(quarantine_ids), [workspace] * len(quarantine_ids), [now] * len(quarantine_ids)],
            columnar=True,
        )


def events_columns(events: Sequence[Event]) -> list[list[Any]]:
    """A batch of events column by column, in EVENT_COLUMNS order (times split in two)."""
    stamp = [split_time(e.timestamp) for e in events]
    original = [split_time(e.original_timestamp) if e.original_timestamp else None for e in events]
    sent = [split_time(e.sent_at) if e.sent_at else None for e in events]
    received = [split_time(e.received_at) for e in events]
    return [
        [uuid.UUID(bytes=e.id) for e in events],
        [e.workspace for e in events],
        [e.type for e in events],
        [e.event_name for e in events],
        [e.user_id for e in events],
        [e.anonymous_id for e in events],
        [e.group_id for e in events],
        [s for s, _ in stamp],
        [ms for _, ms in stamp],
        [o[0] if o else None for o in original],
        [o[1] if o else 0 for o in original],
        [s[0] if s else None for s in sent],
        [s[1] if s else 0 for s in sent],
        [s for s, _ in received],
        [ms for _, ms in received],
        [_json.encode(e.properties).decode() for e in events],
        [context_json(e.context) for e in events],
        [e.message_id for e in events],
        [e.source for e in events],
        [1 if e.is_test else 0 for e in events],
    ]


def quarantine_columns(rejected: Sequence[Rejected]) -> list[list[Any]]:
    """A batch of quarantine records column by column, in QUARANTINE_COLUMNS order."""
    received = [split_time(r.received_at) for r in rejected]
    return [
        [r.id for r in rejected],
        [r.workspace for r in rejected],
        [s for s, _ in received],
        [ms for _, ms in received],
        [r.source for r in rejected],
        [r.raw for r in rejected],
        [_json.encode(r.reasons).decode() for r in rejected],
    ]
