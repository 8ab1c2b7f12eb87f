"""What privacy requests cost on each store: deleting one user, exporting one, retention.

Writes N events (5,000 users over 90 days, a tenth of them anonymous visits linked to a
user) to a throwaway DuckDB file and a throwaway clickhouse-server (tests/clickhouse_server.py),
then times, through the Store interface: exporting one user, erasing one user (count,
delete, and on ClickHouse waiting for the mutation), a retention run that drops the oldest
third, and one that finds nothing to drop (the hourly run's usual case). Prints one JSON
line per store and operation.

    .venv/bin/python -m bench.privacy_ops --events 1000000
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import shutil
import signal
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from tests.clickhouse_server import ClickHouseServer
from tracklog.events import Event
from tracklog.privacy import access, erasure, retention
from tracklog.store.base import Store, Workspace
from tracklog.store.clickhouse import ClickHouseStore
from tracklog.store.duckdb import DuckDBStore

USERS = 5000


def events(n: int, now: dt.datetime) -> Iterator[list[Event]]:
    """N events in batches of 50,000; every tenth is an anonymous visit of a linked id."""
    batch: list[Event] = []
    for i in range(n):
        user = f"u{(i // 7) % USERS}"
        anonymous = i % 10 == 0
        batch.append(
            Event(
                id=uuid.UUID(int=i + 1),
                workspace="w",
                event_name="page_viewed" if anonymous else "signed_in",
                user_id=None if anonymous else user,
                anonymous_id=f"a-{user}" if anonymous or i % 10 == 1 else None,
                timestamp=now - dt.timedelta(seconds=(i * 7919) % (90 * 86400)),
                received_at=now,
                properties={"n": i},
            )
        )
        if len(batch) == 50_000:
            yield batch
            batch = []
    if batch:
        yield batch


def timed(store_name: str, op: str, fn: Callable[[], Any]) -> Any:
    started = time.perf_counter()
    result = fn()
    elapsed = time.perf_counter() - started
    print(json.dumps({"store": store_name, "op": op, "seconds": round(elapsed, 3)}), flush=True)
    return result


def measure(name: str, store: Store, n: int) -> None:
    store.setup()
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)
    store.save_workspace(Workspace("w", retention_days=60, created_at=now))
    started = time.perf_counter()
    for batch in events(n, now):
        store.write(batch, [])
    load = round(time.perf_counter() - started, 1)
    print(json.dumps({"store": name, "op": "load", "events": n, "seconds": load}), flush=True)

    def stored() -> int:
        return int(store.query(f"SELECT count(*) FROM {store.events_table}", {})[0][0])

    export = timed(name, "export_one_user", lambda: access.export_user(store, "w", "u7", "b"))
    before = stored()
    erased = timed(name, "delete_one_user", lambda: erasure.delete_user(store, "w", "u7", "b"))
    # Exactly the user's events went, and nothing else (this caught 18.16's NULL mutations).
    assert erased["deleted"]["events"] == len(export["events"]) == before - stored() > 0
    before = stored()
    dropped = timed(name, "retention_drop_a_third", lambda: retention.run(store, "b", now=now))
    assert dropped[0]["dropped"]["events"] == before - stored()
    # What the hourly run costs when nothing is old enough (the usual case).
    again = timed(name, "retention_nothing_to_drop", lambda: retention.run(store, "b", now=now))
    assert again[0]["dropped"]["events"] == 0
    print(json.dumps({"store": name, "deleted": erased["deleted"], "retention": dropped}))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=200_000)
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="tracklog-privacy-bench-"))
    try:
        duck = DuckDBStore(home / "bench.duckdb")
        measure("duckdb", duck, args.events)
        duck.close()
        ch = ClickHouseServer(home / "clickhouse").start()
        try:
            measure("clickhouse", ClickHouseStore(ch.url("bench")), args.events)
        finally:
            ch.stop(signal.SIGKILL)
    finally:
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
