"""ClickHouse's half of privacy requests: deleting rows, the suppression list, the audit log.

A mixin of ClickHouseStore (tracklog/store/clickhouse.py), which provides the connection
methods declared below; kept apart so the store's module stays one concept of a readable size.
"""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

import msgspec
from clickhouse_driver import Client
from clickhouse_driver import errors as ch_errors

from tracklog.store.base import DELETABLE, AuditEntry, StoreUnavailable, Suppression
from tracklog.store.clickhouse_rollups import ROLLUP_TABLES
from tracklog.store.clickhouse_values import (
    EPOCH,
    column_names,
    from_seconds,
    row_version,
    split_time,
)
from tracklog.store.profiles import Known

_json = msgspec.json.Encoder()
# How long a deletion waits for ClickHouse to apply its mutation before answering 503.
MUTATION_TIMEOUT = 120.0

SUPPRESSION_COLUMNS = (
    "workspace String",
    "user_id String",
    "created_at DateTime('UTC')",
    "active UInt8",
    "version UInt64",
)
AUDIT_COLUMNS = (
    "id UUID",
    "workspace String",
    "recorded_at DateTime('UTC')",
    "recorded_at_ms UInt16",
    "actor String",
    "action String",
    "subject String",
    "counts String",
)


class PrivacyTables:
    """Deletion, suppressions and the audit log over a ClickHouseStore's connections."""

    host: str
    port: int
    database: str
    cluster: str
    events_table: str
    _known: Known

    def _run(self, sql: str, params: Any = None, **kw: Any) -> Any:
        raise NotImplementedError  # ClickHouseStore's

    def _connect(self, host: str, port: int, database: str) -> Client:
        raise NotImplementedError  # ClickHouseStore's

    def _hosts(self) -> list[tuple[str, int]]:
        raise NotImplementedError  # ClickHouseStore's

    def epoch_ms(self, column: str) -> str:
        raise NotImplementedError  # ClickHouseStore's

    def delete_rows(self, table: str, where: str, params: dict[str, Any]) -> int:
        """Count the matching rows, delete them with a mutation, and wait until it is applied.

        `ALTER TABLE … DELETE` is asynchronous and 18.16 has no `mutations_sync`, so this polls
        system.mutations until every mutation of the table is done, on every server of the
        cluster: when it returns, reads no longer see the rows.
        """
        if table not in DELETABLE:
            raise ValueError(f"cannot delete from {table!r}")
        self._known.forget()
        read = self.events_table if table == "events" else table
        # The rollup's rows are counted as merged: how many parts hold a row is the engine's.
        final = " FINAL" if table in ROLLUP_TABLES else ""
        count = int(self._run(f"SELECT count() FROM {read}{final} WHERE {where}", params)[0][0])
        if not count:
            return 0
        local = f"{table}_local" if table == "events" or self.cluster else table
        hosts = self._hosts()
        for host, port in hosts:
            # 18.16's mutations delete a row whose condition is NULL (as `user_id = 'x'` is
            # where user_id is NULL), unlike SELECT, which skips it: count NULL as false.
            self._on(host, port, f"ALTER TABLE {local} DELETE WHERE ifNull(({where}), 0)", params)
        deadline = time.monotonic() + MUTATION_TIMEOUT
        for host, port in hosts:
            while self._on(
                host,
                port,
                "SELECT count() FROM system.mutations WHERE database = %(db)s "
                "AND table = %(t)s AND is_done = 0",
                {"db": self.database, "t": local},
            )[0][0]:
                if time.monotonic() > deadline:
                    raise StoreUnavailable(
                        f"ClickHouse is still applying the deletion on {local} after "
                        f"{MUTATION_TIMEOUT:g} s; it will finish on its own (retrying is safe)."
                    )
                time.sleep(0.05)
        return count

    def _on(self, host: str, port: int, sql: str, params: dict[str, Any]) -> Any:
        """Run on one server of the cluster (this thread's client when it is the only one)."""
        if (host, port) == (self.host, self.port) or not self.cluster:
            return self._run(sql, params)
        client = self._connect(host, port, self.database)
        try:
            return client.execute(sql, params)
        except (ch_errors.NetworkError, ch_errors.SocketTimeoutError, EOFError, OSError) as exc:
            raise StoreUnavailable(f"ClickHouse at {host}:{port}: {exc}") from exc
        finally:
            client.disconnect()

    def suppressions(self) -> list[Suppression]:
        """Every active suppression: the latest version of each (workspace, user)."""
        rows = self._run(
            "SELECT workspace, user_id, toUInt32(argMax(created_at, version)) AS c, "
            "argMax(active, version) AS a FROM suppressions GROUP BY workspace, user_id "
            "HAVING a = 1 ORDER BY c"
        )
        return [
            Suppression(workspace=r[0], user_id=r[1], created_at=from_seconds(r[2])) for r in rows
        ]

    def save_suppression(self, suppression: Suppression) -> None:
        """Add a version of a suppression (lifting one is a newer, inactive version)."""
        self._run(
            f"INSERT INTO suppressions ({column_names(SUPPRESSION_COLUMNS)}) VALUES",
            [
                (
                    suppression.workspace,
                    suppression.user_id,
                    split_time(suppression.created_at)[0],
                    1 if suppression.active else 0,
                    row_version(),
                )
            ],
        )

    def audit_entries(self, workspace: str | None, limit: int) -> list[AuditEntry]:
        """The newest entries first."""
        where = "WHERE workspace = %(ws)s" if workspace is not None else ""
        rows = self._run(
            f"SELECT id, workspace, {self.epoch_ms('recorded_at')} AS t, actor, action, subject, "
            f"counts FROM audit_log {where} ORDER BY t DESC, id DESC LIMIT %(limit)s",
            {"ws": workspace, "limit": limit},
        )
        return [
            AuditEntry(
                r[0],
                r[1],
                EPOCH + dt.timedelta(milliseconds=r[2]),
                r[3],
                r[4],
                r[5],
                msgspec.json.decode(r[6], type=dict[str, int]),
            )
            for r in rows
        ]

    def add_audit(self, entry: AuditEntry) -> None:
        """Append one entry."""
        self._run(
            f"INSERT INTO audit_log ({column_names(AUDIT_COLUMNS)}) VALUES",
            [
                (
                    entry.id,
                    entry.workspace,
                    *split_time(entry.at),
                    entry.actor,
                    entry.action,
                    entry.subject,
                    _json.encode(entry.counts).decode(),
                )
            ],
        )
