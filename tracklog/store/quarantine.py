"""Reading and clearing the quarantine: rejected elements kept with their raw JSON and reasons.

An element leaves the list when it is replayed (`Store.mark_replayed`) or erased at a privacy
request; nothing else removes it.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import msgspec

from tracklog.events import from_ms, iso, to_ms
from tracklog.store.base import Store

_decode = msgspec.json.Decoder()
# Quarantine ids per DELETE statement: keeps one statement's text bounded.
_CHUNK = 1000

Cursor = tuple[dt.datetime, uuid.UUID]


@dataclass(frozen=True)
class Held:
    """One quarantined element."""

    id: uuid.UUID
    received_at: dt.datetime
    source: str
    raw: str
    reasons: list[dict[str, Any]]

    def shown(self) -> dict[str, Any]:
        """As the API shows it."""
        return {
            "id": str(self.id),
            "received_at": iso(self.received_at),
            "source": self.source,
            "raw": self.raw,
            "reasons": self.reasons,
        }


def _held(row: tuple[Any, ...]) -> Held:
    raw = row[3].decode() if isinstance(row[3], bytes) else row[3]
    return Held(row[0], from_ms(row[1]), row[2], raw, _decode.decode(row[4]))


def _not_replayed(store: Store) -> str:
    p = store.placeholder
    return (
        f"workspace = {p('ws')} AND "
        f"id NOT IN (SELECT id FROM quarantine_replays WHERE workspace = {p('ws')})"
    )


def page(
    store: Store, workspace: str, limit: int, cursor: Cursor | None = None
) -> tuple[list[Held], Cursor | None]:
    """Elements still waiting for a replay, newest first, and the cursor of the next page."""
    p = store.placeholder
    received = store.epoch_ms("received_at")
    where = [_not_replayed(store)]
    params: dict[str, Any] = {"ws": workspace, "limit": limit + 1}
    if cursor is not None:
        where.append(f"({received} < {p('cts')} OR ({received} = {p('cts')} AND id < {p('cid')}))")
        params["cts"], params["cid"] = to_ms(cursor[0]), cursor[1]
    rows = store.query(
        f"SELECT id, {received}, source, raw, reasons FROM quarantine "
        f"WHERE {' AND '.join(where)} ORDER BY {received} DESC, id DESC LIMIT {p('limit')}",
        params,
    )
    found = [_held(r) for r in rows[:limit]]
    more = len(rows) > limit
    return found, (found[-1].received_at, found[-1].id) if more else None


def waiting(
    store: Store, workspace: str, ids: Sequence[uuid.UUID] | None, limit: int = 10_000
) -> list[Held]:
    """Elements still waiting for a replay, oldest first: those named, or all (ids None)."""
    p = store.placeholder
    where = _not_replayed(store)
    params: dict[str, Any] = {"ws": workspace}
    if ids is not None:
        where += " AND id IN (" + ", ".join(p(f"q{i}") for i in range(len(ids))) + ")"
        params.update({f"q{i}": qid for i, qid in enumerate(ids)})
    rows = store.query(
        f"SELECT id, {store.epoch_ms('received_at')}, source, raw, reasons FROM quarantine "
        f"WHERE {where} ORDER BY received_at LIMIT {int(limit)}",
        params,
    )
    return [_held(r) for r in rows]


def containing(store: Store, workspace: str, patterns: Sequence[str]) -> list[Held]:
    """Elements whose raw JSON matches any of the LIKE `patterns` (a first, coarse filter)."""
    p = store.placeholder
    params: dict[str, Any] = {"ws": workspace}
    likes = []
    for i, pattern in enumerate(patterns):
        params[f"l{i}"] = pattern
        likes.append(f"raw LIKE {p(f'l{i}')}")
    rows = store.query(
        f"SELECT id, {store.epoch_ms('received_at')}, source, raw, reasons FROM quarantine "
        f"WHERE workspace = {p('ws')} AND ({' OR '.join(likes)})",
        params,
    )
    return [_held(r) for r in rows]


def delete(store: Store, workspace: str, ids: Sequence[uuid.UUID]) -> int:
    """Delete these elements; return how many were deleted."""
    p = store.placeholder
    removed = 0
    for start in range(0, len(ids), _CHUNK):
        chunk = {f"q{i}": qid for i, qid in enumerate(ids[start : start + _CHUNK])}
        listed = ", ".join(p(n) for n in chunk)
        removed += store.delete_rows(
            "quarantine", f"workspace = {p('ws')} AND id IN ({listed})", {"ws": workspace, **chunk}
        )
    return removed
