"""DuckDB's half of dashboard sessions (tracklog/http/sessions.py): one row per session.

A mixin of DuckDBStore, which provides the cursor and the write lock declared below. An
end is kept once written: a later save (a use racing the sign-out) never clears it.
"""

from __future__ import annotations

import datetime as dt
import threading

import duckdb
import msgspec

from tracklog.store.base import SessionRecord, StoreUnavailable

SCHEMA = """
CREATE TABLE IF NOT EXISTS sessions (
    id_hash VARCHAR PRIMARY KEY,
    key_id VARCHAR NOT NULL,
    workspace VARCHAR NOT NULL,
    scope VARCHAR NOT NULL,
    created_at TIMESTAMP NOT NULL,
    seen_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    ended_at TIMESTAMP
);
"""
_COLUMNS = "id_hash, key_id, workspace, scope, created_at, seen_at, expires_at, ended_at"


class SessionRows:
    """Sessions over a DuckDBStore's cursor."""

    _write_lock: threading.Lock

    def _cursor(self) -> duckdb.DuckDBPyConnection:
        raise NotImplementedError  # DuckDBStore's

    def save_session(self, session: SessionRecord) -> None:
        """Insert a session, or update when it was seen and whether it ended."""
        with self._write_lock:
            try:
                self._cursor().execute(
                    f"INSERT INTO sessions ({_COLUMNS}) VALUES ($id_hash, $key_id, $workspace, "
                    "$scope, $created_at, $seen_at, $expires_at, $ended_at) ON CONFLICT (id_hash) "
                    "DO UPDATE SET seen_at = greatest(sessions.seen_at, excluded.seen_at), "
                    "ended_at = coalesce(sessions.ended_at, excluded.ended_at)",
                    msgspec.structs.asdict(session),
                )
            except duckdb.Error as exc:
                raise StoreUnavailable(f"DuckDB: saving a session failed: {exc}") from exc

    def session(self, id_hash: str) -> SessionRecord | None:
        """The session with this id hash, or None."""
        rows = (
            self._cursor()
            .execute(f"SELECT {_COLUMNS} FROM sessions WHERE id_hash = $h", {"h": id_hash})
            .fetchall()
        )
        return SessionRecord(*rows[0]) if rows else None

    def end_sessions(self, key_id: str, at: dt.datetime) -> int:
        """End the open sessions of a key."""
        with self._write_lock:
            rows = (
                self._cursor()
                .execute(
                    "UPDATE sessions SET ended_at = $at WHERE key_id = $k AND ended_at IS NULL",
                    {"k": key_id, "at": at},
                )
                .fetchall()
            )
        return int(rows[0][0]) if rows else 0
