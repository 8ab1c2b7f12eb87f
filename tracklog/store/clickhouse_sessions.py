"""ClickHouse's half of dashboard sessions (tracklog/http/sessions.py), shared by every node.

A mixin of ClickHouseStore. Each save of a session is a new version of its row in a
ReplacingMergeTree, read back as the latest version. An ended session's versions carry
ENDED on top of the time, so they outrank any later use saved by another node that had
not yet seen the end: a sign-out or a revocation holds on every node at once.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import msgspec

from tracklog.store.base import SessionRecord
from tracklog.store.clickhouse_values import column_names, from_seconds, row_version, split_time

SESSION_COLUMNS = (
    "id_hash String",
    "key_id String",
    "workspace String",
    "scope String",
    "created_at DateTime('UTC')",
    "seen_at DateTime('UTC')",
    "expires_at DateTime('UTC')",
    "ended_at DateTime('UTC')",  # 0 (1970-01-01): not ended
    "version UInt64",
)
# name: (columns, engine and keys, sharding key), as ClickHouseStore's TABLES.
SESSION_TABLES: dict[str, tuple[tuple[str, ...], str, str]] = {
    "sessions": (
        SESSION_COLUMNS,
        "ReplacingMergeTree(version) ORDER BY id_hash",
        "sipHash64(id_hash)",
    ),
}
ENDED = 1 << 62  # microsecond versions stay far below this until the year 146,000
_READ = (
    "argMax(key_id, version), argMax(workspace, version), argMax(scope, version), "
    "toUInt32(argMax(created_at, version)), toUInt32(argMax(seen_at, version)), "
    "toUInt32(argMax(expires_at, version)), toUInt32(argMax(ended_at, version))"
)


class SessionTables:
    """Sessions over a ClickHouseStore's connection."""

    def _run(self, sql: str, params: Any = None, **kw: Any) -> Any:
        raise NotImplementedError  # ClickHouseStore's

    def save_session(self, session: SessionRecord) -> None:
        """Add a version of the session (an ended one outranks every version not ended)."""
        ended = session.ended_at is not None
        self._run(
            f"INSERT INTO sessions ({column_names(SESSION_COLUMNS)}) VALUES",
            [
                (
                    session.id_hash,
                    session.key_id,
                    session.workspace,
                    session.scope,
                    split_time(session.created_at)[0],
                    split_time(session.seen_at)[0],
                    split_time(session.expires_at)[0],
                    split_time(session.ended_at)[0] if session.ended_at else 0,
                    row_version() + (ENDED if ended else 0),
                )
            ],
        )

    def session(self, id_hash: str) -> SessionRecord | None:
        """The latest version of the session with this id hash, or None."""
        rows = self._run(
            f"SELECT id_hash, {_READ} FROM sessions WHERE id_hash = %(h)s GROUP BY id_hash",
            {"h": id_hash},
        )
        return _record(rows[0]) if rows else None

    def end_sessions(self, key_id: str, at: dt.datetime) -> int:
        """Save an ended version of each open session of the key."""
        rows = self._run(
            f"SELECT id_hash, {_READ} FROM sessions WHERE key_id = %(k)s GROUP BY id_hash",
            {"k": key_id},
        )
        found = [_record(r) for r in rows]
        open_ = [s for s in found if s.ended_at is None and s.key_id == key_id]
        for s in open_:
            self.save_session(msgspec.structs.replace(s, ended_at=at))
        return len(open_)


def _record(row: tuple[Any, ...]) -> SessionRecord:
    id_hash, key_id, workspace, scope, created, seen, expires, ended = row
    return SessionRecord(
        id_hash,
        key_id,
        workspace,
        scope,
        from_seconds(created),
        from_seconds(seen),
        from_seconds(expires),
        from_seconds(ended) if ended else None,
    )
