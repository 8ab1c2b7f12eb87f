"""The DuckDB store's filter of stored ids: built on its own thread, never a reason to double.

After a restart the write path must not wait for the filter (reading every stored id takes
seconds on millions of events), and ids committed while it is being built must be in it.
"""

from __future__ import annotations

import datetime as dt
import time
import uuid
from pathlib import Path

from tracklog.events import Event
from tracklog.store.duckdb import DuckDBStore


def events(prefix: str, n: int) -> list[Event]:
    now = dt.datetime(2026, 11, 1)
    return [
        Event(
            id=uuid.uuid5(uuid.NAMESPACE_URL, f"{prefix}-{i}").bytes,
            workspace="w",
            type="track",
            event_name="signed_in",
            user_id=f"u{i}",
            anonymous_id=None,
            group_id=None,
            timestamp=now,
            original_timestamp=now,
            sent_at=None,
            received_at=now,
            properties={},
            context={},
            message_id=f"{prefix}-{i}",
            source="native",
            is_test=False,
        )
        for i in range(n)
    ]


def count(store: DuckDBStore) -> int:
    return int(store.query("SELECT count(*) FROM events", {})[0][0])


def test_restart_dedupes_before_and_after_the_filter_is_built(tmp_path: Path) -> None:
    path = tmp_path / "t.duckdb"
    first = DuckDBStore(path)
    first.setup()
    assert first.write(events("a", 20_000), []) == set()
    first.close()

    store = DuckDBStore(path)
    store.setup()
    # The first group after the restart: no filter yet, so every id is looked up.
    assert len(store.write(events("a", 500), [])) == 500
    # Committed while the filter may still be building: must be in it once it is ready.
    assert store.write(events("b", 300), []) == set()
    deadline = time.monotonic() + 30
    while store._seen is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert store._seen is not None, "the filter was never built"
    assert len(store.write(events("b", 300), [])) == 300
    assert len(store.write(events("a", 20_000), [])) == 20_000
    assert store.write(events("c", 10), []) == set()
    assert count(store) == 20_310
    store.close()
